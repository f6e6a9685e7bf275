#!/bin/bash
# `make soak`: hundreds of pods for an hour (SOAK_MINUTES), with probes, a
# share of them crash-looping, logs rotating, and exec, logs, deletes and
# re-applies going on all the time; sampled every SOAK_SAMPLE seconds (each
# supervisor's RSS, PSS, fds and CPU; the store's size; the host's mounts,
# cgroups, links and leases; peapod's processes). Writes
# $BUILD/soak/samples.csv, soak.svg (bench/soak-plot.py) and summary.md, then
# deletes everything and checks that nothing is left. Not part of `make
# check`; see bench/README.md ("Soak").
#
# Everything runs in a network namespace of its own (the default network's
# bridge, veths, leases and masquerade rules included) and a private peapod
# state under one temp dir.
# no pipefail: a process or directory may go while it is sampled
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
MINUTES=${SOAK_MINUTES:-60}
PODS=${SOAK_PODS:-200}
SAMPLE=${SOAK_SAMPLE:-60}
OUT=${SOAK_OUT:-$BUILD/soak}
IMAGE=busybox:1.36

log() { printf 'soak %(%H:%M:%S)T: %s\n' -1 "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] || { echo "soak: build first: make all helpers" >&2; exit 1; }

# --- the network namespace: the script runs itself again inside it ----------
if [ -z "${SOAK_NETNS:-}" ]; then
	ns=peapod-soak-$$
	ip netns add "$ns"
	rc=0
	SOAK_NETNS=$ns nsenter --net="/run/netns/$ns" "$0" "$@" || rc=$?
	ip netns del "$ns"
	exit "$rc"
fi
ip link set lo up

TMP=$(mktemp -d /tmp/peapod-soak.XXXXXX)
export PEAPOD_ROOT=$TMP/root PEAPOD_RUN=$TMP/run PEAPOD_LOG_DIR=$TMP/log
export PEAPOD_CGROUP_PARENT=peapod-soak
export PEAPOD_CNI_CONF_DIR=$TMP/cni
# small log files, so that every logging container rotates several times
export PEAPOD_LOG_MAX_SIZE=${SOAK_LOG_MAX_SIZE:-256Ki} PEAPOD_LOG_MAX_FILES=3
M=$TMP/manifests
mkdir -p "$M" "$OUT"
CSV=$OUT/samples.csv
CHURN_PID=

cleanup() {
	set +e
	[ -z "$CHURN_PID" ] || { kill "$CHURN_PID" 2>/dev/null; wait "$CHURN_PID" 2>/dev/null; }
	local names
	names=$("$PEAPOD" get pods -o name 2>/dev/null)
	[ -z "$names" ] || "$PEAPOD" delete --force $names >/dev/null 2>&1
	"$PEAPOD" gc >/dev/null 2>&1
	awk -v t="$TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$TMP"
	local d
	for d in /sys/fs/cgroup/*/peapod-soak /sys/fs/cgroup/unified/peapod-soak; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the busybox image"
HELPERS_DIR=$BUILD/helpers "$TOP/tests/lib/make-busybox-image.sh" "$PEAPOD" "$IMAGE" >/dev/null

# --- the pods: ten kinds, in turn ---------------------------------------------
# web (5 in 10): httpd, httpGet readiness every 1 s, tcpSocket liveness;
# exec (2 in 10): an exec readiness probe every 2 s; crash (1 in 10): exits 1
# after 5 s, restartPolicy Always (CrashLoopBackOff, kubelet's back-off);
# logger (1 in 10): ~20 KB/s of output, rotated; pair (1 in 10): a writer and
# a reader sharing an emptyDir.
manifest() { # N: the manifest of pod N
	local n=$1 name
	case $((n % 10)) in
	0 | 1 | 2 | 3 | 4)
		name=web-$n
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {soak: "1", kind: web}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: httpd
    image: $IMAGE
    command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
    livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}
EOF
		;;
	5 | 6)
		name=exec-$n
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {soak: "1", kind: exec}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, "trap 'exit 0' TERM; sleep 100000 & wait"]
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 2}
EOF
		;;
	7)
		name=crash-$n
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {soak: "1", kind: crash}}
spec:
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, "echo starting; sleep 5; echo failing >&2; exit 1"]
EOF
		;;
	8)
		name=logger-$n
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {soak: "1", kind: logger}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, "trap 'exit 0' TERM; i=0; while :; do i=\$((i+1)); echo \"line \$i of a container that logs all the time, about a hundred bytes each................\"; [ \$((i % 200)) = 0 ] && usleep 1000000; done"]
EOF
		;;
	9)
		name=pair-$n
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {soak: "1", kind: pair}}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: shared, emptyDir: {}}]
  containers:
  - name: writer
    image: $IMAGE
    command: [sh, -c, "trap 'exit 0' TERM; while :; do date > /data/now; sleep 1; done"]
    volumeMounts: [{name: shared, mountPath: /data}]
  - name: reader
    image: $IMAGE
    command: [sh, -c, "trap 'exit 0' TERM; while :; do cat /data/now 2>/dev/null; sleep 10; done"]
    volumeMounts: [{name: shared, mountPath: /data}]
EOF
		;;
	esac
}

pod_name() { manifest "$1" | awk '/^metadata:/{sub(/.*name: /, ""); sub(/,.*/, ""); print; exit}'; }

for ((i = 0; i < PODS; i++)); do
	manifest "$i" >"$M/pod-$i.yaml"
done

# --- what is sampled -----------------------------------------------------------
# Our processes: those whose environment names our private state.
our_pids() { # COMM: pids of our live processes of that name
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] || continue
		[ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" != Z ] || continue
		{ tr '\0' '\n' <"$p/environ" | grep -qxF "PEAPOD_RUN=$PEAPOD_RUN"; } 2>/dev/null &&
			echo "${p#/proc/}"
	done
	return 0
}

HZ=$(getconf CLK_TCK)
declare -A LAST_TICKS
LAST_T=0

echo "minute,pods,ready,supervisors,sup_rss_kb_mean,sup_rss_kb_max,sup_pss_kb_mean,sup_fds_mean,sup_fds_max,sup_cpu_pct,infra_pss_kb_mean,store_mb,logs_mb,mounts,cgroups,links,leases,processes" >"$CSV"

sample() { # MINUTE
	local sups p rss pss fds ticks n=0 rsum=0 rmax=0 psum=0 fsum=0 fmax=0 dticks=0 now
	local -A seen
	sups=$(our_pids peapod-sup)
	now=$(date +%s%N)
	for p in $sups; do
		read -r rss pss < <(awk '/^Rss:/{r=$2} /^Pss:/{s=$2} END{print r+0, s+0}' \
			/proc/"$p"/smaps_rollup 2>/dev/null || echo "0 0")
		fds=$(find /proc/"$p"/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		# utime+stime+cutime+cstime: the probes and hooks it reaps count too
		ticks=$(awk '{print $14+$15+$16+$17}' /proc/"$p"/stat 2>/dev/null || echo 0)
		ticks=${ticks:-0}
		[ -n "${LAST_TICKS[$p]:-}" ] && dticks=$((dticks + ticks - LAST_TICKS[$p]))
		seen[$p]=$ticks
		n=$((n + 1))
		rsum=$((rsum + rss))
		psum=$((psum + pss))
		fsum=$((fsum + fds))
		((rss > rmax)) && rmax=$rss
		((fds > fmax)) && fmax=$fds
	done
	LAST_TICKS=()
	for p in "${!seen[@]}"; do LAST_TICKS[$p]=${seen[$p]}; done
	local cpu=0
	if ((LAST_T > 0)); then
		cpu=$(awk -v t="$dticks" -v hz="$HZ" -v ns=$((now - LAST_T)) 'BEGIN{printf "%.2f", 100 * t / hz / (ns / 1e9)}')
	fi
	LAST_T=$now
	local infra ipss=0 ni=0
	infra=$(our_pids peapod-infra)
	for p in $infra; do
		pss=$(awk '/^Pss:/{s=$2} END{print s+0}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)
		ipss=$((ipss + pss))
		ni=$((ni + 1))
	done
	local pods ready store logs mounts cgroups links leases procs
	pods=$("$PEAPOD" get pods --no-headers 2>/dev/null | wc -l)
	ready=$("$PEAPOD" get pods --no-headers 2>/dev/null | awk '{split($2, a, "/"); if (a[1] == a[2] && $3 == "Running") r++} END{print r+0}')
	store=$(du -sm "$PEAPOD_ROOT" | cut -f1)
	logs=$(du -sm "$PEAPOD_LOG_DIR" 2>/dev/null | cut -f1 || echo 0)
	mounts=$(wc -l </proc/self/mountinfo)
	cgroups=$(find /sys/fs/cgroup/*/peapod-soak /sys/fs/cgroup/unified/peapod-soak -type d 2>/dev/null | wc -l)
	links=$(ip -o link | wc -l)
	leases=$(find "$PEAPOD_RUN/cni/networks" -type f -name '[0-9]*' 2>/dev/null | wc -l)
	procs=0
	for c in peapod peapod-sup peapod-infra peapod-exec peapod-rm peapod-pull; do
		procs=$((procs + $(our_pids "$c" | wc -l)))
	done
	local d=$((n > 0 ? n : 1)) di=$((ni > 0 ? ni : 1))
	echo "$1,$pods,$ready,$n,$((rsum / d)),$rmax,$((psum / d)),$((fsum / d)),$fmax,$cpu,$((ipss / di)),$store,$logs,$mounts,$cgroups,$links,$leases,$procs" >>"$CSV"
	log "minute $1: $pods pods ($ready ready), supervisor RSS $((rsum / d)) kB (max $rmax), PSS $((psum / d)) kB, fds $((fsum / d)) (max $fmax), CPU ${cpu}% of a core; $mounts mounts, $cgroups cgroups, $links links, $leases leases"
}

# --- the churn: deletes and re-applies, exec, logs -------------------------------
churn() {
	local k=0 i name
	while :; do
		k=$((k + 1))
		i=$((RANDOM % PODS))
		name=$(pod_name "$i")
		case $((k % 4)) in
		0) # delete and apply again
			"$PEAPOD" delete "$name" >/dev/null 2>&1 || true
			"$PEAPOD" apply -f "$M/pod-$i.yaml" >/dev/null 2>&1 || log "churn: apply $name failed"
			;;
		1) "$PEAPOD" exec "$name" -- true >/dev/null 2>&1 || true ;;
		2) "$PEAPOD" logs --tail 5 "$name" >/dev/null 2>&1 || true ;;
		3) "$PEAPOD" get pods -l kind=web -o name >/dev/null 2>&1 || true ;;
		esac
		sleep 0.5
	done
}

# --- the run ------------------------------------------------------------------
base_mounts=$(wc -l </proc/self/mountinfo)
base_links=$(ip -o link | wc -l)
log "applying $PODS pods"
for ((i = 0; i < PODS; i++)); do
	"$PEAPOD" apply -f "$M/pod-$i.yaml" >/dev/null
done
churn &
CHURN_PID=$!
start=$(date +%s)
minute=0
sample 0
while (($(date +%s) - start < MINUTES * 60)); do
	sleep "$SAMPLE"
	minute=$(awk -v s=$(($(date +%s) - start)) 'BEGIN{printf "%.1f", s / 60}')
	sample "$minute"
done
kill "$CHURN_PID"
wait "$CHURN_PID" 2>/dev/null || true
CHURN_PID=

# --- the end: everything deleted, then nothing may be left -------------------------
log "deleting every pod"
# a delete or apply of the churn's last turn may still be under way
sleep 5
"$PEAPOD" delete --all >/dev/null || log "delete --all failed"
"$PEAPOD" gc >/dev/null
leaks=""
[ -z "$(our_pids peapod-sup)$(our_pids peapod-infra)" ] || leaks="$leaks processes"
[ "$(awk -v t="$TMP/" 'index($5, t) == 1' /proc/self/mountinfo | wc -l)" = 0 ] || leaks="$leaks mounts"
[ "$(find /sys/fs/cgroup/*/peapod-soak /sys/fs/cgroup/unified/peapod-soak -mindepth 1 -type d 2>/dev/null | wc -l)" = 0 ] || leaks="$leaks cgroups"
[ "$(find "$PEAPOD_RUN/cni/networks" -type f -name '[0-9]*' 2>/dev/null | wc -l)" = 0 ] || leaks="$leaks leases"
[ -z "$(ls -A "$PEAPOD_RUN/pods" 2>/dev/null)" ] || leaks="$leaks records"
# the bridge stays (as it does on a host); every veth must be gone
[ "$(ip -o link | grep -vc ' peapod0:\| lo:')" = 0 ] || leaks="$leaks links"
end_mounts=$(wc -l </proc/self/mountinfo)
[ "$end_mounts" -le "$base_mounts" ] || leaks="$leaks mounts($base_mounts->$end_mounts)"

python3 "$HERE/soak-plot.py" "$CSV" "$OUT/soak.svg" "$OUT/summary.md" \
	"$PODS pods for $MINUTES minutes, sampled every $SAMPLE s" "${leaks:-none}"
cat "$OUT/summary.md"
log "samples: $CSV; plot: $OUT/soak.svg"
[ -z "$leaks" ] || { log "LEFT BEHIND:$leaks"; exit 1; }

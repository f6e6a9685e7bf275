#!/bin/bash
# peapod benchmarks against podman (and runc where it applies). Run by
# `make bench`; see bench/README.md. Prints one table (also written to
# $BUILD/bench/results.md) and leaves nothing behind: a private peapod state,
# a private podman store and configuration, all under one temp dir.
set -euo pipefail
shopt -s lastpipe # `... | record KEY` sets R in this shell

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
BT=$BUILD/bench/benchtime
RUNS=${BENCH_RUNS:-10}
PODS=${BENCH_PODS:-100}
PODMAN_PODS=${BENCH_PODMAN_PODS:-20}
LOG_MB=${BENCH_LOG_MB:-1000}
LOG_RUNS=${BENCH_LOG_RUNS:-$RUNS}
EXEC_RUNS=${BENCH_EXEC_RUNS:-$((RUNS * 3))}
WITH_PODMAN=${BENCH_PODMAN:-1}
OUT=${BENCH_OUT:-$BUILD/bench/results.md}
ONLY=${BENCH_ONLY:-} # space-separated subset of: pod exec true log density probes net cli floor
PROBE_IDLE=${BENCH_PROBE_IDLE:-30}
IMAGE=busybox:1.36
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] && [ -x "$BT" ] || { echo "bench: build first: make all helpers $BT" >&2; exit 1; }

log() { printf 'bench: %s\n' "$*" >&2; }

# --- podman and runc from Debian when absent ---------------------------------
if [ "$WITH_PODMAN" = 1 ] && { ! command -v podman >/dev/null || ! command -v runc >/dev/null; }; then
	log "installing podman and runc from Debian"
	if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc; } >&2; then
		log "could not install podman/runc: peapod's numbers only"
		WITH_PODMAN=0
	fi
fi
HAVE_RUNC=0
command -v runc >/dev/null && HAVE_RUNC=1
# crun, for measurement 4 (the issue's "faster than crun run"): a bench
# dependency, not a test's.
if [ "$WITH_PODMAN" = 1 ] && ! command -v crun >/dev/null; then
	log "installing crun from Debian"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q crun; } >&2 ||
		log "could not install crun: no crun numbers"
fi
HAVE_CRUN=0
command -v crun >/dev/null && HAVE_CRUN=1

# --- private state -----------------------------------------------------------
TMP=$(mktemp -d /tmp/peapod-bench.XXXXXX)
export PEAPOD_ROOT=$TMP/peapod/root PEAPOD_RUN=$TMP/peapod/run PEAPOD_LOG_DIR=$TMP/peapod/log
export PEAPOD_CGROUP_PARENT=peapod-bench
# The pods of every measurement but 9 have loopback only, as podman's
# (--network none); 9 measures networking in a namespace of its own.
export PEAPOD_NETWORK=none PEAPOD_CNI_CONF_DIR=$TMP/peapod/cni
NET_NS=
export CONTAINERS_CONF=$TMP/podman/containers.conf
export CONTAINERS_STORAGE_CONF=$TMP/podman/storage.conf
export CONTAINERS_REGISTRIES_CONF=$TMP/podman/registries.conf
M=$TMP/manifests
mkdir -p "$M" "$TMP/podman" "$(dirname "$OUT")"

# podman (cgroupfs manager) puts its pods under /libpod_parent: remove it at
# the end only if it was not there before.
LIBPOD_PARENT_EXISTED=0
for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/unified/libpod_parent; do
	[ -e "$d" ] && LIBPOD_PARENT_EXISTED=1
done

# podman writes some state outside its store whatever the configuration
# (podman import: /var/lib/containers/cache/blob-info-cache-v1.boltdb):
# remove those paths at the end when they are ours.
PODMAN_HOST_PATHS=""
for d in /var/lib/containers /run/containers /run/libpod; do
	[ -e "$d" ] || PODMAN_HOST_PATHS="$PODMAN_HOST_PATHS $d"
done

# Our processes: those whose environment names our private state.
our_pids() { # COMM...: pids of our processes with one of these names
	local p c want
	for p in /proc/[0-9]*; do
		c=$(cat "$p/comm" 2>/dev/null) || continue
		for want in "$@"; do
			[ "$c" = "$want" ] || continue
			# zombies (PID 1 here reaps late) hold no memory and are not ours to count
			[ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" != Z ] || continue
			if { tr '\0' '\n' <"$p/environ" | grep -qxF "PEAPOD_RUN=$PEAPOD_RUN"; } 2>/dev/null ||
				{ tr '\0' '\n' <"$p/cmdline" | grep -qF "$TMP/"; } 2>/dev/null; then
				echo "${p#/proc/}"
			fi
		done
	done
	return 0
}

podman_pids() { # conmon processes of our podman store and their children (catatonit/pause)
	local p c
	for p in $(our_pids conmon); do
		echo "$p"
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			[ "$(cat /proc/"$c"/comm 2>/dev/null)" != catatonit ] || echo "$c"
		done
	done
	return 0
}

mem_kb() { # PID...: "RSS PSS" in kB, summed from smaps_rollup
	local p rss=0 pss=0 r s
	for p in "$@"; do
		read -r r s < <(awk '/^Rss:/{r=$2} /^Pss:/{s=$2} END{print r+0, s+0}' /proc/"$p"/smaps_rollup 2>/dev/null || echo "0 0")
		rss=$((rss + r))
		pss=$((pss + s))
	done
	echo "$rss $pss"
}

cleanup() {
	set +e
	log "cleaning up"
	local names
	names=$("$PEAPOD" get pods -o name 2>/dev/null)
	[ -n "$names" ] && "$PEAPOD" delete --force $names >/dev/null 2>&1
	"$PEAPOD" gc >/dev/null 2>&1
	if [ -n "$NET_NS" ]; then
		names=$(nsenter --net="/run/netns/$NET_NS" "$PEAPOD" get pods -o name 2>/dev/null)
		[ -n "$names" ] && nsenter --net="/run/netns/$NET_NS" "$PEAPOD" delete --force $names >/dev/null 2>&1
		nsenter --net="/run/netns/$NET_NS" "$PEAPOD" gc >/dev/null 2>&1
		ip netns del "$NET_NS"
	fi
	if [ "$WITH_PODMAN" = 1 ] && [ -f "$CONTAINERS_CONF" ]; then
		podman pod rm -a -f -t 0 >/dev/null 2>&1
		podman rm -a -f -t 0 >/dev/null 2>&1
		podman system reset -f >/dev/null 2>&1
	fi
	if [ "$HAVE_RUNC" = 1 ]; then
		for id in $(runc --root "$TMP/runc" list -q 2>/dev/null); do
			runc --root "$TMP/runc" delete -f "$id" >/dev/null 2>&1
		done
	fi
	if [ "$HAVE_CRUN" = 1 ] && [ -d "$TMP/crun" ]; then
		for id in $(crun --root "$TMP/crun" list -q 2>/dev/null); do
			crun --root "$TMP/crun" delete -f "$id" >/dev/null 2>&1
		done
	fi
	# mounts left under our temp dir (podman's overlay, should there be any)
	awk -v t="$TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf "$TMP"
	[ -z "$PODMAN_HOST_PATHS" ] || rm -rf $PODMAN_HOST_PATHS
	local d
	for d in /sys/fs/cgroup/*/peapod-bench /sys/fs/cgroup/unified/peapod-bench; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ "$LIBPOD_PARENT_EXISTED" = 0 ]; then
		for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/unified/libpod_parent; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- images: one busybox rootfs for peapod, podman and runc -------------------
# make-busybox-image.sh builds the rootfs and calls "PEAPOD image import DIR";
# a stand-in keeps a tar of that same directory on the way.
cat >"$TMP/import-wrap" <<'EOF'
#!/bin/sh
set -e
[ "$1" = image ] && [ "$2" = import ] && tar -C "$3" --numeric-owner -cf "$BENCH_ROOTFS_TAR" .
exec "$BENCH_PEAPOD" "$@"
EOF
chmod +x "$TMP/import-wrap"
log "building the busybox image"
BENCH_ROOTFS_TAR=$TMP/busybox.tar BENCH_PEAPOD=$PEAPOD HELPERS_DIR=$BUILD/helpers \
	"$TOP/tests/lib/make-busybox-image.sh" "$TMP/import-wrap" "$IMAGE" >/dev/null

# --- podman configuration (see bench/README.md) ------------------------------
NOFILE=$(ulimit -Hn)
NPROC=$(ulimit -Hu)
PID_MAX=$(cat /proc/sys/kernel/pid_max)
# podman lowers its own RLIMIT_NPROC to pid_max (32768 here) and runc cannot
# raise it back for the container without CAP_SYS_RESOURCE.
[ "$NPROC" = unlimited ] || [ "$NPROC" -gt "$PID_MAX" ] && NPROC=$PID_MAX
[ "$NOFILE" = unlimited ] && NOFILE=1048576
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$NOFILE:$NOFILE", "nproc=$NPROC:$NPROC"]
log_driver = "k8s-file"
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$TMP/podman/events.log"
tmp_dir = "$TMP/podman/tmp"
pull_policy = "never"

[network]
network_config_dir = "$TMP/podman/networks"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$TMP/podman/root"
runroot = "$TMP/podman/run"
EOF
cat >"$CONTAINERS_REGISTRIES_CONF" <<EOF
unqualified-search-registries = []
short-name-mode = "permissive"
EOF

PODMAN_WHY=""
if [ "$WITH_PODMAN" = 1 ]; then
	if ! command -v podman >/dev/null; then
		PODMAN_WHY="podman is not installed"
	elif ! podman import --change 'CMD ["sh"]' --change "ENV PATH=$IMAGE_PATH" \
		"$TMP/busybox.tar" "localhost/$IMAGE" >/dev/null 2>"$TMP/podman.err"; then
		PODMAN_WHY="podman import failed: $(tail -1 "$TMP/podman.err")"
	elif ! podman run --rm --network none "localhost/$IMAGE" /bin/true 2>"$TMP/podman.err"; then
		PODMAN_WHY="podman run failed: $(tail -1 "$TMP/podman.err")"
	fi
	if [ -n "$PODMAN_WHY" ]; then
		log "podman does not work here: $PODMAN_WHY"
		WITH_PODMAN=0
	fi
else
	PODMAN_WHY="disabled (BENCH_PODMAN=0)"
fi

# --- runc (and crun) bundle -------------------------------------------------------
# One rootfs, two configs (runc spec's, each with a cgroup of its own).
if [ "$HAVE_RUNC" = 1 ] || [ "$HAVE_CRUN" = 1 ]; then
	mkdir -p "$TMP/bundle/rootfs" "$TMP/runc" "$TMP/crun"
	tar -C "$TMP/bundle/rootfs" -xf "$TMP/busybox.tar"
	(cd "$TMP/bundle" && { runc spec 2>/dev/null || crun spec; })
	python3 - "$TMP/bundle/config.json" "$NOFILE" <<'EOF'
import json, sys
path, nofile = sys.argv[1], int(sys.argv[2])
c = json.load(open(path))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}]
c["linux"]["cgroupsPath"] = "/peapod-bench/runc-bench"
json.dump(c, open(path, "w"), indent=1)
c["linux"]["cgroupsPath"] = "/peapod-bench/crun-bench"
json.dump(c, open(path.replace("config.json", "crun-config.json"), "w"), indent=1)
EOF
	# crun reads config.json from the bundle: a second bundle dir, the same rootfs
	mkdir -p "$TMP/crun-bundle"
	ln -s "$TMP/bundle/rootfs" "$TMP/crun-bundle/rootfs"
	mv "$TMP/bundle/crun-config.json" "$TMP/crun-bundle/config.json"
fi
# crun 1.8 refuses a hybrid layout whose cgroup2 has a controller ("cgroups
# in hybrid mode not supported, drop all controllers from cgroupv2"; here
# hugetlb): it runs in a private mount namespace where an empty file is
# bound over the unified hierarchy's cgroup.controllers. The host's files
# are not touched; the timed loop runs inside (unshare is not timed).
crun_in_ns() { # CMD...: run CMD where crun accepts this host's cgroups
	local ctl=/sys/fs/cgroup/unified/cgroup.controllers
	if [ -n "$(cat "$ctl" 2>/dev/null)" ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
		: >"$TMP/empty-controllers"
		unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
			sh "$TMP/empty-controllers" "$ctl" "$@"
	else
		"$@"
	fi
}

# --- manifests -------------------------------------------------------------------
IDLE="trap 'exit 0' TERM; sleep 1000000 & wait"
cat >"$M/pod3.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: bench3
spec:
  terminationGracePeriodSeconds: 10
  containers:
$(for c in c1 c2 c3; do printf '  - name: %s\n    image: %s\n    imagePullPolicy: Never\n    command: ["sh", "-c", "%s"]\n' "$c" "$IMAGE" "$IDLE"; done)
EOF
# The same pod with hostUsers: false (a user namespace and an id range of its own).
sed 's/^spec:$/spec:\n  hostUsers: false/' "$M/pod3.yaml" >"$M/pod3-userns.yaml"
cat >"$M/true.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: benchtrue
spec:
  restartPolicy: Never
  containers:
  - name: t
    image: $IMAGE
    imagePullPolicy: Never
    command: ["/bin/true"]
EOF
# Log test: LINES lines of 100 characters + newline.
LINE_LEN=101
LINES=$((LOG_MB * 1000000 / LINE_LEN))
LOG_BYTES=$((LINES * LINE_LEN))
# tests/helpers/linewriter.c (in the image): whole lines in 64 KiB writes, so
# the runtime is measured, not the writer (busybox `yes | head` tops out at
# ~300 MB/s through a pipe here; linewriter does several GB/s).
LOG_CMD="linewriter $LINES $LINE_LEN"
cat >"$M/log.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: benchlog
spec:
  restartPolicy: Never
  containers:
  - name: w
    image: $IMAGE
    imagePullPolicy: Never
    command: ["sh", "-c", "$LOG_CMD"]
EOF
dens_manifest() { # NAME
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 10\n  containers:\n  - name: c\n    image: %s\n    imagePullPolicy: Never\n    command: ["sh", "-c", "%s"]\n' \
		"$1" "$IMAGE" "$IDLE"
}

# --- results -------------------------------------------------------------------------
declare -A R # R[key] = "median min max"
record() { # KEY < numbers
	local s
	s=$("$BT" stats)
	R[$1]=$(echo "$s" | awk '{print $1, $2, $3}')
	log "$1: median/min/max $(echo "$s" | awk '{print $1, $2, $3}') (n=$(echo "$s" | awk '{print $6}'))"
}
record_one() { R[$1]="$2 $2 $2"; log "$1: $2"; }

pp() { "$PEAPOD" "$@"; }
pm() { podman "$@"; }

gone_check() { # NAME: the pod is gone: no record, no process of it
	! pp get pods "$1" >/dev/null 2>&1 || { log "pod $1 still listed after delete"; return 1; }
	[ -z "$(our_pids peapod-sup peapod-infra)" ] || { log "supervisor/infra left after delete"; return 1; }
}

# 1+2: 3-container pod, apply to Ready, delete to gone ------------------------------
bench_pod() {
	log "1-2: 3-container pod, apply -> Ready, delete -> gone ($RUNS runs)"
	local i a d au du
	: >"$TMP/pp.ready"
	: >"$TMP/pp.delete"
	: >"$TMP/pp.ready.userns"
	: >"$TMP/pp.delete.userns"
	for i in $(seq 0 "$RUNS"); do # run 0 warms up
		a=$("$BT" run "$PEAPOD" apply -f "$M/pod3.yaml" ::: "$PEAPOD" wait bench3 --for=condition=Ready)
		d=$("$BT" run "$PEAPOD" delete bench3)
		gone_check bench3
		# Interleaved, so that both see the same noise of the machine.
		au=$("$BT" run "$PEAPOD" apply -f "$M/pod3-userns.yaml" ::: "$PEAPOD" wait bench3 --for=condition=Ready)
		du=$("$BT" run "$PEAPOD" delete bench3)
		gone_check bench3
		[ "$i" = 0 ] && continue
		echo "$a" >>"$TMP/pp.ready"
		echo "$d" >>"$TMP/pp.delete"
		echo "$au" >>"$TMP/pp.ready.userns"
		echo "$du" >>"$TMP/pp.delete.userns"
	done
	record pp.ready <"$TMP/pp.ready"
	record pp.delete <"$TMP/pp.delete"
	record pp.ready.userns <"$TMP/pp.ready.userns"
	record pp.delete.userns <"$TMP/pp.delete.userns"

	[ "$WITH_PODMAN" = 1 ] || return 0
	: >"$TMP/pm.ready"
	: >"$TMP/pm.delete"
	for i in $(seq 0 "$RUNS"); do
		a=$("$BT" run podman kube play --network none "$M/pod3.yaml")
		[ "$(pm pod inspect bench3 --format '{{.State}}')" = Running ] || { log "podman pod not Running"; return 1; }
		d=$("$BT" run podman kube down "$M/pod3.yaml")
		[ -z "$(pm pod ls -q)" ] || { log "podman pod left after kube down"; return 1; }
		[ "$i" = 0 ] && continue
		echo "$a" >>"$TMP/pm.ready"
		echo "$d" >>"$TMP/pm.delete"
	done
	record pm.ready <"$TMP/pm.ready"
	record pm.delete <"$TMP/pm.delete"
}

# 3+5: exec into a running container; idle helper memory ---------------------------
bench_exec_mem() {
	log "3,5: exec /bin/true ($EXEC_RUNS runs), helper memory of an idle 3-container pod"
	local i pids
	pp apply -f "$M/pod3.yaml" >/dev/null
	pp wait bench3 --for=condition=Ready >/dev/null
	"$BT" run "$PEAPOD" exec bench3 -c c1 -- /bin/true >/dev/null
	for i in $(seq "$EXEC_RUNS"); do
		"$BT" run "$PEAPOD" exec bench3 -c c1 -- /bin/true
	done | record pp.exec
	sleep 1
	pids=$(our_pids peapod-sup peapod-infra)
	read -r rss pss < <(mem_kb $pids)
	R[pp.rss]="$rss $rss $rss"
	R[pp.pss]="$pss $pss $pss"
	R[pp.nproc]=$(echo $pids | wc -w)
	log "peapod helpers: $(for p in $pids; do printf '%s(%s) ' "$(cat /proc/$p/comm)" "$p"; done)RSS ${rss} kB PSS ${pss} kB"
	pp delete bench3 >/dev/null

	[ "$WITH_PODMAN" = 1 ] || return 0
	pm kube play --network none "$M/pod3.yaml" >/dev/null
	"$BT" run podman exec bench3-c1 /bin/true >/dev/null
	for i in $(seq "$EXEC_RUNS"); do
		"$BT" run podman exec bench3-c1 /bin/true
	done | record pm.exec
	sleep 1
	pids=$(podman_pids)
	read -r rss pss < <(mem_kb $pids)
	R[pm.rss]="$rss $rss $rss"
	R[pm.pss]="$pss $pss $pss"
	R[pm.nproc]=$(echo $pids | wc -w)
	log "podman helpers: $(for p in $pids; do printf '%s(%s) ' "$(cat /proc/$p/comm)" "$p"; done)RSS ${rss} kB PSS ${pss} kB"
	pm kube down "$M/pod3.yaml" >/dev/null
}

# 4: a one-container pod running /bin/true, start to exit -----------------------------
bench_true() {
	log "4: /bin/true start to exit ($RUNS runs)"
	local i
	"$BT" run "$PEAPOD" run -f "$M/true.yaml" >/dev/null
	for i in $(seq "$RUNS"); do
		"$BT" run "$PEAPOD" run -f "$M/true.yaml"
	done | record pp.true
	pp get pods benchtrue >/dev/null 2>&1 && { log "peapod run left its pod"; return 1; }
	if [ "$HAVE_RUNC" = 1 ]; then
		"$BT" run runc --root "$TMP/runc" run -b "$TMP/bundle" benchtrue >/dev/null
		for i in $(seq "$RUNS"); do
			"$BT" run runc --root "$TMP/runc" run -b "$TMP/bundle" benchtrue
		done | record runc.true
	fi
	if [ "$HAVE_CRUN" = 1 ]; then
		# the loop inside the namespace: unshare and mount are not timed
		crun_in_ns bash -c 'for i in $(seq 0 "$3"); do
			t=$("$1" run crun --root "$2/crun" run -b "$2/crun-bundle" benchtrue) || exit 1
			[ "$i" = 0 ] || echo "$t"
		done' sh "$BT" "$TMP" "$RUNS" | record crun.true
	fi
	if [ "$WITH_PODMAN" = 1 ]; then
		for i in $(seq "$RUNS"); do
			"$BT" run podman run --rm --network none "localhost/$IMAGE" /bin/true
		done | record pm.true
	fi
}

# 6: log throughput -------------------------------------------------------------------
# CRI log files: each line ends in exactly one F record; a runtime may split
# a line into P records before it. Exact: F records == lines, no other tag,
# payload bytes == lines * 100.
count_log_lines() { # FILE...: "full partial other payload_bytes"
	cat "$@" | LC_ALL=C awk '{ if ($3 == "F") f++; else if ($3 == "P") p++; else o++; b += length($4) }
		END { print f + 0, p + 0, o + 0, b + 0 }'
}
log_verdict() { # KEY COUNTS
	local f p o b
	read -r f p o b <<<"$2"
	if [ "$f" = "$LINES" ] && [ "$o" = 0 ] && [ "$b" = $((LINES * (LINE_LEN - 1))) ]; then
		[ -n "${R[$1]:-}" ] || R[$1]="exact ($LINES lines, $p partial records)"
	else
		log "$1: full/partial/other records, payload bytes = $2; want $LINES full, 0 other, $((LINES * (LINE_LEN - 1))) bytes"
		R[$1]="WRONG (F=$f P=$p other=$o bytes=$b)"
	fi
}
bench_log() {
	log "6: log throughput, $LOG_BYTES bytes in $LINES lines ($LOG_RUNS runs)"
	local i t files
	: >"$TMP/pp.log"
	for i in $(seq "$LOG_RUNS"); do
		t=$(PEAPOD_LOG_MAX_SIZE=100Gi "$BT" run "$PEAPOD" apply -f "$M/log.yaml" ::: \
			"$PEAPOD" wait benchlog "--for=jsonpath={.status.phase}=Succeeded" --timeout 1200s)
		files=$(ls "$PEAPOD_LOG_DIR"/pods/default_benchlog_*/w/*.log)
		log_verdict pp.logcheck "$(count_log_lines $files)"
		pp delete benchlog >/dev/null
		awk -v t="$t" -v b="$LOG_BYTES" 'BEGIN{printf "%.1f\n", b / 1e6 / (t / 1e3)}' >>"$TMP/pp.log"
	done
	record pp.log <"$TMP/pp.log"

	[ "$WITH_PODMAN" = 1 ] || return 0
	: >"$TMP/pm.log"
	for i in $(seq "$LOG_RUNS"); do
		t=$("$BT" run podman run -d --name benchlog --network none --log-driver k8s-file \
			"localhost/$IMAGE" sh -c "$LOG_CMD" ::: podman wait benchlog)
		files=$(pm inspect benchlog --format '{{.HostConfig.LogConfig.Path}}')
		log_verdict pm.logcheck "$(count_log_lines $files)"
		pm rm -f benchlog >/dev/null
		awk -v t="$t" -v b="$LOG_BYTES" 'BEGIN{printf "%.1f\n", b / 1e6 / (t / 1e3)}' >>"$TMP/pm.log"
	done
	record pm.log <"$TMP/pm.log"
}

# 7: density ----------------------------------------------------------------------------
leak_check() { # what a pod-less peapod state must look like
	local bad=""
	[ -z "$(our_pids peapod-sup peapod-infra)" ] || bad="$bad processes"
	[ -z "$(ls -A "$PEAPOD_RUN/pods" 2>/dev/null)" ] || bad="$bad state-dirs"
	[ -z "$(find "$PEAPOD_RUN/names" -type f 2>/dev/null)" ] || bad="$bad names"
	[ -z "$(find "$PEAPOD_LOG_DIR/pods" -mindepth 1 -maxdepth 1 2>/dev/null)" ] || bad="$bad log-dirs"
	[ -z "$(awk -v t="$TMP/peapod" 'index($5, t) == 1' /proc/self/mountinfo)" ] || bad="$bad mounts"
	[ -z "$(find /sys/fs/cgroup/*/peapod-bench /sys/fs/cgroup/unified/peapod-bench -mindepth 1 -type d 2>/dev/null | grep -v /runc-bench)" ] || bad="$bad cgroups"
	[ -z "$(ls "$PEAPOD_ROOT"/containers 2>/dev/null)" ] || bad="$bad layers"
	echo "${bad:-none}"
}
bench_density() {
	log "7: density, $PODS pods"
	local i t names="" pids
	for i in $(seq "$PODS"); do
		dens_manifest "dens-$i" >"$M/dens-$i.yaml"
		names="$names dens-$i"
	done
	local args=()
	for i in $(seq "$PODS"); do args+=("$PEAPOD" apply -f "$M/dens-$i.yaml" ":::"); done
	for i in $(seq "$PODS"); do args+=("$PEAPOD" wait "dens-$i" --for=condition=Ready ":::"); done
	t=$("$BT" run "${args[@]}")
	R[pp.dens.start]=$(awk -v t="$t" -v n="$PODS" 'BEGIN{printf "%.1f", n / (t / 1e3)}')
	R[pp.dens.startms]=$t
	sleep 2
	pids=$(our_pids peapod-sup peapod-infra)
	read -r rss pss < <(mem_kb $pids)
	R[pp.dens.pss]=$((pss / PODS))
	R[pp.dens.rss]=$((rss / PODS))
	R[pp.dens.nproc]=$(echo $pids | wc -w)
	t=$("$BT" run "$PEAPOD" delete $names)
	R[pp.dens.delete]=$(awk -v t="$t" -v n="$PODS" 'BEGIN{printf "%.1f", n / (t / 1e3)}')
	R[pp.dens.leaks]=$(leak_check)
	log "peapod density: start ${R[pp.dens.startms]} ms, ${R[pp.dens.start]} pods/s, PSS/pod ${R[pp.dens.pss]} kB, delete ${R[pp.dens.delete]} pods/s, leaks: ${R[pp.dens.leaks]}"

	[ "$WITH_PODMAN" = 1 ] && [ "$PODMAN_PODS" -gt 0 ] || return 0
	args=()
	names=""
	for i in $(seq "$PODMAN_PODS"); do
		args+=(podman kube play --network none "$M/dens-$i.yaml" ":::")
		names="$names dens-$i"
	done
	t=$("$BT" run "${args[@]}")
	R[pm.dens.start]=$(awk -v t="$t" -v n="$PODMAN_PODS" 'BEGIN{printf "%.1f", n / (t / 1e3)}')
	sleep 2
	pids=$(podman_pids)
	read -r rss pss < <(mem_kb $pids)
	R[pm.dens.pss]=$((pss / PODMAN_PODS))
	R[pm.dens.rss]=$((rss / PODMAN_PODS))
	t=$("$BT" run podman pod rm -f $names)
	R[pm.dens.delete]=$(awk -v t="$t" -v n="$PODMAN_PODS" 'BEGIN{printf "%.1f", n / (t / 1e3)}')
	local left
	left="$(pm ps -aq | wc -l) containers, $(podman_pids | wc -w) conmon"
	R[pm.dens.leaks]=$([ "$left" = "0 containers, 0 conmon" ] && echo none || echo "$left")
	log "podman density: ${R[pm.dens.start]} pods/s, PSS/pod ${R[pm.dens.pss]} kB, delete ${R[pm.dens.delete]} pods/s, leaks: ${R[pm.dens.leaks]}"
}

# 8: supervisor CPU of an idle pod with 20 probed containers --------------------------
probe_manifest() { # NAME KIND(tcp|exec|execnop): 20 containers, each an httpd on its own port
	local k port
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n' "$1"
	for k in $(seq 1 20); do
		port=$((8000 + k))
		printf '  - name: c%d\n    image: %s\n    imagePullPolicy: Never\n' "$k" "$IMAGE"
		printf '    command: ["sh", "-c", "httpd -f -p %d & trap '"'"'exit 0'"'"' TERM; wait"]\n' "$port"
		printf '    readinessProbe:\n      periodSeconds: 1\n'
		if [ "$2" = tcp ]; then
			printf '      tcpSocket: {port: %d}\n' "$port"
		elif [ "$2" = execnop ]; then
			# tests/helpers/nop: no libc, so the runtime's share shows
			printf '      exec: {command: ["nop"]}\n'
		else
			printf '      exec: {command: ["true"]}\n'
		fi
	done
}
sup_ticks() { # PID: utime+stime+cutime+cstime of a supervisor and its exec-probe launchers (peapod-exec, which reap the probes), in clock ticks
	local p t=0
	for p in "$1" $(pgrep -P "$1" -x peapod-exec); do
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13 + $14 + $15}')))
	done
	echo "$t"
}
bench_probes() {
	log "8: idle pod, 20 containers with a 1 s readiness probe, supervisor CPU over ${PROBE_IDLE} s"
	local kind sup t0 t1 w0 w1 hz
	hz=$(getconf CLK_TCK)
	for kind in tcp exec execnop; do
		[ "$kind" != execnop ] || [ -x "$BUILD/helpers/nop" ] || continue
		probe_manifest "benchprobe-$kind" "$kind" >"$M/probe-$kind.yaml"
		pp apply -f "$M/probe-$kind.yaml" >/dev/null
		pp wait "benchprobe-$kind" --for=condition=Ready --timeout 60s >/dev/null
		sup=$(our_pids peapod-sup)
		[ "$(echo "$sup" | wc -w)" = 1 ] || { log "expected one supervisor, got: $sup"; return 1; }
		sleep 2
		t0=$(sup_ticks "$sup")
		w0=$(date +%s%N)
		sleep "$PROBE_IDLE"
		t1=$(sup_ticks "$sup")
		w1=$(date +%s%N)
		R[pp.probecpu.$kind]=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v w="$((w1 - w0))" \
			'BEGIN{v = sprintf("%.2f", 100 * t / hz / (w / 1e9)); print v, v, v}')
		log "probes ($kind): supervisor+children $((t1 - t0)) ticks over $(((w1 - w0) / 1000000)) ms: ${R[pp.probecpu.$kind]%% *}% of a core"
		pp get pods "benchprobe-$kind" | grep -q '20/20' || { log "benchprobe-$kind not 20/20 ready at the end"; return 1; }
		pp delete "benchprobe-$kind" >/dev/null
		gone_check "benchprobe-$kind"
	done
	# The probe command's own CPU (busybox `true`, the same static binary
	# the image has), spawned alone by benchtime, as % of a core at 20/s.
	local us
	us=$("$BT" cpu 300 "$(command -v busybox)" true) || return 0
	R[pp.probecpu.own]=$(awk -v us="$us" 'BEGIN{v = sprintf("%.2f", 20 * us / 1e6 * 100); print v, v, v}')
	log "probes: busybox true alone: ${us} us of CPU per run"
}

# 9: pod networking, in a network namespace of the benchmark's own --------------------
bench_net() {
	log "9: 1-container pod with a network: apply -> Ready, delete -> gone ($RUNS runs each: none, fast path, CNI plugins)"
	NET_NS=peapod-bench-net-$$
	ip netns add "$NET_NS" || return 1
	ip -n "$NET_NS" link set lo up
	dens_manifest net1 >"$M/net1.yaml"
	local mode i a d in="nsenter --net=/run/netns/$NET_NS"
	for mode in none fast cni; do
		: >"$TMP/net.$mode.ready"
		: >"$TMP/net.$mode.delete"
		for i in $(seq 0 "$RUNS"); do
			a=$(
				export PEAPOD_NETWORK=$([ $mode = none ] && echo none || echo peapod)
				export PEAPOD_NET_FASTPATH=$([ $mode = cni ] && echo 0 || echo 1)
				"$BT" run $in "$PEAPOD" apply -f "$M/net1.yaml" ::: $in "$PEAPOD" wait net1 --for=condition=Ready
			)
			d=$("$BT" run $in "$PEAPOD" delete net1)
			$in "$PEAPOD" get pods net1 >/dev/null 2>&1 && { log "net1 still listed after delete"; return 1; }
			[ "$i" = 0 ] && continue
			echo "$a" >>"$TMP/net.$mode.ready"
			echo "$d" >>"$TMP/net.$mode.delete"
		done
		record "net.$mode.ready" <"$TMP/net.$mode.ready"
		record "net.$mode.delete" <"$TMP/net.$mode.delete"
	done
	ip netns del "$NET_NS"
	NET_NS=
}

# 10: the CLI's own start: a verb that does nothing but start, parse and
# print, and one that reads the (empty) records, against a static and a
# dynamic /bin/true, whole processes (posix_spawn to exit) -----------------------
bench_cli() {
	local n=$((RUNS * 30)) i
	log "10: the CLI's start: peapod --help and get pods against /bin/true ($n runs each)"
	for i in $(seq "$n"); do "$BT" run /bin/busybox true; done | record cli.true.static
	for i in $(seq "$n"); do "$BT" run /bin/true; done | record cli.true.dynamic
	for i in $(seq "$n"); do "$BT" run "$PEAPOD" --help; done | record cli.help
	for i in $(seq "$n"); do "$BT" run "$PEAPOD" get pods; done | record cli.get
}

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
want pod && bench_pod
want exec && bench_exec_mem
want true && bench_true
want log && bench_log
want density && bench_density
want probes && bench_probes
want net && bench_net
want cli && bench_cli

# The floor per step (bench/floor.sh: a private state of its own), printed
# after the table.
FLOOR_MD=""
if want floor; then
	log "floor: each step of a pod start, exec and delete against the kernel's floor"
	FLOOR_MD=$TMP/floor.md
	BUILD=$BUILD BENCH_FLOOR_OUT=$FLOOR_MD "$HERE/floor.sh" >/dev/null || FLOOR_MD=""
fi

# --- the table ------------------------------------------------------------------------
fmt() { # KEY [unit]: "median (min-max)"
	local v=${R[$1]:-}
	[ -n "$v" ] || { echo "n/a"; return; }
	set -- $v
	if [ "$1" = "$2" ] && [ "$1" = "$3" ]; then echo "$1"; else echo "$1 ($2-$3)"; fi
}
med() { local v=${R[$1]:-}; [ -n "$v" ] && echo "${v%% *}" || echo ""; }
ratio() { # A B: B/A (how many times peapod is better when lower is better)
	local a b
	a=$(med "$1")
	b=$(med "$2")
	[ -n "$a" ] && [ -n "$b" ] || { echo "-"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN{ if (a > 0) printf "%.1fx", b / a; else print "-" }'
}
verdict() { # VALUE OP LIMIT ("not measured" for no value)
	case $1 in "" | n/a | 99999) echo "not measured"; return ;; esac
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{ ok = op == "<=" ? v <= l : v >= l; print (ok ? "met" : "missed") }'
}

kver=$(uname -r)
cpu=$(nproc)
cpumodel=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
pmver=$(podman --version 2>/dev/null | awk '{print $3}' || true)
rcver=$(runc --version 2>/dev/null | awk 'NR==1{print $3}' || true)
cmver=$(conmon --version 2>/dev/null | awk 'NR==1{print $3}' || true)
pp_pss_pod=$(med pp.pss)
[ -z "$pp_pss_pod" ] || pp_pss_pod=$(awk -v k="$pp_pss_pod" 'BEGIN{printf "%d", k}')
{
	echo "## peapod benchmarks ($(date -u +%Y-%m-%d))"
	echo
	echo "Machine: Linux $kver, $cpu CPUs ($cpumodel); peapod $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?'); podman ${pmver:-absent}, conmon ${cmver:-?}, runc ${rcver:-absent}."
	echo "Times in ms, median (min-max) over $RUNS runs (exec: $EXEC_RUNS, log: $LOG_RUNS). Ratio = other / peapod for times and memory, peapod / other for rates: above 1x peapod is better."
	[ "$WITH_PODMAN" = 1 ] || echo "podman: not measured: $PODMAN_WHY"
	echo
	echo "| # | measurement | peapod | podman | runc | ratio | target |"
	echo "|---|---|---|---|---|---|---|"
	echo "| 1 | 3-container pod, apply -> Ready (ms) | $(fmt pp.ready) | $(fmt pm.ready) | | $(ratio pp.ready pm.ready) (podman) | <= 15 ms: $(verdict "$(med pp.ready)" '<=' 15) |"
	echo "| 1u | the same with hostUsers: false (ms) | $(fmt pp.ready.userns) | | | | <= 1-2 ms above 1 |"
	echo "| 2 | delete -> gone (ms) | $(fmt pp.delete) | $(fmt pm.delete) | | $(ratio pp.delete pm.delete) (podman) | <= 20 ms: $(verdict "$(med pp.delete)" '<=' 20) |"
	echo "| 2u | the same with hostUsers: false (ms) | $(fmt pp.delete.userns) | | | | |"
	echo "| 3 | exec /bin/true (ms) | $(fmt pp.exec) | $(fmt pm.exec) | | $(ratio pp.exec pm.exec) (podman) | <= 5 ms: $(verdict "$(med pp.exec)" '<=' 5) |"
	echo "| 4 | one-container pod /bin/true, start -> exit (ms) | $(fmt pp.true) | $(fmt pm.true) | $(fmt runc.true) | $(ratio pp.true runc.true) (runc), $(ratio pp.true pm.true) (podman) | |"
	echo "| 4c | the same bundle with \`crun run\` (ms; private mount namespace, see README) | $(fmt pp.true) | | crun: $(fmt crun.true) | $(ratio pp.true crun.true) (crun) | |"
	echo "| 5a | idle 3-container pod, helper PSS (kB) | $(fmt pp.pss) (${R[pp.nproc]:-?} procs) | $(fmt pm.pss) (${R[pm.nproc]:-?} procs) | | $(ratio pp.pss pm.pss) | <= 1024 kB/pod: $(verdict "$pp_pss_pod" '<=' 1024) |"
	echo "| 5b | idle 3-container pod, helper RSS (kB) | $(fmt pp.rss) | $(fmt pm.rss) | | $(ratio pp.rss pm.rss) | |"
	echo "| 6 | log throughput, $LOG_MB MB of 101-byte lines (MB/s) | $(fmt pp.log) | $(fmt pm.log) | | $(ratio pm.log pp.log) | >= 500 MB/s: $(verdict "$(med pp.log)" '>=' 500) |"
	echo "| 6b | log line count | ${R[pp.logcheck]:-n/a} | ${R[pm.logcheck]:-n/a} | | | exact |"
	echo "| 7a | density: start pods/s (peapod N=$PODS, podman N=$PODMAN_PODS) | ${R[pp.dens.start]:-n/a} | ${R[pm.dens.start]:-n/a} | | $(awk -v a="${R[pp.dens.start]:-0}" -v b="${R[pm.dens.start]:-0}" 'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "-" }') | |"
	echo "| 7b | density: helper PSS per pod (kB) | ${R[pp.dens.pss]:-n/a} | ${R[pm.dens.pss]:-n/a} | | $(awk -v a="${R[pp.dens.pss]:-0}" -v b="${R[pm.dens.pss]:-0}" 'BEGIN{ if (a > 0 && b > 0) printf "%.1fx", b / a; else print "-" }') | <= 1024 kB: $(verdict "${R[pp.dens.pss]:-99999}" '<=' 1024) |"
	echo "| 7c | density: delete pods/s | ${R[pp.dens.delete]:-n/a} | ${R[pm.dens.delete]:-n/a} | | $(awk -v a="${R[pp.dens.delete]:-0}" -v b="${R[pm.dens.delete]:-0}" 'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "-" }') | |"
	echo "| 7d | density: leaks after delete | ${R[pp.dens.leaks]:-n/a} | ${R[pm.dens.leaks]:-n/a} | | | none |"
	echo "| 8a | idle pod, 20 containers, tcpSocket readiness every 1 s: supervisor CPU incl. children (% of a core) | $(fmt pp.probecpu.tcp) | | | | < 1%: $(verdict "$(med pp.probecpu.tcp)" '<=' 1) |"
	echo "| 8b | same with exec readiness \`true\` (% of a core) | $(fmt pp.probecpu.exec) | | | | < 1% for peapod's share (8b - 8d): $(verdict "$(awk -v a="$(med pp.probecpu.exec)" -v b="$(med pp.probecpu.own)" 'BEGIN{ if (a == "" || b == "") print ""; else print a - b }')" '<=' 1) |"
	echo "| 8c | same with exec readiness \`nop\` (no libc: the runtime's own share) (% of a core) | $(fmt pp.probecpu.execnop) | | | | < 1%: $(verdict "$(med pp.probecpu.execnop)" '<=' 1) |"
	echo "| 8d | busybox \`true\` on its own, 20 runs a second (spawned alone; static glibc start-up) (% of a core) | $(fmt pp.probecpu.own) | | | | |"
	echo "| 9a | 1-container pod, apply -> Ready (ms): loopback only / default network, fast path / CNI plugins | $(fmt net.none.ready) / $(fmt net.fast.ready) / $(fmt net.cni.ready) | | | | |"
	echo "| 9b | delete -> gone (ms): loopback only / default network, fast path / CNI plugins | $(fmt net.none.delete) / $(fmt net.fast.delete) / $(fmt net.cni.delete) | | | | |"
	echo "| 10a | CLI start: \`peapod --help\` / \`peapod get pods\` (no pods) vs a static \`busybox true\` / dynamic \`/bin/true\` (ms, whole process) | $(fmt cli.help) / $(fmt cli.get) | | $(fmt cli.true.static) / $(fmt cli.true.dynamic) | $(awk -v a="$(med cli.help)" -v b="$(med cli.true.static)" 'BEGIN{ if (a != "" && b != "") printf "+%.2f ms", a - b; else print "-" }') over static true | within 1 ms of static true: $(verdict "$(awk -v a="$(med cli.help)" -v b="$(med cli.true.static)" 'BEGIN{ if (a != "" && b != "") print a - b }')" '<=' 1) |"

	# The issue's ratios (#20), all from this one run.
	ratio_num() { # A B: B/A as a number, or nothing
		local a b
		a=$(med "$1")
		b=$(med "$2")
		[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN{ if (a > 0) printf "%.2f", b / a }'
		return 0
	}
	holds() { # VALUE OP LIMIT
		[ -n "$1" ] || { echo "not measured"; return; }
		awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN{ ok = op == "<" ? v < l : op == ">" ? v > l : v >= l; print (ok ? "holds" : "**does not hold**") }'
	}
	r_ready=$(ratio_num pp.ready pm.ready)
	r_exec=$(ratio_num pp.exec pm.exec)
	r_runc=$(ratio_num pp.true runc.true)
	r_crun=$(ratio_num pp.true crun.true)
	p_nop=$(med pp.probecpu.execnop)
	echo
	echo "### ratios (issue #20; this run only)"
	echo
	echo "| ratio | this run | target | |"
	echo "|---|---|---|---|"
	echo "| 3-container pod Ready, \`podman kube play\` / peapod | ${r_ready:-n/a}x | >= 30x | $(holds "$r_ready" '>=' 30) |"
	echo "| exec, \`podman exec\` / peapod | ${r_exec:-n/a}x | >= 30x | $(holds "$r_exec" '>=' 30) |"
	echo "| one-container /bin/true pod start to exit, \`runc run\` / peapod | ${r_runc:-n/a}x | >= 3x | $(holds "$r_runc" '>=' 3) |"
	echo "| the same, \`crun run\` / peapod | ${r_crun:-n/a}x | > 1x | $(holds "$r_crun" '>' 1) |"
	echo "| exec probes' own share, 20 containers probed every 1 s (8c, \`nop\`) | ${p_nop:-n/a}% of a core | < 1% | $(holds "$p_nop" '<' 1) |"
	if [ -n "$FLOOR_MD" ]; then
		echo
		cat "$FLOOR_MD"
	fi
} >"$OUT"
cat "$OUT"

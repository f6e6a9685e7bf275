#!/bin/bash
# `make bench-cri`: a pod with one container through the CRI, peapod (`peapod
# node --cri`) next to containerd 1.6 with runc (both from Debian), in one run
# on this machine, driven by the same client: crictl (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl, or $CRICTL) and, for the RPCs alone without
# crictl's own start, bench/cri-time.py (grpcio, stubs generated from
# src/cri/api.proto: the same package, methods and field numbers as
# k8s.io/cri-api, so it speaks to containerd too).
#
# Everything runs in a private network and mount namespace (the script runs
# itself again inside them): containerd's root, state, socket, netns and
# shim sockets under one temp dir or on tmpfs mounts that vanish with the
# namespace; the pods' cgroups under peapod-bench-cri (peapod) and
# /peapod-bench-ctr (containerd), removed at the end. Nothing is left.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
RUNS=${BENCH_RUNS:-10}
CRICTL=${CRICTL:-$TOP/../shared/tools/bin/crictl}
IMAGE=busybox:1.36
PY=/usr/bin/python3
WHICH=${BENCH_CRI_RUNTIMES:-peapod containerd} # either or both

log() { printf 'bench-cri: %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "bench-cri: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] || { echo "bench-cri: build first: make all helpers" >&2; exit 1; }
[ -x "$CRICTL" ] || { echo "bench-cri: crictl is missing at $CRICTL (set CRICTL)" >&2; exit 1; }

# --- containerd and runc from Debian when absent ------------------------------
if ! command -v containerd >/dev/null || ! command -v runc >/dev/null; then
	log "installing containerd and runc from Debian"
	apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q containerd runc >&2
fi

# --- the private namespaces: the script runs itself again inside them ---------
if [ -z "${BENCH_CRI_INSIDE:-}" ]; then
	made=
	[ -d /run/containerd ] || { mkdir /run/containerd && made=1; }
	rc=0
	BENCH_CRI_INSIDE=1 unshare --net --mount --propagation private "$0" "$@" || rc=$?
	[ -z "$made" ] || rmdir /run/containerd 2>/dev/null || true
	for d in /sys/fs/cgroup/*/peapod-bench-cri /sys/fs/cgroup/unified/peapod-bench-cri \
		/sys/fs/cgroup/*/peapod-bench-ctr /sys/fs/cgroup/unified/peapod-bench-ctr; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	exit "$rc"
fi
ip link set lo up
# containerd's netns files and shim sockets, on mounts of this namespace only
mount -t tmpfs tmpfs /run/containerd
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns

TMP=$(mktemp -d /var/tmp/peapod-bench-cri.XXXXXX)
export PEAPOD_ROOT=$TMP/pp/root PEAPOD_RUN=$TMP/pp/run PEAPOD_LOG_DIR=$TMP/pp/log
export PEAPOD_CGROUP_PARENT=peapod-bench-cri PEAPOD_CNI_CONF_DIR=$TMP/pp/cni
C=$TMP/ctr
mkdir -p "$C/cni" "$TMP/pp/manifests" "$TMP/logs"
NODE_PID=
CTR_PID=

cleanup() {
	set +e
	local s
	for s in "$TMP/pp/cri.sock" "$C/containerd.sock"; do
		[ -S "$s" ] || continue
		"$CRICTL" -r "unix://$s" pods -q 2>/dev/null | while read -r p; do
			"$CRICTL" -r "unix://$s" stopp "$p" >/dev/null 2>&1
			"$CRICTL" -r "unix://$s" rmp "$p" >/dev/null 2>&1
		done
	done
	[ -z "$NODE_PID" ] || { kill "$NODE_PID"; wait "$NODE_PID"; } 2>/dev/null
	[ -z "$CTR_PID" ] || { kill "$CTR_PID"; wait "$CTR_PID"; } 2>/dev/null
	"$PEAPOD" gc >/dev/null 2>&1
	awk -v t="$TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	[ -n "${BENCH_CRI_KEEP:-}" ] || rm -rf "$TMP"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- images: busybox, and a pause image made of it for containerd ------------
log "building the busybox image"
# make-busybox-image.sh builds the rootfs and calls "PEAPOD image import
# DIR"; a stand-in keeps a tar of that directory on the way (as bench.sh)
cat >"$TMP/import-wrap" <<'EOF'
#!/bin/sh
set -e
[ "$1" = image ] && [ "$2" = import ] && tar -C "$3" --numeric-owner -cf "$BENCH_ROOTFS_TAR" .
exec "$BENCH_PEAPOD" "$@"
EOF
chmod +x "$TMP/import-wrap"
BENCH_ROOTFS_TAR=$TMP/busybox.tar BENCH_PEAPOD=$PEAPOD HELPERS_DIR=$BUILD/helpers \
	"$TOP/tests/lib/make-busybox-image.sh" "$TMP/import-wrap" "$IMAGE" >/dev/null
"$PEAPOD" image import "$TMP/busybox.tar" localhost/pause:bench \
	--entrypoint '["/bin/sleep","2147483647"]' >/dev/null
"$PEAPOD" image save -o "$TMP/busybox-archive.tar" "$IMAGE"
"$PEAPOD" image save -o "$TMP/pause-archive.tar" localhost/pause:bench
"$PEAPOD" image rm localhost/pause:bench >/dev/null

# --- the servers ---------------------------------------------------------------
log "starting peapod node --cri"
"$PEAPOD" node --manifests "$TMP/pp/manifests" --cri-socket "$TMP/pp/cri.sock" \
	2>"$TMP/node.err" &
NODE_PID=$!

cat >"$C/cni/10-bench.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "ctrbench", "plugins": [
 {"type": "bridge", "bridge": "ctrbench0", "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.99.0.0/16"}]]}},
 {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$C/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:bench"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # this host cannot lower oom_score_adj (no CAP_SYS_RESOURCE): the pause
  # container's -998 makes runc fail; clamp to containerd's own
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$C/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
EOF
log "starting containerd $(containerd --version | awk '{print $3}') with runc $(runc --version | awk 'NR==1{print $3}')"
containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
CTR_PID=$!
for ((i = 0; i < 200; i++)); do
	[ -S "$C/containerd.sock" ] && [ -S "$TMP/pp/cri.sock" ] && break
	sleep 0.05
done
[ -S "$C/containerd.sock" ] || { log "containerd did not start: $(tail -5 "$C/containerd.log")"; exit 1; }
[ -S "$TMP/pp/cri.sock" ] || { log "peapod node did not start: $(cat "$TMP/node.err")"; exit 1; }
ctr -a "$C/containerd.sock" -n k8s.io images import --no-unpack=false "$TMP/busybox-archive.tar" >/dev/null
ctr -a "$C/containerd.sock" -n k8s.io images import "$TMP/pause-archive.tar" >/dev/null

# --- the pod and container configs crictl takes --------------------------------
pod_json() { # NAME CGROUP_PARENT
	cat <<EOF
{"metadata": {"name": "$1", "namespace": "bench", "uid": "$1-uid", "attempt": 0},
 "log_directory": "$TMP/logs/$1", "linux": {"cgroup_parent": "$2"}}
EOF
}
cat >"$TMP/ctr.json" <<EOF
{"metadata": {"name": "app"}, "image": {"image": "docker.io/library/$IMAGE"},
 "command": ["/bin/sleep", "3600"], "log_path": "app.log", "linux": {}}
EOF
cat >"$TMP/ctr-peapod.json" <<EOF
{"metadata": {"name": "app"}, "image": {"image": "$IMAGE"},
 "command": ["/bin/sleep", "3600"], "log_path": "app.log", "linux": {}}
EOF

now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b - a) / 1e6}'; }
median() { sort -n | awk '{a[NR]=$1} END{ if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.2f", (a[NR/2]+a[NR/2+1])/2 }'; }

# one_run RUNTIME SOCK CTRJSON CGROUP N: runp, create, start, exec -s, stopp,
# rmp timed with crictl, one line "runp create start up exec stopp rmp" (ms)
one_run() {
	local rt=$1 s=$2 cj=$3 cg=$4 n=$5 t0 t1 t2 t3 t4 t5 t6 pod ctr
	local cr=("$CRICTL" -r "unix://$s" -i "unix://$s" --timeout 60s)
	pod_json "$rt-$n" "$cg" >"$TMP/pod-$rt-$n.json"
	t0=$(now)
	pod=$("${cr[@]}" runp "$TMP/pod-$rt-$n.json")
	t1=$(now)
	ctr=$("${cr[@]}" create "$pod" "$cj" "$TMP/pod-$rt-$n.json")
	t2=$(now)
	"${cr[@]}" start "$ctr" >/dev/null
	t3=$(now)
	"${cr[@]}" exec -s "$ctr" /bin/true >/dev/null 2>&1 || true
	t4=$(now)
	"${cr[@]}" stopp "$pod" >/dev/null
	t5=$(now)
	"${cr[@]}" rmp "$pod" >/dev/null
	t6=$(now)
	echo "$(ms "$t0" "$t1") $(ms "$t1" "$t2") $(ms "$t2" "$t3") $(ms "$t0" "$t3") $(ms "$t3" "$t4") $(ms "$t4" "$t5") $(ms "$t5" "$t6")"
}

crictl_start=()
for ((i = 0; i < RUNS; i++)); do
	t0=$(now)
	"$CRICTL" -r "unix://$TMP/pp/cri.sock" version >/dev/null
	crictl_start+=("$(ms "$t0" "$(now)")")
done
CRICTL_MS=$(printf '%s\n' "${crictl_start[@]}" | median)
log "crictl's own start and one Version call: $CRICTL_MS ms"

: >"$TMP/peapod.txt"
: >"$TMP/ctr.txt"
if [[ " $WHICH " == *" peapod "* ]]; then
	log "peapod: $RUNS pods"
	for ((i = 0; i < RUNS; i++)); do one_run peapod "$TMP/pp/cri.sock" "$TMP/ctr-peapod.json" /peapod-bench-cri/pods "$i"; done >"$TMP/peapod.txt"
fi
if [[ " $WHICH " == *" containerd "* ]]; then
	log "containerd+runc: $RUNS pods"
	for ((i = 0; i < RUNS; i++)); do one_run ctr "$C/containerd.sock" "$TMP/ctr.json" /peapod-bench-ctr "$i"; done >"$TMP/ctr.txt"
fi

col() { awk -v c="$2" '{print $c}' "$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a > 0 && b != "-") printf "%.1fx", b / a; else print "-" }'; }
echo "| step (crictl, ms, median of $RUNS) | peapod | containerd 1.6 + runc | containerd / peapod |"
echo "| --- | ---: | ---: | ---: |"
names=("runp" "create" "start" "pod with one container up (runp+create+start)" "exec -s true" "stopp" "rmp")
for c in 1 2 3 4 5 6 7; do
	p=$(col "$TMP/peapod.txt" "$c")
	k=$(col "$TMP/ctr.txt" "$c")
	echo "| ${names[$((c - 1))]} | $p | $k | $(ratio "$p" "$k") |"
done
echo "| crictl's own start + Version (in every row above) | $CRICTL_MS | | |"
if [ "$WHICH" = "peapod containerd" ] && "$PY" -c "import grpc_tools, grpc" 2>/dev/null; then
	log "the RPCs alone (bench/cri-time.py, one connection)"
	"$PY" "$HERE/cri-time.py" "$TOP/src/cri/api.proto" "$TMP/py" "$RUNS" \
		"peapod=$TMP/pp/cri.sock=$IMAGE=/peapod-bench-cri/pods" \
		"containerd+runc=$C/containerd.sock=docker.io/library/$IMAGE=/peapod-bench-ctr" \
		"$TMP/logs"
fi

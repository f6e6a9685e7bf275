#!/bin/bash
# The kernel's floor per step (issue #20): each step of a 3-container pod's
# start, an exec and a delete, timed the cheapest way the kernel does that
# work (bench/floor.c, BENCH_FLOOR_RUNS times each, medians), beside
# peapod's time for the same step (PEAPOD_TRACE, BENCH_RUNS pods: apply,
# wait Ready, BENCH_FLOOR_EXECS execs, delete) and the ratio. Then the
# wholes: apply -> Ready, exec, delete (wall time of the CLI commands)
# against the sum of their steps' floors. With BENCH_FLOOR_NET=1 (the
# default) the pod network's step is also measured: the same pod with the
# default network (built-in fast path) in a network namespace of the
# script's own. Run by `make floor` and by bench.sh (BENCH_ONLY=floor);
# prints a markdown table (also written to $BUILD/bench/floor.md). Private
# state under a temp dir; nothing left.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
BT=$BUILD/bench/benchtime
FLOOR=$BUILD/bench/floor
RUNS=${BENCH_RUNS:-10}
FRUNS=${BENCH_FLOOR_RUNS:-50}
EXECS=${BENCH_FLOOR_EXECS:-3}
WITH_NET=${BENCH_FLOOR_NET:-1}
OUT=${BENCH_FLOOR_OUT:-$BUILD/bench/floor.md}
[ "$(id -u)" = 0 ] || { echo "floor: needs root" >&2; exit 1; }
for f in "$PEAPOD" "$BT" "$FLOOR"; do
	[ -x "$f" ] || { echo "floor: build first: make all helpers $BT $FLOOR" >&2; exit 1; }
done
log() { printf 'floor: %s\n' "$*" >&2; }

TMP=$(mktemp -d /tmp/peapod-floor.XXXXXX)
export PEAPOD_ROOT=$TMP/root PEAPOD_RUN=$TMP/run PEAPOD_LOG_DIR=$TMP/log
export PEAPOD_CGROUP_PARENT=peapod-floor-$$
export PEAPOD_NETWORK=none PEAPOD_CNI_CONF_DIR=$TMP/cni
unset PEAPOD_TRACE
NET_NS=
cleanup() {
	set +e
	"$PEAPOD" delete floor3 --force >/dev/null 2>&1
	"$PEAPOD" gc >/dev/null 2>&1
	if [ -n "$NET_NS" ]; then
		nsenter --net="/run/netns/$NET_NS" "$PEAPOD" delete floor3 --force >/dev/null 2>&1
		nsenter --net="/run/netns/$NET_NS" "$PEAPOD" gc >/dev/null 2>&1
		ip netns del "$NET_NS"
	fi
	find /sys/fs/cgroup -maxdepth 2 -type d -name "$PEAPOD_CGROUP_PARENT*" 2>/dev/null |
		while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building the busybox image"
HELPERS_DIR=$BUILD/helpers "$TOP/tests/lib/make-busybox-image.sh" "$PEAPOD" busybox:1.36 >/dev/null
LOWER=$(ls -d "$PEAPOD_ROOT"/layers/sha256/* | head -1)
[ -d "$LOWER/bin" ] || LOWER=$LOWER/diff
[ -x "$LOWER/bin/busybox" ] || { log "no busybox layer under $PEAPOD_ROOT/layers"; exit 1; }
BUSYBOX=$LOWER/bin/busybox # static: the pods' very binary

IDLE="trap 'exit 0' TERM; sleep 1000000 & wait"
{
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: floor3\nspec:\n  terminationGracePeriodSeconds: 10\n  containers:\n'
	for c in c1 c2 c3; do
		printf '  - name: %s\n    image: busybox:1.36\n    imagePullPolicy: Never\n    command: ["sh", "-c", "%s"]\n' "$c" "$IDLE"
	done
} >"$TMP/pod.yaml"

# --- peapod, traced -------------------------------------------------------------
# Each run: apply, wait Ready, EXECS execs, delete; wall times by benchtime,
# the steps by the trace. Run 0 warms up (its trace and times are dropped).
pod_runs() { # TRACE WALLS [nsenter...]: the runs, in the namespace given
	local trace=$1 walls=$2 i a e d
	shift 2
	: >"$walls"
	for i in $(seq 0 "$RUNS"); do
		[ "$i" = 1 ] && : >"$trace"
		a=$(PEAPOD_TRACE=$trace "$BT" run "$@" "$PEAPOD" apply -f "$TMP/pod.yaml" ::: "$@" "$PEAPOD" wait floor3 --for=condition=Ready)
		[ "$i" = 1 ] && [ "$#" = 0 ] && record_size
		for _ in $(seq "$EXECS"); do
			e=$(PEAPOD_TRACE=$trace "$BT" run "$@" "$PEAPOD" exec floor3 -c c1 -- /bin/true)
			[ "$i" = 0 ] || echo "exec $e" >>"$walls"
		done
		d=$(PEAPOD_TRACE=$trace "$BT" run "$@" "$PEAPOD" delete floor3)
		! "$@" "$PEAPOD" get pods floor3 >/dev/null 2>&1 || { log "floor3 still listed after delete"; exit 1; }
		[ "$i" = 0 ] && continue
		echo "ready $a" >>"$walls"
		echo "delete $d" >>"$walls"
	done
}
# The pod's record as delete removes it: its data directory (writable
# layers, volumes) and its state directory.
REC_DIRS=0 REC_FILES=0
record_size() {
	local dirs
	dirs=$(ls -d "$PEAPOD_ROOT"/pods/* "$PEAPOD_RUN"/pods/* 2>/dev/null) || true
	[ -n "$dirs" ] || return 0
	REC_DIRS=$(find $dirs -type d 2>/dev/null | wc -l)
	REC_FILES=$(find $dirs ! -type d 2>/dev/null | wc -l)
}
log "peapod: $RUNS runs of a 3-container pod (apply, wait Ready, $EXECS execs, delete), traced"
pod_runs "$TMP/trace" "$TMP/walls"
if [ "$WITH_NET" = 1 ]; then
	log "peapod: the same with the default network (fast path), in a network namespace of ours"
	NET_NS=peapod-floor-net-$$
	ip netns add "$NET_NS"
	ip -n "$NET_NS" link set lo up
	PEAPOD_NETWORK=peapod PEAPOD_NET_FASTPATH=1 pod_runs "$TMP/trace.net" "$TMP/walls.net" \
		nsenter --net="/run/netns/$NET_NS"
	ip netns del "$NET_NS"
	NET_NS=
fi

# --- the floor ------------------------------------------------------------------
log "the kernel's floor: $FRUNS runs of each step"
F=$TMP/floor.txt
: >"$F"
# The overlay's and the tree's directories in block groups of their own, as
# peapod's pod directories are (util/fs.h pp_mkdir_grouped: groups/<k> under a
# chattr +T groups/).
mkdir -p "$TMP/apart" "$TMP/sock"
chattr +T "$TMP/apart" 2>/dev/null || true
mkdir "$TMP/apart/ov" "$TMP/apart/tree"
{
	"$FLOOR" -n "$FRUNS" ns none
	"$FLOOR" -n "$FRUNS" ns net,ipc,uts
	"$FLOOR" -n "$FRUNS" ns net,ipc,uts,pid,mnt
	"$FLOOR" -n "$FRUNS" net
	"$FLOOR" -n "$FRUNS" cgroup "$PEAPOD_CGROUP_PARENT-floor"
	"$FLOOR" -n "$FRUNS" overlay "$LOWER" "$TMP/apart/ov"
	"$FLOOR" -n "$FRUNS" pivot "$LOWER"
	"$FLOOR" -n "$FRUNS" spawn "$BUSYBOX"
	"$FLOOR" -n "$FRUNS" setns "$BUSYBOX"
	"$FLOOR" -n "$FRUNS" kill
	"$FLOOR" -n "$FRUNS" socket "$TMP/sock"
	"$FLOOR" -n "$((FRUNS < 20 ? FRUNS : 20))" tree "$TMP/apart/tree" "$((REC_DIRS > 0 ? REC_DIRS : 1))" "$REC_FILES"
} >>"$F"

# --- the table ------------------------------------------------------------------
python3 "$HERE/floor-table.py" "$F" "$TMP/trace" "$TMP/walls" \
	"$([ "$WITH_NET" = 1 ] && echo "$TMP/trace.net" || echo -)" "$REC_DIRS" "$REC_FILES" \
	"$RUNS" "$FRUNS" "$EXECS" >"$OUT"
cat "$OUT"

#!/bin/bash
# A sandbox with one busybox container up through the CRI: `crictl runp`,
# `crictl create`, `crictl start` against `peapod cri-serve`, BENCH_RUNS
# times (default 5; each torn down with `crictl rmp -f`, untimed), in a
# private peapod state. Prints each run's times in ms and, first, what one
# `crictl version` takes on this machine (crictl's own start and
# connection, part of every number). Needs root, crictl ($CRICTL, else
# ../shared/tools/bin/crictl beside the repository) and `make`.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
CRICTL=${CRICTL:-$repo/../shared/tools/bin/crictl}
runs=${BENCH_RUNS:-5}
[ -x "$CRICTL" ] || { echo "crictl missing at $CRICTL" >&2; exit 1; }
T=$(mktemp -d /tmp/peapod-bench-cri.XXXXXX)
export PEAPOD_ROOT=$T/root PEAPOD_RUN=$T/run PEAPOD_LOG_DIR=$T/log PEAPOD_NETWORK=none \
	PEAPOD_CGROUP_PARENT=peapod-bench-cri-$$ PEAPOD_CNI_CONF_DIR=$T/cni
mkdir -p "$PEAPOD_ROOT" "$PEAPOD_RUN"
P=$repo/build/peapod
HELPERS_DIR=$repo/build/helpers "$repo/tests/lib/make-busybox-image.sh" "$P" busybox:1.36 >/dev/null
"$P" cri-serve --socket "$T/cri.sock" 2>"$T/err" &
srv=$!
cleanup() {
	kill "$srv" 2>/dev/null && wait "$srv" || true
	"$P" image rm busybox:1.36 >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
while [ ! -S "$T/cri.sock" ]; do sleep 0.05; done
c() { "$CRICTL" --runtime-endpoint "unix://$T/cri.sock" --image-endpoint "unix://$T/cri.sock" "$@"; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
t0=$(date +%s%N); c version >/dev/null; t1=$(date +%s%N)
echo "crictl version: $(ms "$t0" "$t1") ms"
for i in $(seq 1 "$runs"); do
	cat >"$T/p.json" <<EOF
{"metadata": {"name": "b$i", "namespace": "bench", "uid": "u$i"}, "log_directory": "$T/logs/b$i", "linux": {}}
EOF
	cat >"$T/c.json" <<EOF
{"metadata": {"name": "c"}, "image": {"image": "busybox:1.36"}, "command": ["sleep", "1000"], "log_path": "c.log", "linux": {}}
EOF
	t0=$(date +%s%N)
	pod=$(c runp "$T/p.json")
	t1=$(date +%s%N)
	ctr=$(c create "$pod" "$T/c.json" "$T/p.json")
	t2=$(date +%s%N)
	c start "$ctr" >/dev/null
	t3=$(date +%s%N)
	echo "run $i: runp $(ms "$t0" "$t1") ms, create $(ms "$t1" "$t2") ms, start $(ms "$t2" "$t3") ms, total $(ms "$t0" "$t3") ms"
	c rmp -f "$pod" >/dev/null
done

#!/bin/bash
# The cost of the CRI stats RPCs as kubelet calls them (every 10-15 s):
# ListContainerStats and ListPodSandboxStats over BENCH_PODS (20) running
# pods of 2 containers each, BENCH_RUNS (50) calls of each after a warm-up,
# from one client process (tests/lib/cri-client.py's stubs, so Python's
# start is not counted); prints the median and p90 per call in ms and the
# server's CPU time per call. The pods are applied from the CLI and marked as
# the CRI's (the cri-sandbox file RunPodSandbox writes), so that a listing
# without a filter covers them. Needs root; leaves nothing behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
PODS=${BENCH_PODS:-20}
RUNS=${BENCH_RUNS:-50}
IMAGE=busybox:1.36

[ "$(id -u)" = 0 ] || { echo "cri-stats bench: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] || { echo "cri-stats bench: build first: make all helpers" >&2; exit 1; }

TMP=$(mktemp -d /tmp/peapod-bench-cri-stats.XXXXXX)
export PEAPOD_ROOT=$TMP/root PEAPOD_RUN=$TMP/run PEAPOD_LOG_DIR=$TMP/log
export PEAPOD_CGROUP_PARENT=peapod-bench-cri-stats-$$
export PEAPOD_NETWORK=none PEAPOD_CNI_CONF_DIR=$TMP/cni
export CRI_CLIENT_GEN=$TMP/gen
SOCK=$TMP/cri.sock
SERVER=

cleanup() {
	if [ -n "$SERVER" ]; then
		kill -TERM "$SERVER" 2>/dev/null || true
		wait "$SERVER" 2>/dev/null || true
	fi
	# the pods before their records go (a failed delete is said, not hidden)
	"$PEAPOD" delete --all >/dev/null || echo "cri-stats bench: delete --all failed" >&2
	local d
	for d in /sys/fs/cgroup/*/"$PEAPOD_CGROUP_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

HELPERS_DIR=$BUILD/helpers "$TOP/tests/lib/make-busybox-image.sh" "$PEAPOD" "$IMAGE" >/dev/null
for ((i = 0; i < PODS; i++)); do
	cat >"$TMP/p$i.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: s$i
  labels: {app: s$i}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: a, image: $IMAGE, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}
    - {name: b, image: $IMAGE, command: ["sh", "-c", "echo x >/f; trap 'exit 0' TERM; while true; do sleep 1; done"]}
EOF
	"$PEAPOD" apply -f "$TMP/p$i.yaml" >/dev/null
done
for ((i = 0; i < PODS; i++)); do
	"$PEAPOD" wait "s$i" --for=condition=Ready --timeout=60s >/dev/null
	touch "$PEAPOD_RUN/pods/$(head -n1 "$PEAPOD_RUN/names/default/s$i")/cri-sandbox"
done

"$PEAPOD" cri-serve --socket "$SOCK" &
SERVER=$!
for ((i = 0; i < 200; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.05
done

/usr/bin/python3 - "$SOCK" "$RUNS" "$SERVER" "$PODS" <<'EOF'
import importlib.util, os, sys, time
sock, runs, server, pods = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
spec = importlib.util.spec_from_file_location("cri_client", os.path.join(
    os.environ["PWD"], "tests", "lib", "cri-client.py"))
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)
pb2, _ = cc.stubs()
import grpc

def cpu():  # the server's user+system time, in clock ticks
    f = open("/proc/%s/stat" % server).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

with grpc.insecure_channel("unix:" + sock) as ch:
    for name, req, resp, count in (
            ("ListContainerStats", pb2.ListContainerStatsRequest(), pb2.ListContainerStatsResponse,
             lambda r: len(r.stats)),
            ("ListPodSandboxStats", pb2.ListPodSandboxStatsRequest(),
             pb2.ListPodSandboxStatsResponse, lambda r: len(r.stats))):
        call = ch.unary_unary("/runtime.v1.RuntimeService/" + name,
                              request_serializer=type(req).SerializeToString,
                              response_deserializer=resp.FromString)
        n = count(call(req))  # warm-up
        times, c0 = [], cpu()
        for _ in range(runs):
            t = time.monotonic()
            call(req)
            times.append((time.monotonic() - t) * 1000)
        c1 = cpu()
        times.sort()
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        print("%-20s %d pods, %3d items: median %.2f ms, p90 %.2f ms, min %.2f ms; server CPU %.2f ms/call"
              % (name, pods, n, times[len(times) // 2], times[int(len(times) * 0.9)], times[0],
                 (c1 - c0) * tick_ms / runs))
EOF

#!/bin/bash
# Where the time of a pod start and stop goes, step by step: runs a
# 3-container pod (apply, wait Ready, delete) BENCH_RUNS times with
# PEAPOD_TRACE set (src/util/trace.h: every peapod process appends
# "<monotonic ns> <pid> <step>" at each step) and prints, per step, the median
# time since `peapod apply` started and the median time since the step
# before. Run by `make breakdown`; private state under a temp dir, nothing left.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
RUNS=${BENCH_RUNS:-10} # BENCH_USERNS=1: the pod with hostUsers: false
CONTAINERS=${BENCH_CONTAINERS:-3}
[ "$(id -u)" = 0 ] || { echo "breakdown: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] || { echo "breakdown: build first: make all helpers" >&2; exit 1; }

TMP=$(mktemp -d /tmp/peapod-breakdown.XXXXXX)
export PEAPOD_ROOT=$TMP/root PEAPOD_RUN=$TMP/run PEAPOD_LOG_DIR=$TMP/log
export PEAPOD_CGROUP_PARENT=peapod-breakdown-$$
# Loopback only, as bench.sh items 1-8: never the host's interfaces.
export PEAPOD_NETWORK=${BENCH_NETWORK:-none}
cleanup() {
	"$PEAPOD" delete bench3 --force >/dev/null 2>&1 || true
	"$PEAPOD" gc >/dev/null 2>&1 || true
	find /sys/fs/cgroup -depth -type d -path "*/$PEAPOD_CGROUP_PARENT*" -exec rmdir {} \; 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
HELPERS_DIR=$BUILD/helpers "$TOP/tests/lib/make-busybox-image.sh" "$PEAPOD" busybox:1.36 >/dev/null

IDLE="trap 'exit 0' TERM; sleep 1000 & wait"
{
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench3\nspec:\n  terminationGracePeriodSeconds: 10\n'
	# BENCH_USERNS=1: the same pod with hostUsers: false.
	[ "${BENCH_USERNS:-0}" = 1 ] && printf '  hostUsers: false\n'
	printf '  containers:\n'
	for i in $(seq "$CONTAINERS"); do
		printf '  - name: c%s\n    image: busybox:1.36\n    imagePullPolicy: Never\n    command: ["sh", "-c", "%s"]\n' "$i" "$IDLE"
	done
} >"$TMP/pod.yaml"

export PEAPOD_TRACE=$TMP/trace
for i in $(seq 0 "$RUNS"); do
	[ "$i" = 1 ] && : >"$PEAPOD_TRACE" # run 0 warms the caches
	"$PEAPOD" apply -f "$TMP/pod.yaml" >/dev/null
	"$PEAPOD" wait bench3 --for=condition=Ready >/dev/null
	"$PEAPOD" delete bench3 >/dev/null
done

# One line per step and run: the run (a "cli apply" starts one), the step,
# ms since the run's start; then per step the medians.
sort -n "$PEAPOD_TRACE" | awk '
	{ step = $3; for (i = 4; i <= NF; i++) step = step " " $i }
	step == "cli apply" { run++; t0 = $1 }
	{ printf "%d\t%s\t%.3f\n", run, step, ($1 - t0) / 1e6 }' |
	awk -F'\t' -v runs="$RUNS" '
	{
		if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
		at[$2, ++cnt[$2]] = $3
		if (prev_run == $1) since[$2, cnt[$2]] = $3 - prev_t
		else since[$2, cnt[$2]] = 0
		prev_run = $1; prev_t = $3
	}
	function median(arr, key, k,    i, j, v, tmp) {
		for (i = 1; i <= k; i++) v[i] = arr[key, i]
		for (i = 2; i <= k; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]; v[j + 1] = tmp }
		return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	}
	END {
		printf "| step | at (ms, median) | since the step before (ms, median) | runs |\n|---|---|---|---|\n"
		for (s = 1; s <= n; s++) {
			k = order[s]
			printf "| %s | %.2f | %.2f | %d |\n", k, median(at, k, cnt[k]), median(since, k, cnt[k]), cnt[k]
		}
	}'

#!/bin/bash
# Pod start from a multi-layer image against the one-layer busybox image:
# a 3-container pod applied and waited for Ready (then deleted) BENCH_RUNS
# times from each, interleaved (one-layer, then multi-layer, in every run)
# so that both see the same noise of the machine; prints the medians and
# the ratio. The multi-layer image is the busybox rootfs as its lowest
# layer and BENCH_LAYERS - 1 more on top (`image import` of several
# sources: one layer each), each adding a few files and replacing one of
# the layer below. Run by `make bench-layers`; private state under a temp
# dir, nothing left. BENCH_RUNS (20), BENCH_LAYERS (5).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
PEAPOD=$BUILD/peapod
BT=$BUILD/bench/benchtime
RUNS=${BENCH_RUNS:-20}
LAYERS=${BENCH_LAYERS:-5}
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ "$(id -u)" = 0 ] || { echo "bench-layers: needs root" >&2; exit 1; }
[ -x "$PEAPOD" ] && [ -x "$BT" ] || { echo "bench-layers: build first: make all helpers $BT" >&2; exit 1; }
log() { printf 'bench-layers: %s\n' "$*" >&2; }

TMP=$(mktemp -d /tmp/peapod-bench-layers.XXXXXX)
export PEAPOD_ROOT=$TMP/root PEAPOD_RUN=$TMP/run PEAPOD_LOG_DIR=$TMP/log
export PEAPOD_CGROUP_PARENT=peapod-bench-layers-$$
# Loopback only, as bench.sh items 1-8.
export PEAPOD_NETWORK=none
cleanup() {
	"$PEAPOD" delete one --force >/dev/null 2>&1 || true
	"$PEAPOD" delete multi --force >/dev/null 2>&1 || true
	"$PEAPOD" gc >/dev/null 2>&1 || true
	find /sys/fs/cgroup -depth -type d -path "*/$PEAPOD_CGROUP_PARENT*" -exec rmdir {} \; 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The busybox image, and a copy of its rootfs on the way (as bench.sh does).
cat >"$TMP/import-wrap" <<'WRAP'
#!/bin/sh
set -e
[ "$1" = image ] && [ "$2" = import ] && cp -a "$3" "$BENCH_ROOTFS_COPY"
exec "$BENCH_PEAPOD" "$@"
WRAP
chmod +x "$TMP/import-wrap"
log "building the images"
BENCH_ROOTFS_COPY=$TMP/rootfs BENCH_PEAPOD=$PEAPOD HELPERS_DIR=$BUILD/helpers \
	"$TOP/tests/lib/make-busybox-image.sh" "$TMP/import-wrap" busybox:1.36 >/dev/null
srcs=("$TMP/rootfs")
for l in $(seq 2 "$LAYERS"); do
	d=$TMP/layer$l
	mkdir -p "$d/opt/layer$l" "$d/etc"
	head -c 262144 /dev/urandom >"$d/opt/layer$l/data"
	echo "layer $l" >"$d/etc/layer.conf" # replaces the one of the layer below
	echo "layer $l" >"$d/opt/layer$l/README"
	srcs+=("$d")
done
"$PEAPOD" image import "${srcs[@]}" layered:1 --cmd sh --env "PATH=$IMAGE_PATH" >/dev/null
n=$("$PEAPOD" image inspect layered:1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["RootFS"]["Layers"]))')
[ "$n" = "$LAYERS" ] || { log "layered:1 has $n layers, not $LAYERS"; exit 1; }

manifest() { # NAME IMAGE
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 10\n  containers:\n' "$1"
	for c in c1 c2 c3; do
		printf '  - name: %s\n    image: %s\n    imagePullPolicy: Never\n    command: ["sh", "-c", "%s"]\n' \
			"$c" "$2" "trap 'exit 0' TERM; sleep 1000 & wait"
	done
}
manifest one busybox:1.36 >"$TMP/one.yaml"
manifest multi layered:1 >"$TMP/multi.yaml"

start() { # NAME: ms from apply to Ready; the pod deleted after
	local t
	t=$("$BT" run "$PEAPOD" apply -f "$TMP/$1.yaml" ::: "$PEAPOD" wait "$1" --for=condition=Ready)
	"$PEAPOD" exec "$1" -c c1 -- test -f /etc/layer.conf -o "$1" = one
	"$PEAPOD" delete "$1" >/dev/null
	echo "$t"
}

log "3-container pod, apply -> Ready: busybox (1 layer) and layered:1 ($LAYERS layers), interleaved, $RUNS runs"
: >"$TMP/one.ms"
: >"$TMP/multi.ms"
for i in $(seq 0 "$RUNS"); do # run 0 warms up
	a=$(start one)
	b=$(start multi)
	[ "$i" = 0 ] && continue
	echo "$a" >>"$TMP/one.ms"
	echo "$b" >>"$TMP/multi.ms"
done
one=$("$BT" stats <"$TMP/one.ms")
multi=$("$BT" stats <"$TMP/multi.ms")
m1=$(awk '{print $1}' <<<"$one")
m5=$(awk '{print $1}' <<<"$multi")
printf '| image | layers | apply -> Ready, ms: median (min-max) | p10-p90 |\n|---|---|---|---|\n'
printf '| busybox:1.36 | 1 | %s (%s-%s) | %s-%s |\n' $(awk '{print $1, $2, $3, $4, $5}' <<<"$one")
printf '| layered:1 | %s | %s (%s-%s) | %s-%s |\n' "$LAYERS" $(awk '{print $1, $2, $3, $4, $5}' <<<"$multi")
awk -v a="$m1" -v b="$m5" 'BEGIN { printf "\nmulti-layer / one-layer: %.3f (target: within 10%%: %s)\n", b / a, (b <= a * 1.10) ? "met" : "NOT met" }'

#!/usr/bin/env bash
# make bench-pull: a cold pull of a 5-layer, ~200 MB (unpacked) gzip image
# from a local registry (Debian's docker-registry on 127.0.0.1, plain HTTP),
# peapod against podman and skopeo, side by side in one run. See
# bench/README.md ("Pull") for what is measured and why.
#
# Settings: BENCH_PULL_RUNS (5), BENCH_PULL_MB (200), BENCH_PULL_LAYERS (5),
# BENCH_OUT (default $BUILD/bench/pull-results.md).
set -euo pipefail

BUILD=${BUILD:-build}
RUNS=${BENCH_PULL_RUNS:-5}
MB=${BENCH_PULL_MB:-200}
LAYERS=${BENCH_PULL_LAYERS:-5}
OUT=${BENCH_OUT:-$BUILD/bench/pull-results.md}
HERE=$(cd "$(dirname "$0")" && pwd)
PEAPOD=$(cd "$BUILD" && pwd)/peapod
FS_SIZE=4G

[ "$(id -u)" -eq 0 ] || { echo "bench-pull: needs root" >&2; exit 1; }
for c in docker-registry skopeo mkfs.ext4 python3; do
	command -v "$c" >/dev/null || { echo "bench-pull: $c is missing (make deps)" >&2; exit 1; }
done
command -v podman >/dev/null || apt-get install -y podman >/dev/null

T=$(mktemp -d /tmp/peapod-pull-bench.XXXXXX)
REG_PID=
cleanup() {
	set +e
	mountpoint -q "$T/mnt" && umount -R "$T/mnt"
	[ -n "$REG_PID" ] && kill "$REG_PID" && wait "$REG_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# The image: made once, kept in $BUILD/bench (it takes ~15 s).
LAYOUT=$BUILD/bench/pull-layout-$MB-$LAYERS
if [ ! -f "$LAYOUT/index.json" ]; then
	rm -rf "$LAYOUT"
	mkdir -p "$BUILD/bench"
	python3 "$HERE/make-pull-image.py" "$LAYOUT" "$MB" "$LAYERS" >&2
fi

# The registry, on a free port of 127.0.0.1, its storage in $T.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
for ((i = 0; i < 100; i++)); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
	sleep 0.1
done
REF=127.0.0.1:$PORT/bench/img:bench
skopeo copy --quiet --dest-tls-verify=false "oci:$LAYOUT:bench" "docker://$REF"

# podman: its store, run root and download temporaries on the fresh file
# system of each run; the registry as an insecure one.
mkdir -p "$T/conf"
cat >"$T/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$T/mnt/podman"
runroot = "$T/mnt/podman-run"
EOF
cat >"$T/conf/registries.conf" <<EOF
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:$PORT"
insecure = true
EOF
cat >"$T/conf/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$T/mnt/tmp"
EOF
export CONTAINERS_CONF=$T/conf/containers.conf CONTAINERS_STORAGE_CONF=$T/conf/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$T/conf/registries.conf

# peapod without isa-l: libisal2 hidden in a private mount namespace, so
# libarchive's zlib filter inflates (what the gzip choice is worth).
ISAL=$(ldconfig -p | awk '/libisal\.so\.2 /{print $NF; exit}')
ISAL=${ISAL:+$(readlink -f "$ISAL")}

cmd_of() {
	case $1 in
	peapod) echo "$PEAPOD image pull -q --root $T/mnt/peapod --tls-verify=false $REF" ;;
	peapod-zlib) echo "unshare -m sh -c 'mount --bind /dev/null $ISAL && exec $PEAPOD image pull -q --root $T/mnt/peapod --tls-verify=false $REF'" ;;
	podman) echo "podman pull -q $REF" ;;
	skopeo) echo "skopeo copy --quiet --src-tls-verify=false docker://$REF oci:$T/mnt/oci:bench" ;;
	esac
}

# (captured, not piped to grep -q: with pipefail, grep's early exit
# would fail the pipe)
check_of() {
	local listed
	case $1 in
	peapod | peapod-zlib) listed=$("$PEAPOD" image ls --root "$T/mnt/peapod") ;;
	podman) listed=$(podman images --format '{{.Repository}}') ;;
	skopeo) listed=$(cat "$T/mnt/oci/index.json") ;;
	esac
	[[ $listed == *bench/img* || ($1 == skopeo && $listed == *manifests*) ]]
}

TOOLS=(peapod podman skopeo)
[ -n "$ISAL" ] && TOOLS=(peapod peapod-zlib podman skopeo)

# One cold pull: a file system made anew (ext4 keeps deleted inodes from
# reuse for a while, and file creation then scans past them: emptying a
# store by rm -rf would slow every tool's next pull), synced, then timed.
measure() {
	local tool=$1
	mountpoint -q "$T/mnt" && umount -R "$T/mnt"
	rm -f "$T/fs.img"
	truncate -s "$FS_SIZE" "$T/fs.img"
	mkfs.ext4 -q -F "$T/fs.img"
	mkdir -p "$T/mnt"
	mount -o loop "$T/fs.img" "$T/mnt"
	mkdir -p "$T/mnt/tmp"
	sync
	python3 - "$(cmd_of "$tool")" <<'EOF'
import os, subprocess, sys, time
t = time.monotonic()
p = subprocess.Popen(["sh", "-c", sys.argv[1]], stdout=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
wall = (time.monotonic() - t) * 1000
if status != 0:
    sys.exit("failed: " + sys.argv[1])
print("%.0f %.0f" % (wall, (ru.ru_utime + ru.ru_stime) * 1000))
EOF
	check_of "$tool" || { echo "bench-pull: $tool did not store the image" >&2; exit 1; }
}

echo "pull of $REF ($LAYERS layers, ~$MB MB unpacked), $RUNS runs each, interleaved" >&2
for ((r = 0; r < RUNS; r++)); do
	n=${#TOOLS[@]}
	for ((k = 0; k < n; k++)); do
		tool=${TOOLS[$(((k + r) % n))]} # each run starts with another tool
		measure "$tool" >"$T/last"
		read -r wall cpu <"$T/last"
		echo "$wall" >>"$T/$tool.wall"
		echo "$cpu" >>"$T/$tool.cpu"
		echo "run $((r + 1)) $tool: $wall ms wall, $cpu ms CPU" >&2
	done
done

median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
range() { sort -n "$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}'; }

{
	echo "| tool | wall ms, median (min-max) | CPU ms (user+sys), median (min-max) | wall / peapod's | CPU / peapod's |"
	echo "|---|---|---|---|---|"
	pw=$(median "$T/peapod.wall")
	pc=$(median "$T/peapod.cpu")
	for tool in "${TOOLS[@]}"; do
		w=$(median "$T/$tool.wall")
		c=$(median "$T/$tool.cpu")
		printf '| %s | %s (%s) | %s (%s) | %.2fx | %.2fx |\n' "$tool" \
			"$w" "$(range "$T/$tool.wall")" "$c" "$(range "$T/$tool.cpu")" \
			"$(echo "$w / $pw" | bc -l)" "$(echo "$c / $pc" | bc -l)"
	done
} | tee "$OUT"

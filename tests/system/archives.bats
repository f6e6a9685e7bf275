#!/usr/bin/env bats
# image load and image save against the real tools: podman (Debian's, with
# a private store: vfs driver, cgroupfs, file events) and skopeo. The image
# (tests/lib/make-archive-image.py) holds a hardlink, a file capability, a
# whiteout and an opaque directory; it goes podman -> peapod (docker-archive,
# oci-archive, compressed, stdin) and peapod -> podman / skopeo, keeping its
# id (the layers are rebuilt byte for byte: tar-split). Bad archives leave
# the store as it was.

load helpers

NAME=docker.io/test/cap:1

setup_file() {
	local here d
	if ! command -v podman >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="podman or skopeo is missing (make deps)"
		return 0
	fi
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/archives.XXXXXX")
	export ARC=$d
	# podman refuses a runroot longer than 50 characters
	PM_RUN=$(mktemp -d /tmp/pp-podrun.XXXXXX)
	export PM_RUN
	make_rootfs "$d/rootfs"
	CONFIG=$(python3 "$here/make-archive-image.py" "$d/rootfs" "$d/layout" "$NAME")
	ID=${CONFIG#sha256:}
	export CONFIG ID
	python3 "$here/make-archive-image.py" "$d/rootfs" "$d/docker25" "$NAME" --docker25 >/dev/null
	skopeo copy --quiet "oci:$d/layout" "docker-archive:$d/skopeo.tar:$NAME"
	pm load -q -i "$d/skopeo.tar" >/dev/null
	pm save -q -o "$d/podman-docker.tar" "$NAME"
	pm save -q --format oci-archive -o "$d/podman-oci.tar" "$NAME"
}

teardown_file() {
	[ -n "${ARC:-}" ] || return 0
	pm rmi -a -f >/dev/null 2>&1 || true
	rm -rf "$ARC" "$PM_RUN"
}

# pm ARGS...: podman on the test's own store.
pm() {
	podman --root "$ARC/podman/root" --runroot "$PM_RUN" --storage-driver=vfs \
		--cgroup-manager=cgroupfs --events-backend=file "$@"
}

store_state() {
	(
		cd "$PEAPOD_ROOT" || exit 1
		find layers images blobs -mindepth 1 ! -name '*.lock' 2>/dev/null | sort
		cat repositories.json 2>/dev/null
	)
}

# The image's files as a pod sees them.
check_pod() {
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: loaded
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: "$1"
      command: [sh, -c, 'cat /data/a /data/hard; [ \$(stat -c %i /data/a) = \$(stat -c %i /data/hard) ] && echo linked; ls /home; test -e /srv || echo no-srv']
EOF
	assert_status 0
	[ "$(grep -c '^\[c\] same contents$' <<<"$output")" -eq 2 ] || fail "contents differ"
	assert_line "[c] linked"
	assert_line "[c] new"
	refute_line "[c] app"
	assert_line "[c] no-srv"
	getcap "$PEAPOD_ROOT"/layers/sha256/*/diff/data/ping | grep -q 'cap_net_raw[=+]ep' ||
		fail "the file capability is lost"
}

@test "podman save (docker-archive) -> image load: same id, a pod sees the files" {
	local before
	before=$(store_state)
	run_peapod image load -i "$ARC/podman-docker.tar"
	assert_status 0
	assert_stdout "Loaded image: test/cap:1"
	run_peapod image ls
	assert_line_re "^test/cap +1 +${ID:0:12} .*"
	check_pod test/cap:1
	run_peapod image rm test/cap:1
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "podman save (oci-archive), gzip and zstd, stdin, an OCI layout dir, Docker 25's form, repositories" {
	local before f
	before=$(store_state)
	gzip -c "$ARC/podman-docker.tar" >"$TEST_DIR/a.tar.gz"
	zstd -q -c "$ARC/podman-docker.tar" >"$TEST_DIR/a.tar.zst"
	for f in "$ARC/podman-oci.tar" "$TEST_DIR/a.tar.gz" "$TEST_DIR/a.tar.zst" "$ARC/layout" \
		"$ARC/docker25"; do
		run_peapod image load --input "$f"
		assert_status 0
		assert_stdout "Loaded image: test/cap:1"
		run_peapod image ls
		# podman's oci-archive carries the config it converted to OCI: another id
		case $f in
		*podman-oci*) assert_line_re "^test/cap +1 +[0-9a-f]{12} .*" ;;
		*) assert_line_re "^test/cap +1 +${ID:0:12} .*" ;;
		esac
		run_peapod image rm test/cap:1
		assert_status 0
	done
	# the older form without RepoTags: named by its repositories file
	python3 - "$ARC/skopeo.tar" "$TEST_DIR/norepotags.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        data = src.extractfile(m).read() if m.isfile() else None
        if m.name == "manifest.json":
            doc = json.loads(data)
            for img in doc:
                img["RepoTags"] = None
            data = json.dumps(doc).encode()
            m.size = len(data)
        dst.addfile(m, io.BytesIO(data) if data is not None else None)
PY
	run_peapod image load -i "$TEST_DIR/norepotags.tar"
	assert_status 0
	assert_stdout "Loaded image: test/cap:1"
	run_peapod image rm test/cap:1

	run --separate-stderr "$PEAPOD" image load <"$TEST_DIR/a.tar.gz"
	assert_status 0
	assert_stdout "Loaded image: test/cap:1"
	check_pod test/cap:1
	run_peapod image rm test/cap:1
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "image save (docker-archive, oci-archive) -> podman load and skopeo: same id, same files" {
	local m before
	before=$(store_state)
	run_peapod image load -i "$ARC/layout"
	assert_status 0
	run_peapod image save -o "$TEST_DIR/d.tar" test/cap:1
	assert_status 0
	run_peapod image save --format oci-archive -o "$TEST_DIR/o.tar" test/cap:1
	assert_status 0
	# stdout when it is not a terminal: the same bytes
	"$PEAPOD" image save test/cap:1 >"$TEST_DIR/d2.tar"
	cmp "$TEST_DIR/d.tar" "$TEST_DIR/d2.tar" || fail "stdout differs from -o"

	pm rmi -f "$NAME" >/dev/null
	run pm load -i "$TEST_DIR/d.tar"
	assert_status 0
	assert_stdout_contains "Loaded image: $NAME"
	[ "$(pm image inspect --format '{{.Id}}' "$NAME")" = "$ID" ] || fail "podman sees another id"
	m=$(pm image mount "$NAME")
	[ "$(cat "$m/data/a")" = "same contents" ] || fail "data/a"
	[ "$(stat -c %i "$m/data/a")" = "$(stat -c %i "$m/data/hard")" ] || fail "the hardlink is lost"
	getcap "$m/data/ping" | grep -q 'cap_net_raw[=+]ep' || fail "the capability is lost"
	[ ! -e "$m/srv" ] || fail "the whiteout is lost"
	[ "$(ls "$m/home")" = new ] || fail "the opaque directory is lost"
	pm image unmount "$NAME" >/dev/null

	pm rmi -f "$NAME" >/dev/null
	run pm load -i "$TEST_DIR/o.tar"
	assert_status 0
	[ "$(pm image inspect --format '{{.Id}}' "$NAME")" = "$ID" ] || fail "podman sees another id (oci)"

	run skopeo copy --quiet "oci-archive:$TEST_DIR/o.tar" "oci:$TEST_DIR/sk"
	assert_status 0
	[ "$(skopeo inspect --raw "oci:$TEST_DIR/sk" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')" = "$CONFIG" ] ||
		fail "skopeo's copy has another config digest"
	run skopeo copy --quiet "docker-archive:$TEST_DIR/d.tar" "oci:$TEST_DIR/sk2"
	assert_status 0

	run_peapod image rm test/cap:1
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "several images in one archive, each with its name" {
	local before
	before=$(store_state)
	pm tag "$NAME" docker.io/test/other:2
	pm save -q -o "$TEST_DIR/two.tar" "$NAME" docker.io/test/other:2
	pm rmi docker.io/test/other:2 >/dev/null
	run_peapod image load -i "$TEST_DIR/two.tar"
	assert_status 0
	assert_line "Loaded image: test/cap:1"
	assert_line "Loaded image: test/other:2"
	run_peapod image save --format oci-archive -o "$TEST_DIR/both.tar" test/cap:1 test/other:2
	assert_status 0
	run_peapod image rm test/cap:1 test/other:2
	run_peapod image load -i "$TEST_DIR/both.tar"
	assert_status 0
	assert_line "Loaded image: test/cap:1"
	assert_line "Loaded image: test/other:2"
	run_peapod image rm test/cap:1 test/other:2
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
}

@test "an image the archive does not name: loaded untagged (<none>), kept until image prune or rm of its id" {
	local before
	before=$(store_state)
	cp -r "$ARC/layout" "$TEST_DIR/unnamed"
	python3 - "$TEST_DIR/unnamed/index.json" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
for m in idx["manifests"]:
    m.pop("annotations", None)
json.dump(idx, open(sys.argv[1], "w"))
PY
	run_peapod image load -i "$TEST_DIR/unnamed"
	assert_status 0
	assert_stdout "Loaded image: sha256:$ID"
	run_peapod image ls
	assert_line_re "^<none> +<none> +${ID:0:12} .*"
	# another image's removal (a collection) keeps it
	run_peapod image import "$ARC/rootfs" test/tmp:1
	assert_status 0
	run_peapod image rm test/tmp:1
	assert_status 0
	run_peapod image ls
	assert_line_re "^<none> +<none> +${ID:0:12} .*"
	run_peapod image inspect "${ID:0:12}"
	assert_status 0
	run_peapod image rm "${ID:0:12}"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "rm left something: $(diff <(echo "$before") <(store_state))"
	[ ! -e "$PEAPOD_ROOT/dangling.json" ] || fail "dangling.json left: $(cat "$PEAPOD_ROOT/dangling.json")"

	run_peapod image load -i "$TEST_DIR/unnamed"
	assert_status 0
	run_peapod image prune
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "prune left something"
	[ ! -e "$PEAPOD_ROOT/dangling.json" ] || fail "dangling.json left after prune"

	# tagged later, it is an image like any other: its last tag removed, it goes
	run_peapod image load -i "$TEST_DIR/unnamed"
	run_peapod image tag "$ID" test/named:1
	assert_status 0
	run_peapod image ls
	assert_line_re "^test/named +1 +${ID:0:12} .*"
	refute_stdout_contains "<none>"
	run_peapod image rm test/named:1
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the image stayed after its tag went"
	[ ! -e "$PEAPOD_ROOT/dangling.json" ] || fail "dangling.json left after rm"
}

# refused FILE TEXT...: the load fails saying each TEXT; the store is unchanged.
refused() {
	local f=$1 before
	shift
	before=$(store_state)
	run_peapod image load -i "$f"
	assert_status 1
	assert_stderr_contains "load $f"
	while [ $# -gt 0 ]; do
		assert_stderr_contains "$1"
		shift
	done
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	! ls -a "$PEAPOD_ROOT"/layers/sha256/ | grep -q '^\.tmp-' || fail "a temporary is left"
}

@test "bad archives: truncated, a wrong digest, a missing blob, paths leaving it, no archive" {
	local blob size
	size=$(stat -c %s "$ARC/podman-docker.tar")
	head -c $((size / 2)) "$ARC/podman-docker.tar" >"$TEST_DIR/truncated.tar"
	refused "$TEST_DIR/truncated.tar" "truncated"

	cp -r "$ARC/layout" "$TEST_DIR/bad-digest"
	blob=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"].split(":")[1]; print(json.load(open(sys.argv[1]+"/blobs/sha256/"+m))["layers"][1]["digest"])' "$ARC/layout")
	python3 - "$TEST_DIR/bad-digest/blobs/sha256/${blob#sha256:}" <<'PY'
import gzip, sys
data = gzip.decompress(open(sys.argv[1], "rb").read()).replace(b"same contents", b"SAME contents")
open(sys.argv[1], "wb").write(gzip.compress(data))
PY
	refused "$TEST_DIR/bad-digest" "blobs/sha256/${blob#sha256:}" "digest"

	cp -r "$ARC/layout" "$TEST_DIR/missing"
	rm "$TEST_DIR/missing/blobs/sha256/${blob#sha256:}"
	refused "$TEST_DIR/missing" "blobs/sha256/${blob#sha256:}"

	python3 - "$TEST_DIR/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../evil")
    i.size = 3
    t.addfile(i, io.BytesIO(b"bad"))
PY
	refused "$TEST_DIR/evil.tar" 'entry "../../evil"' "outside the archive"
	[ ! -e "$PEAPOD_ROOT/evil" ] && [ ! -e "$PEAPOD_ROOT/layers/evil" ] || fail "written outside"

	python3 - "$TEST_DIR/evil2.tar" <<'PY'
import io, json, sys, tarfile
m = json.dumps([{"Config": "../../etc/passwd", "RepoTags": ["x:1"], "Layers": []}]).encode()
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("manifest.json")
    i.size = len(m)
    t.addfile(i, io.BytesIO(m))
PY
	refused "$TEST_DIR/evil2.tar" "manifest.json" '"../../etc/passwd" is not a relative member name'

	# links out: a hardlink through a symlink, manifest.json a symlink to a host file
	python3 - "$TEST_DIR/links.tar" "$TEST_DIR/links2.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("sym"); i.type = tarfile.SYMTYPE; i.linkname = "/etc"; t.addfile(i)
    i = tarfile.TarInfo("x"); i.type = tarfile.LNKTYPE; i.linkname = "sym/passwd"; t.addfile(i)
with tarfile.open(sys.argv[2], "w") as t:
    i = tarfile.TarInfo("manifest.json"); i.type = tarfile.SYMTYPE
    i.linkname = "/etc/os-release"; t.addfile(i)
PY
	refused "$TEST_DIR/links.tar" 'entry "x"' "sym: not a directory of the archive"
	refused "$TEST_DIR/links2.tar" "manifest.json"

	echo "not an archive" >"$TEST_DIR/text"
	refused "$TEST_DIR/text" "not an image archive"

	# an archive of nothing a loader knows
	tar -C "$ARC/rootfs" -cf "$TEST_DIR/rootfs.tar" etc
	refused "$TEST_DIR/rootfs.tar" "neither manifest.json"
	assert_no_leaks
}

@test "a load killed (SIGKILL) half-way leaves nothing after the next collection" {
	local before pid i
	before=$(store_state)
	mkfifo "$TEST_DIR/fifo"
	"$PEAPOD" image load -i "$TEST_DIR/fifo" >/dev/null 2>&1 &
	pid=$!
	exec 8>"$TEST_DIR/fifo"
	head -c 1000000 "$ARC/podman-docker.tar" >&8
	for ((i = 0; i < 200; i++)); do
		ls -a "$PEAPOD_ROOT/layers/sha256/" | grep -q -- '-load-' && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	exec 8>&-
	ls -a "$PEAPOD_ROOT/layers/sha256/" | grep -q -- '-load-' || fail "no temporary seen"
	run_peapod image prune
	assert_status 0
	! ls -a "$PEAPOD_ROOT/layers/sha256/" | grep -q '^\.tmp-' || fail "a temporary is left"
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
}

@test "image save of layers without a tar-split record: rebuilt from the tree, a new id" {
	local before m id
	before=$(store_state)
	run_peapod image import "$ARC/rootfs" imported:1
	assert_status 0
	run_peapod image load -i "$ARC/layout"
	assert_status 0
	# as a layer unpacked before records existed
	rm "$PEAPOD_ROOT"/layers/sha256/*/tar-split
	run_peapod image save -o "$TEST_DIR/i.tar" imported:1 test/cap:1
	assert_status 0
	# deterministic: the same tree, the same bytes
	run_peapod image save -o "$TEST_DIR/i2.tar" imported:1 test/cap:1
	cmp "$TEST_DIR/i.tar" "$TEST_DIR/i2.tar" || fail "two saves differ"
	run pm load -i "$TEST_DIR/i.tar"
	assert_status 0
	assert_stdout_contains "Loaded image: docker.io/library/imported:1"
	id=$(pm image inspect --format '{{.Id}}' "$NAME")
	[ "$id" != "$ID" ] || fail "a rebuilt layer kept the id"
	m=$(pm image mount "$NAME")
	[ "$(stat -c %i "$m/data/a")" = "$(stat -c %i "$m/data/hard")" ] || fail "the hardlink is lost"
	getcap "$m/data/ping" | grep -q 'cap_net_raw[=+]ep' || fail "the capability is lost"
	[ ! -e "$m/srv" ] || fail "the whiteout is lost"
	[ "$(ls "$m/home")" = new ] || fail "the opaque directory is lost"
	pm image unmount "$NAME" >/dev/null
	pm rmi -f docker.io/library/imported:1 >/dev/null

	# the archive back into peapod: it keeps podman's id now
	run_peapod image rm imported:1 test/cap:1
	run_peapod image load -i "$TEST_DIR/i.tar"
	assert_status 0
	run_peapod image ls
	assert_line_re "^test/cap +1 +${id:0:12} .*"

	run_peapod image save -o "$TEST_DIR/x.tar" nosuch:1
	assert_status 1
	[ ! -e "$TEST_DIR/x.tar" ] || fail "a partial archive is left"
	[ -z "$(ls -a "$TEST_DIR" | grep '\.tmp-')" ] || fail "a temporary is left"
	run_peapod image rm imported:1 test/cap:1
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

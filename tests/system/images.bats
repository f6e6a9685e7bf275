#!/usr/bin/env bats
# The local image store: import from a directory or a tar, ls, rm, and tars
# that try to write outside the layer.

load helpers

# layer_count: how many layers (and temporaries) the store holds, in the
# layered layout (layers/sha256/<hex>) and the one before it (layers/<id>).
layer_count() {
	find "$PEAPOD_ROOT/layers" "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 \
		! -name sha256 ! -name '*.lock' | wc -l
}

# ls_has REPO TAG: `peapod image ls` lists REPO with TAG.
ls_has() {
	"$PEAPOD" image ls | awk -v r="$1" -v t="$2" '$1 == r && $2 == t {found = 1} END {exit !found}'
}

# evil_tar FILE MEMBER...: a tar whose members are written with python's
# tarfile exactly as named. MEMBER is NAME=CONTENT (a file) or NAME->TARGET
# (a symlink).
evil_tar() {
	/usr/bin/python3 - "$@" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for m in sys.argv[2:]:
        if "->" in m:
            name, target = m.split("->", 1)
            i = tarfile.TarInfo(name)
            i.type = tarfile.SYMTYPE
            i.linkname = target
            t.addfile(i)
        else:
            name, content = m.split("=", 1)
            data = content.encode()
            i = tarfile.TarInfo(name)
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
PY
}

@test "image ls lists the suite's images" {
	run_peapod image ls
	assert_status 0
	assert_line_re 'REPOSITORY +TAG +.*'
	assert_line_re 'busybox +1\.36 .*'
	assert_line_re 'peapod-test/defaults +1 .*'
	assert_no_leaks
}

@test "import a directory, run it, rm it" {
	local layers
	layers=$(layer_count)
	make_rootfs "$TEST_DIR/rootfs"
	echo "from the dir image" >"$TEST_DIR/rootfs/hello.txt"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/dir:1 --cmd '["cat","/hello.txt"]'
	assert_status 0
	assert_line_re '(sha256:)?[0-9a-f]{12,64}'
	ls_has peapod-test/dir 1 || fail "image ls does not list peapod-test/dir:1"
	[ "$(cat "$TEST_DIR/rootfs/hello.txt")" = "from the dir image" ] || fail "the source directory changed"

	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dir-image
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "peapod-test/dir:1"}
EOF
	assert_status 0
	assert_stdout "[c] from the dir image"

	run_peapod image rm peapod-test/dir:1
	assert_status 0
	! ls_has peapod-test/dir 1 || fail "image ls still lists peapod-test/dir:1"
	[ "$(layer_count)" -eq "$layers" ] || fail "the image's layer was not removed"
	assert_no_leaks
}

@test "import of several directories stacks them: the upper layer's file wins, lower ones show" {
	local layers i n=20
	layers=$(layer_count)
	make_rootfs "$TEST_DIR/base"
	echo base >"$TEST_DIR/base/who"
	echo "only in base" >"$TEST_DIR/base/base.txt"
	local srcs=("$TEST_DIR/base")
	for i in $(seq 2 $n); do
		mkdir -p "$TEST_DIR/l$i/etc/layers"
		echo "layer $i" >"$TEST_DIR/l$i/who"
		echo "$i" >"$TEST_DIR/l$i/etc/layers/$i"
		srcs+=("$TEST_DIR/l$i")
	done
	run_peapod image import "${srcs[@]}" peapod-test/layered:1 \
		--cmd '["sh","-c","cat /who /base.txt; ls /etc/layers | wc -l"]'
	assert_status 0
	[ "$(layer_count)" -eq $((layers + n)) ] || fail "expected $n new layers, found $(($(layer_count) - layers))"
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: layered
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "peapod-test/layered:1"}
EOF
	assert_status 0
	assert_line "[c] layer $n"
	assert_line "[c] only in base"
	assert_line "[c] $((n - 1))"
	run_peapod image rm peapod-test/layered:1
	assert_status 0
	[ "$(layer_count)" -eq "$layers" ] || fail "the image's layers were not removed"
	assert_no_leaks
}

@test "import a tar and a gzipped tar" {
	make_rootfs "$TEST_DIR/rootfs"
	echo "from the tar image" >"$TEST_DIR/rootfs/hello.txt"
	tar -C "$TEST_DIR/rootfs" -cf "$TEST_DIR/image.tar" .
	tar -C "$TEST_DIR/rootfs" -czf "$TEST_DIR/image.tar.gz" .
	run_peapod image import "$TEST_DIR/image.tar" peapod-test/tar:1
	assert_status 0
	run_peapod image import "$TEST_DIR/image.tar.gz" peapod-test/tgz:1
	assert_status 0
	ls_has peapod-test/tar 1 || fail "image ls does not list peapod-test/tar:1"
	ls_has peapod-test/tgz 1 || fail "image ls does not list peapod-test/tgz:1"

	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: tar-images
spec:
  restartPolicy: Never
  containers:
    - {name: a, image: "peapod-test/tar:1", command: ["cat", "/hello.txt"]}
    - {name: b, image: "peapod-test/tgz:1", command: ["sh", "-c", "cat /hello.txt; id -u app"]}
EOF
	assert_status 0
	assert_line "[a] from the tar image"
	assert_line "[b] from the tar image"
	assert_line "[b] 1000"

	run_peapod image rm peapod-test/tar:1 peapod-test/tgz:1
	assert_status 0
	! ls_has peapod-test/tar 1 || fail "peapod-test/tar:1 still listed"
	! ls_has peapod-test/tgz 1 || fail "peapod-test/tgz:1 still listed"
	assert_no_leaks
}

@test "re-importing a tag replaces the image" {
	make_rootfs "$TEST_DIR/rootfs"
	echo v1 >"$TEST_DIR/rootfs/version"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/retag:1 --cmd '["cat","/version"]'
	assert_status 0
	echo v2 >"$TEST_DIR/rootfs/version"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/retag:1 --cmd '["cat","/version"]'
	assert_status 0
	[ "$("$PEAPOD" image ls | awk '$1 == "peapod-test/retag"' | wc -l)" -eq 1 ] || fail "the tag is listed more than once"
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: retag
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "peapod-test/retag:1"}
EOF
	assert_status 0
	assert_stdout "[c] v2"
	run_peapod image rm peapod-test/retag:1
	assert_status 0
	assert_no_leaks
}

@test "a running pod pins its image: rm is refused, a re-import keeps the old layer until the pod ends" {
	local f
	make_rootfs "$TEST_DIR/rootfs"
	echo v1 >"$TEST_DIR/rootfs/version"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/pinned:1
	assert_status 0
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: pinned
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: peapod-test/pinned:1
      command: ["sh", "-c", "trap 'cat /version; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
EOF
	)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	run_peapod image rm peapod-test/pinned:1
	assert_status 1
	assert_stderr_contains 'image "peapod-test/pinned:1" is in use by a running pod, default/pinned (uid '
	ls_has peapod-test/pinned 1 || fail "the refused rm removed the tag"
	echo v2 >"$TEST_DIR/rootfs/version"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/pinned:1
	assert_status 0
	kill -TERM "$BG_PID"
	wait_bg 20
	# The running container still read its own (old) layer.
	assert_line "[c] v1"
	run_peapod image rm peapod-test/pinned:1
	assert_status 0
	assert_no_leaks
}

@test "rm --force untags an image a pod runs; its layer stays until the pod ends, then prune removes it" {
	local f layers
	layers=$(layer_count)
	make_rootfs "$TEST_DIR/rootfs"
	echo forced >"$TEST_DIR/rootfs/version"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/forced:1
	assert_status 0
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: forced
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: peapod-test/forced:1
      command: ["sh", "-c", "trap 'cat /version; exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
EOF
	)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	run_peapod image rm --force peapod-test/forced:1
	assert_status 0
	! ls_has peapod-test/forced 1 || fail "the forced rm left the tag"
	[ "$(layer_count)" -eq $((layers + 1)) ] || fail "the running pod's layer was removed"
	kill -TERM "$BG_PID"
	wait_bg 20
	assert_line "[c] forced"
	run_peapod image prune
	assert_status 0
	[ "$(layer_count)" -eq "$layers" ] || fail "prune left the layer of the ended pod"
	assert_no_leaks
}

@test "image rm of an unknown image fails naming it" {
	run_peapod image rm peapod-test/never-imported:1
	[ "$status" -ne 0 ] || fail "rm of an unknown image succeeded"
	assert_stderr_contains "peapod-test/never-imported:1"
	assert_no_leaks
}

@test "import of a missing source fails and lists nothing" {
	run_peapod image import "$TEST_DIR/no-such-dir" peapod-test/missing:1
	[ "$status" -ne 0 ] || fail "import of a missing directory succeeded"
	assert_stderr_contains "$TEST_DIR/no-such-dir"
	! ls_has peapod-test/missing 1 || fail "the failed import is listed"
	assert_no_leaks
}

@test "a tar with ../ members is refused and writes nothing outside" {
	mkdir -p "$TEST_DIR/work/a/b"
	local layers
	layers=$(layer_count)
	evil_tar "$TEST_DIR/work/a/b/evil.tar" "ok.txt=fine" "../../escape-rel.txt=pwned" "x/../../../escape-deep.txt=pwned"
	run_peapod image import "$TEST_DIR/work/a/b/evil.tar" peapod-test/evil:1
	[ "$status" -ne 0 ] || fail "the tar with ../ members was imported"
	# Every ../ lands inside the suite's temp dir (the store is there too).
	local escaped
	escaped=$(find "$SUITE_TMP" -name 'escape-*.txt')
	[ -z "$escaped" ] || fail "a ../ member was written: $escaped"
	! ls_has peapod-test/evil 1 || fail "the refused image is listed"
	[ "$(layer_count)" -eq "$layers" ] || fail "the refused import left a layer behind"
	assert_no_leaks
}

@test "a tar with an absolute member or a member through a symlink is refused and writes nothing outside" {
	mkdir -p "$TEST_DIR/outside"
	evil_tar "$TEST_DIR/abs.tar" "ok.txt=fine" "$TEST_DIR/outside/escape-abs.txt=pwned"
	run_peapod image import "$TEST_DIR/abs.tar" peapod-test/evil-abs:1
	[ ! -e "$TEST_DIR/outside/escape-abs.txt" ] || fail "an absolute member was written outside the layer"
	if [ "$status" -eq 0 ]; then
		# Accepted only if the member was put inside the layer (as tar does).
		ls_has peapod-test/evil-abs 1 || fail "import succeeded but the image is not listed"
		run_peapod image rm peapod-test/evil-abs:1
	fi

	evil_tar "$TEST_DIR/link.tar" "link->$TEST_DIR/outside" "link/escape-link.txt=pwned"
	run_peapod image import "$TEST_DIR/link.tar" peapod-test/evil-link:1
	[ "$status" -ne 0 ] || fail "a tar writing through a symlink was imported"
	[ ! -e "$TEST_DIR/outside/escape-link.txt" ] || fail "a member was written through the symlink"

	evil_tar "$TEST_DIR/link-rel.tar" "dir/link->../../../../../../../../$TEST_DIR/outside" "dir/link/escape-rel-link.txt=pwned"
	run_peapod image import "$TEST_DIR/link-rel.tar" peapod-test/evil-link2:1
	[ "$status" -ne 0 ] || fail "a tar writing through a relative symlink was imported"
	[ ! -e "$TEST_DIR/outside/escape-rel-link.txt" ] || fail "a member was written through the relative symlink"
	! ls_has peapod-test/evil-link 1 || fail "the refused image is listed"
	assert_no_leaks
}

#!/usr/bin/env bats
# Hostile images and registries (issue #21), pulled from a registry of the
# test's own (tests/lib/registry-fixture.py layout mode) serving the images
# of tests/lib/make-hostile-layout.py: layers that climb out with ../, link
# or white out through a symlink to the host, hardlink /etc/shadow; setuid
# and capability-bearing files; a config with a huge Env, one over the
# config limit, a WorkingDir "../.."; and registries that stream endless
# manifests or blobs or stall mid-response. Each is refused with an error
# naming the registry, the image and the layer or member, or contained;
# nothing is written outside, and the store is as it was.

load helpers
load registry_helpers

setup_file() {
	local here d
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/hostile.XXXXXX")
	export HOSTILE_DIR=$d
	make_rootfs "$d/rootfs"
	mkdir -p "$d/host"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >/dev/null
	python3 "$here/make-hostile-layout.py" "$d/layout" "$d/host"
	fixture_serve "$d" layout "$d/requests" "$d/layout"
	REG=127.0.0.1:$(fixture_port "$d")
	export REG
}

teardown_file() {
	[ -n "${HOSTILE_DIR:-}" ] || return 0
	fixture_stop "$HOSTILE_DIR"
}

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	echo victim >"$HOSTILE_DIR/host/victim"
	# the registry's limits shortened (test builds): a stall ends in seconds
	export PEAPOD_TEST_TIME_SCALE=0.1
}

# pull_refused REF PATTERN: the pull fails, its error matches PATTERN (an
# extended regexp), and the store is as it was.
pull_refused() {
	local before
	before=$(store_state)
	run --separate-stderr "$PEAPOD" image pull -q --tls-verify=false "$REG/$1"
	[ "$status" = 1 ] || fail "$1: exit $status: $output $stderr"
	[[ $stderr =~ $2 ]] || fail "$1: not a clear error: $stderr"
	[ "$(store_state)" = "$before" ] || fail "$1 left: $(diff <(echo "$before") <(store_state))"
}

host_untouched() {
	[ "$(ls -A "$HOSTILE_DIR/host")" = victim ] || fail "written outside: $(ls -A "$HOSTILE_DIR/host")"
	[ "$(cat "$HOSTILE_DIR/host/victim")" = victim ] || fail "the victim changed"
	[ -z "$(find "$PEAPOD_ROOT" "$SUITE_TMP" -name 'peapod-hostile-*' 2>/dev/null)" ] ||
		fail "a member landed outside its layer: $(find "$PEAPOD_ROOT" "$SUITE_TMP" -name 'peapod-hostile-*')"
}

@test "hostile layers: ../, a symlink to the host then a file or a whiteout through it, ../.wh., hardlinks to /etc/shadow: refused naming the member, nothing written outside, the store as it was" {
	local links
	links=$(stat -c %h /etc/shadow)
	pull_refused ok/img:dotdot 'layer 1 \(sha256:[0-9a-f]{64}\).*\.\./peapod-hostile-dotdot: "\.\." leaves the layer'
	pull_refused ok/img:abslink 'layer 1 .*evil: a parent directory is a symlink'
	pull_refused ok/img:whiteout 'layer 1 .*w: a parent directory is a symlink'
	pull_refused ok/img:whiteoutup 'layer 1 .*\.\./\.wh\.victim'
	pull_refused ok/img:shadow 'layer 1 .*x: hardlink to /etc/shadow: an absolute path'
	pull_refused ok/img:shadowrel 'layer 1 .*y: hardlink to \.\./\.\./\.\./\.\./\.\./\.\./etc/shadow: "\.\." leaves the layer'
	host_untouched
	[ "$(stat -c %h /etc/shadow)" = "$links" ] || fail "/etc/shadow got a link"
	# the same images again (the base layer now stored): still refused
	pull_refused ok/img:abslink 'evil: a parent directory is a symlink'
	host_untouched
	assert_no_leaks
}

# As podman (containers/storage) does: setuid bits and security.capability
# are kept; the pod's no_new_privs and capability bounding set decide what
# they can grant.
@test "hostile layers: setuid bits and file capabilities are kept, as podman keeps them" {
	run "$PEAPOD" image pull -q --tls-verify=false "$REG/ok/img:suid"
	assert_status 0
	local f
	f=$(find "$PEAPOD_ROOT/layers" -path '*/bin/suidfile' | head -1)
	[ -n "$f" ] || fail "no bin/suidfile in the store"
	[ "$(stat -c %a "$f")" = 4755 ] || fail "setuid bit: $(stat -c %a "$f")"
	f=$(find "$PEAPOD_ROOT/layers" -path '*/bin/capfile' | head -1)
	python3 - "$f" <<'EOF' || fail "security.capability not kept"
import os, struct, sys
v = os.getxattr(sys.argv[1], "security.capability")
assert struct.unpack("<IIIII", v)[:2] == (0x02000001, 1 << 13), v
EOF
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: suid}
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: $REG/ok/img:suid
      imagePullPolicy: Never
      command: ["stat", "-c", "%a", "/bin/suidfile"]
EOF
	assert_status 0
	assert_line "[c] 4755"
	run_peapod image rm "$REG/ok/img:suid"
	assert_status 0
	assert_no_leaks
}

@test "hostile configs: over the 8 MiB limit refused; a 3 MiB Env fails the container with execve's reason; WorkingDir ../.. stays inside the root" {
	pull_refused ok/img:hugeconfig 'config sha256:[0-9a-f]{64}: .*more than 8388608'
	run "$PEAPOD" image pull -q --tls-verify=false "$REG/ok/img:hugeenv"
	assert_status 0
	run "$PEAPOD" image pull -q --tls-verify=false "$REG/ok/img:workdir"
	assert_status 0
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: env}
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: $REG/ok/img:hugeenv
      imagePullPolicy: Never
EOF
	[ "$status" != 0 ] || fail "a 3 MiB variable reached the program: $output"
	[[ "$output $stderr" == *"Argument list too long"* ]] || fail "no clear reason: $output $stderr"
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: wd}
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: $REG/ok/img:workdir
      imagePullPolicy: Never
EOF
	assert_status 0
	assert_line "[c] ran in /"
	host_untouched
	run_peapod image rm "$REG/ok/img:hugeenv" "$REG/ok/img:workdir"
	assert_status 0
	assert_no_leaks
}

@test "hostile registries: an endless manifest or blob is cut at its limit, a stalled manifest or blob times out; clear errors, nothing kept" {
	pull_refused endlessm/img:1 'manifest 1: manifest larger than 4194304 bytes'
	pull_refused endless/img:1 'blob sha256:[0-9a-f]{64}: blob larger than its size'
	pull_refused stallm/img:1 'stallm/img: manifest 1: .*[Tt]imed out'
	pull_refused stall/img:1 'stall/img: blob sha256:[0-9a-f]{64}'
	run_peapod image prune
	assert_status 0
	[ -z "$(find "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 -name '.tmp-*' 2>/dev/null)" ] ||
		fail "temporaries left"
	assert_no_leaks
}

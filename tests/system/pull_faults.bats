#!/usr/bin/env bats
# image pull against a registry of the tests' own (tests/lib/registry-fixture.py
# layout mode) that serves pull.bats' images (tests/lib/make-oci-layout.py)
# with faults chosen by the repository's first component, and logs every
# request: a pull killed with SIGKILL mid-download, two pulls of one image
# sharing each download, a resumption answered with the whole blob; and a
# zstd image (image 2's layers recompressed) pulled on a terminal (script).

load helpers
load registry_helpers

# add_zstd_image LAYOUT: tag "zstd", image 2 with its layers compressed by
# zstd (the same tars, so the same config and diff IDs).
add_zstd_image() {
	python3 - "$1" <<'EOF'
import gzip, hashlib, json, os, subprocess, sys
layout = sys.argv[1]
path = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(path(d), "wb").write(data)
    return d
index = json.load(open(os.path.join(layout, "index.json")))
two = [m for m in index["manifests"]
       if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "2"][0]
manifest = json.load(open(path(two["digest"])))
for l in manifest["layers"]:
    tar = open(path(l["digest"]), "rb").read()
    if l["mediaType"].endswith("+gzip"):
        tar = gzip.decompress(tar)
    blob = subprocess.run(["zstd", "-q", "-c"], input=tar, stdout=subprocess.PIPE,
                          check=True).stdout
    l.update(mediaType="application/vnd.oci.image.layer.v1.tar+zstd", digest=put(blob),
             size=len(blob))
data = json.dumps(manifest).encode()
index["manifests"].append({"mediaType": manifest["mediaType"], "digest": put(data),
                           "size": len(data),
                           "annotations": {"org.opencontainers.image.ref.name": "zstd"}})
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
EOF
}

setup_file() {
	local here d
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/faults.XXXXXX")
	export FAULT_DIR=$d
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >"$d/layers"
	add_zstd_image "$d/layout"
	fixture_serve "$d" layout "$d/requests" "$d/layout"
	REG=127.0.0.1:$(fixture_port "$d")
	export REG
}

teardown_file() {
	[ -n "${FAULT_DIR:-}" ] || return 0
	fixture_stop "$FAULT_DIR"
}

# blob_gets REPO DIGEST: how many GETs of the blob the registry answered.
blob_gets() {
	python3 - "$FAULT_DIR/requests" "/v2/$1/blobs/$2" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    n += r["method"] == "GET" and r["path"] == sys.argv[2]
print(n)
EOF
}

# layer_digests TAG: the layer digests of the layout's image TAG.
layer_digests() {
	python3 - "$FAULT_DIR/layout" "$1" <<'EOF'
import json, os, sys
layout, tag = sys.argv[1:]
index = json.load(open(os.path.join(layout, "index.json")))
m = [m for m in index["manifests"]
     if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
blob = lambda d: json.load(open(os.path.join(layout, "blobs", "sha256", d.split(":")[1])))
for layer in blob(m["digest"])["layers"]:
    print(layer["digest"])
EOF
}

@test "a pull killed with SIGKILL mid-download leaves no image; prune removes its leftovers; the next pull succeeds" {
	local before pid i
	before=$(store_state)
	"$PEAPOD" image pull --tls-verify=false "$REG/stall/img:1" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
	pid=$!
	# the base layer (more than the fixture's fault size) has sent half
	# its bytes and stalls: its private directory holds a partial tree
	for ((i = 0; i < 100; i++)); do
		find "$PEAPOD_ROOT/layers/sha256" -mindepth 3 -maxdepth 3 -path '*/.tmp-*/diff/*' \
			2>/dev/null | grep -q . && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || fail "the pull never started unpacking: $(cat "$TEST_DIR/err")"
	kill -9 "$pid"
	wait "$pid" || true
	# no image looks complete: no image record, no tag (a layer that came
	# whole may be there, under its digest, as content nobody uses; the
	# others are temporaries of the dead pid)
	[ "$(store_state | grep -e '^images/' -e '^{')" = "$(grep -e '^images/' -e '^{' <<<"$before")" ] ||
		fail "the killed pull left an image: $(diff <(echo "$before") <(store_state))"
	run_peapod image ls
	assert_status 0
	refute_stdout_contains "stall/img"
	find "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 -name ".tmp-$pid-*" | grep -q . ||
		fail "expected the killed pull's private directory"
	run_peapod image prune
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "prune left: $(diff <(echo "$before") <(store_state))"

	# killed again, then the next pull (its start removes the dead pull's
	# temporaries) succeeds and a pod-free rm leaves the store as before
	"$PEAPOD" image pull --tls-verify=false "$REG/stall/img:1" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		find "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 -name ".tmp-$pid-*" | grep -q . && break
		sleep 0.1
	done
	kill -9 "$pid"
	wait "$pid" || true
	run_peapod image pull -q --tls-verify=false "$REG/ok/img:1"
	assert_status 0
	assert_line_re '^[0-9a-f]{64}$'
	[ -z "$(find "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 -name '.tmp-*')" ] ||
		fail "the next pull left the dead one's temporaries"
	run_peapod image rm "$REG/ok/img:1"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "two pulls of one image at once both succeed and GET each layer once" {
	local before a b d
	before=$(store_state)
	"$PEAPOD" image pull --tls-verify=false "$REG/ok/shared:1" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err" &
	a=$!
	"$PEAPOD" image pull --tls-verify=false "$REG/ok/shared:1" >"$TEST_DIR/b.out" 2>"$TEST_DIR/b.err" &
	b=$!
	wait "$a" || fail "the first pull failed: $(cat "$TEST_DIR/a.err")"
	wait "$b" || fail "the second pull failed: $(cat "$TEST_DIR/b.err")"
	[ "$(cat "$TEST_DIR/a.out")" = "$(cat "$TEST_DIR/b.out")" ] || fail "two ids"
	for d in $(layer_digests 1); do
		[ "$(blob_gets ok/shared "$d")" -eq 1 ] ||
			fail "layer $d: $(blob_gets ok/shared "$d") GETs"
	done
	run_peapod image rm "$REG/ok/shared:1"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "a resumption answered with the whole blob starts the layer over, and the image is whole" {
	local before base
	before=$(store_state)
	base=$(sed -n 1p "$FAULT_DIR/layers")
	run_peapod image pull --tls-verify=false "$REG/norange/img:1"
	assert_status 0
	assert_stderr_contains "Copying blob $base again: "
	assert_stderr_contains "could not resume"
	grep -Eq "^Copied blob $base \([0-9]+ bytes, .*/s\)\$" <<<"$stderr" || fail "no Copied line: $stderr"
	# cut, resumed (answered whole: the layer starts over), fetched whole
	[ "$(blob_gets norange/img "$base")" -eq 3 ] || fail "$(blob_gets norange/img "$base") GETs"
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: restarted
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "$REG/norange/img:1"}
EOF
	assert_status 0
	assert_line "[c] hello from layer 2"
	assert_line "[c] config env in /app as 1000"
	run_peapod image rm "$REG/norange/img:1"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "a zstd image pulls and runs; on a terminal the pull redraws one line per layer" {
	local before out
	before=$(store_state)
	out=$TEST_DIR/tty.out
	# script(1) gives the pull a terminal
	script -qec "$PEAPOD image pull --tls-verify=false $REG/ok/img:zstd" /dev/null >"$out" ||
		fail "the pull failed: $(cat -v "$out")"
	grep -q $'\033\\[[0-9]*A' "$out" || fail "no line redrawn: $(cat -v "$out")"
	grep -Eq 'Copying blob [0-9a-f]{12} \[=+\] .* done' "$out" || fail "no layer done: $(cat -v "$out")"
	grep -q '^Writing image sha256:' "$out" || fail "no Writing line: $(cat -v "$out")"
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: zstd
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "$REG/ok/img:zstd"}
EOF
	assert_status 0
	assert_line "[c] image two"
	run_peapod image rm "$REG/ok/img:zstd"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "faults at every step of a pull and its unpack (EIO, SIGKILL): no image, prune restores the store, the next pull works" {
	local before step mode rc
	before=$(store_state)
	PEAPOD_FAULT_STEPS=$TEST_DIR/steps "$PEAPOD" image pull -q --tls-verify=false "$REG/ok/steps:1" >/dev/null
	run_peapod image rm "$REG/ok/steps:1"
	assert_status 0
	for step in "pull manifest" "pull config" "unpack layer" "unpack layer meta" "pull layers"; do
		grep -qx "$step" "$TEST_DIR/steps" || fail "step \"$step\" not reached: $(sort -u "$TEST_DIR/steps")"
	done
	for mode in EIO kill; do
		while read -r step; do
			rm -f "$TEST_DIR/fired"
			rc=0
			PEAPOD_FAULT="$step:$mode" PEAPOD_FAULT_ONCE=$TEST_DIR/fired \
				timeout 60 "$PEAPOD" image pull -q --tls-verify=false "$REG/ok/steps:1" \
				>"$TEST_DIR/out" 2>"$TEST_DIR/err" || rc=$?
			[ -e "$TEST_DIR/fired" ] || fail "$step:$mode never fired"
			[ "$rc" != 0 ] || fail "$step:$mode: the pull succeeded"
			[ "$mode" = kill ] || grep -q "injected fault at $step" "$TEST_DIR/err" ||
				fail "$step:$mode: the error does not say: $(cat "$TEST_DIR/err")"
			run_peapod image ls
			refute_stdout_contains "ok/steps"
			run_peapod image prune
			assert_status 0
			[ "$(store_state)" = "$before" ] ||
				fail "$step:$mode: prune left: $(diff <(echo "$before") <(store_state))"
			run_peapod image pull -q --tls-verify=false "$REG/ok/steps:1"
			assert_status 0
			run_peapod image rm "$REG/ok/steps:1"
			assert_status 0
			[ "$(store_state)" = "$before" ] || fail "$step:$mode: the store kept something"
		done < <(awk '!seen[$0]++' "$TEST_DIR/steps")
	done
	assert_no_leaks
}

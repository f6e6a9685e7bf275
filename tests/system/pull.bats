#!/usr/bin/env bats
# image pull from a real registry: Debian's docker-registry on 127.0.0.1,
# started by tests/lib/registry-fixture.py and filled with skopeo from an OCI
# layout of the busybox rootfs (tests/lib/make-oci-layout.py): layers, a
# whiteout, the config honoured by a pod, a layer shared between two images,
# errors that leave the store as it was.

load helpers
load registry_helpers

# setup_file: the registry (held by the fixture until its stdin, a fifo
# whose only writer is a sleep, closes) and the two images pushed to it.
setup_file() {
	local here d i
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 0
	fi
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	start_fixture real R
	wait_fixture R
	d=$R_DIR
	export REG_DIR=$d
	export REG=127.0.0.1:$R_PORT
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >"$d/layers"
	BASE_LAYER=$(sed -n 1p "$d/layers")
	CORRUPT_LAYER=$(sed -n 2p "$d/layers")
	export BASE_LAYER CORRUPT_LAYER
	for i in 1 2 3 multi vol; do
		skopeo copy --all --quiet --dest-tls-verify=false "oci:$d/layout:$i" \
			"docker://$REG/test/img:$i" >/dev/null
	done
}

teardown_file() {
	stop_fixtures
}

@test "pull a layered image, run it (config, whiteout), share its base layer, rm it" {
	local before id
	before=$(store_state)
	run_peapod image pull --tls-verify=false "$REG/test/img:1"
	assert_status 0
	assert_stderr_line "Pulling $REG/test/img:1"
	[ "$(grep -c '^Copying blob sha256:[0-9a-f]\{64\} ([0-9]* bytes)$' <<<"$stderr")" -eq 3 ] ||
		fail "expected 3 layers downloaded"
	assert_stderr_contains "Writing image sha256:"
	assert_line_re '^[0-9a-f]{64}$'
	id=${lines[-1]}
	run_peapod image ls
	assert_line_re "^$REG/test/img +1 +${id:0:12} .*"

	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: pulled
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "$REG/test/img:1"}
EOF
	assert_status 0
	assert_line "[c] hello from layer 2"
	assert_line "[c] from layer 3"
	assert_line "[c] config env in /app as 1000"
	refute_stdout_contains "gone-is-there"

	# the second image shares the base layer: only its own one comes
	run_peapod image pull --tls-verify=false "$REG/test/img:2"
	assert_status 0
	assert_stderr_line "Copying blob $BASE_LAYER skipped: already exists"
	[ "$(grep -c '^Copying blob .* bytes)$' <<<"$stderr")" -eq 1 ] ||
		fail "expected 1 layer downloaded"

	run_peapod image rm "$REG/test/img:1" "$REG/test/img:2"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "pull -q prints only the image id; a pull again downloads nothing; a pull by digest" {
	local before
	before=$(store_state)
	run_peapod image pull -q --tls-verify=false "$REG/test/img:2"
	assert_status 0
	assert_line_re '^[0-9a-f]{64}$'
	[ "${#lines[@]}" -eq 1 ] || fail "more than the id on stdout"
	[ -z "$stderr" ] || fail "-q printed on stderr"
	run_peapod image pull --tls-verify=false "$REG/test/img:2"
	assert_status 0
	[ "$(grep -c 'skipped: already exists' <<<"$stderr")" -eq 2 ] || fail "downloaded again"
	# by digest: the same image, named by its digest (image ls: TAG <none>)
	local id digest
	id=${lines[-1]}
	digest=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][1]["digest"])' \
		"$REG_DIR/layout/index.json")
	run_peapod image pull -q --tls-verify=false "$REG/test/img@$digest"
	assert_status 0
	assert_stdout "$id"
	run_peapod image ls
	assert_line_re "^$REG/test/img +<none> +${id:0:12} .*"
	run_peapod image rm "$REG/test/img:2" "$REG/test/img@$digest"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "two pulls of one image at once download each layer once" {
	local before a b
	before=$(store_state)
	"$PEAPOD" image pull --tls-verify=false "$REG/test/img:1" >"$TEST_DIR/a.out" 2>"$TEST_DIR/a.err" &
	a=$!
	"$PEAPOD" image pull --tls-verify=false "$REG/test/img:1" >"$TEST_DIR/b.out" 2>"$TEST_DIR/b.err" &
	b=$!
	wait "$a" || fail "the first pull failed: $(cat "$TEST_DIR/a.err")"
	wait "$b" || fail "the second pull failed: $(cat "$TEST_DIR/b.err")"
	[ "$(cat "$TEST_DIR/a.out")" = "$(cat "$TEST_DIR/b.out")" ] || fail "two ids"
	[ "$(cat "$TEST_DIR/a.err" "$TEST_DIR/b.err" | grep -c '^Copying blob .* bytes)$')" -eq 3 ] ||
		fail "layers downloaded twice: $(cat "$TEST_DIR/a.err" "$TEST_DIR/b.err")"
	run_peapod image rm "$REG/test/img:1"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "pull of an index takes this host's entry, or --platform's, checked against its config" {
	local before id2
	before=$(store_state)
	run_peapod image pull -q --tls-verify=false "$REG/test/img:2"
	assert_status 0
	id2=${lines[0]}
	run_peapod image pull --tls-verify=false "$REG/test/img:multi"
	assert_status 0
	[ "${lines[-1]}" = "$id2" ] || fail "not the host's entry (image 2: $id2)"
	run_peapod image ls
	assert_line_re "^$REG/test/img +multi +${id2:0:12} .*"
	# the s390x entry is image 1, whose config says this host's architecture
	run_peapod image pull --platform linux/s390x --tls-verify=false "$REG/test/img:multi"
	assert_status 1
	assert_stderr_contains "pull $REG/test/img:multi: config"
	assert_stderr_contains "does not run on linux/s390x"
	run_peapod image pull --platform linux/riscv64 --tls-verify=false "$REG/test/img:multi"
	assert_status 1
	assert_stderr_contains "linux/s390x"
	run_peapod image rm "$REG/test/img:multi" "$REG/test/img:2"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

@test "pull of a missing tag fails clearly and leaves the store as it was" {
	local before
	before=$(store_state)
	run_peapod image pull --tls-verify=false "$REG/test/img:missing"
	assert_status 1
	assert_stderr_contains "pull $REG/test/img:missing"
	assert_stderr_contains "manifest"
	assert_stderr_contains "unknown"
	[ "$(store_state)" = "$before" ] || fail "the failed pull left something"
	# a repository that does not exist either
	run_peapod image pull --tls-verify=false "$REG/test/nothing:1"
	assert_status 1
	[ "$(store_state)" = "$before" ] || fail "the failed pull left something"
	assert_no_leaks
}

@test "pull of a layer whose bytes do not match its digest fails and leaves the store as it was" {
	local before hex data
	before=$(store_state)
	hex=${CORRUPT_LAYER#sha256:}
	data=$REG_DIR/registry/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
	[ -f "$data" ] || fail "no blob at $data"
	# the same size, other bytes: only the digest tells
	python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-1] ^= 0xff; open(p, "wb").write(b)' "$data"
	run_peapod image pull --tls-verify=false "$REG/test/img:3"
	assert_status 1
	assert_stderr_contains "pull $REG/test/img:3: layer 1 ($CORRUPT_LAYER)"
	assert_stderr_contains "the bytes' digest is sha256:"
	# the base layer came whole, and went with the failed pull
	assert_stderr_line "Copying blob $BASE_LAYER ($(stat -c %s "$REG_DIR/registry/storage/docker/registry/v2/blobs/sha256/${BASE_LAYER:7:2}/${BASE_LAYER#sha256:}/data") bytes)"
	[ "$(store_state)" = "$before" ] || fail "the failed pull left something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "pull from a plain-HTTP registry without --tls-verify=false fails; bad flags are usage errors" {
	local before
	before=$(store_state)
	run_peapod image pull "$REG/test/img:1"
	assert_status 1
	assert_stderr_contains "pull $REG/test/img:1"
	[ "$(store_state)" = "$before" ] || fail "the failed pull left something"
	run_peapod image pull --tls-verify=maybe "$REG/test/img:1"
	assert_status 2
	run_peapod image pull --creds nocolon "$REG/test/img:1"
	assert_status 2
	run_peapod image pull
	assert_status 2
	run_peapod image pull --tls-verify=false "Bad/Ref:1"
	assert_status 1
	assert_stderr_contains "invalid image reference"
	assert_no_leaks
}

@test "image inspect, ls --digests / -q / -o json and system df of pulled images, a layer shared counted once" {
	local before id1 id2 digest
	before=$(store_state)
	run_peapod image pull -q --tls-verify=false "$REG/test/img:1"
	assert_status 0
	id1=${lines[-1]}
	run_peapod image pull -q --tls-verify=false "$REG/test/img:2"
	assert_status 0
	id2=${lines[-1]}

	run_peapod image inspect "$REG/test/img:1"
	assert_status 0
	python3 -c '
import json, sys
id1, reg = sys.argv[1], sys.argv[2]
[img] = json.load(sys.stdin)
assert img["Id"] == id1, img["Id"]
assert img["RepoTags"] == [reg + "/test/img:1"], img["RepoTags"]
[rd] = img["RepoDigests"]
assert rd.startswith(reg + "/test/img@sha256:") and rd.endswith(img["Digest"]), rd
assert img["Os"] == "linux" and img["Architecture"], img
c = img["Config"]
assert c["Entrypoint"] == ["/bin/sh", "-c"] and c["WorkingDir"] == "/app" and c["User"] == "app", c
assert img["RootFS"]["Type"] == "layers" and len(img["RootFS"]["Layers"]) == 3, img["RootFS"]
assert len(img["GraphDriver"]["Data"]["LowerDir"].split(":")) == 3, img["GraphDriver"]
' "$id1" "$REG" <<<"$output" || fail "inspect: $output"
	digest=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])' <<<"$output")

	run_peapod image ls --digests
	assert_status 0
	assert_line_re "^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$"
	assert_line_re "^$REG/test/img +1 +$digest +${id1:0:12} .*"
	run_peapod image ls -q
	assert_status 0
	assert_line "${id1:0:12}"
	assert_line "${id2:0:12}"
	run_peapod image ls -o json
	assert_status 0
	python3 -c '
import json, sys
imgs = {i["Id"]: i for i in json.load(sys.stdin)}
a, b = imgs[sys.argv[1]], imgs[sys.argv[2]]
assert len(a["RepoDigests"]) == 1 and a["Names"] == a["RepoTags"], a
# the base layer is both images
assert a["SharedSize"] > 0 and a["SharedSize"] == b["SharedSize"], (a, b)
assert a["Size"] > a["SharedSize"], a
' "$id1" "$id2" <<<"$output" || fail "ls -o json: $output"

	# the base layer counted once
	run_peapod system df -v
	assert_status 0
	assert_line_re "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$"
	# (the suite's busybox images are there too, sharing nothing)
	assert_line_re "^Images +[0-9]+ +0 .*\(100%\)$"
	assert_line_re "^Layers: [0-9]+, of which 1 shared by several images \(.*, counted once\)$"
	assert_line_re "^$REG/test/img:1 +${id1:0:12} .* [0-9.]+ [kM]B +[0-9]+ B +0$"

	# tag: a new name for an image; a tag that moves; bad targets refused
	run_peapod image tag "$REG/test/img:1" mine:latest other.example/x/y:2
	assert_status 0
	run_peapod image inspect mine
	assert_status 0
	assert_stdout_contains '"other.example/x/y:2"'
	run_peapod image tag "$REG/test/img:2" mine
	assert_status 0
	run_peapod image ls
	assert_line_re "^mine +latest +${id2:0:12} .*"
	run_peapod image tag mine 'Upper/Case'
	assert_status 1
	assert_stderr_contains 'tag "Upper/Case": invalid image reference'
	run_peapod image tag mine "x@sha256:$id1"
	assert_status 1
	assert_stderr_contains "a digest reference cannot be a tag"
	run_peapod image tag no-such-image mine2
	assert_status 1
	assert_stderr_contains 'image "no-such-image:latest" not found'

	run_peapod image rm "$REG/test/img:1" "$REG/test/img:2" mine other.example/x/y:2
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "an image's Volumes: anonymous, seeded from the image, writable under readOnlyRootFilesystem, a pod mount wins, gone with the pod" {
	local before
	before=$(store_state)
	run_peapod image pull -q --tls-verify=false "$REG/test/img:vol"
	assert_status 0
	run_peapod image inspect "$REG/test/img:vol"
	assert_status 0
	python3 -c '
import json, sys
c = json.load(sys.stdin)[0]["Config"]
assert sorted(c["Volumes"]) == ["/data", "/empty", "/over/", "rel"], c
assert c["Labels"] == {"org.example.test": "volumes"}, c
assert c["ExposedPorts"] == {"8080/tcp": {}}, c
' <<<"$output" || fail "inspect: $output"

	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: imgvol
spec:
  restartPolicy: Never
  volumes:
    - {name: scratch, emptyDir: {}}
  containers:
    - name: c
      image: "$REG/test/img:vol"
      securityContext: {readOnlyRootFilesystem: true}
      volumeMounts:
        - {name: scratch, mountPath: /over}
      command:
        - sh
        - -c
        - |
          cat /data/seed /data/sub/deep /rel/r
          echo "seed owner \$(stat -c %u:%g /data/seed)"
          echo w >/data/new && echo "data writable"
          echo w >/rel/new && echo "rel writable"
          echo w >/empty/new && echo "empty writable"
          echo w >/root-file 2>/dev/null || echo "root read-only"
          if [ -e /over/x ]; then echo "over has the image's files"; else echo "over is the pod's"; fi
          echo w >/over/new && echo "over writable"
EOF
	assert_status 0
	assert_line "[c] seeded from the image"
	assert_line "[c] deep"
	assert_line "[c] relative volume"
	assert_line "[c] seed owner 1000:1000"
	assert_line "[c] data writable"
	assert_line "[c] rel writable"
	assert_line "[c] empty writable"
	assert_line "[c] root read-only"
	assert_line "[c] over is the pod's"
	assert_line "[c] over writable"
	[ -z "$(pod_dirs)" ] || fail "left: $(pod_dirs)"

	run_peapod image rm "$REG/test/img:vol"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "an image's Volumes in a pod with hostUsers: false: seeded with the image's owners as the pod sees them, writable by its root" {
	skip_unless_userns
	local before
	before=$(store_state)
	run_peapod image pull -q --tls-verify=false "$REG/test/img:vol"
	assert_status 0
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: imgvol-userns
spec:
  restartPolicy: Never
  hostUsers: false
  containers:
    - name: c
      image: "$REG/test/img:vol"
      command:
        - sh
        - -c
        - |
          echo "seed owner \$(stat -c %u:%g /data/seed), dir owner \$(stat -c %u /data)"
          echo w >/data/new && echo "data writable"
          echo w >/empty/new && echo "empty writable, owner \$(stat -c %u /empty)"
EOF
	assert_status 0
	assert_line "[c] seed owner 1000:1000, dir owner 0"
	assert_line "[c] data writable"
	assert_line "[c] empty writable, owner 0"
	run_peapod image rm "$REG/test/img:vol"
	assert_status 0
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	assert_no_leaks
}

#!/usr/bin/env bats
# `make stress` (not in make check): tests/system/concurrency.bats for
# minutes, with more shells (STRESS_WORKERS, default 10, each
# STRESS_ITERATIONS commands, default 300) and a shell pulling and removing
# images from a local registry (tests/lib/registry-fixture.py) meanwhile.
# Same checks: every command ends with a clear result, records whole, get
# agrees, gc never harms the guard, the image store intact, nothing leaked.

load ../system/helpers
load ../system/pods_helpers
load ../system/concurrency_helpers
load ../system/registry_helpers

WORKERS=${STRESS_WORKERS:-10}
ITERATIONS=${STRESS_ITERATIONS:-300}
# What an image pull or rm racing another may answer.
IMAGE_ALLOWED='image not known|no such image|not found|is in use|being pulled'

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
	export REG=127.0.0.1:$R_PORT
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >"$d/layers"
	for i in 1 2 3; do
		skopeo copy --all --quiet --dest-tls-verify=false "oci:$d/layout:$i" \
			"docker://$REG/test/img:$i" >/dev/null
	done
}

teardown_file() {
	stop_fixtures
}

# image_worker ID ITERATIONS: pulls and removals of the registry's images.
image_worker() {
	local id=$1 iterations=$2 i tag
	RANDOM=$((id * 104729))
	for ((i = 0; i < iterations; i++)); do
		tag=$((RANDOM % 3 + 1))
		if [ $((RANDOM % 2)) = 0 ]; then
			run_logged "$id" pull image pull --tls-verify=false "$REG/test/img:$tag"
		else
			run_logged "$id" rm image rm "$REG/test/img:$tag"
		fi
	done
}

@test "stress: many shells over apply, delete, exec, logs, get, pause, unpause, gc, image pull and rm; every command ends with a clear result; records and store whole; nothing leaked" {
	start_guard
	run_workers "$WORKERS" "$ITERATIONS" image_worker

	local bad
	bad=$(bad_results | while IFS= read -r line; do
		# the image worker's own reasons
		[[ $line == "1 image "* ]] && grep -qE "$IMAGE_ALLOWED" <<<"$line" && continue
		echo "$line"
	done)
	local v
	for v in apply delete exec logs get pause unpause gc "image pull" "image rm"; do
		echo "# $v: $(cat "$TEST_DIR"/w*.log | grep -c "^0 $v ") succeeded" >&3
	done
	[ -z "$bad" ] || fail "commands without a clear result:"$'\n'"$bad"
	check_guard

	# The store: each image still pulls and runs.
	local tag
	for tag in 1 2 3; do
		run_peapod image pull --tls-verify=false "$REG/test/img:$tag"
		assert_status 0
	done
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: after
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "$REG/test/img:1", command: [sh, -c, "echo store ok"]}
EOF
	assert_status 0
	assert_line "[c] store ok"
	remove_all_pods
	pp image rm "$REG/test/img:1" "$REG/test/img:2" "$REG/test/img:3" >/dev/null
	run_peapod get pods --no-headers
	assert_stdout ""
	assert_no_leaks
}

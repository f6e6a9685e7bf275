#!/usr/bin/env bats
# Many CLIs at once (issue #21's "concurrent verbs"): shells looping over
# apply, delete, exec, logs, logs -f, attach, get, pause, unpause and gc on
# the same and on different pods, and image pull and rm of an image no pod
# uses (from a registry of the test's own), a fixed number of iterations
# each. Every command must end
# (a timeout is a failure) with a clear result: exit 0, or exit 1 with one
# line from the list of reasons a race may give (not found, paused, ...).
# At the end no record is lost or torn, `get` agrees with the records, gc
# never touched a live pod, and nothing leaked. `make stress` runs the same
# workers longer, with more shells and image pulls (tests/stress/).

load helpers
load pods_helpers
load concurrency_helpers
load registry_helpers

WORKERS=${CONC_WORKERS:-5}
ITERATIONS=${CONC_ITERATIONS:-30}
# What an image pull or rm racing another may answer.
IMAGE_ALLOWED='image not known|no such image|not found|is in use|being pulled'

setup_file() {
	local here d
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/conc.XXXXXX")
	export CONC_DIR=$d
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >/dev/null
	fixture_serve "$d" layout "$d/requests" "$d/layout"
	CONC_IMAGE=127.0.0.1:$(fixture_port "$d")/test/img:2
	export CONC_IMAGE
}

teardown_file() {
	[ -n "${CONC_DIR:-}" ] || return 0
	fixture_stop "$CONC_DIR"
}

@test "concurrent apply, delete, exec, logs, logs -f, attach, get, pause, unpause, gc, image pull and rm: every command ends with a clear result; records and store whole; gc never harms a live pod; nothing leaked" {
	start_guard
	run_workers "$WORKERS" "$ITERATIONS"

	local bad
	bad=$(bad_results | while IFS= read -r line; do
		[[ $line == "1 image "* ]] && grep -qE "$IMAGE_ALLOWED" <<<"$line" && continue
		echo "$line"
	done)
	[ -z "$bad" ] || fail "commands without a clear result:"$'\n'"$bad"
	# Each verb ran, and succeeded at least once.
	local v
	for v in apply delete exec logs "logs -f" attach get pause unpause gc "image pull" "image rm"; do
		grep -q "^0 $v " "$TEST_DIR"/w*.log || echo "note: no successful $v in this run"
	done
	# The store: no temporaries, the pods' image whole, the pulled one pulls
	# and goes again.
	[ -z "$(find "$PEAPOD_ROOT/layers/sha256" -mindepth 1 -maxdepth 1 -name '.tmp-*' 2>/dev/null)" ] ||
		fail "a pull's temporaries were left"
	run_peapod image inspect "$IMAGE"
	assert_status 0
	run_peapod image pull -q --tls-verify=false "$CONC_IMAGE"
	assert_status 0
	run_peapod image rm "$CONC_IMAGE"
	assert_status 0
	check_guard

	# Whatever is left: unpaused and deleted.
	remove_all_pods
	run_peapod get pods --no-headers
	assert_stdout ""
	assert_no_leaks
}

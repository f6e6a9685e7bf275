#!/usr/bin/env bats
# Many CLIs at once (issue #21's "concurrent verbs"): shells looping over
# apply, delete, exec, logs, get, pause, unpause and gc on the same and on
# different pods, a fixed number of iterations each. Every command must end
# (a timeout is a failure) with a clear result: exit 0, or exit 1 with one
# line from the list of reasons a race may give (not found, paused, ...).
# At the end no record is lost or torn, `get` agrees with the records, gc
# never touched a live pod, and nothing leaked. `make stress` runs the same
# workers longer, with more shells and image pulls (tests/stress/).

load helpers
load pods_helpers
load concurrency_helpers

WORKERS=${CONC_WORKERS:-5}
ITERATIONS=${CONC_ITERATIONS:-30}

@test "concurrent apply, delete, exec, logs, get, pause, unpause and gc: every command ends with a clear result; records whole; gc never harms a live pod; nothing leaked" {
	start_guard
	run_workers "$WORKERS" "$ITERATIONS"

	local bad
	bad=$(bad_results)
	[ -z "$bad" ] || fail "commands without a clear result:"$'\n'"$bad"
	# Each verb ran, and succeeded at least once.
	local v
	for v in apply delete exec logs get pause unpause gc; do
		grep -q "^0 $v " "$TEST_DIR"/w*.log || echo "note: no successful $v in this run"
	done
	check_guard

	# Whatever is left: unpaused and deleted.
	remove_all_pods
	run_peapod get pods --no-headers
	assert_stdout ""
	assert_no_leaks
}

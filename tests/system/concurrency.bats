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
	local p
	for p in churn0 churn1 churn2 guard; do
		sleeper_pod "$p" >"$TEST_DIR/$p.yaml"
		sed -i "s|@IMAGE@|$IMAGE|" "$TEST_DIR/$p.yaml"
	done
	run_peapod apply -f "$TEST_DIR/guard.yaml"
	assert_status 0
	eventually 10 status_is guard Running
	local guard_uid guard_pid
	guard_uid=$(pod_uid guard)
	guard_pid=$(container_pids guard)

	local pids=() w
	for ((w = 1; w <= WORKERS; w++)); do
		worker "$w" "$ITERATIONS" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done

	local bad
	bad=$(bad_results)
	[ -z "$bad" ] || fail "commands without a clear result:"$'\n'"$bad"
	# Each verb ran, and succeeded at least once.
	local v
	for v in apply delete exec logs get pause unpause gc; do
		grep -q "^0 $v " "$TEST_DIR"/w*.log || echo "note: no successful $v in this run"
	done
	records_consistent || fail "the records disagree"
	[ "$(pod_uid guard)" = "$guard_uid" ] || fail "the guard pod was replaced"
	[ "$(container_pids guard)" = "$guard_pid" ] || fail "the guard's container changed"
	status_is guard Running || fail "the guard is $(get_row guard)"

	# Whatever is left: unpaused and deleted.
	for p in churn0 churn1 churn2 guard; do
		pp unpause "$p" >/dev/null 2>&1 || true
		pp delete pod "$p" >/dev/null 2>&1 || true
	done
	run_peapod get pods --no-headers
	assert_stdout ""
	assert_no_leaks
}

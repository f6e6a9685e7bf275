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

# Per command: a hang is what this test looks for, not slowness.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}
WORKERS=${CONC_WORKERS:-5}
ITERATIONS=${CONC_ITERATIONS:-30}
# What a command racing others may answer besides success: one line, exit 1.
ALLOWED='not found in namespace|is paused|is being paused|is not paused|is not running|is terminating|not running yet|already exists|waiting to start|was deleted meanwhile|cancelled by an unpause|still being set up'

# worker ID: ITERATIONS commands, verbs and pods drawn from a seed of its
# own; one line per command in $TEST_DIR/w<ID>.log: "rc verb args :: stderr".
worker() {
	local id=$1 i rc verb pod start
	local verbs=(apply delete exec exec logs get pause unpause gc exec)
	RANDOM=$((id * 7919))
	for ((i = 0; i < ITERATIONS; i++)); do
		verb=${verbs[RANDOM % ${#verbs[@]}]}
		pod=churn$((RANDOM % 3))
		# exec, logs and gc also go to the guard, which nobody deletes or pauses
		if [ $((RANDOM % 4)) = 0 ] && [[ $verb == exec || $verb == logs ]]; then pod=guard; fi
		case $verb in
		apply) args=(apply -f "$TEST_DIR/$pod.yaml") ;;
		delete) args=(delete pod "$pod") ;;
		exec) args=(exec "$pod" -- true) ;;
		logs) args=(logs "$pod") ;;
		get) args=(get pods) ;;
		pause) args=(pause "$pod") ;;
		unpause) args=(unpause "$pod") ;;
		gc) args=(gc) ;;
		esac
		start=$SECONDS
		rc=0
		timeout -k 5 "$CMD_TIMEOUT" "$PEAPOD" "${args[@]}" >"$TEST_DIR/w$id.out" \
			2>"$TEST_DIR/w$id.err" || rc=$?
		[ $((SECONDS - start)) -lt "$CMD_TIMEOUT" ] || rc=timeout
		[ "$verb" != gc ] || [ "$rc" != 0 ] || grep -qx '0 pods cleaned up' "$TEST_DIR/w$id.out" ||
			rc="gc-removed:$(cat "$TEST_DIR/w$id.out")"
		echo "$rc ${args[*]} :: $(tr '\n' '|' <"$TEST_DIR/w$id.err")" >>"$TEST_DIR/w$id.log"
	done
}

# bad_results: the lines of the workers' logs that are no clear result.
bad_results() {
	local line rc rest err
	cat "$TEST_DIR"/w*.log | while IFS= read -r line; do
		rc=${line%% *}
		rest=${line#* }
		err=${rest#*:: }
		case $rc in
		0) continue ;;
		1)
			# one line, a reason from the list
			[[ $err == *'|' ]] && [[ ${err%|} != *'|'* ]] && grep -qE "$ALLOWED" <<<"$err" &&
				continue
			;;
		126)
			# exec into a container that ended meanwhile
			[[ $rest == exec* ]] && grep -q 'is not running' <<<"$err" && continue
			;;
		137)
			# exec whose process the pod's deletion killed
			[[ $rest == exec* ]] && [ -z "$err" ] && continue
			;;
		esac
		echo "$line"
	done
}

# records_consistent: every status.json parses; the names index and the
# records agree; `get pods` lists exactly the indexed names.
records_consistent() {
	local f uid name ok=0
	for f in "$PEAPOD_RUN"/pods/*/status.json; do
		[ -e "$f" ] || continue
		python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$f" ||
			{ echo "torn record: $f"; ok=1; }
	done
	for f in "$PEAPOD_RUN"/names/default/*; do
		[ -e "$f" ] || continue
		uid=$(head -n1 "$f")
		[ -d "$PEAPOD_RUN/pods/$uid" ] || { echo "name $(basename "$f") -> $uid: no record"; ok=1; }
	done
	for f in "$PEAPOD_RUN"/pods/*; do
		[ -d "$f" ] || continue
		uid=$(basename "$f")
		grep -qx "$uid" "$PEAPOD_RUN"/names/default/* 2>/dev/null ||
			{ echo "record $uid: no name"; ok=1; }
	done
	local want got
	want=$(ls "$PEAPOD_RUN/names/default" 2>/dev/null | sort)
	got=$(pp get pods --no-headers 2>/dev/null | awk '{print $1}' | sort)
	[ "$want" = "$got" ] || { echo "get pods lists [$got], the index [$want]"; ok=1; }
	return $ok
}

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
		worker "$w" &
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

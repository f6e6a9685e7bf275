# The workers of the concurrency tests (tests/system/concurrency.bats and
# `make stress`, tests/stress/): shells looping over peapod's verbs, the
# check that each command ended with a clear result, and the check that
# the records agree. Loaded after helpers.bash and pods_helpers.bash.

# Per command: a hang is what this test looks for, not slowness.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}
# What a command racing others may answer besides success: one line, exit 1.
ALLOWED='not found in namespace|is paused|is being paused|is not paused|is not running|is terminating|not running yet|already exists|waiting to start|was deleted meanwhile|cancelled by an unpause|still being set up'
# logs -f and attach follow for this long, then get our SIGTERM (timeout's
# 124: it was following and ended on it; a hang is SIGKILL's 137).
FOLLOW_SECONDS=${FOLLOW_SECONDS:-1}

# run_logged ID VERB ARGS...: one command under CMD_TIMEOUT, its result as a
# line of $TEST_DIR/w<ID>.log: "rc args :: stderr" (rc "timeout" when it hit
# the timeout; a gc that removed a pod: "gc-removed:..." as no pod lost its
# supervisor in these tests).
run_logged() {
	local id=$1 verb=$2 rc=0 start=$SECONDS limit=$CMD_TIMEOUT
	shift 2
	[[ $verb != logsf && $verb != attach ]] || limit=$FOLLOW_SECONDS
	timeout -k 5 "$limit" "$PEAPOD" "$@" >"$TEST_DIR/w$id.out" 2>"$TEST_DIR/w$id.err" </dev/null || rc=$?
	[ $((SECONDS - start)) -lt "$CMD_TIMEOUT" ] || rc=timeout
	[[ $rc != 124 || ($verb != logsf && $verb != attach) ]] || rc=0
	[ "$verb" != gc ] || [ "$rc" != 0 ] || grep -qx '0 pods cleaned up' "$TEST_DIR/w$id.out" ||
		rc="gc-removed:$(cat "$TEST_DIR/w$id.out")"
	echo "$rc $* :: $(tr '\n' '|' <"$TEST_DIR/w$id.err")" >>"$TEST_DIR/w$id.log"
}

# worker ID ITERATIONS: commands, verbs and pods drawn from a seed of its
# own, on churn0..churn2 (manifests $TEST_DIR/<pod>.yaml) and the guard
# (exec, logs, logs -f and attach only: never deleted nor paused); with
# CONC_IMAGE (a reference no pod uses) set, image pull and rm of it too.
worker() {
	local id=$1 iterations=$2 i verb pod
	local verbs=(apply delete exec exec logs logsf attach get pause unpause gc exec)
	[ -z "${CONC_IMAGE:-}" ] || verbs+=(pull rmi)
	RANDOM=$((id * 7919))
	for ((i = 0; i < iterations; i++)); do
		verb=${verbs[RANDOM % ${#verbs[@]}]}
		pod=churn$((RANDOM % 3))
		# exec, logs and gc also go to the guard, which nobody deletes or pauses
		if [ $((RANDOM % 4)) = 0 ] && [[ $verb == exec || $verb == logs* || $verb == attach ]]; then
			pod=guard
		fi
		case $verb in
		apply) args=(apply -f "$TEST_DIR/$pod.yaml") ;;
		delete) args=(delete pod "$pod") ;;
		exec) args=(exec "$pod" -- true) ;;
		logs) args=(logs "$pod") ;;
		logsf) args=(logs -f "$pod") ;;
		attach) args=(attach "$pod") ;;
		pull) args=(image pull -q --tls-verify=false "$CONC_IMAGE") ;;
		rmi) args=(image rm "$CONC_IMAGE") ;;
		get) args=(get pods) ;;
		pause) args=(pause "$pod") ;;
		unpause) args=(unpause "$pod") ;;
		gc) args=(gc) ;;
		esac
		run_logged "$id" "$verb" "${args[@]}"
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

# start_guard: the manifests of churn0..churn2 and guard in $TEST_DIR, the
# guard applied and Running; its uid and container pids in GUARD_UID and
# GUARD_PIDS (for check_guard).
start_guard() {
	local p
	for p in churn0 churn1 churn2 guard; do
		sleeper_pod "$p" | sed "s|@IMAGE@|$IMAGE|" >"$TEST_DIR/$p.yaml"
	done
	run_peapod apply -f "$TEST_DIR/guard.yaml"
	assert_status 0
	eventually 10 status_is guard Running
	GUARD_UID=$(pod_uid guard)
	GUARD_PIDS=$(container_pids guard)
}

# run_workers COUNT ITERATIONS [FUNCTION]: COUNT workers (ids 1..COUNT) and
# FUNCTION 0 ITERATIONS (another worker, when given) at once, until all end.
run_workers() {
	local pids=() w p
	for ((w = 1; w <= $1; w++)); do
		worker "$w" "$2" &
		pids+=($!)
	done
	if [ -n "${3:-}" ]; then
		"$3" 0 "$2" &
		pids+=($!)
	fi
	for p in "${pids[@]}"; do wait "$p"; done
}

# check_guard: the records agree, and the guard is the pod start_guard saw,
# its containers unchanged, still Running.
check_guard() {
	records_consistent || fail "the records disagree"
	[ "$(pod_uid guard)" = "$GUARD_UID" ] || fail "the guard pod was replaced"
	[ "$(container_pids guard)" = "$GUARD_PIDS" ] || fail "the guard's container changed"
	status_is guard Running || fail "the guard is $(get_row guard)"
}

# remove_all_pods: whatever is left of churn0..churn2 and guard, unpaused
# and deleted.
remove_all_pods() {
	local p
	for p in churn0 churn1 churn2 guard; do
		pp unpause "$p" >/dev/null 2>&1 || true
		pp delete pod "$p" >/dev/null 2>&1 || true
	done
}

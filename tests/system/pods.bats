#!/usr/bin/env bats
# Detached pods: apply starts one supervisor per pod; get, inspect and
# describe show it as kubectl does; completed pods keep their record until
# deleted; delete (graceful, --grace-period, --force, -f); a killed
# supervisor (Unknown, delete, gc); concurrent applies; bad input.
# Logs, exec, attach and wait are in pods_io.bats.

load helpers
load pods_helpers

# two_containers [NAME] [GRACE]: a pod ("two", grace period 1 s) of two
# containers a and b that run until SIGTERM (UNTIL_TERM).
two_containers() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: ${1:-two}
spec:
  terminationGracePeriodSeconds: ${2:-1}
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "$UNTIL_TERM"]
    - name: b
      image: @IMAGE@
      command: ["sh", "-c", "$UNTIL_TERM"]
EOF
}

# ---------------------------------------------------------------------------
# apply and get

@test "apply returns with the pod running under its own supervisor; get shows READY 2/2 Running" {
	apply_ok < <(two_containers)
	assert_stdout "pod/two created"
	# No waiting: apply returns once the pod is started.
	run_peapod get pods two
	assert_status 0
	[ "${#lines[@]}" -eq 2 ] || fail "expected a header and one row"
	[[ "${lines[0]}" =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE$ ]] || fail "bad header"
	[[ "${lines[1]}" =~ ^two\ +2/2\ +Running\ +0\ +[0-9]+s$ ]] || fail "bad row"
	# Also without a name, and with the aliases kubectl takes.
	run_peapod get pods
	assert_status 0
	assert_line_re 'two +2/2 +Running +0 +[0-9]+s'
	run_peapod get po
	assert_line_re 'two +2/2 +Running +0 +[0-9]+s'

	# One supervisor: comm peapod-sup, child of init, in another session than
	# ours and without a terminal.
	local sup
	sup=$(sup_pid two)
	[ "$(awk '/^PPid:/ {print $2}' "/proc/$sup/status")" = 1 ] ||
		fail "the supervisor's parent is not init: $(grep PPid "/proc/$sup/status")"
	[ "$(ps -o sid= -p "$sup")" != "$(ps -o sid= -p $$)" ] || fail "the supervisor is in our session"
	[ "$(ps -o tty= -p "$sup" | tr -d ' ')" = "?" ] || fail "the supervisor has a terminal"
	[ "$(suite_supervisor_pids | wc -l)" -eq 1 ] || fail "expected one supervisor"

	delete_ok two
	assert_stdout 'pod "two" deleted'
	# delete returns once the pod is gone.
	alive "$sup" && fail "the supervisor is still there after delete"
	run_peapod get pods two
	[ "$status" -ne 0 ] || fail "get of a deleted pod succeeded"
	assert_stderr_contains 'pods "two" not found'
	assert_no_leaks
}

@test "get -o name, json, yaml and wide" {
	apply_ok < <(two_containers)
	apply_ok < <(sh_pod other Always "trap 'exit 0' TERM; while true; do sleep 0.1; done")

	run_peapod get pods two -o name
	assert_status 0
	assert_stdout "pod/two"
	run_peapod get pods -o name
	assert_stdout $'pod/other\npod/two'

	run_peapod get pods two -o json
	assert_status 0
	local j=$output
	[ "$(json_get 'd["kind"]' <<<"$j")" = Pod ] || fail "kind is not Pod"
	[ "$(json_get 'd["apiVersion"]' <<<"$j")" = v1 ] || fail "apiVersion is not v1"
	[ "$(json_get 'd["metadata"]["name"]' <<<"$j")" = two ] || fail "bad metadata.name"
	[ "$(json_get 'd["metadata"]["namespace"]' <<<"$j")" = default ] || fail "bad metadata.namespace"
	[ "$(json_get 'd["metadata"]["uid"]' <<<"$j")" = "$(pod_uid two)" ] || fail "bad metadata.uid"
	[ "$(json_get 'd["status"]["phase"]' <<<"$j")" = Running ] || fail "bad status.phase"
	[ "$(json_get '[c["name"] for c in d["spec"]["containers"]]' <<<"$j")" = '["a", "b"]' ] ||
		fail "bad spec.containers"
	[ "$(json_get 'sorted(c["name"] for c in d["status"]["containerStatuses"])' <<<"$j")" = '["a", "b"]' ] ||
		fail "bad status.containerStatuses"

	run_peapod get pods -o json
	assert_status 0
	[ "$(json_get 'd["kind"]' <<<"$output")" = List ] || fail "a listing is not a List"
	[ "$(json_get '[i["metadata"]["name"] for i in d["items"]]' <<<"$output")" = '["other", "two"]' ] ||
		fail "bad items"

	run_peapod get pods two -o yaml
	assert_status 0
	assert_line "apiVersion: v1"
	assert_line "kind: Pod"
	assert_line "  name: two"
	assert_line "  namespace: default"
	assert_line "  phase: Running"
	assert_line_re ' *- name: a'
	if python3 -c 'import yaml' 2>/dev/null; then
		[ "$(python3 -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["status"]["phase"])' <<<"$output")" = Running ] ||
			fail "the yaml does not parse to the pod"
	fi

	run_peapod get pods two -o wide
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE\ +IP\ +NODE\ +NOMINATED\ NODE\ +READINESS\ GATES$ ]] ||
		fail "bad wide header"
	[[ "${lines[1]}" =~ ^two\ +2/2\ +Running\ +0\ +[0-9]+s\ +127\.0\.0\.1\ +$(hostname)\ +\<none\>\ +\<none\>$ ]] ||
		fail "bad wide row"
	# READINESS GATES as kubectl counts them: the gates whose condition is
	# True (nothing here sets one); NODE: spec.nodeName when given.
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: gated
spec:
  nodeName: elsewhere
  readinessGates:
    - conditionType: example.com/one
    - conditionType: example.com/two
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
	run_peapod get pods gated -o wide
	assert_status 0
	[[ "${lines[1]}" =~ ^gated\ .*\ elsewhere\ +\<none\>\ +0/2$ ]] || fail "bad wide row for gated: ${lines[1]}"
	delete_ok gated

	run_peapod get pods two -o nonsense
	[ "$status" -ne 0 ] || fail "an unknown output format was accepted"

	delete_ok two other
	assert_no_leaks
}

@test "get of a missing pod fails with not found; get without pods prints No resources found" {
	run_peapod get pods x
	assert_status 1
	assert_stderr_contains 'pods "x" not found'
	[ -z "$output" ] || fail "expected no stdout"

	run_peapod get pods
	assert_status 0
	[ -z "$output" ] || fail "expected no stdout"
	assert_stderr_contains "No resources found"

	run_peapod get pods -n elsewhere
	assert_status 0
	assert_stderr_contains "No resources found in elsewhere namespace."

	# Once a pod is deleted, the same.
	apply_ok < <(sleeper_pod gone)
	delete_ok gone
	run_peapod get pods
	assert_status 0
	assert_stderr_contains "No resources found"
	run_peapod describe pod gone
	[ "$status" -ne 0 ] || fail "describe of a deleted pod succeeded"
	assert_stderr_contains 'pods "gone" not found'
	run_peapod inspect gone
	[ "$status" -ne 0 ] || fail "inspect of a deleted pod succeeded"
	assert_stderr_contains 'pods "gone" not found'
	run_peapod delete gone
	[ "$status" -ne 0 ] || fail "delete of a deleted pod succeeded"
	assert_stderr_contains 'pods "gone" not found'
	assert_no_leaks
}

@test "namespaces (-n and metadata.namespace) keep same-named pods apart" {
	local f
	f=$(sleeper_pod same | write_manifest)
	run_peapod apply -f "$f" -n ns-a
	assert_status 0
	run_peapod apply -f "$f" -n ns-b
	assert_status 0
	# metadata.namespace.
	apply_ok < <(sleeper_pod same | sed 's/^  name: same$/  name: same\n  namespace: ns-c/')
	# The same manifest again in one namespace: unchanged, as kubectl says.
	run_peapod apply -f "$f" -n ns-a
	assert_status 0
	assert_stdout "pod/same unchanged"

	local ua ub uc
	ua=$(inspect_get same 'd["metadata"]["uid"]' ns-a)
	ub=$(inspect_get same 'd["metadata"]["uid"]' ns-b)
	uc=$(inspect_get same 'd["metadata"]["uid"]' ns-c)
	[ -n "$ua" ] && [ "$ua" != "$ub" ] && [ "$ub" != "$uc" ] && [ "$ua" != "$uc" ] ||
		fail "expected three pods: $ua $ub $uc"
	[ "$(inspect_get same 'd["metadata"]["namespace"]' ns-b)" = ns-b ] || fail "bad namespace"
	[ "$(inspect_get same 'd["metadata"]["namespace"]' ns-c)" = ns-c ] || fail "bad namespace"

	run_peapod get pods -n ns-a
	assert_status 0
	[ "${#lines[@]}" -eq 2 ] || fail "expected one pod in ns-a"
	assert_line_re 'same +1/1 +Running +0 +[0-9]+s'
	# Not in the default namespace.
	run_peapod get pods
	assert_stderr_contains "No resources found in default namespace."
	run_peapod get pods same
	assert_status 1
	# A manifest's namespace that -n contradicts is refused, as kubectl does.
	run_peapod apply -f "$POD_FILE" -n ns-a
	assert_status 2
	assert_stderr_contains 'does not match the namespace "ns-a"'
	[ "$(suite_supervisor_pids | wc -l)" -eq 3 ] || fail "expected three supervisors"

	# Deleting one leaves the others.
	run_peapod delete same -n ns-a
	assert_status 0
	run_peapod get pods same -n ns-a
	assert_status 1
	eventually 5 status_is_ns same ns-b Running
	delete_ok same -n ns-b
	delete_ok -f "$POD_FILE"
	assert_no_leaks
}

status_is_ns() {
	[ "$(get_row "$1" "$2" | awk '{print $3}')" = "$3" ]
}

# ---------------------------------------------------------------------------
# inspect and describe

@test "inspect: phase Running, conditions True, containerStatuses running" {
	apply_ok < <(two_containers)
	eventually 10 ready two
	run_peapod inspect two
	assert_status 0
	local j=$output
	[ "$(json_get 'd["status"]["phase"]' <<<"$j")" = Running ] || fail "phase"
	local t
	for t in PodScheduled Initialized ContainersReady Ready; do
		[ "$(json_get "[c['status'] for c in d['status']['conditions'] if c['type'] == '$t'][0]" <<<"$j")" = True ] ||
			fail "condition $t is not True"
	done
	[ "$(json_get 'len(d["status"]["containerStatuses"])' <<<"$j")" = 2 ] || fail "two container statuses"
	local c
	for c in 0 1; do
		json_get "d['status']['containerStatuses'][$c]['state']['running']['startedAt']" <<<"$j" |
			grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
			fail "container $c: no state.running.startedAt"
		[ "$(json_get "d['status']['containerStatuses'][$c]['ready']" <<<"$j")" = true ] || fail "ready"
		[ "$(json_get "d['status']['containerStatuses'][$c]['started']" <<<"$j")" = true ] || fail "started"
		[ "$(json_get "d['status']['containerStatuses'][$c]['restartCount']" <<<"$j")" = 0 ] || fail "restartCount"
		[ "$(json_get "d['status']['containerStatuses'][$c]['image']" <<<"$j")" = "$IMAGE" ] || fail "image"
		[ "$(json_get "d['status']['containerStatuses'][$c]['lastState']" <<<"$j")" = '{}' ] || fail "lastState"
	done
	[ "$(json_get 'sorted(c["name"] for c in d["status"]["containerStatuses"])' <<<"$j")" = '["a", "b"]' ] || fail names
	[ "$(json_get 'd["status"]["podIP"]' <<<"$j")" = 127.0.0.1 ] || fail "podIP"
	json_get 'd["status"]["startTime"]' <<<"$j" >/dev/null || fail "no startTime"
	[ "$(json_get 'd["status"].get("initContainerStatuses")' <<<"$j")" = null ] || fail "no init containers"
	delete_ok two
	assert_no_leaks
}

@test "inspect and get: restartPolicy Always restarts a container that exits 1; restartCount and lastState" {
	apply_ok <<<"$(crash_once_pod crash)"
	# The first restart comes at once (kubelet's back-off starts at 0).
	eventually 15 restarts_at_least crash 1
	eventually 15 ready crash
	run_peapod inspect crash
	local j=$output
	[ "$(json_get 'd["status"]["containerStatuses"][0]["restartCount"]' <<<"$j")" = 1 ] || fail "restartCount"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"]' <<<"$j")" = 1 ] ||
		fail "lastState.terminated.exitCode is not 1"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"]' <<<"$j")" = Error ] ||
		fail "lastState.terminated.reason is not Error"
	json_get 'd["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"]' <<<"$j" >/dev/null ||
		fail "no lastState.terminated.finishedAt"
	json_get 'd["status"]["containerStatuses"][0]["state"]["running"]' <<<"$j" >/dev/null ||
		fail "state is not running"
	[ "$(json_get 'd["status"]["phase"]' <<<"$j")" = Running ] || fail "phase"

	run_peapod get pods crash
	[[ "${lines[1]}" =~ ^crash\ +1/1\ +Running\ +1\ +[0-9]+s$ ]] || fail "bad row"
	run_peapod describe pod crash
	assert_line_re ' +Restart Count: +1'
	assert_line_re ' +Last State: +Terminated'
	assert_line_re ' +Exit Code: +1'

	delete_ok crash
	assert_no_leaks
}

@test "a container that keeps failing is in CrashLoopBackOff; RESTARTS counts its restarts" {
	apply_ok < <(sh_pod loop Always "echo failing; exit 1")
	eventually 15 restarts_at_least loop 1
	eventually 15 inspect_is loop 'd["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]' CrashLoopBackOff
	run_peapod inspect loop
	[ "$(json_get 'd["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"]' <<<"$output")" = 1 ] ||
		fail "lastState.terminated.exitCode"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["ready"]' <<<"$output")" = false ] || fail "ready"
	run_peapod get pods loop
	assert_line_re 'loop +0/1 +CrashLoopBackOff +[1-9][0-9]* +[0-9]+s'
	# kubectl logs of a container in back-off shows its last instance.
	run_peapod logs loop
	assert_status 0
	assert_stdout "failing"
	delete_ok loop
	assert_no_leaks
}

@test "init containers: Init:N/M while they run, then their terminated statuses in order" {
	mkdir -p "$TEST_DIR/w"
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: inits
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: first
      image: @IMAGE@
      command: ["sh", "-c", "echo first > /w/order; while [ ! -e /w/go ]; do sleep 0.1; done"]
      volumeMounts: [{name: w, mountPath: /w}]
    - name: second
      image: @IMAGE@
      command: ["sh", "-c", "echo second >> /w/order"]
      volumeMounts: [{name: w, mountPath: /w}]
  containers:
    - name: app
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  volumes:
    - {name: w, hostPath: {path: @DIR@/w, type: Directory}}
EOF
	eventually 10 test -e "$TEST_DIR/w/order"
	run_peapod get pods inits
	# kubectl: READY counts the app containers only (and sidecars), 0/1 here,
	# and STATUS is Init:0/2 while the first init container runs.
	[[ "${lines[1]}" =~ ^inits\ +0/1\ +Init:0/2\ +0\ +[0-9]+s$ ]] ||
		fail "bad row while the first init container runs"
	run_peapod inspect inits
	local j=$output
	[ "$(json_get 'd["status"]["phase"]' <<<"$j")" = Pending ] || fail "phase is not Pending"
	[ "$(json_get "[c['status'] for c in d['status']['conditions'] if c['type'] == 'Initialized'][0]" <<<"$j")" = False ] ||
		fail "Initialized is not False"
	json_get 'd["status"]["initContainerStatuses"][0]["state"]["running"]' <<<"$j" >/dev/null ||
		fail "the first init container is not running"
	[ "$(json_get 'd["status"]["initContainerStatuses"][1]["state"]["waiting"]["reason"]' <<<"$j")" = PodInitializing ] ||
		fail "the second init container is not waiting"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]' <<<"$j")" = PodInitializing ] ||
		fail "the app container is not waiting for PodInitializing"

	touch "$TEST_DIR/w/go"
	eventually 15 ready inits
	run_peapod inspect inits
	j=$output
	[ "$(json_get '[c["name"] for c in d["status"]["initContainerStatuses"]]' <<<"$j")" = '["first", "second"]' ] ||
		fail "initContainerStatuses"
	local i
	for i in 0 1; do
		[ "$(json_get "d['status']['initContainerStatuses'][$i]['state']['terminated']['exitCode']" <<<"$j")" = 0 ] ||
			fail "init $i: exitCode"
		[ "$(json_get "d['status']['initContainerStatuses'][$i]['state']['terminated']['reason']" <<<"$j")" = Completed ] ||
			fail "init $i: reason"
		[ "$(json_get "d['status']['initContainerStatuses'][$i]['ready']" <<<"$j")" = false ] ||
			fail "init $i: ready"
	done
	[ "$(json_get 'd["status"]["phase"]' <<<"$j")" = Running ] || fail "phase"
	[ "$(cat "$TEST_DIR/w/order")" = $'first\nsecond' ] || fail "init containers out of order"
	run_peapod get pods inits
	[[ "${lines[1]}" =~ ^inits\ +1/1\ +Running\ +0\ +[0-9]+s$ ]] || fail "bad row once running"
	run_peapod describe pod inits
	assert_line "Init Containers:"
	assert_line "  first:"
	assert_line "  second:"
	delete_ok inits
	assert_no_leaks
}

@test "describe shows the pod, its containers, states, conditions and events" {
	apply_ok < <(two_containers)
	eventually 10 ready two
	run_peapod describe pod two
	assert_status 0
	assert_line_re 'Name: +two'
	assert_line_re 'Namespace: +default'
	assert_line_re 'Status: +Running'
	assert_line_re 'IP: +127\.0\.0\.1'
	assert_line "Containers:"
	assert_line "  a:"
	assert_line "  b:"
	assert_line_re " +Image: +$IMAGE"
	assert_line_re ' +State: +Running'
	assert_line_re ' +Ready: +True'
	assert_line_re ' +Restart Count: +0'
	assert_line "Conditions:"
	assert_line_re ' +Ready +True'
	assert_line "Events:"
	assert_line_re ' +Normal +Started +[0-9smhd]+ +kubelet +Started container a'
	assert_line_re ' +Normal +Started +[0-9smhd]+ +kubelet +Started container b'
	# kubelet's order for each container: Pulled, Created, Started.
	assert_line_re ' +Normal +Pulled +[0-9smhd]+ +kubelet +Container image "[^"]+" already present on machine'
	assert_line_re ' +Normal +Created +[0-9smhd]+ +kubelet +Created container a'
	# "describe NAME" works too, as kubectl's "describe pods NAME".
	run_peapod describe two
	assert_status 0
	assert_line_re 'Name: +two'
	delete_ok two
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Completed pods

@test "a Never pod that completes keeps its record: Completed, logs readable, no process left; delete removes it" {
	apply_ok < <(sh_pod done Never "echo hello; echo bye >&2")
	eventually 15 phase_is done Succeeded
	local sup
	sup=$(state_status done | json_get 'd["peapod"]["supervisorPid"]')
	eventually 10 none_alive "$sup"
	run_peapod get pods done
	assert_status 0
	[[ "${lines[1]}" =~ ^done\ +0/1\ +Completed\ +0\ +[0-9]+s$ ]] || fail "bad row"
	run_peapod inspect done
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]' <<<"$output")" = 0 ] ||
		fail "exitCode"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["terminated"]["reason"]' <<<"$output")" = Completed ] ||
		fail "reason"
	[ "$(json_get "[c['status'] for c in d['status']['conditions'] if c['type'] == 'Ready'][0]" <<<"$output")" = False ] ||
		fail "Ready is not False"
	# Nothing runs: no supervisor, no infra process, no container.
	[ -z "$(suite_supervisor_pids)" ] || fail "a supervisor is left: $(suite_supervisor_pids)"
	[ -z "$(suite_infra_pids)" ] || fail "an infra process is left: $(suite_infra_pids)"
	local d
	for d in $(cgroup_parent_dirs); do
		[ -z "$(find "$d" -mindepth 1 -type d)" ] || fail "cgroups left: $(find "$d" -mindepth 1 -type d)"
	done
	run_peapod logs done
	assert_status 0
	assert_stdout $'hello\nbye'
	# A second look is the same (get does not change anything).
	run_peapod get pods
	assert_line_re 'done +0/1 +Completed +0 +[0-9]+s'

	delete_ok done
	run_peapod get pods done
	assert_status 1
	assert_no_leaks
}

@test "a Never pod whose container exits 3 shows Error and phase Failed until deleted" {
	apply_ok < <(sh_pod failed Never "echo oops; exit 3")
	eventually 15 phase_is failed Failed
	run_peapod get pods failed
	[[ "${lines[1]}" =~ ^failed\ +0/1\ +Error\ +0\ +[0-9]+s$ ]] || fail "bad row"
	run_peapod inspect failed
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]' <<<"$output")" = 3 ] ||
		fail "exitCode"
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["terminated"]["reason"]' <<<"$output")" = Error ] ||
		fail "reason"
	run_peapod describe pod failed
	assert_line_re 'Status: +Failed'
	assert_line_re ' +Exit ?Code: +3'
	run_peapod logs failed
	assert_stdout "oops"
	eventually 10 no_supervisor
	eventually 10 no_infra
	# An OnFailure pod that succeeds completes too.
	apply_ok < <(sh_pod fine OnFailure "exit 0")
	eventually 15 status_is fine Completed
	delete_ok failed fine
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# delete

@test "delete: containers that stop on TERM are gone well within the grace period" {
	apply_ok < <(two_containers quick 30)
	eventually 10 ready quick
	local t0
	t0=$(date +%s%N)
	delete_ok quick
	local ms
	ms=$(ms_since "$t0")
	# well under the 30 s grace period, however loaded the machine
	[ "$ms" -lt 20000 ] || fail "delete took ${ms} ms with containers that stop on TERM"
	assert_stdout 'pod "quick" deleted'
	assert_no_leaks
}

@test "delete --grace-period 1 kills a container that ignores TERM; --force kills at once" {
	local f
	for f in slow forced; do
		apply_ok <<<"$(deaf_pod "$f")"
		eventually 10 ready "$f"
	done
	local t0 ms
	t0=$(date +%s%N)
	delete_ok slow --grace-period 1
	ms=$(ms_since "$t0")
	[ "$ms" -ge 900 ] || fail "delete took ${ms} ms: the grace period was not waited for"
	# (not the pod's 30 s)
	[ "$ms" -lt 20000 ] || fail "delete took ${ms} ms with --grace-period 1"

	t0=$(date +%s%N)
	delete_ok forced --force
	ms=$(ms_since "$t0")
	[ "$ms" -lt 20000 ] || fail "delete --force took ${ms} ms"
	assert_no_leaks
}

@test "delete -f FILE deletes the pod the manifest names; delete pod/NAME and several names" {
	apply_ok < <(sleeper_pod byfile)
	local f=$POD_FILE
	apply_ok < <(sleeper_pod one)
	apply_ok < <(sleeper_pod two)
	run_peapod delete -f "$f"
	assert_status 0
	assert_stdout 'pod "byfile" deleted'
	run_peapod get pods byfile
	assert_status 1
	run_peapod delete pod/one two
	assert_status 0
	assert_line 'pod "one" deleted'
	assert_line 'pod "two" deleted'
	run_peapod get pods
	assert_stderr_contains "No resources found"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# A supervisor killed with SIGKILL

# kill_sup NAME: SIGKILLs the pod's supervisor and waits until it is gone.
kill_sup() {
	local sup
	sup=$(sup_pid "$1") || return 1
	kill -KILL "$sup"
	eventually 10 none_alive "$sup"
}

@test "supervisor killed under peapod run: run fails and leaves nothing behind" {
	local f
	f=$(sleeper_pod runner | write_manifest)
	start_bg timeout -k 2 30 "$PEAPOD" run -f "$f"
	eventually 10 ready runner
	kill_sup runner
	wait "$BG_PID" && fail "peapod run succeeded although its pod's supervisor died"
	BG_PID=
	grep -q "supervisor" "$TEST_DIR/err" || fail "run said nothing: $(cat "$TEST_DIR/err")"
	run_peapod get pods runner
	assert_status 1
	assert_no_leaks
}

# await_end NAME REQUEST: connects to the pod's control socket, sends
# REQUEST ("await" or "await remove") once the socket answers, then lets
# the pod's container end (it waits for $TEST_DIR/w/go); prints each
# message the supervisor sends, then "closed" once it closes the connection.
await_end() {
	python3 - "$PEAPOD_RUN/pods/$(pod_uid "$1")/ctl.sock" "$2" "$TEST_DIR/w/go" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(sys.argv[2].encode())
s.settimeout(20)
open(sys.argv[3], "w").close()
while True:
    m = s.recv(65536)
    if not m:
        print("closed")
        break
    print(m.decode())
PY
}

# go_pod NAME: restartPolicy Never; its container exits 3 once $TEST_DIR/w/go exists.
go_pod() {
	mkdir -p "$TEST_DIR/w"
	sh_pod "$1" Never 'echo waiting; while [ ! -e /w/go ]; do sleep 0.05; done; echo gone; exit 3' \
		'  volumes: [{name: w, hostPath: {path: @DIR@/w, type: Directory}}]' \
		'      volumeMounts: [{name: w, mountPath: /w}]'
}

@test "await remove (run's request): the outcome before the teardown, then the record goes with the pod" {
	apply_ok < <(go_pod awaited)
	eventually 10 logs_have awaited waiting
	run await_end awaited "await remove"
	assert_status 0
	[ "${#lines[@]}" -eq 2 ] || fail "want the outcome, then the close: $output"
	[ "$(json_get '"%s %s" % (d["exitCode"], d["result"])' <<<"${lines[0]#finished }")" = \
		"3 Failed" ] || fail "outcome: ${lines[0]}"
	[ "${lines[1]}" = closed ] || fail "not closed: $output"
	# nobody deleted it: its supervisor removed it with the rest
	run_peapod get pods awaited
	assert_status 1
	assert_no_leaks
}

@test "await without remove: the outcome, and the finished pod keeps its record" {
	apply_ok < <(go_pod kept)
	eventually 10 logs_have kept waiting
	run await_end kept await
	assert_status 0
	[[ "${lines[0]}" == "finished "* ]] || fail "no outcome: $output"
	[ "${lines[1]}" = closed ] || fail "not closed: $output"
	eventually 10 status_is kept Error
	run_peapod logs kept
	assert_line gone
	run_peapod delete kept
	assert_status 0
	assert_no_leaks
}

@test "an await the loop never read (the pod ended first) is answered all the same: the outcome, then the record goes" {
	PEAPOD_TRACE=$TEST_DIR/trace apply_ok < <(go_pod unread)
	eventually 10 logs_have unread waiting
	local sup ctr client
	sup=$(sup_pid unread)
	ctr=$(container_pids unread)
	# Stopped, its loop reads nothing: the connection and its request wait
	# in the socket while the container ends (its exit waits too).
	kill -STOP "$sup"
	python3 - "$PEAPOD_RUN/pods/$(pod_uid unread)/ctl.sock" "$TEST_DIR/w/go" \
		"$TEST_DIR/await.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"await remove")
open(sys.argv[2], "w").close()
s.settimeout(20)
with open(sys.argv[3], "w") as out:
    while True:
        m = s.recv(65536)
        if not m:
            out.write("closed\n")
            break
        out.write(m.decode() + "\n")
PY
	client=$!
	eventually 10 none_alive "$ctr" || { kill -CONT "$sup"; fail "the container did not end"; }
	kill -CONT "$sup"
	wait "$client" || fail "the client failed: $(cat "$TEST_DIR/await.out")"
	mapfile -t lines <"$TEST_DIR/await.out"
	[ "${#lines[@]}" -eq 2 ] || fail "want the outcome, then the close: ${lines[*]}"
	[ "$(json_get '"%s %s" % (d["exitCode"], d["result"])' <<<"${lines[0]#finished }")" = \
		"3 Failed" ] || fail "outcome: ${lines[0]}"
	[ "${lines[1]}" = closed ] || fail "not closed: ${lines[*]}"
	# read at the end, not by the loop: the pod was over first
	grep -q " sup await unread$" "$TEST_DIR/trace" || fail "the loop read it: $(cat "$TEST_DIR/trace")"
	run_peapod get pods unread
	assert_status 1
	assert_no_leaks
}

@test "run of a pod over at once: its supervisor removes it (run's connection awaits from the fork on), never run's delete" {
	local f i
	f=$(sh_pod quick Never 'exit 0' | write_manifest)
	for i in $(seq 20); do
		PEAPOD_TRACE=$TEST_DIR/trace run_peapod run -f "$f"
		assert_status 0
	done
	grep -q " cli run exit$" "$TEST_DIR/trace" || fail "no trace: $(cat "$TEST_DIR/trace")"
	! grep -q " delete call$" "$TEST_DIR/trace" || fail "run deleted the pod itself"
	run_peapod get pods quick
	assert_status 1
	assert_no_leaks
}

@test "run whose teardown fails: its supervisor keeps the record, run removes it, gc the rest" {
	local f
	f=$(go_pod broken | write_manifest)
	: >"$TEST_DIR/w/go"
	PEAPOD_FAULT="teardown cgroups:EIO" run_peapod run -f "$f"
	assert_status 3
	assert_line "[c] gone"
	run_peapod get pods broken
	assert_status 1
	run_peapod gc
	assert_status 0
	assert_no_leaks
}

@test "supervisor killed right after apply: Unknown, containers gone, delete cleans up" {
	apply_ok < <(sleeper_pod early)
	kill_sup early
	eventually 10 status_is early Unknown
	run_peapod get pods early
	[[ "${lines[1]}" =~ ^early\ +[01]/1\ +Unknown\ +0\ +[0-9]+s$ ]] || fail "bad row"
	[ "$(inspect_get early 'd["status"]["phase"]')" = Unknown ] || fail "phase is not Unknown"
	# The containers and the infra process die with their supervisor.
	eventually 10 no_infra
	eventually 10 no_cgroup_procs || fail "processes left in the pod's cgroups"
	run_peapod delete early
	assert_status 0
	assert_stdout 'pod "early" deleted'
	run_peapod get pods early
	assert_status 1
	assert_no_leaks
}

@test "supervisor killed while running: Unknown, containers gone, gc cleans up" {
	apply_ok < <(two_containers)
	eventually 10 ready two
	local pids
	pids=$(container_pids two)
	[ "$(wc -w <<<"$pids")" -eq 2 ] || fail "expected two container pids, got '$pids'"
	kill_sup two
	# shellcheck disable=SC2086
	eventually 10 none_alive $pids || fail "containers outlived their supervisor: $pids"
	eventually 10 no_infra
	eventually 10 status_is two Unknown
	run_peapod describe pod two
	assert_line_re 'Status: +Unknown'
	run_peapod gc
	assert_status 0
	assert_stdout "1 pod cleaned up"
	run_peapod get pods two
	assert_status 1
	run_peapod gc
	assert_stdout "0 pods cleaned up"
	assert_no_leaks
}

@test "after a reboot (the state directory on tmpfs gone), gc removes the pods' data and logs" {
	apply_ok < <(two_containers)
	eventually 10 ready two
	local pids uid
	pids=$(container_pids two)
	uid=$(pod_uid two)
	kill_sup two
	# shellcheck disable=SC2086
	eventually 10 none_alive $pids || fail "containers outlived their supervisor: $pids"
	eventually 10 no_infra
	# A reboot: /run is a tmpfs, so the records are gone; the data and logs
	# on disk stay (and here, unlike after a real reboot, the cgroups too).
	rm -rf "${PEAPOD_RUN:?}/pods" "${PEAPOD_RUN:?}/names"
	[ -d "$PEAPOD_ROOT/pods/$uid" ] || fail "no data directory to clean up"
	run_peapod get pods
	assert_status 0
	run_peapod gc
	assert_status 0
	assert_stdout "1 pod cleaned up"
	[ ! -e "$PEAPOD_ROOT/pods/$uid" ] || fail "data directory left"
	[ -z "$(ls -A "$PEAPOD_LOG_DIR/pods")" ] || fail "logs left: $(ls "$PEAPOD_LOG_DIR/pods")"
	assert_no_leaks
}

@test "delete moves the pod's files, record and logs out of the way at once; gc empties what a crash left there" {
	apply_ok < <(two_containers)
	eventually 10 ready two
	local uid
	uid=$(pod_uid two)
	delete_ok two
	# Gone from where they were the moment delete returns...
	[ ! -e "$PEAPOD_ROOT/pods/$uid" ] || fail "data directory still in place"
	[ ! -e "$PEAPOD_RUN/pods/$uid" ] || fail "record still in place"
	[ -z "$(ls -A "$PEAPOD_LOG_DIR/pods")" ] || fail "logs still in place"
	# ...and unlinked shortly after by peapod-rm.
	eventually 5 trash_empty || fail "trash not emptied: $(ls -R $(trash_dirs) 2>/dev/null)"
	# What a crash (or reboot) kept peapod-rm from removing, gc removes.
	local d
	for d in $(trash_dirs); do
		mkdir -p "$d/left/sub" && touch "$d/left/sub/file"
	done
	run_peapod gc
	assert_status 0
	assert_stdout "0 pods cleaned up"
	trash_empty || fail "gc left: $(ls -R $(trash_dirs))"
	assert_no_leaks
}

@test "supervisor killed during a slow delete: the delete still leaves nothing behind" {
	apply_ok <<<"$(deaf_pod stubborn)"
	eventually 10 ready stubborn
	local pids sup
	pids=$(container_pids stubborn)
	sup=$(sup_pid stubborn)
	start_bg "$PEAPOD" delete stubborn --grace-period 30
	eventually 10 status_is stubborn Terminating
	kill -KILL "$sup"
	# shellcheck disable=SC2086
	eventually 10 none_alive $pids || fail "containers outlived their supervisor"
	wait_bg 20
	# The supervisor died half-way: delete cleans up after it.
	assert_status 0
	assert_stdout 'pod "stubborn" deleted'
	run_peapod get pods stubborn
	assert_status 1
	assert_no_leaks
}

@test "supervisor killed during a slow delete: a second delete (or gc) cleans up" {
	apply_ok <<<"$(deaf_pod stubborn)"
	eventually 10 ready stubborn
	local sup
	sup=$(sup_pid stubborn)
	start_bg "$PEAPOD" delete stubborn --grace-period 30
	eventually 10 status_is stubborn Terminating
	kill -KILL "$sup"
	wait_bg 20
	# Whatever the first delete said, the pod is either gone or Unknown, and
	# delete then gc leave nothing.
	run_peapod get pods stubborn
	if [ "$status" -eq 0 ]; then
		assert_line_re 'stubborn +[01]/1 +Unknown +0 +[0-9]+s'
		delete_ok stubborn
	fi
	run_peapod gc
	assert_status 0
	run_peapod get pods stubborn
	assert_status 1
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Concurrency and bad input

@test "two applies of the same name at once: exactly one creates, the other says already exists or unchanged" {
	local f i s1 s2
	f=$(sleeper_pod race | write_manifest)
	for i in 1 2 3; do
		"$PEAPOD" apply -f "$f" >"$TEST_DIR/o1" 2>"$TEST_DIR/e1" &
		local p1=$!
		"$PEAPOD" apply -f "$f" >"$TEST_DIR/o2" 2>"$TEST_DIR/e2" &
		local p2=$!
		s1=0 s2=0
		wait "$p1" || s1=$?
		wait "$p2" || s2=$?
		output="1: $s1 $(cat "$TEST_DIR/o1") $(cat "$TEST_DIR/e1")"$'\n'"2: $s2 $(cat "$TEST_DIR/o2") $(cat "$TEST_DIR/e2")"
		# The loser lost the name claim (already exists) or came after
		# the winner's record and found the same manifest (unchanged).
		local w=1 l=2
		grep -qxF 'pod/race created' "$TEST_DIR/o1" || { w=2 l=1; }
		grep -qxF 'pod/race created' "$TEST_DIR/o$w" || fail "no 'created' from either"
		! grep -qxF 'pod/race created' "$TEST_DIR/o$l" || fail "both applies created"
		if grep -qxF 'pod/race unchanged' "$TEST_DIR/o$l"; then
			[ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] || fail "unchanged but failed"
		else
			grep -qF 'pods "race" already exists' "$TEST_DIR/e$l" || fail "no 'already exists' from the loser"
		fi
		# Nothing corrupted: one pod, one supervisor, one state directory.
		run_peapod get pods
		assert_status 0
		[ "${#lines[@]}" -eq 2 ] || fail "expected one pod"
		assert_line_re 'race +1/1 +Running +0 +[0-9]+s'
		[ "$(suite_supervisor_pids | wc -l)" -eq 1 ] || fail "expected one supervisor"
		[ "$(find "$PEAPOD_RUN/pods" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ] ||
			fail "expected one state directory: $(ls "$PEAPOD_RUN/pods")"
		sup_pid race >/dev/null || fail "the pod's record does not name its supervisor"
		delete_ok race
		assert_no_leaks
	done
}

@test "apply of an invalid manifest exits 2 with FILE:LINE and creates nothing" {
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: invalid
spec:
  containers:
    - name: c
      image: @IMAGE@
      imagePullPolicyy: Never
EOF
	assert_status 2
	[[ "$stderr" == *"$POD_FILE:9:"* ]] || fail "no $POD_FILE:9: in the error"
	assert_stderr_contains "imagePullPolicyy"
	[ -z "$output" ] || fail "expected no stdout"
	[ -z "$(pod_dirs)" ] || fail "pod directories were created: $(pod_dirs)"
	run_peapod get pods invalid
	assert_status 1
	# A name that is not a DNS label.
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: Not_Valid
spec:
  containers:
    - {name: c, image: "@IMAGE@"}
EOF
	assert_status 2
	assert_stderr_contains "$POD_FILE:4:"
	# A file that does not exist.
	run_peapod apply -f "$TEST_DIR/nope.yaml"
	assert_status 2
	[ -z "$(suite_supervisor_pids)" ] || fail "a supervisor was started"
	assert_no_leaks
}

@test "apply with a missing image (pull policy Never) waits, and delete leaves nothing and frees the name" {
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
    - name: c
      image: no-such-image:0
      imagePullPolicy: Never
EOF
	assert_status 0
	assert_stdout "pod/noimage created"
	# kubelet's reason: the pod waits (Pending) until the image is there
	eventually 10 status_is noimage ErrImageNeverPull
	phase_is noimage Pending || fail "not Pending"
	delete_ok noimage
	run_peapod get pods noimage
	assert_status 1
	assert_stderr_contains 'pods "noimage" not found'
	assert_no_leaks
	# The name is free: the right image works.
	sed "s|no-such-image:0|$IMAGE|" "$POD_FILE" | sed 's/^      image: .*$/&\n      command: ["sh", "-c", "trap \x27exit 0\x27 TERM; while true; do sleep 0.1; done"]/' >"$TEST_DIR/good.yaml"
	run_peapod apply -f "$TEST_DIR/good.yaml"
	assert_status 0
	assert_stdout "pod/noimage created"
	eventually 10 status_is noimage Running
	delete_ok noimage
	assert_no_leaks
}

@test "terminationMessagePath: what the container wrote there (or why it could not start) is its terminated state's message" {
	apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: msgs
spec:
  restartPolicy: Never
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "echo bye from a > /dev/termination-log; exit 1"]
    - name: b
      image: @IMAGE@
      terminationMessagePath: /tmp/msg
      command: ["sh", "-c", "printf custom > /tmp/msg"]
    - name: c
      image: @IMAGE@
      command: ["no-such-command"]
EOF2
	eventually 10 phase_is msgs Failed
	inspect_is msgs 'd["status"]["containerStatuses"][0]["state"]["terminated"]["message"]' "bye from a" ||
		fail "a: $(inspect_get msgs 'd["status"]["containerStatuses"][0]["state"]')"
	inspect_is msgs 'd["status"]["containerStatuses"][1]["state"]["terminated"]["message"]' custom ||
		fail "b: $(inspect_get msgs 'd["status"]["containerStatuses"][1]["state"]')"
	[[ "$(inspect_get msgs 'd["status"]["containerStatuses"][2]["state"]["terminated"]["message"]')" == *"executable file not found"* ]] ||
		fail "c: $(inspect_get msgs 'd["status"]["containerStatuses"][2]["state"]')"
	inspect_is msgs 'd["status"]["containerStatuses"][2]["state"]["terminated"]["reason"]' StartError ||
		fail "c is not a StartError"
	delete_ok msgs
	assert_no_leaks
}

@test "terminationMessagePolicy FallbackToLogsOnError: a failed container without a message gets its last 80 lines" {
	apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: fallback
spec:
  restartPolicy: Never
  containers:
    - name: a
      image: @IMAGE@
      terminationMessagePolicy: FallbackToLogsOnError
      command: ["sh", "-c", "for i in $(seq 1 100); do echo line $i; done; exit 2"]
    - name: b
      image: @IMAGE@
      terminationMessagePolicy: FallbackToLogsOnError
      command: ["sh", "-c", "echo all good"]
EOF2
	eventually 10 phase_is fallback Failed
	local m
	m=$(inspect_get fallback 'd["status"]["containerStatuses"][0]["state"]["terminated"]["message"]')
	[ "$(head -n1 <<<"$m")" = "line 21" ] || fail "message starts with: $(head -n1 <<<"$m")"
	[ "$(tail -n1 <<<"$m")" = "line 100" ] || fail "message ends with: $(tail -n1 <<<"$m")"
	# Exit 0: no fallback.
	[ -z "$(inspect_get fallback 'd["status"]["containerStatuses"][1]["state"]["terminated"].get("message", "")')" ] ||
		fail "a successful container got a message"
	delete_ok fallback
	assert_no_leaks
}

@test "crash-loop back-off (test time scale 0.01): doubling delays, reset after a long enough run" {
	# PEAPOD_TEST_TIME_SCALE=0.01: back-off 100 ms doubling, reset after
	# 6 s of running (kubelet's 10 s and 10 min, scaled; unit-tested unscaled).
	# Runs 1-3 fail at once (restarts: at once, 100 ms, 200 ms); run 4 runs
	# 7 s and fails: the back-off is forgotten, run 5 starts at once.
	export PEAPOD_TEST_TIME_SCALE=0.01
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bo
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  volumes:
    - {name: hp, hostPath: {path: "@DIR@", type: Directory}}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts: [{name: hp, mountPath: /hp}]
      command:
        - sh
        - -c
        - |
          n=$(cat /hp/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /hp/n
          [ $n -le 3 ] && exit 1
          [ $n -eq 4 ] && { sleep 7; exit 1; }
          trap 'exit 0' TERM; while true; do sleep 0.1; done
EOF
	unset PEAPOD_TEST_TIME_SCALE
	eventually 20 restarts_at_least bo 4
	run_peapod describe pod bo
	assert_status 0
	assert_stdout_contains "next start in 100ms"
	assert_stdout_contains "next start in 200ms"
	[ "$(grep -c 'Back-off restarting failed container' <<<"$output")" -eq 2 ] ||
		fail "not two BackOff events: the reset did not happen"
	delete_ok bo
	assert_no_leaks
}

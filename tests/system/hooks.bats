#!/usr/bin/env bats
# Container lifecycle hooks: preStop (exec, sleep; before the stop signal,
# within the grace period; failures are events), postStart (exec; before the
# container counts as started; a failure kills and restarts it; app
# containers with postStart hooks start one after another).

load helpers
load pods_helpers

# hook_pod NAME GRACE SCRIPT LIFECYCLE: a pod with one container c running
# `sh -c SCRIPT`, TEST_DIR mounted at /hp, and the lifecycle YAML (indented 4).
hook_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: $2
  volumes:
    - {name: hp, hostPath: {path: "@DIR@", type: Directory}}
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "$3"]
      volumeMounts: [{name: hp, mountPath: /hp}]
      lifecycle:
$(printf '%s\n' "$4" | indent 8)
EOF
}

# The container's TERM trap: records whether the preStop file was there.
TERM_TRAP="trap 'if [ -e /hp/prestop ]; then touch /hp/term-after-prestop; else touch /hp/term-before-prestop; fi; exit 0' TERM; touch /hp/up; while true; do sleep 0.1; done"

# A TERM trap that only records the signal.
TERM_RECORD="trap 'touch /hp/term; exit 0' TERM; touch /hp/up; while true; do sleep 0.1; done"

describe_has() {
	pp describe pod "$1" | grep -qF -- "$2"
}

started_is() {
	inspect_is "$1" "d['status']['containerStatuses'][${3:-0}]['started']" "$2"
}

@test "preStop exec runs before the stop signal: it writes a file the TERM trap sees" {
	apply_ok < <(hook_pod pse 30 "$TERM_TRAP" "preStop:
  exec: {command: [sh, -c, 'sleep 1; echo done > /hp/prestop']}")
	eventually 10 test -e "$TEST_DIR/up"
	local t0
	t0=$(date +%s%N)
	delete_ok pse
	# well under the 30 s grace period, however loaded the machine
	[ "$(ms_since "$t0")" -lt 20000 ] || fail "the delete waited for the grace period"
	[ "$(cat "$TEST_DIR/prestop")" = done ] || fail "the preStop hook did not run"
	[ -e "$TEST_DIR/term-after-prestop" ] || fail "TERM did not come after the preStop hook"
	[ ! -e "$TEST_DIR/term-before-prestop" ] || fail "TERM came before the preStop hook ended"
	assert_no_leaks
}

@test "preStop sleep delays the stop signal" {
	apply_ok < <(hook_pod pss 30 "$TERM_RECORD" "preStop:
  sleep: {seconds: 2}")
	eventually 10 test -e "$TEST_DIR/up"
	local t0 ms
	t0=$(date +%s%N)
	delete_ok pss
	ms=$(ms_since "$t0")
	[ "$ms" -ge 1500 ] || fail "the stop signal did not wait for the sleep (${ms} ms)"
	[ "$ms" -lt 20000 ] || fail "the delete waited for the grace period (${ms} ms)"
	[ -e "$TEST_DIR/term" ] || fail "the container never got TERM"
	assert_no_leaks
}

@test "preStop sleep longer than the grace period: killed at the end of the grace period" {
	apply_ok < <(hook_pod psl 2 "$TERM_RECORD" "preStop:
  sleep: {seconds: 30}")
	eventually 10 test -e "$TEST_DIR/up"
	local t0 ms
	t0=$(date +%s%N)
	delete_ok psl
	ms=$(ms_since "$t0")
	[ "$ms" -ge 1500 ] || fail "the hook did not delay the stop (${ms} ms)"
	# the hook's 30 s, had it run to its end, minus room for a loaded machine
	[ "$ms" -lt 20000 ] || fail "the hook outlived the grace period (${ms} ms)"
	assert_no_leaks
}

@test "a failing preStop hook (Ctrl-C): its warning, the container still gets TERM" {
	local f
	f=$(hook_pod psf 10 "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done" "preStop:
  exec: {command: [sh, -c, 'echo hook-broke; exit 3']}" | write_manifest)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	kill -INT "$BG_PID"
	wait_bg 20
	assert_status 130
	assert_line "[c] got TERM"
	assert_stderr_contains 'Exec lifecycle hook ([sh -c echo hook-broke; exit 3]) for Container "c"'
	assert_stderr_contains 'hook-broke'
	assert_no_leaks
}

@test "a liveness kill runs the preStop hook; its failure is a FailedPreStopHook event" {
	apply_ok < <(hook_pod psl2 10 "trap 'touch /hp/term; exit 0' TERM; while true; do sleep 0.1; done" "preStop:
  exec: {command: [sh, -c, 'touch /hp/prestop-ran; exit 2']}" |
		sed 's/^      lifecycle:$/      livenessProbe: {exec: {command: [\"false\"]}, periodSeconds: 1, failureThreshold: 1}\n      lifecycle:/')
	eventually 20 restarts_at_least psl2 1
	[ -e "$TEST_DIR/prestop-ran" ] || fail "the preStop hook did not run on the liveness kill"
	[ -e "$TEST_DIR/term" ] || fail "the container did not get TERM after the failed hook"
	eventually 5 describe_has psl2 FailedPreStopHook
	delete_ok psl2
	assert_no_leaks
}

@test "postStart exec: runs beside the entrypoint, which can wait for its file" {
	apply_ok < <(hook_pod pst 1 "until [ -e /tmp/poststart ]; do sleep 0.1; done; echo saw-poststart; trap 'exit 0' TERM; while true; do sleep 0.1; done" "postStart:
  exec: {command: [sh, -c, 'sleep 1; touch /tmp/poststart']}")
	eventually 15 logs_have pst saw-poststart
	eventually 10 started_is pst true
	eventually 10 ready pst
	inspect_is pst 'd["status"]["containerStatuses"][0]["restartCount"]' 0 || fail "restarted"
	delete_ok pst
	assert_no_leaks
}

@test "postStart: the container is not started until its hook ends" {
	apply_ok < <(hook_pod psw 1 "trap 'exit 0' TERM; while true; do sleep 0.1; done" "postStart:
  exec: {command: [sh, -c, 'until [ -e /hp/go ]; do sleep 0.1; done']}")
	sleep 1
	started_is psw false || fail "started while its postStart hook runs"
	! ready psw || fail "ready while its postStart hook runs"
	inspect_is psw 'd["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]' ContainerCreating ||
		fail "not ContainerCreating while its postStart hook runs"
	touch "$TEST_DIR/go"
	eventually 10 started_is psw true
	eventually 10 ready psw
	delete_ok psw
	assert_no_leaks
}

@test "a failing postStart hook: FailedPostStartHook event, the container is killed and restarted" {
	apply_ok < <(hook_pod psx 1 "trap 'exit 0' TERM; echo run >> /hp/runs; while true; do sleep 0.1; done" "postStart:
  exec: {command: [sh, -c, 'echo post-broke; exit 1']}")
	eventually 20 restarts_at_least psx 1
	eventually 5 describe_has psx FailedPostStartHook
	describe_has psx post-broke || fail "the hook's output is not in the event"
	eventually 5 sh -c "[ \$(grep -c run '$TEST_DIR/runs') -ge 2 ]"
	delete_ok psx
	assert_no_leaks
}

@test "postStart hooks: the next app container starts once the previous one's hook ended" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: pso
spec:
  terminationGracePeriodSeconds: 1
  volumes:
    - {name: hp, hostPath: {path: "@DIR@", type: Directory}}
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      volumeMounts: [{name: hp, mountPath: /hp}]
      lifecycle:
        postStart:
          exec: {command: [sh, -c, "sleep 2; cut -d' ' -f1 /proc/uptime > /hp/a-hook-done"]}
    - name: b
      image: @IMAGE@
      command: ["sh", "-c", "cut -d' ' -f1 /proc/uptime > /hp/b-start; if [ -e /hp/a-hook-done ]; then touch /hp/b-after; fi; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      volumeMounts: [{name: hp, mountPath: /hp}]
EOF
	eventually 15 test -s "$TEST_DIR/b-start"
	[ -e "$TEST_DIR/b-after" ] || fail "b started before a's postStart hook ended"
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' \
		"$(cat "$TEST_DIR/a-hook-done")" "$(cat "$TEST_DIR/b-start")" ||
		fail "b started at $(cat "$TEST_DIR/b-start"), a's hook ended at $(cat "$TEST_DIR/a-hook-done")"
	eventually 10 ready pso
	delete_ok pso
	assert_no_leaks
}

@test "preStop httpGet: the request reaches the container before its stop signal" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: psh
spec:
  terminationGracePeriodSeconds: 10
  volumes:
    - {name: hp, hostPath: {path: "@DIR@", type: Directory}}
  containers:
    - name: c
      image: @IMAGE@
      command:
        - sh
        - -c
        - |
          mkdir -p /tmp/www/cgi-bin
          printf '#!/bin/sh\ntouch /hp/prestop\necho Content-Type: text/plain\necho\necho ok\n' > /tmp/www/cgi-bin/stop
          chmod +x /tmp/www/cgi-bin/stop
          httpd -p 8080 -h /tmp/www
          trap 'if [ -e /hp/prestop ]; then touch /hp/term-after-prestop; fi; exit 0' TERM
          touch /hp/up
          while true; do sleep 0.1; done
      ports:
        - {name: web, containerPort: 8080}
      volumeMounts: [{name: hp, mountPath: /hp}]
      lifecycle:
        preStop:
          httpGet: {path: /cgi-bin/stop, port: web}
EOF
	eventually 10 test -e "$TEST_DIR/up"
	delete_ok psh
	[ -e "$TEST_DIR/prestop" ] || fail "the preStop request did not arrive"
	[ -e "$TEST_DIR/term-after-prestop" ] || fail "TERM did not come after the preStop hook"
	assert_no_leaks
}

@test "preStop of a sidecar runs after the app containers stopped" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: pssc
spec:
  terminationGracePeriodSeconds: 10
  volumes:
    - {name: hp, hostPath: {path: "@DIR@", type: Directory}}
  initContainers:
    - name: side
      image: @IMAGE@
      restartPolicy: Always
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      volumeMounts: [{name: hp, mountPath: /hp}]
      lifecycle:
        preStop:
          exec: {command: [sh, -c, "if [ -e /hp/app-term ]; then touch /hp/side-prestop-after-app; fi; touch /hp/side-prestop"]}
  containers:
    - name: app
      image: @IMAGE@
      command: ["sh", "-c", "trap 'sleep 1; touch /hp/app-term; exit 0' TERM; touch /hp/up; while true; do sleep 0.1; done"]
      volumeMounts: [{name: hp, mountPath: /hp}]
EOF
	eventually 10 test -e "$TEST_DIR/up"
	delete_ok pssc
	[ -e "$TEST_DIR/side-prestop" ] || fail "the sidecar's preStop hook did not run"
	[ -e "$TEST_DIR/side-prestop-after-app" ] || fail "the sidecar's preStop hook ran before the app stopped"
	assert_no_leaks
}

#!/usr/bin/env bats
# The get, describe, logs and events flags a kubectl user types every day,
# against real pods: label and field selectors, watching (inotify), the
# output formats (jsonpath, custom-columns, --no-headers, --show-labels,
# -L, --sort-by).

load helpers
load pods_helpers

# labelled NAME APP TIER [POLICY] [SCRIPT]: a pod with labels app and tier,
# one container c running SCRIPT (default: until SIGTERM).
labelled() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $2, tier: $3}
spec:
  restartPolicy: ${4:-Always}
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "${5:-$UNTIL_TERM}"]
EOF
}

# three pods: web-1 (app=web, tier=front), web-2 (app=web, tier=back),
# db (app=db, tier=back); all Running
three_pods() {
	apply_ok < <(labelled web-1 web front)
	apply_ok < <(labelled web-2 web back)
	apply_ok < <(labelled db db back)
	eventually 20 status_is web-1 Running
	eventually 20 status_is web-2 Running
	eventually 20 status_is db Running
}

# names: the NAME column of the last output, space-separated
names() {
	awk 'NR > 1 {print $1}' <<<"$output" | paste -sd' '
}

@test "get -l: equality, inequality, set-based, existence; --field-selector" {
	three_pods
	run_peapod get pods -l app=web
	assert_status 0
	[ "$(names)" = "web-1 web-2" ] || fail "app=web"
	run_peapod get pods -l 'app==web,tier!=front'
	[ "$(names)" = "web-2" ] || fail "app==web,tier!=front"
	run_peapod get pods --selector 'app in (db, web),tier notin (front)'
	[ "$(names)" = "db web-2" ] || fail "in/notin"
	run_peapod get pods -l '!app'
	assert_status 0
	assert_stdout ""
	assert_stderr_contains "No resources found in default namespace."
	run_peapod get pods -l tier
	[ "$(names)" = "db web-1 web-2" ] || fail "exists"
	run_peapod get pods --field-selector metadata.name=db
	[ "$(names)" = "db" ] || fail "field metadata.name"
	run_peapod get pods --field-selector status.phase=Running,metadata.name!=db -l app=web
	[ "$(names)" = "web-1 web-2" ] || fail "field status.phase"
	run_peapod get pods --field-selector status.phase==Succeeded
	assert_stdout ""
}

@test "selectors: kubectl's errors, exit status 2" {
	apply_ok < <(labelled one a b)
	run_peapod get pods -l 'app in web'
	assert_status 2
	assert_stderr_contains "unable to parse requirement: found 'web', expected: '('"
	run_peapod get pods -l 'app=web,'
	assert_status 2
	assert_stderr_contains "expected: identifier after ','"
	run_peapod get pods --field-selector spec.nodeName=x
	assert_status 2
	assert_stderr_contains "field label not supported: spec.nodeName"
	run_peapod get pods one -l app=a
	assert_status 2
	assert_stderr_contains "name cannot be provided when a selector is specified"
}

# staged NAME: Pending for a second (an init container), Running for a
# second, then Succeeded.
staged() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  initContainers:
    - {name: init, image: "@IMAGE@", command: ["sleep", "1"]}
  containers:
    - {name: c, image: "@IMAGE@", command: ["sleep", "1"]}
EOF
}

@test "get -w: a row each time the pod's row changes, Pending -> Running -> Succeeded" {
	env --default-signal=INT "$PEAPOD" get pods -w \
		-o custom-columns=NAME:.metadata.name,PHASE:.status.phase >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
	env --default-signal=INT "$PEAPOD" get pods --watch >"$TEST_DIR/table" 2>&1 3>&- &
	local table_pid=$!
	sleep 0.5 # both watching (nothing to wait on: no pod yet)
	apply_ok < <(staged staged)
	wait_for_line "$TEST_DIR/out" "staged   Succeeded" 30
	eventually 10 grep -qE '^staged +0/1 +Completed +0 ' "$TEST_DIR/table" ||
		{ kill -INT "$table_pid"; false; }
	kill -INT "$BG_PID" "$table_pid"
	wait "$table_pid" || true
	wait_bg 10
	# One header, then the phases in order, each once.
	[ "$(head -n1 "$TEST_DIR/out")" = "NAME     PHASE" ] || fail "header"
	[ "$(grep -c PHASE "$TEST_DIR/out")" -eq 1 ] || fail "one header"
	phases=$(awk 'NR > 1 {print $2}' "$TEST_DIR/out" | uniq | paste -sd' ')
	[ "$phases" = "Pending Running Succeeded" ] || fail "phases: $phases"
	grep -q "Init:0/1" "$TEST_DIR/table" || { cat "$TEST_DIR/table"; false; }
	grep -q " Running " "$TEST_DIR/table" || { cat "$TEST_DIR/table"; false; }
	[ "$(grep -c '^NAME ' "$TEST_DIR/table")" -eq 1 ] || { cat "$TEST_DIR/table"; false; }
}

@test "get --watch-only: only the changes after it started" {
	apply_ok < <(labelled old a b)
	eventually 20 status_is old Running
	env --default-signal=INT "$PEAPOD" get pods --watch-only --no-headers >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
	sleep 0.5
	apply_ok < <(labelled new a b)
	eventually 20 status_is new Running
	eventually 10 grep -q '^new .* Running' "$TEST_DIR/out"
	kill -INT "$BG_PID"
	wait_bg 10
	refute_line_re() { ! grep -qE "$1" <<<"$output" || fail "a line matches $1"; }
	refute_line_re '^old '
	refute_line_re '^NAME'
}

@test "get -o jsonpath, custom-columns, --no-headers, --show-labels, -L, --sort-by" {
	three_pods
	run_peapod get pods -o 'jsonpath={.items[*].metadata.name}'
	assert_status 0
	assert_stdout "db web-1 web-2"
	run_peapod get pods -l app=web -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}'
	assert_stdout $'web-1\tRunning\nweb-2\tRunning'
	run_peapod get pods -o 'jsonpath={.items[?(@.metadata.labels.tier=="front")].metadata.name}'
	assert_stdout "web-1"
	run_peapod get pod db -o 'jsonpath={.metadata.labels.app}'
	assert_stdout "db"
	run_peapod get pod db -o 'jsonpath={.spec.nope}'
	assert_status 1
	assert_stderr_contains "nope is not found"
	run_peapod get pods -o custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,NODE:.spec.nodeName
	assert_status 0
	assert_stdout "$(printf '%s\n' 'NAME    TIER    NODE' 'db      back    <none>' \
		'web-1   front   <none>' 'web-2   back    <none>')"
	run_peapod get pods -o custom-columns=NAME:.metadata.name --no-headers --sort-by=.metadata.labels.tier
	assert_stdout "$(printf '%s\n' db web-2 web-1)"
	run_peapod get pods -l app=db --show-labels
	assert_line_re "NAME +READY +STATUS +RESTARTS +AGE +LABELS"
	assert_line_re "db +1/1 +Running +0 +[0-9]+s +app=db,tier=back"
	run_peapod get pods -L tier,example.com/app --no-headers
	assert_line_re "web-1 +1/1 +Running +0 +[0-9]+s +front"
	[ "${#lines[@]}" -eq 3 ] || fail "no header"
	run_peapod get pods -l app=db -L tier,example.com/app
	assert_line_re "NAME +READY +STATUS +RESTARTS +AGE +TIER +APP"
	run_peapod get pods -o custom-columns=NAME
	assert_status 2
	assert_stderr_contains "expected <header>:<json-path-expr>"
	run_peapod get pods -o 'jsonpath={range .items[*]}'
	assert_status 2
	run_peapod get pods -o table
	assert_status 2
	assert_stderr_contains "allowed formats are"
}

@test "get pods,KIND and get all; unknown kinds" {
	apply_ok < <(labelled one a b)
	run_peapod get all -o name
	assert_status 0
	assert_stdout "pod/one"
	run_peapod get pod/one -o name
	assert_stdout "pod/one"
	run_peapod get pods,nope
	assert_status 2
	assert_stderr_contains 'the server doesn'\''t have a resource type "nope"'
}

@test "wait -l and delete -l: each pod picked; none picked" {
	three_pods
	run_peapod wait --for=condition=Ready -l app=web --timeout 20s
	assert_status 0
	assert_stdout "$(printf '%s\n' 'pod/web-1 condition met' 'pod/web-2 condition met')"
	run_peapod wait --for=condition=Ready -l app=nope --timeout 1s
	assert_status 1
	assert_stderr_contains "no matching resources found"
	run_peapod delete pods -l 'tier=back' --field-selector metadata.name!=db
	assert_status 0
	assert_stdout 'pod "web-2" deleted'
	run_peapod get pods -o name
	assert_stdout "$(printf '%s\n' pod/db pod/web-1)"
	run_peapod delete pods -l app=nope
	assert_status 0
	assert_stderr_contains "No resources found in default namespace."
	run_peapod delete pods --all
	assert_status 0
	assert_line 'pod "db" deleted'
	assert_line 'pod "web-1" deleted'
}

# talker NAME APP: a pod of an init container and two containers a and b,
# each printing its name and the pod's, then (a, b) waiting for SIGTERM.
talker() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $2}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - {name: init, image: "@IMAGE@", command: ["sh", "-c", "echo init of $1"]}
  containers:
    - {name: a, image: "@IMAGE@", command: ["sh", "-c", "echo a of $1; $UNTIL_TERM"]}
    - {name: b, image: "@IMAGE@", command: ["sh", "-c", "echo b of $1; echo 0123456789; $UNTIL_TERM"]}
EOF
}

@test "logs --all-containers, -l with --prefix, --max-log-requests, --limit-bytes" {
	apply_ok < <(talker t1 talk)
	apply_ok < <(talker t2 talk)
	eventually 20 logs_have t1 "0123456789" -c b
	eventually 20 logs_have t2 "0123456789" -c b
	run_peapod logs t1 --all-containers
	assert_status 0
	assert_stdout "$(printf '%s\n' 'init of t1' 'a of t1' 'b of t1' 0123456789)"
	run_peapod logs -l app=talk -c a --prefix
	assert_status 0
	assert_stdout "$(printf '%s\n' '[pod/t1/a] a of t1' '[pod/t2/a] a of t2')"
	run_peapod logs -l app=talk --all-containers --prefix
	assert_line '[pod/t2/init] init of t2'
	assert_line '[pod/t1/b] 0123456789'
	[ "${#lines[@]}" -eq 8 ] || fail "8 lines"
	run_peapod logs -l app=talk --all-containers -f
	assert_status 1
	assert_stderr_contains "you are attempting to follow 6 log streams, but maximum allowed concurrency is 5, use --max-log-requests to increase the limit"
	# followed at once, each stream in its own reader, until the pods go
	start_bg "$PEAPOD" logs -l app=talk -c b -f --prefix --max-log-requests 2
	wait_for_line "$TEST_DIR/out" "[pod/t1/b] 0123456789"
	wait_for_line "$TEST_DIR/out" "[pod/t2/b] 0123456789"
	delete_ok t1 t2
	wait_bg 20
	assert_status 0
	run_peapod logs -l app=nope
	assert_stderr_contains "No resources found in default namespace."
}

@test "logs --limit-bytes cuts the log; -p the previous instance" {
	apply_ok < <(talker t1 talk)
	eventually 20 logs_have t1 "0123456789" -c b
	run_peapod logs t1 -c b --limit-bytes 12
	assert_status 0
	[ "$output" = "b of t1
0123" ] || fail "12 bytes"
	run_peapod logs t1 -c b --limit-bytes 0
	assert_status 2
	run_peapod logs t1 -c b -p
	assert_status 1
}

@test "describe pod: kubectl's sections in kubectl's order; aligned events with ages" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: full
  labels: {app: web, tier: front}
  annotations: {note: hello}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - {name: init, image: "@IMAGE@", command: ["true"]}
  containers:
    - name: c
      image: "@IMAGE@"
      command: ["sh", "-c"]
      args: ["trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      ports: [{containerPort: 8080}]
      env:
        - {name: GREETING, value: hi}
        - name: MY_POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
      resources:
        limits: {cpu: 500m, memory: 64Mi}
        requests: {cpu: 250m, memory: 32Mi}
      livenessProbe:
        exec: {command: ["true"]}
        periodSeconds: 5
      readinessProbe:
        tcpSocket: {port: 8080}
        initialDelaySeconds: 1
        failureThreshold: 5
      volumeMounts:
        - {name: data, mountPath: /data}
        - {name: data, mountPath: /ro, readOnly: true, subPath: sub}
  volumes:
    - name: data
      emptyDir: {}
EOF
	eventually 20 status_is full Running
	run_peapod describe pod full
	assert_status 0
	echo "$output" >"$TEST_DIR/describe"
	# The sections, in kubectl's order.
	order=$(grep -oE '^(Name|Namespace|Priority|Node|Start Time|Labels|Annotations|Status|IP|IPs|Init Containers|Containers|Conditions|Volumes|QoS Class|Node-Selectors|Tolerations|Events):' <<<"$output" | paste -sd' ')
	[ "$order" = "Name: Namespace: Priority: Node: Start Time: Labels: Annotations: Status: IP: IPs: Init Containers: Containers: Conditions: Volumes: QoS Class: Node-Selectors: Tolerations: Events:" ] ||
		fail "order: $order"
	assert_line_re 'Labels: +app=web'
	assert_line_re ' +tier=front'
	assert_line_re 'Annotations: +note=hello'
	assert_line_re 'Start Time: +[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}'
	assert_line_re '  IP:  127\.0\.0\.1'
	assert_line_re ' +Port: +8080/TCP'
	assert_line "    Command:"
	assert_line "      sh"
	assert_line "    Args:"
	assert_line_re ' +State: +Running'
	assert_line_re ' +Started: +[A-Z][a-z]{2}, .*'
	assert_line_re ' +Limits:'
	assert_line_re ' +cpu: +500m'
	assert_line_re ' +memory: +32Mi'
	assert_line_re ' +Liveness: +exec \[true\] delay=0s timeout=1s period=5s #success=1 #failure=3'
	assert_line_re ' +Readiness: +tcp-socket :8080 delay=1s timeout=1s period=10s #success=1 #failure=5'
	assert_line_re ' +GREETING: +hi'
	assert_line_re ' +MY_POD: +\(v1:metadata\.name\)'
	assert_line '      /data from data (rw)'
	assert_line '      /ro from data (ro,path="sub")'
	assert_line_re '  Initialized +True'
	assert_line_re '  Ready +False'
	assert_line_re '    Type: +EmptyDir \(a temporary directory that shares a pod.s lifetime\)'
	assert_line_re 'QoS Class: +Burstable'
	assert_line_re 'Node-Selectors: +<none>'
	assert_line_re '  Type +Reason +Age +From +Message'
	assert_line_re '  ---- +------ +---- +---- +-------'
	assert_line_re '  Normal +Started +[0-9]+s +kubelet +Started container c'
	# Aligned: every row's Reason starts in the header's column.
	col=$(grep -m1 -b -o 'Reason' <<<"$(grep '^  Type  *Reason' <<<"$output")" | cut -d: -f1)
	while IFS= read -r l; do
		[ "${l:$col:1}" != " " ] && [ "${l:$((col - 1)):1}" = " " ] || fail "not aligned: $l"
	done < <(sed -n '/^Events:/,$p' <<<"$output" | tail -n +2)
	run_peapod describe pods -l tier=front
	assert_line_re 'Name: +full'
	run_peapod describe pod/full
	assert_line_re 'Name: +full'
	run_peapod describe pod nope
	assert_status 1
	run_peapod describe nope/x
	assert_status 2
	assert_stderr_contains 'the server doesn'\''t have a resource type "nope"'
}

@test "describe: a pod without events says Events: <none>" {
	apply_ok < <(labelled quiet a b)
	eventually 20 status_is quiet Running
	uid=$(pod_uid quiet)
	: >"$PEAPOD_RUN/pods/$uid/events"
	run_peapod describe quiet
	assert_status 0
	assert_line_re 'Events: +<none>'
	assert_line_re 'Volumes: +<none>'
	assert_line_re ' +Environment: +<none>'
}

@test "events: LAST SEEN TYPE REASON OBJECT MESSAGE, --for pod/NAME, -A, -w" {
	env --default-signal=INT "$PEAPOD" events -w >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
	sleep 0.5
	apply_ok < <(labelled e1 a b)
	apply_ok < <(labelled e2 a b)
	eventually 20 status_is e1 Running
	eventually 20 status_is e2 Running
	run_peapod events
	assert_status 0
	assert_line_re 'LAST SEEN +TYPE +REASON +OBJECT +MESSAGE'
	assert_line_re '[0-9]+s +Normal +Started +Pod/e1 +Started container c'
	assert_line_re '[0-9]+s +Normal +Started +Pod/e2 +Started container c'
	run_peapod events --for pod/e2
	refute_stdout_contains "Pod/e1"
	assert_line_re '[0-9]+s +Normal +Created +Pod/e2 +Created container c'
	run_peapod events -A
	assert_line_re 'NAMESPACE +LAST SEEN +TYPE +REASON +OBJECT +MESSAGE'
	assert_line_re 'default +[0-9]+s +Normal +Started +Pod/e1 +Started container c'
	run_peapod events --for e1
	assert_status 2
	run_peapod events -n empty
	assert_stderr_contains "No resources found in empty namespace."
	# -w saw them come, one header
	eventually 10 grep -qE 'Normal +Started +Pod/e2 +Started container c' "$TEST_DIR/out"
	grep -qE 'Normal +Started +Pod/e1 +Started container c' "$TEST_DIR/out" || { cat "$TEST_DIR/out"; false; }
	[ "$(grep -c 'LAST SEEN' "$TEST_DIR/out")" -eq 1 ] || { cat "$TEST_DIR/out"; false; }
	kill -INT "$BG_PID"
	wait_bg 10
}

@test "get -A: a NAMESPACE column first, as kubectl" {
	apply_ok -n other < <(labelled n1 a b)
	apply_ok < <(labelled n2 a b)
	run_peapod get pods -A -l app=a
	assert_status 0
	assert_line_re 'NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE'
	assert_line_re 'default +n2 +[0-9]/1 .*'
	assert_line_re 'other +n1 +[0-9]/1 .*'
}

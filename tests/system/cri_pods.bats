#!/usr/bin/env bats
# CRI sandboxes and containers (src/cri/cri_sandbox.c, cri_container.c)
# driven by crictl, a client that is not ours (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl; the file skips, saying so, when it is
# absent), and by raw calls (tests/lib/cri-call.py) for what crictl does
# not send. The server is the node process (`peapod node --cri-socket SOCK`)
# on a socket of the test's own; the image is the suite's busybox (setup_suite.bash).

load helpers
load pods_helpers
load cri_helpers

setup_file() {
	cri_find_tools || return 0
}

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	CRI_PID=
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	SOCK=$TEST_DIR/cri.sock
	mkdir -p "$TEST_DIR/logs"
	start_cri
}

teardown() {
	stop_cri
	cleanup_leftovers
	rm -rf "$TEST_DIR"
}

# pod_config NAME [ATTEMPT] [EXTRA JSON FIELDS]: a sandbox config as crictl
# takes it, in $TEST_DIR/pod-NAME-ATTEMPT.json (printed).
pod_config() {
	local f=$TEST_DIR/pod-$1-${2:-0}.json
	cat >"$f" <<EOF
{
  "metadata": {"name": "$1", "namespace": "crins", "uid": "uid-$1", "attempt": ${2:-0}},
  "hostname": "$1-host",
  "log_directory": "$TEST_DIR/logs/$1",
  "labels": {"app": "$1", "tier": "web"},
  "annotations": {"note": "a b: c", "x.io/y": "{\"k\": 1}"},
  "linux": {}${3:+, $3}
}
EOF
	echo "$f"
}

# ctr_config NAME COMMAND [EXTRA JSON FIELDS]: a container config (printed).
ctr_config() {
	local f=$TEST_DIR/ctr-$1.json
	cat >"$f" <<EOF
{
  "metadata": {"name": "$1"},
  "image": {"image": "$IMAGE"},
  "command": ["sh", "-c", "$2"],
  "log_path": "$1.log",
  "labels": {"c": "$1"},
  "annotations": {"ca": "v$1"},
  "linux": {}${3:+, $3}
}
EOF
	echo "$f"
}

# runp NAME [ATTEMPT]: a sandbox up; POD gets its id.
runp() {
	crictl runp "$(pod_config "$@")"
	assert_status 0
	POD=$output
	[ ${#POD} -eq 64 ] || fail "not an id: $POD"
}

# create POD_NAME NAME COMMAND [EXTRA]: a container created in sandbox
# $POD (made from pod-POD_NAME-0.json); CTR gets its id.
create() {
	crictl create "$POD" "$(ctr_config "$2" "$3" "${4:-}")" "$TEST_DIR/pod-$1-0.json"
	assert_status 0
	CTR=$output
	[ ${#CTR} -eq 64 ] || fail "not an id: $CTR"
}

# field ID EXPR: json_get EXPR on crictl inspect ID (inspectp for a sandbox).
field() {
	local verb=inspect
	[ "${3:-}" = pod ] && verb=inspectp
	crictl "$verb" -o json "$1"
	assert_status 0
	json_get "$2" <<<"$output"
}

# wait_state CTR STATE: crictl inspect shows it in STATE.
wait_state() {
	local i s
	for ((i = 0; i < 200; i++)); do
		s=$(field "$1" 'd["status"]["state"]')
		[ "$s" = "$2" ] && return 0
		sleep 0.05
	done
	fail "container $1 is $s, not $2"
}

@test "cri pods: runp, pods, inspectp, create, start, ps, inspect, logs, stop, rm, stopp, rmp" {
	runp web
	crictl pods
	assert_status 0
	assert_line_re "^${POD:0:13} +.* +Ready +web +crins +0 +\(default\)$"
	[ "$(field "$POD" 'd["status"]["state"]' pod)" = SANDBOX_READY ]
	[ "$(field "$POD" 'd["status"]["metadata"]["name"]' pod)" = web ]

	create web hello 'echo hello; echo oops >&2; exec sleep 1000'
	crictl ps -a
	assert_status 0
	assert_line_re "^${CTR:0:13} +.* +Created +hello +0 +${POD:0:13} .*"
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	crictl ps
	assert_line_re "^${CTR:0:13} +.* +Running +hello +0 +${POD:0:13} .*"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q ' stderr F oops$' "$TEST_DIR/logs/web/hello.log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q ' stdout F hello$' "$TEST_DIR/logs/web/hello.log" || fail "log: $(cat "$TEST_DIR/logs/web/hello.log")"
	crictl logs "$CTR"
	assert_status 0
	assert_stdout_contains hello

	crictl stop -t 1 "$CTR"
	assert_status 0
	[ "$(field "$CTR" 'd["status"]["state"]')" = CONTAINER_EXITED ]
	crictl stop "$CTR"
	assert_status 0
	crictl rm "$CTR"
	assert_status 0
	# twice: done already (crictl rm asks ContainerStatus first: raw)
	cri_call /runtime.v1.RuntimeService/RemoveContainer "1=$CTR"
	assert_stdout "OK "
	cri_call /runtime.v1.RuntimeService/StopContainer "1=$CTR"
	assert_line_re "ERROR NOT_FOUND .*not found.*"
	crictl ps -a
	refute_stdout_contains hello
	# the log stays (kubelet's)
	[ -s "$TEST_DIR/logs/web/hello.log" ]

	crictl stopp "$POD"
	assert_status 0
	[ "$(field "$POD" 'd["status"]["state"]' pod)" = SANDBOX_NOTREADY ]
	crictl stopp "$POD"
	assert_status 0
	crictl rmp "$POD"
	assert_status 0
	cri_call /runtime.v1.RuntimeService/RemovePodSandbox "1=$POD"
	assert_stdout "OK "
	# gone: stopped (idempotent, as CRI-O answers and critest expects)
	cri_call /runtime.v1.RuntimeService/StopPodSandbox "1=$POD"
	assert_stdout "OK "
	crictl pods
	refute_stdout_contains web
	assert_no_leaks
}

@test "cri pods: a container's exit code and reason (Completed, Error), times in order" {
	runp job
	create job ok 'exit 0'
	local ok=$CTR
	create job bad 'echo failing; exit 3'
	local bad=$CTR
	crictl start "$ok"
	assert_status 0
	crictl start "$bad"
	assert_status 0
	wait_state "$ok" CONTAINER_EXITED
	wait_state "$bad" CONTAINER_EXITED
	crictl inspect -o json "$ok"
	[ "$(json_get 'd["status"]["exitCode"]' <<<"$output")" = 0 ]
	[ "$(json_get 'd["status"]["reason"]' <<<"$output")" = Completed ]
	crictl inspect -o json "$bad"
	[ "$(json_get 'd["status"]["exitCode"]' <<<"$output")" = 3 ]
	[ "$(json_get 'd["status"]["reason"]' <<<"$output")" = Error ]
	json_get 'd["status"]["createdAt"] <= d["status"]["startedAt"] <= d["status"]["finishedAt"]' <<<"$output" | grep -qx true ||
		fail "times out of order: $output"
	# starting it again is refused (kubelet makes a new attempt instead)
	crictl start "$bad"
	[ "$status" -ne 0 ]
	assert_stdout_contains "not in created state"
	# the sandbox is still ready: kubelet owns restarts
	[ "$(field "$POD" 'd["status"]["state"]' pod)" = SANDBOX_READY ]
	crictl ps -a --state exited
	[ "$(grep -c Exited <<<"$output")" -eq 2 ] || fail "$output"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri pods: a second attempt beside the stopped sandbox, and a container's attempt 1 beside attempt 0" {
	runp web 0
	local first=$POD
	create web app 'exec sleep 1000'
	local c0=$CTR
	crictl start "$c0"
	assert_status 0
	# kubelet's restart: attempt 1 of the container while attempt 0 exists
	crictl stop -t 0 "$c0"
	assert_status 0
	crictl create "$POD" <(sed 's/"metadata": {"name": "app"}/"metadata": {"name": "app", "attempt": 1}/' \
		"$TEST_DIR/ctr-app.json") "$TEST_DIR/pod-web-0.json"
	assert_status 0
	local c1=$output
	[ "$c1" != "$c0" ] || fail "the same id for attempt 1"
	crictl start "$c1"
	assert_status 0
	crictl ps -a --name app
	assert_line_re "^${c0:0:13} .* +Exited +app +0 .*"
	assert_line_re "^${c1:0:13} .* +Running +app +1 .*"
	crictl stopp "$first"
	assert_status 0
	# the sandbox's attempt 1: a new pod beside the stopped one
	runp web 1
	[ "$POD" != "$first" ] || fail "the same id for attempt 1"
	crictl pods
	assert_line_re "^${first:0:13} +.* +NotReady +web +crins +0 +.*"
	assert_line_re "^${POD:0:13} +.* +Ready +web +crins +1 +.*"
	crictl pods --state ready -q
	assert_stdout "$POD"
	crictl pods --state notready -q
	assert_stdout "$first"
	# a container of the stopped sandbox stays listed, exited
	crictl ps -a -q --pod "$first"
	[ "$(wc -l <<<"$output")" -eq 2 ] || fail "$output"
	crictl rmp -f "$first" "$POD"
	assert_status 0
	crictl ps -a -q
	assert_stdout ""
	assert_no_leaks
}

@test "cri pods: labels and annotations come back exactly as given; filters by label, id prefix and sandbox" {
	runp web
	local web=$POD
	runp db
	crictl inspectp -o json "$web"
	[ "$(json_get 'd["status"]["labels"]' <<<"$output")" = '{"app": "web", "tier": "web"}' ] || fail "$output"
	[ "$(json_get 'd["status"]["annotations"]' <<<"$output")" = '{"note": "a b: c", "x.io/y": "{\"k\": 1}"}' ] ||
		fail "$output"
	[ "$(json_get 'd["status"]["metadata"]' <<<"$output")" = '{"attempt": 0, "name": "web", "namespace": "crins", "uid": "uid-web"}' ] ||
		fail "$output"
	crictl pods -q --label app=web
	assert_stdout "$web"
	crictl pods -q --label tier=web
	[ "$(wc -l <<<"$output")" -eq 2 ] || fail "$output"
	crictl pods -q --label app=nothing
	assert_stdout ""
	crictl pods -q --id "${web:0:8}"
	assert_stdout "$web"
	POD=$web
	create web one 'exec sleep 1000'
	local one=$CTR
	crictl inspect -o json "$one"
	[ "$(json_get 'd["status"]["labels"]' <<<"$output")" = '{"c": "one"}' ] || fail "$output"
	[ "$(json_get 'd["status"]["annotations"]' <<<"$output")" = '{"ca": "vone"}' ] || fail "$output"
	[ "$(json_get 'd["status"]["logPath"]' <<<"$output")" = "$TEST_DIR/logs/web/one.log" ] || fail "$output"
	[ "$(json_get 'd["status"]["image"]["image"]' <<<"$output")" = "$IMAGE" ] || fail "$output"
	[[ "$(json_get 'd["status"]["imageRef"]' <<<"$output")" == sha256:* ]] || fail "$output"
	crictl ps -a -q --label c=one
	assert_stdout "$one"
	crictl ps -a -q --id "${one:0:10}"
	assert_stdout "$one"
	crictl ps -a -q --pod "${web:0:10}"
	assert_stdout "$one"
	crictl rmp -f "$web"
	crictl pods -q
	[ "$(wc -l <<<"$output")" -eq 1 ] || fail "$output"
	crictl rmp -fa
	assert_status 0
	assert_no_leaks
}

@test "cri pods: the server killed (SIGKILL) and restarted finds every sandbox and container; the pods never notice" {
	runp web
	create web app 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	local pid
	pid=$(field "$CTR" 'd["info"]["status"]["pid"]' 2>/dev/null || true)
	local sup
	sup=$(suite_supervisor_pids)
	kill -KILL "$CRI_PID"
	wait "$CRI_PID" 2>/dev/null || true
	CRI_PID=
	rm -f "$SOCK"
	start_cri
	crictl pods -q
	assert_stdout "$POD"
	crictl ps -q
	assert_stdout "$CTR"
	[ "$(field "$CTR" 'd["status"]["state"]')" = CONTAINER_RUNNING ]
	[ "$(suite_supervisor_pids)" = "$sup" ] || fail "the supervisor changed"
	[ -z "$pid" ] || [ "$(field "$CTR" 'd["info"]["status"]["pid"]')" = "$pid" ] || fail "the container restarted"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri pods: a CLI pod is not a sandbox to crictl; peapod get pods -A shows both; peapod exec reaches a CRI container" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: cli
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
	runp web
	create web app 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	crictl pods -q
	assert_stdout "$POD"
	crictl ps -a -q
	assert_stdout "$CTR"
	run_peapod get pods -A
	assert_status 0
	assert_line_re "default +cli +1/1 +Running .*"
	assert_line_re "crins +web-0 .*Running .*"
	run_peapod exec -n crins web-0 -c app-0 -- cat /etc/hostname
	assert_status 0
	assert_stdout "web-host"
	crictl rmp -f "$POD"
	assert_status 0
	pp delete cli --grace-period 0 >/dev/null
	assert_no_leaks
}

@test "cri pods: bad requests are refused with clear messages and change nothing" {
	local before
	before=$(pod_dirs)
	echo '{"hostname": "x"}' >"$TEST_DIR/nometa.json"
	crictl runp "$TEST_DIR/nometa.json"
	[ "$status" -ne 0 ]
	assert_stdout_contains "config.metadata is missing"
	echo '{"metadata": {"name": "x", "namespace": "n"}}' >"$TEST_DIR/nouid.json"
	crictl runp "$TEST_DIR/nouid.json"
	[ "$status" -ne 0 ]
	assert_stdout_contains "config.metadata.uid is missing"
	cri_call /runtime.v1.RuntimeService/CreateContainer "1=feedbeef,2={1={1=x},2={1=$IMAGE}}"
	assert_line_re "ERROR NOT_FOUND CreateContainer: sandbox \"feedbeef\" not found.*"
	cri_call /runtime.v1.RuntimeService/PodSandboxStatus "1=feedbeef"
	assert_line_re "ERROR NOT_FOUND .*not found.*"
	[ "$(pod_dirs)" = "$before" ] || fail "something was created: $(pod_dirs)"
	runp web
	before=$(pod_dirs)
	crictl create "$POD" <(sed "s|\"$IMAGE\"|\"absent/image:1\"|" "$(ctr_config x 'true')") "$TEST_DIR/pod-web-0.json"
	[ "$status" -ne 0 ]
	assert_stdout_contains 'image \"absent/image:1\" not found'
	crictl create "$POD" <(sed 's/"metadata": {"name": "x"}/"metadata": {}/' "$TEST_DIR/ctr-x.json") \
		"$TEST_DIR/pod-web-0.json"
	[ "$status" -ne 0 ]
	assert_stdout_contains "config.metadata.name is missing"
	crictl ps -a -q
	assert_stdout ""
	[ "$(pod_dirs)" = "$before" ] || fail "something was created: $(pod_dirs)"
	# the same sandbox twice: refused, the first one untouched
	crictl runp "$TEST_DIR/pod-web-0.json"
	[ "$status" -ne 0 ]
	assert_stdout_contains "exists already"
	[ "$(field "$POD" 'd["status"]["state"]' pod)" = SANDBOX_READY ]
	crictl rmp -f "$POD"
	assert_no_leaks
}

@test "cri pods: mounts (host paths, read-only), UpdateContainerResources (the cgroup now), ReopenContainerLog (kubelet's rotation)" {
	mkdir -p "$TEST_DIR/share"
	echo shared >"$TEST_DIR/share/f"
	runp web
	create web app 'while :; do echo tick; sleep 0.1; done' \
		"\"mounts\": [{\"host_path\": \"$TEST_DIR/share\", \"container_path\": \"/data\", \"readonly\": true}]"
	crictl start "$CTR"
	assert_status 0
	run_peapod exec -n crins web-0 -c app-0 -- cat /data/f
	assert_status 0
	assert_stdout shared
	run_peapod exec -n crins web-0 -c app-0 -- touch /data/g
	[ "$status" -ne 0 ] || fail "the read-only mount was written"
	crictl inspect -o json "$CTR"
	[ "$(json_get 'd["status"]["mounts"][0]["containerPath"]' <<<"$output")" = /data ] || fail "$output"

	# the container's memory limit, in its cgroup at once
	local cg
	cg=$(inspect_get web-0 'd["peapod"]["cgroup"]["path"]' crins)
	crictl update --memory 67108864 "$CTR"
	assert_status 0
	local f=/sys/fs/cgroup/$cg/app-0/memory.max
	[ -f "$f" ] || f=/sys/fs/cgroup/memory/$cg/app-0/memory.limit_in_bytes
	[ "$(cat "$f")" = 67108864 ] || fail "$f: $(cat "$f")"
	crictl update --memory 33554432 "$CTR"
	assert_status 0
	[ "$(cat "$f")" = 33554432 ] || fail "$f: $(cat "$f")"

	# kubelet renames the log, then asks for a new one
	local log=$TEST_DIR/logs/web/app.log
	mv "$log" "$log.1"
	cri_call /runtime.v1.RuntimeService/ReopenContainerLog "1=$CTR"
	assert_stdout "OK "
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q ' stdout F tick$' "$log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q ' stdout F tick$' "$log" || fail "nothing in the new log"
	grep -q ' stdout F tick$' "$log.1"
	crictl stop -t 0 "$CTR"
	assert_status 0
	cri_call /runtime.v1.RuntimeService/ReopenContainerLog "1=$CTR"
	assert_line_re "ERROR .*not running.*"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri pods: kubelet's round on a CRI container: exec -s, exec, port-forward, stats and statsp with the CRI's metadata, labels and annotations" {
	runp shop
	create shop app 'echo hi > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING

	crictl exec -s "$CTR" cat /tmp/index.html
	assert_status 0
	assert_stdout hi
	crictl exec "$CTR" sh -c 'echo out; echo err >&2'
	assert_status 0
	assert_stdout_contains out

	# port-forward to the httpd, fetched on 127.0.0.1
	local port=$((20000 + RANDOM % 20000)) i body=
	"$CRICTL" --runtime-endpoint "unix://$SOCK" port-forward "$POD" "$port:8080" \
		>"$TEST_DIR/pf.out" 2>&1 &
	BG_PID=$!
	for ((i = 0; i < 100; i++)); do
		body=$(curl -s --max-time 2 "http://127.0.0.1:$port/index.html" 2>/dev/null) && [ -n "$body" ] && break
		sleep 0.1
	done
	kill "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=
	[ "$body" = hi ] || fail "port-forward gave '$body': $(cat "$TEST_DIR/pf.out")"

	# stats: the metadata, labels and annotations CreateContainer got
	crictl stats -o json --id "$CTR"
	assert_status 0
	local j=$output
	[ "$(json_get 'd["stats"][0]["attributes"]["metadata"]["name"]' <<<"$j")" = app ] ||
		fail "stats: $j"
	[ "$(json_get 'd["stats"][0]["attributes"]["labels"]["c"]' <<<"$j")" = app ]
	[ "$(json_get 'd["stats"][0]["attributes"]["annotations"]["ca"]' <<<"$j")" = vapp ]
	[ -n "$(json_get 'd["stats"][0]["memory"]["workingSetBytes"]["value"]' <<<"$j")" ]
	crictl statsp -o json --id "$POD"
	assert_status 0
	j=$output
	[ "$(json_get 'd["stats"][0]["attributes"]["metadata"]["name"]' <<<"$j")" = shop ] ||
		fail "statsp: $j"
	[ "$(json_get 'd["stats"][0]["attributes"]["metadata"]["uid"]' <<<"$j")" = uid-shop ]
	[ "$(json_get 'd["stats"][0]["attributes"]["labels"]["tier"]' <<<"$j")" = web ]
	[ "$(json_get 'd["stats"][0]["attributes"]["annotations"]["note"]' <<<"$j")" = "a b: c" ]

	crictl stopp "$POD"
	assert_status 0
	crictl rmp "$POD"
	assert_status 0
	assert_no_leaks
}

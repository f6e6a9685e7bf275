#!/usr/bin/env bats
# CRI sandboxes and containers (src/cri/cri_sandbox.c, cri_container.c)
# driven by crictl, a client that is not ours (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl; the file skips, saying so, when it is
# absent), and by raw calls (tests/lib/cri-call.py) for what crictl does
# not send. The server is `peapod cri-serve --socket SOCK` on a socket of
# the test's own; the image is the suite's busybox (setup_suite.bash).

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
	cri_call /runtime.v1.RuntimeService/StopPodSandbox "1=$POD"
	assert_line_re "ERROR NOT_FOUND .*not found.*"
	crictl pods
	refute_stdout_contains web
	assert_no_leaks
}

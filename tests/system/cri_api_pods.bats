#!/usr/bin/env bats
# The RuntimeService's sandbox and container RPCs and their error cases,
# called with the client generated at test time from peapod's own
# src/cri/api.proto (tests/lib/cri-client.py: Debian's python3-grpcio and
# python3-grpc-tools), not crictl: every request as kubelet could send it,
# every answer's content checked. Also: the server killed in the window
# between a sandbox coming up and RunPodSandbox's answer (a fault point),
# and the node loop serving the CRI while a static pod's image pull stalls.
# The image is the suite's busybox (setup_suite.bash). cri_api.bats holds
# the image and stats RPCs.

load helpers
load pods_helpers
load registry_helpers
load cri_helpers

setup_file() {
	cri_client_tools
}

setup() {
	cri_setup
	mkdir -p "$TEST_DIR/logs"
}

teardown() {
	cri_teardown
	stop_fixtures
}

# sb_config NAME [ATTEMPT] [EXTRA JSON FIELDS]: a PodSandboxConfig (JSON).
sb_config() {
	cat <<EOF
{"metadata": {"name": "$1", "namespace": "apins", "uid": "uid-$1", "attempt": ${2:-0}},
 "hostname": "$1", "log_directory": "$TEST_DIR/logs/$1",
 "labels": {"app": "$1"}, "linux": {}${3:+, $3}}
EOF
}

# runp NAME [ATTEMPT] [EXTRA]: RunPodSandbox; SB gets the id.
runp() {
	rpc_ok RunPodSandbox "{\"config\": $(sb_config "$@")}"
	SB=$(json_get 'd["pod_sandbox_id"]' <<<"$output")
	[[ "$SB" =~ ^[0-9a-f]{64}$ ]] || fail "not an id: $output"
}

# ctr_config NAME COMMAND [EXTRA JSON FIELDS]: a ContainerConfig (JSON).
ctr_config() {
	local cmd
	cmd=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$2")
	cat <<EOF
{"metadata": {"name": "$1"}, "image": {"image": "$IMAGE"},
 "command": ["sh", "-c", $cmd], "log_path": "$1.log",
 "labels": {"c": "$1"}${3:+, $3}}
EOF
}

# create SANDBOX_NAME NAME COMMAND [EXTRA]: CreateContainer into $SB; CTR gets the id.
create() {
	rpc_ok CreateContainer "{\"pod_sandbox_id\": \"$SB\", \"config\": $(ctr_config "$2" "$3" "${4:-}"), \"sandbox_config\": $(sb_config "$1")}"
	CTR=$(json_get 'd["container_id"]' <<<"$output")
	[[ "$CTR" =~ ^[0-9a-f]{64}$ ]] || fail "not an id: $output"
}

ctr_state() {
	"$LIB/cri-client.py" "$SOCK" ContainerStatus "{\"container_id\": \"$1\"}" |
		json_get 'd["status"]["state"]'
}

state_is() {
	[ "$(ctr_state "$1")" = "$2" ]
}

sb_ids() {
	rpc_ok ListPodSandbox "$1"
	json_get '" ".join(sorted(s["id"] for s in d["items"]))' <<<"$output"
}

ctr_ids() {
	rpc_ok ListContainers "$1"
	json_get '" ".join(sorted(c["id"] for c in d["containers"]))' <<<"$output"
}

# sorted ID...: the ids, sorted, on one line.
sorted() {
	printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

# ---------------------------------------------------------------------------
# Sandboxes

@test "cri api pods: RunPodSandbox refuses a bad config naming the field; the same metadata twice refused; a new attempt beside the stopped one" {
	local before
	start_cri
	before=$(pod_dirs)
	rpc_err RunPodSandbox '{}' INVALID_ARGUMENT "config"
	rpc_err RunPodSandbox '{"config": {"hostname": "x"}}' INVALID_ARGUMENT "config.metadata is missing"
	rpc_err RunPodSandbox '{"config": {"metadata": {"namespace": "n", "uid": "u"}}}' INVALID_ARGUMENT "config.metadata.name"
	rpc_err RunPodSandbox '{"config": {"metadata": {"name": "x", "namespace": "n"}}}' INVALID_ARGUMENT "config.metadata.uid is missing"
	rpc_err RunPodSandbox "{\"config\": $(sb_config x), \"runtime_handler\": \"kata\"}" INVALID_ARGUMENT 'runtime handler "kata" not supported'
	[ "$(pod_dirs)" = "$before" ] || fail "a refused sandbox left something: $(pod_dirs)"

	runp web
	local first=$SB
	rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$first\"}"
	check "
s = d['status']
assert s['id'] == '$first', s
assert s['state'] == 'SANDBOX_READY', s
assert s['metadata'] == {'name': 'web', 'namespace': 'apins', 'uid': 'uid-web', 'attempt': 0}, s
assert int(s['created_at']) > 0, s"
	# the same metadata while it exists: refused, the first untouched
	rpc_err RunPodSandbox "{\"config\": $(sb_config web)}" UNKNOWN "exists already"
	rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$first\"}"
	check 'assert d["status"]["state"] == "SANDBOX_READY", d'

	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$first\"}"
	[ "$output" = "{}" ] || fail "StopPodSandbox answered $output"
	rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$first\"}"
	check 'assert d["status"]["state"] == "SANDBOX_NOTREADY", d'
	runp web 1
	[ "$SB" != "$first" ] || fail "attempt 1 has attempt 0's id"
	rpc_ok ListPodSandbox '{}'
	check "
st = {s['id']: (s['state'], s['metadata']['attempt']) for s in d['items']}
assert st == {'$first': ('SANDBOX_NOTREADY', 0), '$SB': ('SANDBOX_READY', 1)}, st"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$first\"}"
	[ "$(sb_ids '{}')" = "$SB" ] || fail "after removing attempt 0: $(sb_ids '{}')"
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	[ "$(sb_ids '{}')" = "" ] || fail "left: $(sb_ids '{}')"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: Stop and Remove idempotent (twice; an unknown sandbox's stop and remove, an unknown container's remove: OK); statuses of unknown ids NotFound; empty ids InvalidArgument" {
	local nosuch
	nosuch=$(printf nosuch | sha256sum | cut -d' ' -f1)
	start_cri
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$nosuch\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$nosuch\"}"
	# an unknown container's stop: NotFound, as containerd answers (kubelet takes it as stopped)
	rpc_err StopContainer "{\"container_id\": \"$nosuch\"}" NOT_FOUND "not found"
	rpc_ok RemoveContainer "{\"container_id\": \"$nosuch\"}"
	rpc_err PodSandboxStatus "{\"pod_sandbox_id\": \"$nosuch\"}" NOT_FOUND "not found"
	rpc_err ContainerStatus "{\"container_id\": \"$nosuch\"}" NOT_FOUND "not found"
	rpc_err StopPodSandbox '{}' INVALID_ARGUMENT "pod_sandbox_id"
	rpc_err RemovePodSandbox '{}' INVALID_ARGUMENT "pod_sandbox_id"
	rpc_err PodSandboxStatus '{}' INVALID_ARGUMENT "pod_sandbox_id"
	rpc_err ContainerStatus '{}' INVALID_ARGUMENT "container_id"

	runp idem
	create idem app 'exec sleep 1000'
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 0}"
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 0}"
	[ "$(ctr_state "$CTR")" = CONTAINER_EXITED ]
	rpc_ok RemoveContainer "{\"container_id\": \"$CTR\"}"
	rpc_ok RemoveContainer "{\"container_id\": \"$CTR\"}"
	rpc_err ContainerStatus "{\"container_id\": \"$CTR\"}" NOT_FOUND "not found"
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rpc_err PodSandboxStatus "{\"pod_sandbox_id\": \"$SB\"}" NOT_FOUND "not found"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: labels and annotations come back byte-exact (unicode, empty values, 200 of them)" {
	local extra
	extra=$(python3 -c '
import json
labels = {"app": "exact", "empty": "", "uni": "h\u00e9llo \u4e16\u754c \U0001f600", "sp ace": " lead and trail "}
ann = {"k%03d" % i: "v" * i for i in range(200)}
ann.update({"json": "{\"a\": [1, 2]}", "nl": "line1\nline2", "empty": ""})
print(json.dumps({"labels": labels, "annotations": ann})[1:-1])')
	start_cri
	rpc_ok RunPodSandbox "{\"config\": {\"metadata\": {\"name\": \"exact\", \"namespace\": \"apins\", \"uid\": \"uid-exact\"}, \"linux\": {}, $extra}}"
	SB=$(json_get 'd["pod_sandbox_id"]' <<<"$output")
	local want="{$extra}"
	for m in PodSandboxStatus ListPodSandbox; do
		if [ "$m" = PodSandboxStatus ]; then
			rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$SB\"}"
		else
			rpc_ok ListPodSandbox "{\"filter\": {\"id\": \"$SB\"}}"
		fi
		python3 -c '
import json, sys
d, want = json.loads(sys.argv[1]), json.loads(sys.argv[2])
s = d["status"] if "status" in d else d["items"][0]
assert s["labels"] == want["labels"], (s["labels"], want["labels"])
assert s["annotations"] == want["annotations"], "annotations differ"
assert len(s["annotations"]) == 203' "$output" "$want" || fail "$m: not as given: $output"
	done
	# a container's, the same
	rpc_ok CreateContainer "{\"pod_sandbox_id\": \"$SB\", \"config\": {\"metadata\": {\"name\": \"c\"}, \"image\": {\"image\": \"$IMAGE\"}, \"command\": [\"sleep\", \"1000\"], $extra}, \"sandbox_config\": {\"metadata\": {\"name\": \"exact\", \"namespace\": \"apins\", \"uid\": \"uid-exact\"}}}"
	CTR=$(json_get 'd["container_id"]' <<<"$output")
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	python3 -c '
import json, sys
d, want = json.loads(sys.argv[1]), json.loads(sys.argv[2])
s = d["status"]
assert s["labels"] == want["labels"], (s["labels"], want["labels"])
assert s["annotations"] == want["annotations"], "annotations differ"' "$output" "$want" || fail "container: not as given: $output"
	rpc_ok ListContainers "$(python3 -c 'import json; print(json.dumps({"filter": {"label_selector": {"uni": "h\u00e9llo \u4e16\u754c \U0001f600"}}}))')"
	check "assert [c['id'] for c in d['containers']] == ['$CTR'], d"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: ListPodSandbox and ListContainers filters: id, id prefix, state, label selector, pod_sandbox_id" {
	start_cri
	runp alpha
	local a=$SB
	create alpha one 'exec sleep 1000'
	local a1=$CTR
	create alpha two 'exec sleep 1000'
	local a2=$CTR
	rpc_ok StartContainer "{\"container_id\": \"$a1\"}"
	runp beta
	local b=$SB
	create beta one 'exec sleep 1000'
	local b1=$CTR
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$b\"}"

	[ "$(sb_ids '{}')" = "$(sorted "$a" "$b")" ] || fail "all: $(sb_ids '{}')"
	[ "$(sb_ids "{\"filter\": {\"id\": \"$a\"}}")" = "$a" ]
	[ "$(sb_ids "{\"filter\": {\"id\": \"${b:0:10}\"}}")" = "$b" ]
	[ "$(sb_ids '{"filter": {"state": {"state": "SANDBOX_READY"}}}')" = "$a" ]
	[ "$(sb_ids '{"filter": {"state": {"state": "SANDBOX_NOTREADY"}}}')" = "$b" ]
	[ "$(sb_ids '{"filter": {"label_selector": {"app": "beta"}}}')" = "$b" ]
	[ "$(sb_ids '{"filter": {"label_selector": {"app": "gamma"}}}')" = "" ]
	[ "$(sb_ids "{\"filter\": {\"id\": \"$a\", \"label_selector\": {\"app\": \"beta\"}}}")" = "" ]
	[ "$(sb_ids "{\"filter\": {\"id\": \"$(printf x | sha256sum | cut -c1-64)\"}}")" = "" ]

	[ "$(ctr_ids '{}')" = "$(sorted "$a1" "$a2" "$b1")" ] || fail "all: $(ctr_ids '{}')"
	[ "$(ctr_ids "{\"filter\": {\"id\": \"$a2\"}}")" = "$a2" ]
	[ "$(ctr_ids "{\"filter\": {\"id\": \"${a1:0:12}\"}}")" = "$a1" ]
	[ "$(ctr_ids "{\"filter\": {\"pod_sandbox_id\": \"$a\"}}")" = "$(sorted "$a1" "$a2")" ]
	[ "$(ctr_ids "{\"filter\": {\"pod_sandbox_id\": \"${b:0:12}\"}}")" = "$b1" ]
	[ "$(ctr_ids '{"filter": {"state": {"state": "CONTAINER_RUNNING"}}}')" = "$a1" ]
	# b1 was never started: stopping its sandbox leaves it created, as containerd does
	[ "$(ctr_ids '{"filter": {"state": {"state": "CONTAINER_CREATED"}}}')" = "$(sorted "$a2" "$b1")" ] ||
		fail "created: $(ctr_ids '{"filter": {"state": {"state": "CONTAINER_CREATED"}}}')"
	[ "$(ctr_ids "{\"filter\": {\"pod_sandbox_id\": \"$a\", \"label_selector\": {\"c\": \"two\"}}}")" = "$a2" ]
	[ "$(ctr_ids '{"filter": {"label_selector": {"c": "one"}}}')" = "$(sorted "$a1" "$b1")" ]
	rpc_ok ListContainers "{\"filter\": {\"id\": \"$a1\"}}"
	check "
c = d['containers'][0]
assert c['pod_sandbox_id'] == '$a', c
assert c['metadata'] == {'name': 'one', 'attempt': 0}, c
assert c['image']['image'] == '$IMAGE', c
assert c['image_ref'].startswith('sha256:'), c
assert c['state'] == 'CONTAINER_RUNNING' and int(c['created_at']) > 0, c"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$a\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$b\"}"
	[ "$(ctr_ids '{}')" = "" ]
	stop_cri
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Containers

@test "cri api pods: Create, Start, Status, Stop, Remove; start twice, a duplicate name, an unknown or stopped sandbox refused" {
	local nosuch before
	nosuch=$(printf nosuch | sha256sum | cut -d' ' -f1)
	start_cri
	runp life
	rpc_err CreateContainer "{\"pod_sandbox_id\": \"$nosuch\", \"config\": $(ctr_config x true)}" NOT_FOUND "not found"
	rpc_err CreateContainer "{\"pod_sandbox_id\": \"$SB\"}" INVALID_ARGUMENT "config"
	rpc_err CreateContainer "{\"pod_sandbox_id\": \"$SB\", \"config\": {\"metadata\": {\"name\": \"x\"}, \"image\": {\"image\": \"absent/image:1\"}}}" \
		NOT_FOUND 'image "absent/image:1" not found'
	create life app 'echo started; exec sleep 1000'
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	check "
s = d['status']
assert s['id'] == '$CTR' and s['state'] == 'CONTAINER_CREATED', s
assert s['metadata'] == {'name': 'app', 'attempt': 0}, s
assert int(s['created_at']) > 0 and int(s['started_at']) == 0, s
assert s['log_path'] == '$TEST_DIR/logs/life/app.log', s"
	# the name taken: refused, the first one's record untouched
	rpc_err CreateContainer "{\"pod_sandbox_id\": \"$SB\", \"config\": $(ctr_config app true)}" UNKNOWN "container app-0 exists already"
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	check "assert d['status']['state'] == 'CONTAINER_CREATED' and d['status']['labels'] == {'c': 'app'}, d"
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	[ "$output" = "{}" ] || fail "StartContainer answered $output"
	rpc_err StartContainer "{\"container_id\": \"$CTR\"}" UNKNOWN "container app-0 is not in created state: it was started"
	rpc_err StartContainer "{\"container_id\": \"$nosuch\"}" NOT_FOUND "not found"
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	check "
s = d['status']
assert s['state'] == 'CONTAINER_RUNNING', s
assert int(s['started_at']) >= int(s['created_at']) > 0, s"
	eventually 10 grep -q ' stdout F started$' "$TEST_DIR/logs/life/app.log"
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 10}"
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	check "
s = d['status']
assert s['state'] == 'CONTAINER_EXITED', s
assert s['exit_code'] == 143 or s['exit_code'] == 137, s
assert int(s['finished_at']) >= int(s['started_at']), s"
	rpc_ok RemoveContainer "{\"container_id\": \"$CTR\"}"
	[ "$(ctr_ids '{}')" = "" ]
	# a running one: removed by force, as the CRI says
	create life other 'exec sleep 1000'
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	rpc_ok RemoveContainer "{\"container_id\": \"$CTR\"}"
	rpc_err ContainerStatus "{\"container_id\": \"$CTR\"}" NOT_FOUND "not found"
	[ "$(ctr_ids '{}')" = "" ]

	# into a stopped sandbox: refused, nothing made
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	before=$(pod_dirs)
	rpc_err CreateContainer "{\"pod_sandbox_id\": \"$SB\", \"config\": $(ctr_config late true)}" FAILED_PRECONDITION "is not ready: it is stopped"
	[ "$(ctr_ids '{}')" = "" ]
	[ "$(pod_dirs)" = "$before" ]
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: StopContainer with a timeout on a process that ignores TERM: killed after it" {
	start_cri
	runp stubborn
	create stubborn app "trap '' TERM; echo armed; while :; do sleep 0.1; done"
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	eventually 10 grep -q ' stdout F armed$' "$TEST_DIR/logs/stubborn/app.log"
	local t0 t1
	t0=$(date +%s%N)
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 2}"
	t1=$(date +%s%N)
	# TERM was ignored: it ran until the timeout, then SIGKILL (no upper bound asserted)
	[ $(((t1 - t0) / 1000000)) -ge 1900 ] || fail "stopped after $(((t1 - t0) / 1000000)) ms: TERM not ignored?"
	rpc_ok ContainerStatus "{\"container_id\": \"$CTR\"}"
	check "
s = d['status']
assert s['state'] == 'CONTAINER_EXITED', s
assert s['exit_code'] == 137, s"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: ExecSync: stdout and stderr apart, the exit code, the timeout; errors" {
	local nosuch
	nosuch=$(printf nosuch | sha256sum | cut -d' ' -f1)
	start_cri
	runp ex
	create ex app 'exec sleep 1000'
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	rpc_ok ExecSync "{\"container_id\": \"$CTR\", \"cmd\": [\"sh\", \"-c\", \"echo out; echo err >&2; exit 7\"]}"
	check "
import base64
assert base64.b64decode(d['stdout']) == b'out\n', d
assert base64.b64decode(d['stderr']) == b'err\n', d
assert d['exit_code'] == 7, d"
	rpc_ok ExecSync "{\"container_id\": \"$CTR\", \"cmd\": [\"cat\", \"/proc/1/cmdline\"]}"
	check "
import base64
assert base64.b64decode(d['stdout']) == b'sleep\x001000\x00', d
assert d['exit_code'] == 0, d"
	# the timeout: the command killed, DEADLINE_EXCEEDED as containerd answers
	rpc ExecSync "{\"container_id\": \"$CTR\", \"cmd\": [\"sleep\", \"100\"], \"timeout\": 1}"
	[[ "$output" == "ERROR DEADLINE_EXCEEDED "* ]] || fail "a timed-out ExecSync: $output"
	rpc_ok ExecSync "{\"container_id\": \"$CTR\", \"cmd\": [\"sh\", \"-c\", \"ps -o comm | grep -c '^sleep' || true\"]}"
	check "
import base64
assert base64.b64decode(d['stdout']) == b'1\n', d   # the timed-out sleep is gone"
	rpc_err ExecSync "{\"container_id\": \"$nosuch\", \"cmd\": [\"true\"]}" NOT_FOUND "not found"
	rpc_err ExecSync "{\"container_id\": \"$CTR\"}" INVALID_ARGUMENT ""
	rpc_ok ExecSync "{\"container_id\": \"$CTR\", \"cmd\": [\"/no/such/binary\"]}"
	check "assert d['exit_code'] != 0, d"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: Exec, Attach, PortForward answer a URL on 127.0.0.1; bad requests refused" {
	local nosuch
	nosuch=$(printf nosuch | sha256sum | cut -d' ' -f1)
	start_cri
	runp urls
	create urls app 'exec sleep 1000'
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	rpc_ok Exec "{\"container_id\": \"$CTR\", \"cmd\": [\"sh\"], \"stdout\": true}"
	local u1 u2
	u1=$(json_get 'd["url"]' <<<"$output")
	[[ "$u1" =~ ^http://127\.0\.0\.1:[0-9]+/exec/[A-Za-z0-9_-]+$ ]] || fail "Exec: $output"
	rpc_ok Attach "{\"container_id\": \"$CTR\", \"stdout\": true}"
	[[ "$(json_get 'd["url"]' <<<"$output")" =~ ^http://127\.0\.0\.1:[0-9]+/attach/[A-Za-z0-9_-]+$ ]] || fail "Attach: $output"
	rpc_ok PortForward "{\"pod_sandbox_id\": \"$SB\", \"port\": [80]}"
	[[ "$(json_get 'd["url"]' <<<"$output")" =~ ^http://127\.0\.0\.1:[0-9]+/portforward/[A-Za-z0-9_-]+$ ]] || fail "PortForward: $output"
	rpc_ok Exec "{\"container_id\": \"$CTR\", \"cmd\": [\"sh\"], \"stdout\": true}"
	u2=$(json_get 'd["url"]' <<<"$output")
	[ "$u1" != "$u2" ] || fail "two Execs got one token"

	rpc_err Exec "{\"container_id\": \"$nosuch\", \"cmd\": [\"sh\"], \"stdout\": true}" NOT_FOUND "not found"
	rpc_err Exec "{\"container_id\": \"$CTR\", \"stdout\": true}" INVALID_ARGUMENT ""
	rpc_err Attach "{\"container_id\": \"$nosuch\", \"stdout\": true}" NOT_FOUND "not found"
	rpc_err PortForward "{\"pod_sandbox_id\": \"$nosuch\", \"port\": [80]}" NOT_FOUND "not found"
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 0}"
	rpc Exec "{\"container_id\": \"$CTR\", \"cmd\": [\"sh\"], \"stdout\": true}"
	[[ "$output" == ERROR* ]] || fail "Exec into a stopped container: $output"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

@test "cri api pods: UpdateContainerResources (the cgroup at once), ReopenContainerLog (the log moved, reopened, new lines in the new file)" {
	local nosuch
	nosuch=$(printf nosuch | sha256sum | cut -d' ' -f1)
	start_cri
	runp res
	create res app 'while :; do echo tick; sleep 0.1; done'
	rpc_ok StartContainer "{\"container_id\": \"$CTR\"}"
	local cg f
	cg=$(inspect_get res-0 'd["peapod"]["cgroup"]["path"]' apins)
	rpc_ok UpdateContainerResources "{\"container_id\": \"$CTR\", \"linux\": {\"memory_limit_in_bytes\": 67108864}}"
	[ "$output" = "{}" ] || fail "UpdateContainerResources answered $output"
	f=/sys/fs/cgroup/$cg/app-0/memory.max
	[ -f "$f" ] || f=/sys/fs/cgroup/memory/$cg/app-0/memory.limit_in_bytes
	[ "$(cat "$f")" = 67108864 ] || fail "$f: $(cat "$f")"
	rpc_err UpdateContainerResources "{\"container_id\": \"$nosuch\", \"linux\": {\"memory_limit_in_bytes\": 67108864}}" NOT_FOUND "not found"

	local log=$TEST_DIR/logs/res/app.log
	eventually 10 grep -q ' stdout F tick$' "$log"
	mv "$log" "$log.1"
	rpc_ok ReopenContainerLog "{\"container_id\": \"$CTR\"}"
	[ "$output" = "{}" ] || fail "ReopenContainerLog answered $output"
	eventually 10 grep -q ' stdout F tick$' "$log"
	local n1
	n1=$(wc -l <"$log.1")
	sleep 0.5
	[ "$(wc -l <"$log.1")" -eq "$n1" ] || fail "the old log still grows"
	rpc_err ReopenContainerLog "{\"container_id\": \"$nosuch\"}" NOT_FOUND "not found"
	rpc_ok StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 0}"
	rpc ReopenContainerLog "{\"container_id\": \"$CTR\"}"
	[[ "$output" == ERROR*"not running"* ]] || fail "ReopenContainerLog of a stopped container: $output"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	stop_cri
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# The server killed between a sandbox coming up and its answer

# killed_at STEP NAME: RunPodSandbox of sandbox NAME with the server's job
# SIGKILLed at fault point STEP (the call fails), then the server too;
# started again.
killed_at() {
	rm -f "$TEST_DIR/fired"
	PEAPOD_FAULT="$1:kill" PEAPOD_FAULT_ONCE="$TEST_DIR/fired" start_cri
	rpc RunPodSandbox "{\"config\": $(sb_config "$2")}"
	[[ "$output" == ERROR* ]] || fail "the call was answered: $output"
	[ -e "$TEST_DIR/fired" ] || fail "the fault did not fire"
	kill -KILL "$CRI_PID"
	wait "$CRI_PID" 2>/dev/null || true
	CRI_PID=
	rm -f "$SOCK"
	: >"$TEST_DIR/cri.err"
	start_cri
}

@test "cri api pods: the server killed right after a sandbox came up (fault point): the restarted server lists it as a CRI sandbox" {
	killed_at "cri sandbox up" crash
	local id
	id=$(python3 -c 'import hashlib; print(hashlib.sha256(b"uid-crash-0").hexdigest())')
	rpc_ok ListPodSandbox '{}'
	check "
assert [s['id'] for s in d['items']] == ['$id'], d
s = d['items'][0]
assert s['state'] == 'SANDBOX_READY', s
assert s['metadata'] == {'name': 'crash', 'namespace': 'apins', 'uid': 'uid-crash', 'attempt': 0}, s
assert s['labels'] == {'app': 'crash'}, s"
	rpc_ok StopPodSandbox "{\"pod_sandbox_id\": \"$id\"}"
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$id\"}"
	[ "$(sb_ids '{}')" = "" ]
	stop_cri
	assert_no_leaks
}

@test "cri api pods: the server killed as the sandbox's name is claimed: if listed, a CRI sandbox not ready; gc leaves nothing" {
	killed_at "apply name" half
	# its record was there before its name: if listed, a CRI sandbox, not ready
	rpc_ok ListPodSandbox '{}'
	check "
assert all(s['metadata']['name'] == 'half' and s['state'] == 'SANDBOX_NOTREADY' for s in d['items']), d"
	stop_cri
	run_peapod gc
	assert_status 0
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# The node loop and the CRI

@test "cri api pods: a static pod whose image pull stalls holds no CRI request up" {
	command -v docker-registry >/dev/null && command -v skopeo >/dev/null ||
		skip "docker-registry or skopeo is missing (make deps)"
	start_fixture fake STALL
	wait_fixture STALL
	conf <<EOF
[[registry]]
location = "127.0.0.1:$STALL_PORT"
insecure = true
EOF
	start_cri
	cat >"$TEST_DIR/manifests/slow.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: 127.0.0.1:$STALL_PORT/stall/img:1
      imagePullPolicy: Always
      command: ["sleep", "1000"]
EOF
	# the pull has begun: the registry holds it
	eventually 30 grep -q '"/v2/stall/img/blobs/' "$STALL_DIR/requests"
	rpc_ok Version '{}'
	check 'assert d["runtime_name"] == "peapod", d'
	runp quick
	rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$SB\"}"
	check 'assert d["status"]["state"] == "SANDBOX_READY", d'
	if [ -x "$CRICTL" ]; then
		crictl version
		assert_status 0
		assert_line "RuntimeName:  peapod"
	fi
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	rm "$TEST_DIR/manifests/slow.yaml"
	stop_cri
	stop_fixtures
	# the static pod's supervisor (the pass that made it is gone with the node)
	"$PEAPOD" delete pod "slow-$(hostname | tr "[:upper:]" "[:lower:]")" >/dev/null 2>&1 || true
	run_peapod gc
	assert_no_leaks
}

@test "cri api pods: a static pod's slow stop (its grace period) holds no CRI request up: the node's pass runs apart" {
	local host pod
	host=$(hostname | tr '[:upper:]' '[:lower:]')
	pod=linger-$host
	mkdir -p "$TEST_DIR/manifests"
	cat >"$TEST_DIR/manifests/linger.yaml" <<EOF2
apiVersion: v1
kind: Pod
metadata:
  name: linger
spec:
  terminationGracePeriodSeconds: 60
  containers:
    - name: c
      image: $IMAGE
      command: ["sh", "-c", "trap '' TERM; echo armed; while :; do sleep 0.1; done"]
EOF2
	start_cri
	eventually 60 logs_have "$pod" armed
	# the file goes: the node's pass stops the pod, which ignores TERM
	# for its whole grace period
	rm "$TEST_DIR/manifests/linger.yaml"
	eventually 30 status_is "$pod" Terminating
	rpc_ok Version '{}'
	check 'assert d["runtime_name"] == "peapod", d'
	runp quick
	rpc_ok PodSandboxStatus "{\"pod_sandbox_id\": \"$SB\"}"
	check 'assert d["status"]["state"] == "SANDBOX_READY", d'
	rpc_ok RemovePodSandbox "{\"pod_sandbox_id\": \"$SB\"}"
	# all answered while the pass still waited for the pod
	status_is "$pod" Terminating || fail "the pod's stop ended before the CRI answered: $("$PEAPOD" get pods -A)"
	stop_cri
	"$PEAPOD" delete pod "$pod" --grace-period=0 >/dev/null 2>&1 || true
	eventually 30 test ! -e "$PEAPOD_RUN/names/default/$pod"
	assert_no_leaks
}

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
	rm_kube_cgroups
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

# ---------------------------------------------------------------------------
# The Linux config as kubelet sends it (issue #19): cgroup parent, devices,
# masked and read-only paths, user namespaces, RuntimeConfig, the sandbox's
# containers in its status.

# rpc METHOD JSON: one call with cri-client.py (grpcio, stubs from our proto).
rpc() {
	CRI_CLIENT_GEN=$SUITE_TMP/cri-client run "$LIB/cri-client.py" "$SOCK" "$1" "$2"
	assert_status 0
}

# cg_mounts: the mount point of every cgroup hierarchy on this host.
cg_mounts() {
	awk '($3 == "cgroup" || $3 == "cgroup2") && index($2, "/sys/fs/cgroup") == 1 {print $2}' /proc/self/mounts
}

# rm_kube_cgroups: the cgroup parents the tests play kubelet with, gone.
rm_kube_cgroups() {
	local m d
	for m in $(cg_mounts); do
		for d in "$m/${PEAPOD_CGROUP_PARENT}-kubelet" "$m/${PEAPOD_CGROUP_PARENT}-ours"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	return 0
}

@test "cri linux: RuntimeConfig says cgroupfs; Status's default handler claims user namespaces" {
	rpc RuntimeConfig '{}'
	[ "$(json_get 'd["linux"]["cgroup_driver"]' <<<"$output")" = CGROUPFS ] || fail "$output"
	rpc Status '{}'
	[ "$(json_get 'd["runtime_handlers"][0]["features"]["user_namespaces"]' <<<"$output")" = true ] ||
		fail "$output"
}

@test "cri linux: cgroup_parent: the pod's cgroups under kubelet's parent in every hierarchy; stats, update; kubelet's parent stays, the levels we made go; a slice refused" {
	local kube=/${PEAPOD_CGROUP_PARENT}-kubelet ours=/${PEAPOD_CGROUP_PARENT}-ours m pid line
	for m in $(cg_mounts); do mkdir -p "$m$kube/besteffort/poda"; done
	runp web 0 "\"linux\": {\"cgroup_parent\": \"$kube/besteffort/poda\"}"
	create web app 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	local cg=$kube/besteffort/poda/pod-uid-web-0
	[ "$(inspect_get web-0 'd["peapod"]["cgroup"]["path"]' crins)" = "$cg" ]
	pid=$(cat /sys/fs/cgroup/unified$cg/app-0/cgroup.procs)
	[ -n "$pid" ] || fail "no process in $cg/app-0"
	# every hierarchy the container is in (those peapod joins): under
	# the parent, the unified one first of all
	local members=()
	grep -qxF "0::$cg/app-0" /proc/"$pid"/cgroup || fail "$(cat /proc/"$pid"/cgroup)"
	while IFS=: read -r _ ctrl path; do
		[ "$path" = / ] && continue
		[ "$path" = "$cg/app-0" ] || fail "/proc/$pid/cgroup: $ctrl at $path, not $cg/app-0"
		members+=("/sys/fs/cgroup/${ctrl:-unified}")
	done </proc/"$pid"/cgroup
	[ "${#members[@]}" -ge 3 ] || fail "$(cat /proc/"$pid"/cgroup)"
	crictl stats -o json "$CTR"
	assert_status 0
	[ "$(json_get 'int(d["stats"][0]["memory"]["workingSetBytes"]["value"]) > 0' <<<"$output")" = true ] ||
		fail "$output"
	crictl update --memory 67108864 "$CTR"
	assert_status 0
	local f=/sys/fs/cgroup/memory$cg/app-0/memory.limit_in_bytes
	[ -f "$f" ] || f=/sys/fs/cgroup$cg/app-0/memory.max
	[ "$(cat "$f")" = 67108864 ] || fail "$f: $(cat "$f")"
	crictl rmp -f "$POD"
	assert_status 0
	for m in $(cg_mounts); do
		[ ! -e "$m$cg" ] || fail "$m$cg is left"
		[ -d "$m$kube/besteffort/poda" ] || fail "kubelet's $m$kube/besteffort/poda was removed"
	done

	# a parent kubelet has not made yet: made, and gone with the pod
	runp db 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/podb\"}"
	for m in "${members[@]}"; do
		[ -d "$m$ours/besteffort/podb/pod-uid-db-0" ] || fail "no $m$ours/besteffort/podb/pod-uid-db-0"
	done
	crictl rmp -f "$POD"
	assert_status 0
	for m in $(cg_mounts); do [ ! -e "$m$ours" ] || fail "$m$ours is left"; done

	# the same after a crash: the supervisor killed, its record says where
	# its cgroup is (state file cgroup-parent), the removal finds it
	runp crash 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/podc\"}"
	local sup
	sup=$(sup_pid crash-0 crins)
	[ -d "/sys/fs/cgroup/unified$ours/besteffort/podc/pod-uid-crash-0" ] || fail "no pod cgroup"
	kill -KILL "$sup"
	eventually 10 none_alive "$sup"
	crictl rmp -f "$POD"
	assert_status 0
	for m in $(cg_mounts); do [ ! -e "$m$ours" ] || fail "$m$ours is left after the crash"; done

	# two sandboxes under one parent the first made: it stays while the
	# second lives, whichever goes first, and goes with the last
	runp one 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/shared\"}"
	local first=$POD
	runp two 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/shared\"}"
	crictl rmp -f "$first"
	assert_status 0
	for m in "${members[@]}"; do
		[ ! -e "$m$ours/besteffort/shared/pod-uid-one-0" ] || fail "$m: the first sandbox's cgroup is left"
		[ -d "$m$ours/besteffort/shared/pod-uid-two-0" ] || fail "$m: the second sandbox's cgroup is gone"
	done
	crictl rmp -f "$POD"
	assert_status 0
	for m in $(cg_mounts); do [ ! -e "$m$ours" ] || fail "$m$ours is left after the last sandbox"; done

	# a record lost (a crash, a hand): gc finds the cgroup by the ledger
	# of what peapod made outside its parent and removes it and the
	# levels it made; a live sandbox under kubelet's parent stays
	runp lost 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/podl\"}"
	create lost app 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	runp kept 0 "\"linux\": {\"cgroup_parent\": \"$kube/besteffort/poda\"}"
	local kept=$POD lost_pids
	lost_pids=$(cat /sys/fs/cgroup/unified$ours/besteffort/podl/pod-uid-lost-0/*/cgroup.procs)
	[ -n "$lost_pids" ] || fail "no process in the lost sandbox"
	sup=$(sup_pid lost-0 crins)
	kill -KILL "$sup"
	# shellcheck disable=SC2086
	eventually 10 none_alive "$sup" $lost_pids
	rm -rf "${PEAPOD_RUN:?}/pods/uid-lost-0"
	[ -d "/sys/fs/cgroup/unified$ours/besteffort/podl/pod-uid-lost-0" ] || fail "no cgroup left to find"
	run_peapod gc
	assert_status 0
	for m in $(cg_mounts); do [ ! -e "$m$ours" ] || fail "$m$ours is left after gc"; done
	for m in "${members[@]}"; do
		[ -d "$m$kube/besteffort/poda/pod-uid-kept-0" ] ||
			fail "gc removed $m$kube/besteffort/poda/pod-uid-kept-0 of a live sandbox"
	done
	! grep -qs lost "$PEAPOD_RUN/cgroup-made" ||
		fail "the ledger still lists the lost sandbox: $(cat "$PEAPOD_RUN/cgroup-made")"
	crictl rmp -f "$kept"
	assert_status 0
	crictl rmp -f "$(crictl pods -q --name lost)" >/dev/null 2>&1 || true

	# systemd's driver, and paths that are no cgroup's
	crictl runp "$(pod_config slice 0 '"linux": {"cgroup_parent": "kubepods-besteffort.slice"}')"
	[ "$status" -ne 0 ] || fail "a slice was taken"
	assert_stdout_contains "InvalidArgument"
	assert_stdout_contains "systemd slice"
	crictl runp "$(pod_config dots 0 '"linux": {"cgroup_parent": "/kubepods/../etc"}')"
	[ "$status" -ne 0 ] || fail "a parent with .. was taken"
	assert_stdout_contains "InvalidArgument"
	crictl pods
	refute_stdout_contains slice
	for m in $(cg_mounts); do rmdir "$m$kube/besteffort/poda" "$m$kube/besteffort" "$m$kube"; done
	assert_no_leaks
}

@test "cri linux: cgroup_parent on a pure v2 layout (emulated): the pod's cgroup and its infra leaf under kubelet's parent" {
	[ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/freezer ] ||
		skip "emulating a v2 layout needs a hybrid host (cgroup2 at /sys/fs/cgroup/unified)"
	skip_unless_private_mounts
	stop_cri
	# the server (and the supervisors it starts) where cgroup2 is /sys/fs/cgroup
	unshare -m --propagation private sh -c 'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"' \
		sh "$PEAPOD" node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK" 2>>"$TEST_DIR/cri.err" &
	CRI_PID=$!
	mkdir -p "$TEST_DIR/manifests"
	eventually 10 test -S "$SOCK"
	local kube=/${PEAPOD_CGROUP_PARENT}-kubelet u=/sys/fs/cgroup/unified
	mkdir -p "$u$kube/besteffort/podv"
	runp v2 0 "\"linux\": {\"cgroup_parent\": \"$kube/besteffort/podv\"}"
	create v2 app 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	local cg=$kube/besteffort/podv/pod-uid-v2-0 pid
	[ -n "$(cat "$u$cg/_infra/cgroup.procs")" ] || fail "no infra in $cg/_infra"
	[ -z "$(cat "$u$cg/cgroup.procs")" ] || fail "a process in $cg itself (v2's no-internal-process rule)"
	pid=$(cat "$u$cg/app-0/cgroup.procs")
	grep -qxF "0::$cg/app-0" /proc/"$pid"/cgroup || fail "$(cat /proc/"$pid"/cgroup)"
	crictl rmp -f "$POD"
	assert_status 0
	[ ! -e "$u$cg" ] || fail "$u$cg is left"
	[ -d "$u$kube/besteffort/podv" ] || fail "kubelet's parent was removed"
	stop_cri
	assert_no_leaks
}

# ours_gone: no level of the test's own cgroup parent in any hierarchy,
# and no line of it in the ledger of what peapod made.
ours_gone() {
	local ours=/${PEAPOD_CGROUP_PARENT}-ours m
	for m in $(cg_mounts); do [ ! -e "$m$ours" ] || fail "$m$ours is left"; done
	! grep -qs -- "-ours" "$PEAPOD_RUN/cgroup-made" ||
		fail "the ledger still lists it: $(cat "$PEAPOD_RUN/cgroup-made")"
}

@test "cri linux: cgroup_parent: a sandbox failed at its cgroups (EIO) or its supervisor killed there leaves no level we made, once gc ran" {
	local ours=/${PEAPOD_CGROUP_PARENT}-ours mode
	for mode in EIO kill; do
		stop_cri
		rm -f "$TEST_DIR/fired"
		: >"$TEST_DIR/cri.err"
		PEAPOD_FAULT="pod cgroups:$mode" PEAPOD_FAULT_ONCE="$TEST_DIR/fired" start_cri
		crictl runp "$(pod_config "f${mode,,}" 0 "\"linux\": {\"cgroup_parent\": \"$ours/besteffort/pod${mode,,}\"}")"
		[ "$status" -ne 0 ] || fail "$mode: the sandbox came up: $output"
		[ -e "$TEST_DIR/fired" ] || fail "$mode: the fault did not fire"
		# the fault's own error lines are the server's: not a clean stop
		kill -KILL "$CRI_PID"
		wait "$CRI_PID" 2>/dev/null || true
		CRI_PID=
		rm -f "$SOCK"
		: >"$TEST_DIR/cri.err"
		# EIO: the failed start removed what it made; kill: gc does
		[ "$mode" = EIO ] && ours_gone
		run_peapod gc
		assert_status 0
		ours_gone
		start_cri
	done
	assert_no_leaks
}

@test "cri linux: devices: host nodes in the container's /dev with their permissions in the devices cgroup; a bad one refused" {
	runp dev
	create dev app 'exec sleep 1000' \
		'"devices": [{"host_path": "/dev/zero", "container_path": "/dev/myzero", "permissions": "rwm"}, {"host_path": "/dev/loop-control", "container_path": "/dev/sub/lc", "permissions": "r"}]'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	run_peapod exec -n crins dev-0 -c app-0 -- sh -c 'head -c 4 /dev/myzero | od -An -tx1; ls -l /dev/myzero /dev/sub/lc'
	assert_status 0
	assert_line_re "^ *00 00 00 00$"
	assert_line_re "^crw-rw-rw- .* 1, +5 .*/dev/myzero$"
	assert_line_re "^crw------- .* 10, +237 .*/dev/sub/lc$"
	# "r": opened for reading, not for writing (the cgroup says no)
	run_peapod exec -n crins dev-0 -c app-0 -- sh -c 'exec 3</dev/sub/lc && echo read-ok'
	assert_status 0
	assert_stdout read-ok
	run_peapod exec -n crins dev-0 -c app-0 -- sh -c 'exec 3>/dev/sub/lc && echo write-ok'
	[ "$status" -ne 0 ] || fail "written: $output"
	assert_stderr_contains "Operation not permitted"
	# a container without it has neither
	create dev other 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	run_peapod exec -n crins dev-0 -c other-0 -- ls /dev/myzero
	[ "$status" -ne 0 ] || fail "$output"

	# what is no device, or goes elsewhere than /dev
	crictl create "$POD" "$(ctr_config bad1 'true' '"devices": [{"host_path": "/etc/passwd", "container_path": "/dev/p"}]')" "$TEST_DIR/pod-dev-0.json"
	[ "$status" -ne 0 ] || fail "a file taken as a device"
	assert_stdout_contains "InvalidArgument"
	assert_stdout_contains "config.devices[0]: host_path /etc/passwd is not a character or block device"
	crictl create "$POD" "$(ctr_config bad2 'true' '"devices": [{"host_path": "/dev/zero", "container_path": "/etc/zero"}]')" "$TEST_DIR/pod-dev-0.json"
	[ "$status" -ne 0 ] || fail "a device outside /dev taken"
	assert_stdout_contains "under /dev/"
	crictl create "$POD" "$(ctr_config bad3 'true' '"devices": [{"host_path": "/dev/zero", "container_path": "/dev/z", "permissions": "rx"}]')" "$TEST_DIR/pod-dev-0.json"
	[ "$status" -ne 0 ] || fail "permissions rx taken"
	assert_stdout_contains "only the letters r, w and m"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri linux: devices under the eBPF device program (PEAPOD_CGROUP_DEVICES=bpf): the extra rules with their permissions" {
	stop_cri
	PEAPOD_CGROUP_DEVICES=bpf start_cri
	runp bpf
	create bpf app 'exec sleep 1000' \
		'"devices": [{"host_path": "/dev/loop-control", "container_path": "/dev/lc", "permissions": "r"}]'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	# no v1 rule for it: the program is what lets it be read
	local devlist
	devlist=$(cat "/sys/fs/cgroup/devices$(inspect_get bpf-0 'd["peapod"]["cgroup"]["path"]' crins)/app-0/devices.list")
	[[ "$devlist" != *"10:237"* ]] || fail "a v1 rule: $devlist"
	run_peapod exec -n crins bpf-0 -c app-0 -- sh -c 'exec 3</dev/lc && echo read-ok'
	assert_status 0
	assert_stdout read-ok
	run_peapod exec -n crins bpf-0 -c app-0 -- sh -c 'exec 3>/dev/lc && echo write-ok'
	[ "$status" -ne 0 ] || fail "written: $output"
	assert_stderr_contains "Operation not permitted"
	run_peapod exec -n crins bpf-0 -c app-0 -- sh -c 'exec 3</dev/null && exec 4>/dev/null && echo defaults-ok'
	assert_status 0
	assert_stdout defaults-ok
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri linux: masked and read-only paths from the request replace peapod's defaults; none given keeps them" {
	runp mask
	create mask app 'exec sleep 1000' \
		'"linux": {"security_context": {"masked_paths": ["/proc/version"], "readonly_paths": ["/proc/sys", "/proc/sysrq-trigger"]}}'
	crictl start "$CTR"
	assert_status 0
	run_peapod exec -n crins mask-0 -c app-0 -- cat /proc/version
	assert_status 0
	assert_stdout ""
	# a default (timer_list) is not masked any more
	run_peapod exec -n crins mask-0 -c app-0 -- head -1 /proc/timer_list
	assert_status 0
	assert_stdout_contains "Timer List"
	run_peapod exec -n crins mask-0 -c app-0 -- sh -c 'echo 1 >/proc/sys/kernel/ns_last_pid'
	[ "$status" -ne 0 ] || fail "/proc/sys written"
	create mask plain 'exec sleep 1000'
	crictl start "$CTR"
	assert_status 0
	run_peapod exec -n crins mask-0 -c plain-0 -- cat /proc/timer_list
	assert_status 0
	assert_stdout ""
	run_peapod exec -n crins mask-0 -c plain-0 -- cat /proc/version
	assert_stdout_contains "Linux"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

@test "cri linux: a user namespace with kubelet's mappings (hostUsers: false): root inside, the range in uid_map, freed by rmp" {
	local base=$((4001 * 65536)) map
	map="{\"host_id\": $base, \"container_id\": 0, \"length\": 65536}"
	pod_config userns >/dev/null
	local cfg
	cfg=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["linux"]={"security_context": {"namespace_options": {"userns_options": {"mode": "POD", "uids": [json.loads(sys.argv[2])], "gids": [json.loads(sys.argv[2])]}}}}; print(json.dumps({"config": d}))' \
		"$TEST_DIR/pod-userns-0.json" "$map")
	rpc RunPodSandbox "$cfg"
	POD=$(json_get 'd["pod_sandbox_id"]' <<<"$output") || fail "$output"
	[ ${#POD} -eq 64 ] || fail "$output"
	[ -f "$PEAPOD_RUN/userns/4001" ] || fail "no range 4001: $(ls "$PEAPOD_RUN/userns")"
	create userns app 'exec sleep 1000' \
		'"devices": [{"host_path": "/dev/zero", "container_path": "/dev/myzero", "permissions": "rw"}]'
	crictl start "$CTR"
	assert_status 0
	wait_state "$CTR" CONTAINER_RUNNING
	run_peapod exec -n crins userns-0 -c app-0 -- sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map'
	assert_status 0
	assert_line 0
	[ "$(grep -c -E "^ +0 +$base +65536$" <<<"$output")" = 2 ] || fail "$output"
	# a device in the user namespace's /dev, owned by its root
	run_peapod exec -n crins userns-0 -c app-0 -- sh -c 'head -c 2 /dev/myzero | od -An -tx1; stat -c %u /dev/myzero'
	assert_status 0
	assert_line_re "^ *00 00$"
	assert_line 0
	# another sandbox cannot take the same range
	local cfg2=${cfg//uid-userns/uid-userns2}
	rpc RunPodSandbox "${cfg2//\"name\": \"userns\"/\"name\": \"userns2\"}"
	assert_stdout_contains "ERROR"
	assert_stdout_contains "held by another pod"
	# mappings peapod cannot do, refused
	rpc RunPodSandbox "${cfg//\"length\": 65536/\"length\": 1000}"
	assert_stdout_contains "ERROR INVALID_ARGUMENT"
	assert_stdout_contains "userns_options.uids[0]"
	crictl rmp -f "$POD"
	assert_status 0
	[ ! -e "$PEAPOD_RUN/userns/4001" ] || fail "the range is still held"
	assert_no_leaks
}

@test "cri linux: PodSandboxStatus lists the sandbox's containers as ContainerStatus does, with a timestamp" {
	runp st
	create st one 'exec sleep 1000'
	local one=$CTR
	crictl start "$one"
	assert_status 0
	create st two 'exit 3'
	rpc PodSandboxStatus "{\"pod_sandbox_id\": \"$POD\"}"
	[ "$(json_get 'int(d["timestamp"]) > 0' <<<"$output")" = true ] || fail "$output"
	[ "$(json_get 'len(d["containers_statuses"])' <<<"$output")" = 2 ] || fail "$output"
	[ "$(json_get '[c["state"] for c in d["containers_statuses"] if c["id"] == "'"$one"'"][0]' <<<"$output")" = CONTAINER_RUNNING ] ||
		fail "$output"
	[ "$(json_get '[c["state"] for c in d["containers_statuses"] if c["id"] == "'"$CTR"'"][0]' <<<"$output")" = CONTAINER_CREATED ] ||
		fail "$output"
	[ "$(json_get '[c["metadata"]["name"] for c in d["containers_statuses"]] == ["one", "two"] or [c["metadata"]["name"] for c in d["containers_statuses"]] == ["two", "one"]' <<<"$output")" = true ] ||
		fail "$output"
	crictl rm "$CTR"
	assert_status 0
	rpc PodSandboxStatus "{\"pod_sandbox_id\": \"$POD\"}"
	[ "$(json_get 'len(d["containers_statuses"])' <<<"$output")" = 1 ] || fail "$output"
	crictl rmp -f "$POD"
	assert_status 0
	assert_no_leaks
}

# Helpers of the tests of applied (detached) pods: pods.bats and pods_io.bats.
# Loaded after helpers.bash.

# apply_pod [APPLY FLAGS...] <<'EOF' ... EOF: writes the manifest and runs
# `peapod apply -f FILE`; sets POD_FILE, status, output and stderr.
apply_pod() {
	POD_FILE=$(write_manifest)
	run_peapod apply -f "$POD_FILE" "$@"
}

# apply_ok [APPLY FLAGS...] <<'EOF': apply_pod that must succeed.
apply_ok() {
	apply_pod "$@"
	[ "$status" -eq 0 ] || fail "peapod apply failed"
}

# pp ARGS...: peapod under a timeout, output straight through.
pp() {
	timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" "$@"
}

# json_get EXPR: evaluates the Python expression EXPR on the JSON document
# on stdin (bound to d); strings print raw, anything else as JSON.
json_get() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
try:
    v = eval(sys.argv[1])
except (KeyError, IndexError, TypeError):
    sys.exit(3)
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# inspect_get NAME EXPR [NAMESPACE]: json_get on `peapod inspect NAME`.
inspect_get() {
	pp inspect "$1" -n "${3:-default}" | json_get "$2"
}

# pod_uid NAME [NAMESPACE]: the uid the names index holds for the pod.
pod_uid() {
	head -n1 "$PEAPOD_RUN/names/${2:-default}/$1"
}

# pod_events NAME: the pod's events as the supervisor wrote them,
# "CONTAINER REASON: message" a line ("-" for the pod's own).
pod_events() {
	local uid
	uid=$(pod_uid "$1") || return 1
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print("%s %s: %s" % (e.get("container", "-"), e["reason"], e["message"]))' \
		"$PEAPOD_RUN/pods/$uid/events"
}

# has_event NAME GREP-PATTERN: an event line of the pod matches.
has_event() {
	pod_events "$1" | grep -- "$2" >/dev/null
}

# state_status NAME [NAMESPACE]: the pod's status.json as the supervisor wrote it.
state_status() {
	local uid
	uid=$(pod_uid "$@") || return 1
	cat "$PEAPOD_RUN/pods/$uid/status.json"
}

# sup_pid NAME [NAMESPACE]: the pod's supervisor, found among the peapod-sup
# processes (pgrep -x) by the pid its status.json records.
sup_pid() {
	local p
	p=$(state_status "$@" | json_get 'd["peapod"]["supervisorPid"]') || return 1
	if ! pgrep -x peapod-sup | grep -qx "$p"; then
		echo "no peapod-sup process with pid $p" >&2
		return 1
	fi
	echo "$p"
}

# container_pids NAME: the pids of the pod's running containers (status.json).
container_pids() {
	state_status "$1" | json_get '" ".join(str(c["pid"]) for c in d["status"].get("initContainerStatuses", []) + d["status"]["containerStatuses"] if "pid" in c)'
}

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# none_alive PID...: none of the processes is alive.
none_alive() {
	local p
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}

# eventually SECONDS CMD...: retries CMD every 0.1 s until it succeeds; the
# last try shows its output.
eventually() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" || {
		echo "FAIL: still not true after $n tries 0.1 s apart: $*"
		return 1
	}
}

# get_row NAME [NAMESPACE]: the table row of the pod, fields split by spaces.
get_row() {
	pp get pods "$1" -n "${2:-default}" | awk 'NR == 2'
}

# get_column NAME COLUMN: one column (1 NAME, 2 READY, 3 STATUS, 4 RESTARTS, 5 AGE).
get_column() {
	get_row "$1" | awk -v c="$2" '{print $c}'
}

status_is() {
	[ "$(get_column "$1" 3)" = "$2" ]
}

phase_is() {
	[ "$(inspect_get "$1" 'd["status"]["phase"]')" = "$2" ]
}

# ready NAME: the pod's Ready condition is True.
ready() {
	[ "$(inspect_get "$1" '[c["status"] for c in d["status"]["conditions"] if c["type"] == "Ready"][0]')" = True ]
}

# logs_have NAME LINE [LOGS FLAGS...]: `peapod logs` shows LINE.
logs_have() {
	local name=$1 line=$2
	shift 2
	pp logs "$name" "$@" 2>/dev/null | grep -qxF -- "$line"
}

# start_bg CMD...: runs CMD in the background (output in $TEST_DIR/out and
# $TEST_DIR/err, pid in BG_PID) for wait_for_line and wait_bg.
start_bg() {
	"$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
}

# ms_since START_NS: milliseconds since a `date +%s%N`.
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# delete_ok NAME...: deletes pods that must exist.
delete_ok() {
	run_peapod delete "$@"
	[ "$status" -eq 0 ] || fail "peapod delete $* failed"
}

# sleeper_pod NAME [POD_LINES] [CONTAINER_LINES]: a restartPolicy Always pod
# with one container c that runs until stopped and stops at once on SIGTERM
# (UNTIL_TERM); the lines as sh_pod takes them.
sleeper_pod() {
	sh_pod "$1" Always "$UNTIL_TERM" "${2:-}" "${3:-}"
}

# inspect_is NAME EXPR VALUE: inspect_get NAME EXPR prints VALUE.
inspect_is() {
	[ "$(inspect_get "$1" "$2" 2>/dev/null)" = "$3" ]
}

# restarts_at_least NAME N: the pod's first app container restarted N times or more.
restarts_at_least() {
	local n
	n=$(inspect_get "$1" 'd["status"]["containerStatuses"][0]["restartCount"]' 2>/dev/null) || return 1
	[ "$n" -ge "$2" ]
}

no_infra() {
	[ -z "$(suite_infra_pids)" ]
}

no_supervisor() {
	[ -z "$(suite_supervisor_pids)" ]
}

# no_cgroup_procs: no process left in the suite's cgroups.
no_cgroup_procs() {
	local d
	for d in $(cgroup_parent_dirs); do
		[ -z "$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] || return 1
	done
	return 0
}

# deaf_pod NAME: a pod with one container c that ignores SIGTERM and a grace
# period of 30 s: only the end of the grace period (or --force) stops it.
deaf_pod() {
	cat <<POD
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 30
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
POD
}

# crash_once_pod NAME: a restartPolicy Always pod whose container c prints
# "instance N" (0 first), exits 1 the first time and runs until stopped
# after its restart (the count lives in an emptyDir, which a restart keeps).
crash_once_pod() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	sh_pod "$1" Always '
n=$(cat /data/n 2>/dev/null || echo 0)
echo $((n + 1)) > /data/n
echo "instance $n"
[ "$n" -ge 1 ] || exit 1
trap '"'exit 0'"' TERM
while true; do sleep 0.1; done' \
		'  volumes: [{name: data, emptyDir: {}}]' \
		'      volumeMounts: [{name: data, mountPath: /data}]'
}

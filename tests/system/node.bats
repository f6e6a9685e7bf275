#!/usr/bin/env bats
# peapod node: the manifest directory's static pods kept running by the
# node process (src/node): files added, changed, touched, removed, broken;
# the process killed and started again; pods deleted by hand or whose
# supervisor died made again; a simulated reboot and the boot path; one
# node process per host; the sysv init script and the systemd unit.

load helpers
load pods_helpers

HOST=$(hostname | tr '[:upper:]' '[:lower:]')

eval "suite_teardown() $(declare -f teardown | tail -n +2)"

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	NODE_PID=
	MDIR=$TEST_DIR/manifests
	NODE_LOG=$TEST_DIR/node.log
	mkdir -p "$MDIR"
}

teardown() {
	node_kill KILL
	suite_teardown
}

# node_start [DIR|env]: the node process in the background on DIR (default
# MDIR; env: MDIR given by PEAPOD_MANIFEST_DIR); waits for its first pass
# ("ready").
node_start() {
	local before
	before=$(grep -c ' ready: ' "$NODE_LOG" 2>/dev/null || true)
	if [ "${1:-}" = env ]; then
		PEAPOD_MANIFEST_DIR=$MDIR "$PEAPOD" node 2>>"$NODE_LOG" &
	else
		"$PEAPOD" node --manifests "${1:-$MDIR}" 2>>"$NODE_LOG" &
	fi
	NODE_PID=$!
	eventually 60 ready_count_above "${before:-0}" || {
		cat "$NODE_LOG"
		return 1
	}
}

ready_count_above() {
	[ "$(grep -c ' ready: ' "$NODE_LOG")" -gt "$1" ]
}

# node_kill SIGNAL: the node process, by its pid. TERM: it must have been
# running still and exit 0.
node_kill() {
	[ -n "${NODE_PID:-}" ] || return 0
	local pid=$NODE_PID rc=0
	NODE_PID=
	if [ "$1" = TERM ]; then
		kill -TERM "$pid" || fail "the node process was gone: $(cat "$NODE_LOG")"
		wait "$pid" || rc=$?
		[ "$rc" -eq 0 ] || fail "the node process exited $rc: $(cat "$NODE_LOG")"
		return 0
	fi
	kill -"$1" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# static_pod NAME SCRIPT: a static pod file's text (restartPolicy Always).
static_pod() {
	sh_pod "$1" Always "$2" | sed "s|@IMAGE@|$IMAGE|g"
}

# put FILE: stdin written to MDIR/FILE as kubelet's users do (a temp
# file renamed in: one IN_MOVED_TO).
put() {
	cat >"$MDIR/.$1.tmp"
	mv "$MDIR/.$1.tmp" "$MDIR/$1"
}

running() {
	status_is "$1" Running
}

gone() {
	! pp get pod "$1" >/dev/null 2>&1
}

no_suite_processes() {
	[ -z "$(suite_supervisor_pids)$(suite_infra_pids)" ]
}

# suite_ctrl_pid: the pid of a peapod-ctrl of this suite (fails when none).
suite_ctrl_pid() {
	local p
	for p in $(pgrep -x peapod-ctrl); do
		if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "PEAPOD_RUN=$PEAPOD_RUN"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# cpu_ticks PID: user + system clock ticks the process used.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# made_again NAME OLD_UID: a pod NAME exists with another uid.
made_again() {
	local u
	u=$(pod_uid "$1") && [ "$u" != "$2" ]
}

annotation() {
	inspect_get "$1" "d[\"metadata\"][\"annotations\"][\"$2\"]"
}

# pod_count: how many pods there are, all namespaces.
pod_count() {
	find "$PEAPOD_RUN/names" -mindepth 2 -maxdepth 2 -type f 2>/dev/null | wc -l
}

@test "node: a file added makes its pod NAME-<host>, annotated as kubelet does; touched: untouched; edited: replaced; removed: deleted" {
	node_start
	static_pod web "$UNTIL_TERM" | put web.yaml
	eventually 30 running "web-$HOST"
	[ "$(annotation "web-$HOST" kubernetes.io/config.source)" = file ]
	[ "$(annotation "web-$HOST" peapod.io/config.file)" = "$MDIR/web.yaml" ]
	[[ "$(annotation "web-$HOST" kubernetes.io/config.hash)" =~ ^[0-9a-f]{32}$ ]]
	[[ "$(annotation "web-$HOST" kubernetes.io/config.seen)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
	local uid sup
	uid=$(pod_uid "web-$HOST")
	sup=$(sup_pid "web-$HOST")
	# idle, it does nothing: no pass without an event (its own actions
	# on the records do not wake it again and again)
	local passes
	passes=$(cpu_ticks "$NODE_PID")
	sleep 1
	[ $(($(cpu_ticks "$NODE_PID") - passes)) -le 1 ] || fail "the idle node process spins"

	# touched, and rewritten with the same content: left alone
	touch "$MDIR/web.yaml"
	static_pod web "$UNTIL_TERM" | put web.yaml
	kill -HUP "$NODE_PID"
	eventually 10 grep -q 'SIGHUP: a full resync' "$NODE_LOG"
	sleep 0.5
	[ "$(pod_uid "web-$HOST")" = "$uid" ] || fail "an unchanged file replaced its pod"
	[ "$(sup_pid "web-$HOST")" = "$sup" ]

	# edited (another command): the pod is replaced
	static_pod web "echo v2; $UNTIL_TERM" | put web.yaml
	eventually 30 grep -q "pod default/web-$HOST replaced (its manifest changed)" "$NODE_LOG"
	eventually 30 running "web-$HOST"
	[ "$(pod_uid "web-$HOST")" != "$uid" ] || fail "the pod was not replaced"
	eventually 10 logs_have "web-$HOST" v2
	[ "$(pod_count)" = 1 ]

	# an editor's swap file and a file of another extension: ignored
	echo 'garbage: [' >"$MDIR/.web.yaml.swp"
	echo 'garbage: [' >"$MDIR/notes.txt"
	sleep 0.5
	! grep -q 'swp\|notes.txt' "$NODE_LOG" || fail "a dotfile or a .txt file was read"

	# removed: the pod is deleted
	rm "$MDIR/web.yaml"
	eventually 30 gone "web-$HOST"
	eventually 10 grep -q "pod default/web-$HOST deleted (its file was removed)" "$NODE_LOG"
	node_kill TERM
	grep -q 'exiting, the pods keep running' "$NODE_LOG"
	assert_no_leaks
}

@test "node: a broken file is reported with file:line: field, nothing made from it, the other files' pods made; fixed: made" {
	static_pod good "$UNTIL_TERM" | put good.yaml
	static_pod bad "$UNTIL_TERM" | sed 's/restartPolicy: Always/restartPolicy: Sometimes/' | put bad.yaml
	node_start
	eventually 30 running "good-$HOST"
	grep -q "$MDIR/bad.yaml:[0-9]*:[0-9]*: spec.restartPolicy: .*its pods are left as they are" "$NODE_LOG" ||
		fail "no error naming the file, line and field: $(cat "$NODE_LOG")"
	gone "bad-$HOST"
	[ "$(grep -c 'bad.yaml' "$NODE_LOG")" = 1 ] || fail "the error was said more than once"
	# a kind that is not a Pod: refused the same way
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n' | put cm.yaml
	eventually 10 grep -q "$MDIR/cm.yaml:1:1: kind: only Pods" "$NODE_LOG"
	rm "$MDIR/cm.yaml"

	# a broken edit of a running pod's file: the pod is left as it was
	local uid
	uid=$(pod_uid "good-$HOST")
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec: {containers: [{name: c}]}\n' | put good.yaml
	eventually 10 grep -q "$MDIR/good.yaml:.*spec.containers\[0\].image" "$NODE_LOG"
	sleep 0.3
	[ "$(pod_uid "good-$HOST")" = "$uid" ] || fail "a broken file's pod was touched"

	static_pod bad "$UNTIL_TERM" | put bad.yaml
	eventually 30 running "bad-$HOST"
	rm "$MDIR/good.yaml" "$MDIR/bad.yaml"
	eventually 30 gone "good-$HOST"
	eventually 30 gone "bad-$HOST"
	node_kill TERM
	assert_no_leaks
}

@test "node: SIGKILL and a restart: no duplicate, the same pods; a pod deleted by hand and one whose supervisor died are made again" {
	static_pod one "$UNTIL_TERM" | put one.yaml
	static_pod two "$UNTIL_TERM" | put two.yml
	# started from another working directory with a relative path: the
	# files are named the same in the annotations (absolute)
	cd "$TEST_DIR"
	node_start manifests/
	cd - >/dev/null
	eventually 30 running "one-$HOST"
	eventually 30 running "two-$HOST"
	[ "$(annotation "one-$HOST" peapod.io/config.file)" = "$MDIR/one.yaml" ]
	local u1 u2
	u1=$(pod_uid "one-$HOST")
	u2=$(pod_uid "two-$HOST")
	node_kill KILL
	running "one-$HOST" || fail "the pods did not outlive the node process"
	node_start
	[ "$(pod_uid "one-$HOST")" = "$u1" ] || fail "one was made anew"
	[ "$(pod_uid "two-$HOST")" = "$u2" ] || fail "two was made anew"
	[ "$(pod_count)" = 2 ]

	# deleted by hand: made again
	pp delete pod "one-$HOST" >/dev/null
	eventually 30 made_again "one-$HOST" "$u1"
	eventually 30 running "one-$HOST"

	# the supervisor killed: made again
	local sup
	sup=$(sup_pid "two-$HOST")
	kill -KILL "$sup"
	eventually 30 grep -q "pod default/two-$HOST created again (its supervisor was gone)" "$NODE_LOG"
	eventually 30 running "two-$HOST"
	[ "$(pod_count)" = 2 ]
	rm "$MDIR/one.yaml" "$MDIR/two.yml"
	eventually 30 gone "one-$HOST"
	eventually 30 gone "two-$HOST"
	node_kill TERM
	assert_no_leaks
}

@test "node: a simulated reboot (processes killed, PEAPOD_RUN wiped): the boot path cleans up and brings every pod back" {
	static_pod a "$UNTIL_TERM" | put a.yaml
	static_pod b "$UNTIL_TERM" | put b.yaml
	node_start
	eventually 30 running "a-$HOST"
	eventually 30 running "b-$HOST"
	local ua ub p d
	ua=$(pod_uid "a-$HOST")
	ub=$(pod_uid "b-$HOST")
	# the reboot: every process gone, /run empty, /var/lib kept
	node_kill KILL
	for p in $(suite_supervisor_pids) $(suite_infra_pids); do
		kill -KILL "$p"
	done
	for d in $(cgroup_parent_dirs); do
		for p in $(find "$d" -name cgroup.procs -exec cat {} +); do
			kill -KILL "$p" 2>/dev/null || true
		done
	done
	eventually 10 no_suite_processes
	find "$PEAPOD_RUN" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	[ -d "$PEAPOD_ROOT/pods/$ua" ] || fail "the test expects the pod's data to outlive the wipe"

	node_start
	grep -q 'gc: 2 pods cleaned up' "$NODE_LOG" || fail "gc did not clean up the two pods: $(cat "$NODE_LOG")"
	eventually 30 running "a-$HOST"
	eventually 30 running "b-$HOST"
	[ ! -d "$PEAPOD_ROOT/pods/$ua" ] || fail "gc left the old pod's data"
	[ ! -d "$PEAPOD_ROOT/pods/$ub" ] || fail "gc left the old pod's data"
	[ "$(pod_count)" = 2 ]
	rm "$MDIR/a.yaml" "$MDIR/b.yaml"
	eventually 30 gone "a-$HOST"
	eventually 30 gone "b-$HOST"
	node_kill TERM
	assert_no_leaks
}

@test "node: a config map's mount (..data symlinks, swapped atomically) and a symlinked directory" {
	local real=$TEST_DIR/cm
	mkdir -p "$real/..v1"
	static_pod cfg "$UNTIL_TERM" >"$real/..v1/cfg.yaml"
	ln -s ..v1 "$real/..data"
	ln -s ..data/cfg.yaml "$real/cfg.yaml"
	rmdir "$MDIR"
	ln -s "$real" "$MDIR"
	node_start
	eventually 30 running "cfg-$HOST"
	local uid
	uid=$(pod_uid "cfg-$HOST")
	# kubelet's atomic writer: a new ..v2, ..data swapped by a rename
	mkdir "$real/..v2"
	static_pod cfg "echo v2; $UNTIL_TERM" >"$real/..v2/cfg.yaml"
	ln -s ..v2 "$real/..data_tmp"
	mv -T "$real/..data_tmp" "$real/..data"
	eventually 30 made_again "cfg-$HOST" "$uid"
	eventually 30 logs_have "cfg-$HOST" v2
	# the directory's symlink pointed elsewhere: an empty directory
	mkdir "$TEST_DIR/empty"
	ln -s "$TEST_DIR/empty" "$TEST_DIR/m2"
	mv -T "$TEST_DIR/m2" "$MDIR"
	eventually 30 gone "cfg-$HOST"
	node_kill TERM
	assert_no_leaks
}

@test "node: a second node process is refused, naming the pid that holds the lock" {
	node_start env
	grep -q "manifests in $MDIR," "$NODE_LOG" || fail "PEAPOD_MANIFEST_DIR was not used: $(cat "$NODE_LOG")"
	run_peapod node --manifests "$MDIR"
	assert_status 1
	assert_stderr_contains "node.lock is locked by pid $NODE_PID: a node process runs already"
	[ "$(cat "/proc/$NODE_PID/comm")" = peapod-node ]
	node_kill TERM
}

@test "node: the sysv init script starts, reports and stops the node process; the pods keep running" {
	local script=$TEST_DIR/peapod-node
	run_peapod node --print-unit sysv --manifests "$MDIR"
	assert_status 0
	printf '%s\n' "$output" >"$script"
	chmod +x "$script"
	grep -q '^# Provides:          peapod-node$' "$script"
	sh -n "$script"
	static_pod svc "$UNTIL_TERM" | put svc.yaml
	export PIDFILE=$TEST_DIR/node.pid LOGFILE=$TEST_DIR/sysv.log
	run "$script" status
	[ "$status" -ne 0 ] || fail "status says running before start"
	run "$script" start
	assert_status 0
	eventually 30 running "svc-$HOST"
	run "$script" status
	assert_status 0
	assert_stdout_contains "peapod-node is running (pid $(cat "$PIDFILE"))"
	[ "$(cat "/proc/$(cat "$PIDFILE")/comm")" = peapod-node ]
	eventually 10 grep -q ' ready: ' "$LOGFILE"
	run "$script" stop
	assert_status 0
	run "$script" status
	[ "$status" -eq 3 ] || fail "status after stop: $status $output"
	running "svc-$HOST" || fail "stopping the node stopped its pods"
	pp delete pod "svc-$HOST" >/dev/null
	assert_no_leaks
}

@test "node: the systemd unit: Type=notify, KillMode=process, ExecStart on this peapod" {
	run_peapod node --print-unit systemd --manifests "$MDIR"
	assert_status 0
	assert_line "Type=notify"
	assert_line "KillMode=process"
	assert_line "ExecStart=$(readlink -f "$PEAPOD") node --manifests $MDIR"
	assert_line "WantedBy=multi-user.target"
	printf '%s\n' "$output" >"$TEST_DIR/peapod-node.service"
	# systemd-analyze (package systemd) checks it where it is installed;
	# it needs no running systemd
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify "$TEST_DIR/peapod-node.service"
		[ "$status" -eq 0 ] && [ -z "$output" ] || fail "systemd-analyze verify: $output"
	fi
	run_peapod node --print-unit upstart
	assert_status 2
}

@test "node --cri: the CRI server lives in the node process (crictl version and images on its socket); a stored Deployment's controller is started at boot" {
	local repo crictl sock
	repo=$(cd "$(dirname "$BATS_TEST_FILENAME")/../.." && pwd)
	crictl=${CRICTL:-$repo/../shared/tools/bin/crictl}
	# a Deployment whose controller is gone (as after a reboot)
	"$PEAPOD" apply -f - >/dev/null <<EOF2
apiVersion: apps/v1
kind: Deployment
metadata: {name: boot}
spec:
  replicas: 1
  selector: {matchLabels: {app: boot}}
  template:
    metadata: {labels: {app: boot}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: "$IMAGE", command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.1; done"]}]
EOF2
	local ctrl
	ctrl=$(suite_ctrl_pid)
	[ -n "$ctrl" ] || fail "no controller for the deployment"
	kill -KILL "$ctrl"
	# dead, its lock closed, before the boot (as after a reboot): a boot
	# that finds the lock still held sees a running controller
	eventually 10 exited "$ctrl"
	sock=$TEST_DIR/cri.sock
	"$PEAPOD" node --manifests "$MDIR" --cri-socket "$sock" 2>>"$NODE_LOG" &
	NODE_PID=$!
	eventually 60 ready_count_above 0 || fail "$(cat "$NODE_LOG")"
	grep -q "serving the CRI" "$NODE_LOG" || fail "$(cat "$NODE_LOG")"
	# the controller is back (started by the boot path, not by a verb)
	eventually 10 suite_ctrl_pid || fail "the boot path did not start the deployment's controller: $(cat "$NODE_LOG")"
	if [ -x "$crictl" ]; then
		run "$crictl" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" version
		assert_status 0
		assert_line_re '^RuntimeName:  peapod$'
		run "$crictl" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" images -q
		assert_status 0
	fi
	[ -S "$sock" ] || fail "no socket"
	node_kill TERM
	[ ! -e "$sock" ] || fail "the socket outlived the node process"
	"$PEAPOD" delete deployment boot >/dev/null
	eventually 30 no_suite_processes || fail "left: $(list_leaks)"
	assert_no_leaks
}

#!/usr/bin/env bats
# Faults in the long-lived processes (issue #21; util/fault.h): the steps
# of a workload's controller (peapod-ctrl: a pod created, a pod made but
# not yet told, a pod deleted, the workload's status written) and of the
# node process (a static pod's apply and delete, the boot path's gc and
# resume of the controllers) each made to fail with EIO, or the process
# killed with SIGKILL at that moment. After it (and, for a kill, the next
# start of the process): no duplicate pod, the workload converges to what
# it asks, and once it is deleted and `gc` has run nothing is left.

load helpers
load pods_helpers

HOST=$(hostname | tr '[:upper:]' '[:lower:]')
UNTIL_TERM="trap 'exit 0' TERM; while true; do sleep 1; done"

eval "suite_teardown() $(declare -f teardown | tail -n +2)"

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	NODE_PID=
	MDIR=$TEST_DIR/manifests
	NODE_LOG=$TEST_DIR/node.log
	mkdir -p "$MDIR"
}

teardown() {
	unset PEAPOD_FAULT PEAPOD_FAULT_ONCE
	if [ -n "${NODE_PID:-}" ]; then
		kill -KILL "$NODE_PID" 2>/dev/null || true
		wait "$NODE_PID" 2>/dev/null || true
	fi
	suite_teardown
}

# ---- the workload controller ----

# rs_file REPLICAS: a ReplicaSet "fr" of sleepers.
rs_file() {
	write_manifest <<EOF
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: fr
spec:
  replicas: $1
  selector:
    matchLabels: {app: fr}
  template:
    metadata:
      labels: {app: fr}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: @IMAGE@
          command: ["sh", "-c", "$UNTIL_TERM"]
EOF
}

pods_of() {
	pp get pods 2>/dev/null | awk -v p="$1" 'index($1, p) == 1' | wc -l
}

running_ready() {
	pp get pods 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 && $2 == "1/1" && $3 == "Running"' | wc -l
}

# converged N: exactly N pods of fr, all ready, and the status says so
# (`get rs` resumes a controller that was killed, as every verb does).
converged() {
	[ "$(running_ready fr-)" -eq "$1" ] && [ "$(pods_of fr-)" -eq "$1" ] &&
		"$PEAPOD" get rs fr | grep -Eq "^fr +$1 +$1 +$1 "
}

ctrl_events() {
	cat "$PEAPOD_RUN/workloads/default/replicasets/fr.events" 2>/dev/null
}

# ctrl_inject MODE STEP: the ReplicaSet applied with the fault armed (its
# controller inherits it; once); for "ctrl pod delete" scaled from 2 to 1
# to reach it. Then it converges, without a duplicate, and leaves nothing.
ctrl_inject() {
	local mode=$1 step=$2 want=2 f
	f=$(rs_file 2)
	rm -f "$TEST_DIR/fired"
	PEAPOD_FAULT="$step:$mode" PEAPOD_FAULT_ONCE=$TEST_DIR/fired "$PEAPOD" apply -f "$f" >/dev/null
	if [ "$step" = "ctrl pod delete" ]; then
		eventually 60 running_ready_is fr- 2 || return 1
		want=1
		"$PEAPOD" scale rs fr --replicas 1 >/dev/null
	fi
	eventually 30 test -e "$TEST_DIR/fired" || {
		echo "FAIL: $step:$mode never fired"
		return 1
	}
	if [ "$mode" = kill ]; then
		# the controller the fault fired in died (a verb may have resumed
		# another since: apply's own resume does when the kill came first)
		eventually 10 fired_gone || {
			local p
			echo "FAIL: $step:$mode: pid $(cat "$TEST_DIR/fired") still runs; controllers:"
			for p in $(suite_ctrl_pids); do
				ps -o pid,ppid,stat,lstart,args -p "$p" | tail -n +2
				tr '\0' '\n' <"/proc/$p/environ" | grep '^PEAPOD_FAULT' || echo "  (no PEAPOD_FAULT)"
			done
			ctrl_events
			return 1
		}
	elif [ "$step" != "ctrl status" ]; then
		# the failure is in the workload's events
		eventually 10 bash -c "grep -q 'injected fault at $step' '$PEAPOD_RUN/workloads/default/replicasets/fr.events'" || {
			echo "FAIL: $step:$mode: not in the events:"
			ctrl_events
			return 1
		}
	fi
	eventually 90 converged "$want" || {
		echo "(after $step:$mode)"
		pp get pods
		ctrl_events
		return 1
	}
	# and stays so: no late duplicate
	sleep 1
	converged "$want" || {
		echo "FAIL: $step:$mode: it did not stay at $want"
		pp get pods
		return 1
	}
	"$PEAPOD" delete -f "$f" >/dev/null || return 1
	eventually 30 count_is pods_of fr- 0 || return 1
	"$PEAPOD" gc >/dev/null || return 1
	assert_no_leaks || {
		echo "(after $step:$mode)"
		return 1
	}
}

# count_is FN [ARG] N: FN ARG prints N (evaluated at each try of eventually).
count_is() {
	[ "$("${@:1:$#-1}")" -eq "${!#}" ]
}

# fired_gone: the process the fault fired in (its pid in the once-file) is gone.
fired_gone() {
	local p
	p=$(cat "$TEST_DIR/fired" 2>/dev/null)
	[ -n "$p" ] && ! alive "$p"
}

no_ctrl() {
	[ -z "$(suite_ctrl_pids)" ]
}

running_ready_is() {
	[ "$(running_ready "$1")" -eq "$2" ]
}

@test "faults in the controller: every step reached" {
	local f
	f=$(rs_file 2)
	PEAPOD_FAULT_STEPS=$TEST_DIR/steps "$PEAPOD" apply -f "$f" >/dev/null
	eventually 60 running_ready_is fr- 2
	"$PEAPOD" scale rs fr --replicas 1 >/dev/null
	eventually 30 converged 1
	for s in "ctrl pod create" "ctrl pod created" "ctrl status" "ctrl pod delete"; do
		grep -qx "$s" "$TEST_DIR/steps" || fail "step \"$s\" not reached: $(sort -u "$TEST_DIR/steps")"
	done
	"$PEAPOD" delete -f "$f" >/dev/null
	eventually 30 count_is pods_of fr- 0
	assert_no_leaks
}

@test "faults in the controller: each step failed with EIO: an event says so, it converges, no duplicate, nothing left" {
	local s
	for s in "ctrl pod create" "ctrl pod created" "ctrl status" "ctrl pod delete"; do
		ctrl_inject EIO "$s" || return 1
	done
}

@test "faults in the controller: killed at each step: the next verb resumes it, it converges, no duplicate, nothing left" {
	local s
	for s in "ctrl pod create" "ctrl pod created" "ctrl status" "ctrl pod delete"; do
		ctrl_inject kill "$s" || return 1
	done
}

# ---- the node process ----

static_pod() {
	sh_pod "$1" Always "$UNTIL_TERM" | sed "s|@IMAGE@|$IMAGE|g"
}

put() {
	cat >"$MDIR/.$1.tmp"
	mv "$MDIR/.$1.tmp" "$MDIR/$1"
}

# node_bg [VAR=VALUE...]: the node process in the background, its log in
# NODE_LOG.
node_bg() {
	env "$@" "$PEAPOD" node --manifests "$MDIR" 2>>"$NODE_LOG" &
	NODE_PID=$!
}

node_stop() {
	[ -n "$NODE_PID" ] || return 0
	kill -TERM "$NODE_PID" 2>/dev/null || true
	wait "$NODE_PID" 2>/dev/null || true
	NODE_PID=
}

# node_died: the node process ended (by the injected SIGKILL).
node_died() {
	! kill -0 "$NODE_PID" 2>/dev/null
}

pod_count() {
	find "$PEAPOD_RUN/names" -mindepth 2 -maxdepth 2 -type f 2>/dev/null | wc -l
}

static_running() {
	status_is "s-$HOST" Running && [ "$(pod_count)" -eq 1 ]
}

# node_inject MODE STEP: the node process started with the fault armed
# (once) on a directory of one static pod; for "node pod delete" its file
# removed once the pod runs. After it (for a kill, the node started again):
# the pod is there once (or gone, for the delete), and nothing is left once
# the node stops, the file goes and gc runs.
node_inject() {
	local mode=$1 step=$2
	: >"$NODE_LOG"
	rm -f "$TEST_DIR/fired"
	static_pod s | put s.yaml
	node_bg PEAPOD_FAULT="$step:$mode" PEAPOD_FAULT_ONCE="$TEST_DIR/fired"
	if [ "$step" = "node pod delete" ]; then
		eventually 60 static_running || return 1
		rm "$MDIR/s.yaml"
	fi
	eventually 30 test -e "$TEST_DIR/fired" || {
		echo "FAIL: $step:$mode never fired"
		cat "$NODE_LOG"
		return 1
	}
	if [ "$mode" = kill ] && [[ "$step" == "node pod "* ]]; then
		# a pass runs in a process of its own: that one is killed, the
		# node says so, lives on and tries again after its back-off
		eventually 10 grep -q "a pass's process ended (signal 9)" "$NODE_LOG" || {
			echo "FAIL: $step:$mode: the node's log does not say the pass died"
			cat "$NODE_LOG"
			return 1
		}
		! node_died || {
			echo "FAIL: $step:$mode: the node died with its pass"
			cat "$NODE_LOG"
			return 1
		}
	elif [ "$mode" = kill ]; then
		eventually 10 node_died || return 1
		wait "$NODE_PID" 2>/dev/null || true
		node_bg
	else
		eventually 10 grep -q "injected fault at $step" "$NODE_LOG" || {
			echo "FAIL: $step:$mode: the node's log does not say so"
			cat "$NODE_LOG"
			return 1
		}
	fi
	if [ "$step" = "node pod delete" ]; then
		# a failed delete is tried again after the back-off
		eventually 60 count_is pod_count 0 || {
			cat "$NODE_LOG"
			return 1
		}
	else
		eventually 60 static_running || {
			echo "(after $step:$mode)"
			cat "$NODE_LOG"
			return 1
		}
		sleep 1
		[ "$(pod_count)" -eq 1 ] || {
			echo "FAIL: $step:$mode: a duplicate"
			return 1
		}
		rm "$MDIR/s.yaml"
		eventually 30 count_is pod_count 0 || return 1
	fi
	node_stop
	"$PEAPOD" gc >/dev/null || return 1
	assert_no_leaks || {
		echo "(after $step:$mode)"
		return 1
	}
}

@test "faults in the node process: every step reached" {
	static_pod s | put s.yaml
	node_bg PEAPOD_FAULT_STEPS="$TEST_DIR/steps"
	eventually 60 static_running
	rm "$MDIR/s.yaml"
	eventually 30 count_is pod_count 0
	node_stop
	for s in "node gc" "node resume" "node pod apply" "node pod delete"; do
		grep -qx "$s" "$TEST_DIR/steps" || fail "step \"$s\" not reached: $(sort -u "$TEST_DIR/steps")"
	done
	assert_no_leaks
}

@test "faults in the node process: each step failed with EIO: logged, retried, the pod there once, nothing left" {
	local s
	for s in "node gc" "node resume" "node pod apply" "node pod delete"; do
		node_inject EIO "$s" || return 1
	done
}

@test "faults in the node process: killed at each step (the node, or its pass's process), started again or retried: the pod there once, nothing left" {
	local s
	for s in "node gc" "node resume" "node pod apply" "node pod delete"; do
		node_inject kill "$s" || return 1
	done
}

@test "faults in the node process: the boot path's resume failed: the next verb starts the stored workload's controller" {
	local f
	f=$(rs_file 1)
	"$PEAPOD" apply -f "$f" >/dev/null
	eventually 60 converged 1
	# a reboot's loss of the controller
	kill -KILL "$(suite_ctrl_pids)"
	eventually 10 no_ctrl
	node_bg PEAPOD_FAULT="node resume:EIO"
	eventually 30 grep -q "workloads: injected fault at node resume" "$NODE_LOG"
	[ -z "$(suite_ctrl_pids)" ] || fail "resumed despite the fault"
	# any verb resumes it
	eventually 30 converged 1
	[ -n "$(suite_ctrl_pids)" ]
	node_stop
	"$PEAPOD" delete -f "$f" >/dev/null
	eventually 30 count_is pods_of fr- 0
	assert_no_leaks
}

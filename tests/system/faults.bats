#!/usr/bin/env bats
# Faults injected at every step (issue #21; util/fault.h): each step of a
# pod's start and stop that peapod-test reaches is made to fail with EIO, or
# the process doing it killed with SIGKILL at that moment. After each, a
# delete and `gc` leave nothing behind (the suite's leak checks), the pod's
# record said what happened, the image store is intact, and the same pod
# applies and runs again.

load helpers
load pods_helpers

# container set-up faults are retried after the crash-loop back-off: a tenth of it
export PEAPOD_TEST_TIME_SCALE=0.1

# A pod of two containers (an init container and an app container with a
# volume), as much of the set-up as one pod goes through.
fault_pod() {
	write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: f
spec:
  terminationGracePeriodSeconds: 1
  volumes:
    - {name: scratch, emptyDir: {}}
  initContainers:
    - {name: init, image: "@IMAGE@", command: ["sh", "-c", "echo ready > /scratch/ready"],
       volumeMounts: [{name: scratch, mountPath: /scratch}]}
  containers:
    - name: c
      image: "@IMAGE@"
      command: ["sh", "-c", "trap 'exit 0' TERM; cat /scratch/ready; while true; do sleep 0.1; done"]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
EOF
}

# The steps a clean start and delete of the pod reach, in order, once each.
pod_steps() {
	local f=$1
	PEAPOD_FAULT_STEPS=$TEST_DIR/steps "$PEAPOD" apply -f "$f" >/dev/null
	"$PEAPOD" wait f --for=condition=Ready --timeout=30s >/dev/null
	PEAPOD_FAULT_STEPS=$TEST_DIR/steps "$PEAPOD" delete f >/dev/null
	awk '!seen[$0]++' "$TEST_DIR/steps"
}

image_intact() {
	"$PEAPOD" image inspect "$IMAGE" >/dev/null || return 1
	"$PEAPOD" image ls | grep -q "busybox" || return 1
	# no layer left half-unpacked in the store
	[ -z "$(find "$PEAPOD_ROOT/layers" -maxdepth 2 -name '.tmp*' 2>/dev/null)" ]
}

runs_again() {
	"$PEAPOD" apply -f "$1" >/dev/null || return 1
	"$PEAPOD" wait f --for=condition=Ready --timeout=30s >/dev/null || return 1
	"$PEAPOD" delete f >/dev/null
}

# inject MODE STEP FILE: one pass: apply and delete with the fault armed
# (once), then gc; echoes what happened for the failure message.
inject() {
	local mode=$1 step=$2 f=$3 rc
	export PEAPOD_FAULT="$step:$mode" PEAPOD_FAULT_ONCE=$TEST_DIR/fired
	rm -f "$TEST_DIR/fired"
	rc=0
	timeout -k 5 30 "$PEAPOD" apply -f "$f" >"$TEST_DIR/out" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		# started: let it reach Ready or fail, whichever the fault allows
		timeout 20 "$PEAPOD" wait f --for=condition=Ready --timeout=15s >/dev/null 2>&1 || true
		# the record says what happened (an errno fault in the supervisor
		# or a container's set-up: its message is in an event)
		if [ "$mode" = EIO ] && [ -e "$TEST_DIR/fired" ]; then
			case $step in
			apply* | delete* | teardown*) ;;
			*)
				timeout 10 "$PEAPOD" describe pod f 2>&1 | grep -q "injected fault at $step" || {
					echo "FAIL: $step:$mode: the record does not say what happened"
					timeout 10 "$PEAPOD" describe pod f 2>&1
					return 1
				}
				;;
			esac
		fi
	elif [ "$mode" = EIO ]; then
		grep -q "injected fault at $step" "$TEST_DIR/out" || {
			echo "FAIL: $step:$mode: apply failed without naming the fault (exit $rc):"
			cat "$TEST_DIR/out"
			return 1
		}
	fi
	timeout -k 5 30 "$PEAPOD" delete f >/dev/null 2>&1 || true
	[ -e "$TEST_DIR/fired" ] || {
		echo "FAIL: $step:$mode never fired"
		return 1
	}
	unset PEAPOD_FAULT PEAPOD_FAULT_ONCE
	# what a fault left: a second delete and gc remove it
	timeout -k 5 30 "$PEAPOD" delete f >/dev/null 2>&1 || true
	timeout -k 5 30 "$PEAPOD" gc >"$TEST_DIR/gc.out" 2>&1 || {
		echo "FAIL: $step:$mode: gc failed (exit $?):"
		cat "$TEST_DIR/gc.out"
		return 1
	}
	assert_no_leaks || {
		echo "(after $step:$mode)"
		return 1
	}
	image_intact || {
		echo "FAIL: $step:$mode: the image store is not intact"
		return 1
	}
	runs_again "$f" || {
		echo "FAIL: $step:$mode: the pod does not run again"
		return 1
	}
	assert_no_leaks
}

@test "faults: the steps of a pod's start and stop are all reached, and the release build ignores PEAPOD_FAULT" {
	local f steps
	f=$(fault_pod)
	steps=$(pod_steps "$f")
	for s in "apply record" "apply name" "sup files" "pod cgroups" "pod volumes" "sandbox infra" \
		"sandbox network" "pod sandbox" "sup control socket" "ctr writable layer" "ctr cgroups" \
		"ctr namespaces" "ctr rootfs" "ctr security" "teardown sandbox" "teardown cgroups" \
		"teardown files" "delete record"; do
		grep -qx "$s" <<<"$steps" || fail "step \"$s\" not reached: $steps"
	done
	# peapod (no test knobs) does not read the variable: no way in for users
	local release=${PEAPOD%-test}
	[ "$release" != "$PEAPOD" ] && [ -x "$release" ] || skip "no release build beside $PEAPOD"
	PEAPOD_FAULT="apply record:EIO" "$release" apply -f "$f" >/dev/null
	"$release" wait f --for=condition=Ready --timeout=30s >/dev/null
	"$release" delete f >/dev/null
	assert_no_leaks
}

@test "faults: every step failed with EIO: nothing left, the record says why, the pod runs again" {
	local f step
	f=$(fault_pod)
	while read -r step; do
		inject EIO "$step" "$f" || return 1
	done < <(pod_steps "$f")
}

@test "faults: the process at every step killed with SIGKILL: nothing left after gc, the pod runs again" {
	local f step
	f=$(fault_pod)
	while read -r step; do
		inject kill "$step" "$f" || return 1
	done < <(pod_steps "$f")
}

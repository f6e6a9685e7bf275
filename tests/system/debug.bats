#!/usr/bin/env bats
# peapod debug: ephemeral containers (kubectl debug) in running pods,
# including a pod whose image has no shell, only a static program.

load helpers
load pods_helpers

NOSHELL_IMAGE=peapod-test/noshell:1

# A "distroless" image: /idle (tests/helpers/idle.c) and a file to find.
setup_file() {
	local root=$BATS_FILE_TMPDIR/noshell
	mkdir -p "$root/etc"
	cp "$HELPERS/idle" "$root/idle"
	echo "only in the target" >"$root/etc/secret.txt"
	"$PEAPOD" image import "$root" "$NOSHELL_IMAGE" --entrypoint '["/idle"]' >/dev/null
	rm -rf "$root"
}

teardown_file() {
	"$PEAPOD" image rm "$NOSHELL_IMAGE" >/dev/null 2>&1 || true
}

# noshell_pod NAME: a running pod of the image without a shell, container app.
noshell_pod() {
	apply_ok <<MANIFEST
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  hostname: $1-host
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: $NOSHELL_IMAGE
MANIFEST
	eventually 10 phase_is "$1" Running
}

# ephemeral_get NAME C EXPR: json_get on ephemeral container C's status.
ephemeral_get() {
	inspect_get "$1" "[c for c in d['status']['ephemeralContainerStatuses'] if c['name'] == '$2'][0]$3"
}

# terminated_code NAME C CODE: ephemeral container C has exited with CODE.
terminated_code() {
	[ "$(ephemeral_get "$1" "$2" "['state']['terminated']['exitCode']")" = "$3" ]
}

ephemeral_running() {
	[ "$(ephemeral_get "$1" "$2" "['state'].get('running') is not None")" = true ]
}

@test "debug -i: a busybox debugger with --target sees the shell-less target's processes, files and hostname" {
	noshell_pod target
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" debug target -i --image "$IMAGE" \
		--target app -c dbg -- sh -c 'read line; echo "got $line"; hostname; ps -o pid,args; cat /proc/1/root/etc/secret.txt' <<<"hello"
	[ "$status" -eq 0 ] || fail "debug failed"
	assert_line "got hello"
	assert_line "target-host"
	assert_line_re '^ *1 /idle$'
	assert_line "only in the target"
	# kubectl's name message only when the name is defaulted
	refute_stderr_contains "Defaulting debug container name"
	# Over, never restarted, listed in spec and status.
	eventually 10 terminated_code target dbg 0
	[ "$(ephemeral_get target dbg "['restartCount']")" = 0 ]
	[ "$(inspect_get target "d['spec']['ephemeralContainers'][0]['name']")" = dbg ]
	[ "$(inspect_get target "d['spec']['ephemeralContainers'][0]['targetContainerName']")" = app ]
	# The pod runs on, its own container untouched.
	phase_is target Running
	[ "$(inspect_get target "d['status']['containerStatuses'][0]['restartCount']")" = 0 ]
	run_peapod get pods target -o json
	assert_status 0
	assert_stdout_contains '"ephemeralContainerStatuses"'
	run_peapod logs target -c dbg
	assert_status 0
	assert_line "got hello"
	assert_line "only in the target"
	run_peapod delete target
	assert_status 0
	assert_no_leaks
}

@test "debug -it: a terminal, a shell in the target's PID namespace, its exit code recorded" {
	noshell_pod term
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" debug term -it --image "$IMAGE" \
		--target app -c sh1 -- sh <<<'echo marker-$((6*7)); ps -o pid,args; exit 5'
	assert_status 0
	assert_stdout_contains "marker-42"
	assert_line_re ' *1 /idle.*'
	assert_stderr_contains "If you don't see a command prompt, try pressing enter."
	eventually 10 terminated_code term sh1 5
	[ "$(inspect_get term "d['spec']['ephemeralContainers'][0]['tty']")" = true ]
	[ "$(ephemeral_get term sh1 "['ready']")" = false ]
	run_peapod describe pod term
	assert_status 0
	assert_stdout_contains "Ephemeral Containers:"
	assert_stdout_contains "sh1"
	run_peapod delete term
	assert_status 0
	assert_no_leaks
}

@test "debug without --target: the pod's namespaces, a PID namespace of its own" {
	noshell_pod solo
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" debug solo -i --image "$IMAGE" \
		-c look -- sh -c 'hostname; ps -o pid,args' </dev/null
	assert_status 0
	assert_line "solo-host"
	refute_stdout_contains "/idle"
	run_peapod delete solo
	assert_status 0
	assert_no_leaks
}

@test "debug without -i: the default name said, detached, never restarted; a name taken is refused" {
	noshell_pod bg
	run_peapod debug bg --image "$IMAGE" --target app -- sh -c 'echo from debugger; exit 3'
	assert_status 0
	assert_stderr_contains "Defaulting debug container name to debugger-"
	name=$(echo "$stderr" | sed -n 's/^Defaulting debug container name to \(debugger-[a-z0-9]\{5\}\)\.$/\1/p')
	[ -n "$name" ] || fail "no debugger-xxxxx name in: $stderr"
	eventually 10 terminated_code bg "$name" 3
	# The pod's restartPolicy (Always) does not apply: it stays over.
	sleep 1
	[ "$(ephemeral_get bg "$name" "['restartCount']")" = 0 ]
	terminated_code bg "$name" 3
	phase_is bg Running
	run_peapod logs bg -c "$name"
	assert_stdout "from debugger"
	# The API server's rules: a name is never reused, nor an app container's.
	run_peapod debug bg --image "$IMAGE" -c "$name" -- true
	assert_status 1
	assert_stderr_contains "already has a container named \"$name\""
	run_peapod debug bg --image "$IMAGE" -c app -- true
	assert_status 1
	assert_stderr_contains 'already has a container named "app"'
	run_peapod debug bg --image "$IMAGE" --target nosuch -- true
	assert_status 1
	assert_stderr_contains 'target container "nosuch" not found'
	[ "$(inspect_get bg "len(d['status']['ephemeralContainerStatuses'])")" = 1 ]
	run_peapod delete bg
	assert_status 0
	assert_no_leaks
}

@test "debug: a running debugger is stopped with the pod, nothing left" {
	noshell_pod longrun
	run_peapod debug longrun --image "$IMAGE" -c waiter --target app -- sleep 1000
	assert_status 0
	eventually 10 ephemeral_running longrun waiter
	run_peapod delete longrun
	assert_status 0
	assert_no_leaks
}

@test "debug into a pod that is not running, or absent, is refused" {
	apply_ok < <(sh_pod done Never 'echo bye')
	eventually 10 phase_is done Succeeded
	run_peapod debug done -i --image "$IMAGE" -- true
	assert_status 1
	assert_stderr_contains "pod done is not running"
	run_peapod debug nosuch --image "$IMAGE" -- true
	assert_status 1
	run_peapod debug done -t --image "$IMAGE"
	assert_status 2
	run_peapod debug done
	assert_status 2
	assert_stderr_contains "--image is required"
	run_peapod debug done --image "$IMAGE" --image-pull-policy Sometimes
	assert_status 2
	assert_stderr_contains "not Always, IfNotPresent or Never"
	run_peapod delete done
	assert_no_leaks
}

@test "debug: a paused pod is refused; at most 8 ephemeral containers, each with its own log" {
	local k # not i: bats' run sets a global i
	noshell_pod many
	pp pause many
	run_peapod debug many --image "$IMAGE" -c p0 -- true
	assert_status 1
	assert_stderr_contains "pod many is paused"
	pp unpause many
	for k in 1 2 3 4 5 6 7 8; do
		run_peapod debug many --image "$IMAGE" -c "e$k" -- echo "I am e$k"
		assert_status 0
	done
	run_peapod debug many --image "$IMAGE" -c e9 -- true
	assert_status 1
	assert_stderr_contains "pod many has 8 ephemeral containers already"
	for k in 1 2 3 4 5 6 7 8; do
		eventually 10 terminated_code many "e$k" 0
		run_peapod logs many -c "e$k"
		assert_stdout "I am e$k"
	done
	[ "$(inspect_get many "[c['name'] for c in d['spec']['ephemeralContainers']]")" = '["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"]' ]
	run_peapod delete many
	assert_status 0
	assert_no_leaks
}

@test "debug: an image that cannot be pulled is reported, the pod runs on" {
	noshell_pod nopull
	run_peapod debug nopull -i --image "127.0.0.1:1/none:1" -c bad -- true
	assert_status 1
	assert_stderr_contains "ErrImagePull"
	run_peapod debug nopull -i --image "peapod-test/absent:1" --image-pull-policy Never -c never -- true
	assert_status 1
	assert_stderr_contains 'ErrImageNeverPull: Container image "peapod-test/absent:1" is not present with pull policy of Never'
	[ "$(inspect_get nopull "[c['imagePullPolicy'] for c in d['spec']['ephemeralContainers']]")" = '["IfNotPresent", "Never"]' ]
	phase_is nopull Running
	run_peapod delete nopull
	assert_status 0
	assert_no_leaks
}

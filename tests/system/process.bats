#!/usr/bin/env bats
# The container's process: command, args and env as Kubernetes composes
# them (with the image's defaults), exit codes, restart policies, init and
# sidecar containers, and stopping a pod with signals.

load helpers

# state_pod NAME RESTART_POLICY SCRIPT: sh_pod with an emptyDir at /state,
# which outlives the container's restarts (where a script counts its runs).
state_pod() {
	sh_pod "$1" "$2" "$3" '  volumes: [{name: state, emptyDir: {}}]' \
		'      volumeMounts: [{name: state, mountPath: /state}]'
}

@test "command, args and env with \$(VAR) expansion and \$\$ escaping" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: expansion
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["echo", "$(A)-$(B)"]
      args: ["$$(A)", "$(UNDEFINED)", "$(C)", "$(D)", "x$$$(A)"]
      env:
        - {name: A, value: one}
        - {name: B, value: two}
        - {name: C, value: "$(A)+$(B)"}
        - {name: D, value: "$(E)"}
        - {name: E, value: late}
EOF
	assert_status 0
	assert_stdout '[c] one-two $(A) $(UNDEFINED) one+two $(E) x$one'
	assert_no_leaks
}

@test "env values reach the process and override the image's" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: env-pod
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @DEFAULTS_IMAGE@
      command: ["sh", "-c", "echo \"$GREETING|$EMPTY|$SPACES|$PATH\""]
      env:
        - {name: GREETING, value: bye}
        - {name: EMPTY, value: ""}
        - {name: SPACES, value: "a  b"}
EOF
	assert_status 0
	assert_stdout "[c] bye||a  b|/usr/local/bin:/usr/bin:/bin"
	assert_no_leaks
}

@test "the image's entrypoint and cmd run when the manifest has neither" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: image-defaults
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @DEFAULTS_IMAGE@
EOF
	assert_status 0
	assert_stdout "[c] from image"
	assert_no_leaks
}

@test "args alone replace the image's cmd and keep its entrypoint" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: args-only
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @DEFAULTS_IMAGE@
      args: ["from", "args"]
EOF
	assert_status 0
	assert_stdout "[c] from args"
	assert_no_leaks
}

@test "command replaces both entrypoint and cmd; the image's env, workdir and user stay" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: command-only
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @DEFAULTS_IMAGE@
      command: ["sh", "-c", "echo $GREETING; pwd; id -u; id -g; id -un; echo n=$#", "argv0"]
EOF
	assert_status 0
	assert_stdout "[c] hi
[c] /srv
[c] 1000
[c] 1000
[c] app
[c] n=0"
	assert_no_leaks
}

@test "workingDir overrides the image's; a missing workingDir is created" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: workdir
spec:
  restartPolicy: Never
  containers:
    - name: a
      image: @DEFAULTS_IMAGE@
      workingDir: /tmp
      command: ["pwd"]
    - name: b
      image: @IMAGE@
      workingDir: /does/not/exist
      command: ["pwd"]
EOF
	assert_status 0
	assert_line "[a] /tmp"
	assert_line "[b] /does/not/exist"
	assert_no_leaks
}

@test "the busybox image runs as root in / with its PATH" {
	run_pod <<<"$(sh_pod root-user Never 'id -u; pwd; echo $PATH')"
	assert_status 0
	assert_stdout "[c] 0
[c] /
[c] /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_no_leaks
}

@test "env valueFrom fieldRef: metadata.name, metadata.namespace and metadata.uid" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: field-ref
  namespace: team-a
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "echo name=$POD_NAME ns=$POD_NS; echo uid=$POD_UID; echo ref=$REF"]
      env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NS
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: POD_UID
          valueFrom: {fieldRef: {fieldPath: metadata.uid}}
        - name: REF
          value: "$(POD_NAME).$(POD_NS)"
EOF
	assert_status 0
	assert_line "[c] name=field-ref ns=team-a"
	assert_line_re '\[c\] uid=[0-9a-f-]{8,}'
	assert_line "[c] ref=field-ref.team-a"
	assert_no_leaks
}

@test "the namespace defaults to default" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: default-ns
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "echo ns=$POD_NS"]
      env:
        - name: POD_NS
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
EOF
	assert_status 0
	assert_stdout "[c] ns=default"
	assert_no_leaks
}

@test "stdout and stderr lines go to peapod's stdout and stderr with the container's name" {
	run_pod <<<"$(sh_pod streams Never 'echo to-out; echo to-err >&2; printf "no newline"')"
	assert_status 0
	assert_stdout "[c] to-out
[c] no newline"
	assert_stderr_line "[c] to-err"
	refute_stderr_contains "to-out"
	assert_no_leaks
}

@test "a pod whose containers all exit 0 exits 0" {
	run_pod <<<"$(pair_pod all-ok '["true"]' '["sh", "-c", "exit 0"]')"
	assert_status 0
	assert_no_leaks
}

@test "a failed container's exit code is peapod's exit code" {
	run_pod <<<"$(sh_pod exit-three Never 'echo failing; exit 3')"
	assert_status 3
	assert_stdout "[c] failing"
	assert_no_leaks

	run_pod <<<"$(pair_pod second-fails '["true"]' '["sh", "-c", "exit 5"]')"
	assert_status 5
	assert_no_leaks
}

@test "restartPolicy Never does not restart a failed container" {
	run_pod <<<"$(state_pod never Never 'echo run >> /state/runs; echo attempt `wc -l < /state/runs`; exit 1')"
	assert_status 1
	assert_stdout "[c] attempt 1"
	assert_no_leaks
}

@test "restartPolicy OnFailure restarts a failed container until it succeeds" {
	run_pod <<<"$(state_pod on-failure OnFailure '
if [ -e /state/failed-once ]; then echo "second run succeeds"; exit 0; fi
touch /state/failed-once
echo "first run fails"
exit 7')"
	assert_status 0
	assert_stdout "[c] first run fails
[c] second run succeeds"
	assert_no_leaks
}

@test "a restarted container gets a fresh root filesystem" {
	run_pod <<<"$(state_pod fresh-root OnFailure '
[ -e /tmp/from-first-run ] && echo "root kept" || echo "root fresh"
touch /tmp/from-first-run
if [ -e /state/once ]; then exit 0; fi
touch /state/once
exit 1')"
	assert_status 0
	assert_stdout "[c] root fresh
[c] root fresh"
	assert_no_leaks
}

@test "init containers run in order, to completion, before the app containers" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: init-order
spec:
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
    - name: init-1
      image: @IMAGE@
      volumeMounts: [{name: work, mountPath: /work}]
      command: ["sh", "-c", "sleep 0.3; echo init-1 >> /work/order; echo done"]
    - name: init-2
      image: @IMAGE@
      volumeMounts: [{name: work, mountPath: /work}]
      command: ["sh", "-c", "echo init-2 >> /work/order; echo done"]
  containers:
    - name: app
      image: @IMAGE@
      volumeMounts: [{name: work, mountPath: /work}]
      command: ["sh", "-c", "echo app >> /work/order; tr '\\n' ' ' < /work/order; echo"]
EOF
	assert_status 0
	assert_line "[app] init-1 init-2 app "
	assert_order "[init-1] done" "[init-2] done"
	assert_order "[init-2] done" "[app] init-1 init-2 app "
	assert_no_leaks
}

@test "a failing init container fails the pod under Never and no app container runs" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: init-fails
spec:
  restartPolicy: Never
  initContainers:
    - {name: init, image: "@IMAGE@", command: ["sh", "-c", "echo init failing; exit 4"]}
    - {name: init-after, image: "@IMAGE@", command: ["sh", "-c", "echo should not run"]}
  containers:
    - {name: app, image: "@IMAGE@", command: ["sh", "-c", "echo should not run"]}
EOF
	assert_status 4
	assert_stdout "[init] init failing"
	assert_no_leaks
}

@test "a sidecar (init container with restartPolicy Always) runs beside the app and does not block completion" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sidecar
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
    - name: side
      image: @IMAGE@
      restartPolicy: Always
      volumeMounts: [{name: work, mountPath: /work}]
      command:
        - sh
        - -c
        - |
          trap 'echo side stopping; exit 0' TERM
          echo side up
          touch /work/side-up
          while true; do sleep 0.1; done
  containers:
    - name: app
      image: @IMAGE@
      volumeMounts: [{name: work, mountPath: /work}]
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /work/side-up ] && [ $i -lt 100 ]; do sleep 0.1; i=`expr $i + 1`; done
          [ -e /work/side-up ] && echo app sees side || echo app alone
EOF
	assert_status 0
	assert_line "[side] side up"
	assert_line "[app] app sees side"
	assert_line "[side] side stopping"
	assert_order "[app] app sees side" "[side] side stopping"
	assert_no_leaks
}

@test "a missing executable names the container and exits 128 under Never" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: no-exec
spec:
  restartPolicy: Never
  containers:
    - name: broken-one
      image: @IMAGE@
      command: ["nope"]
EOF
	assert_status 128
	assert_stderr_contains 'exec: "nope": executable file not found in $PATH'
	assert_stderr_contains "broken-one"
	assert_no_leaks
}

@test "a missing absolute executable path also exits 128" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: no-exec-abs
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["/bin/does-not-exist"]
EOF
	assert_status 128
	assert_stderr_contains "/bin/does-not-exist"
	assert_no_leaks
}

@test "-f - reads the manifest from standard input" {
	local f
	f=$(sh_pod from-stdin Never 'echo read from stdin' | write_manifest)
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" run -f - <"$f"
	assert_status 0
	assert_stdout "[c] read from stdin"
	assert_no_leaks
}

# A pod that runs until stopped; it says "ready" once its TERM trap is set.
always_pod() {
	sh_pod "$1" Always '
trap "echo got TERM; exit 0" TERM
echo ready
while true; do sleep 0.1; done'
}

@test "SIGINT stops a restartPolicy Always pod gracefully: exit 130, no leaks" {
	local f
	f=$(always_pod sigint | write_manifest)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	kill -INT "$BG_PID"
	wait_bg 20
	assert_status 130
	assert_line "[c] got TERM"
	assert_no_leaks
}

@test "SIGTERM stops a restartPolicy Always pod gracefully: exit 143, no leaks" {
	local f
	f=$(always_pod sigterm | write_manifest)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	kill -TERM "$BG_PID"
	wait_bg 20
	assert_status 143
	assert_line "[c] got TERM"
	assert_no_leaks
}

@test "a second SIGINT kills a container that ignores SIGTERM at once" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: stubborn
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 120
  containers:
    - name: c
      image: @IMAGE@
      command:
        - sh
        - -c
        - |
          trap 'echo ignoring TERM' TERM
          echo ready
          while true; do sleep 0.1; done
EOF
	)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	kill -INT "$BG_PID"
	wait_for_line "$TEST_DIR/out" "[c] ignoring TERM" 10
	kill -INT "$BG_PID"
	# Far less than the 120 s grace period.
	wait_bg 20
	assert_status 130
	assert_no_leaks
}

@test "restartPolicy Always restarts a container that exits 0" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: always-restarts
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  volumes: [{name: state, emptyDir: {}}]
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts: [{name: state, mountPath: /state}]
      command: ["sh", "-c", "echo run >> /state/runs; echo run `wc -l < /state/runs`; exit 0"]
EOF
	)
	start_pod_bg "$f"
	# The first restart is immediate; the next waits 10 s of back-off.
	wait_for_line "$TEST_DIR/out" "[c] run 2" 10
	kill -INT "$BG_PID"
	wait_bg 20
	assert_status 130
	assert_line "[c] run 1"
	assert_line "[c] run 2"
	assert_no_leaks
}

@test "a running pod has one infra process and one cgroup per container under pod-<uid>" {
	local f
	f=$(write_manifest <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: cgroups
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
    - name: first
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
    - name: second
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
EOF2
	)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[first] ready"
	wait_for_line "$TEST_DIR/out" "[second] ready"
	local infra podcg c procs
	infra=$(suite_infra_pids)
	[ "$(wc -w <<<"$infra")" -eq 1 ] || fail "expected one peapod-infra process, found: $infra"
	# A BestEffort pod: under the parent's besteffort/ group, as kubelet puts it.
	podcg=$(find "$(cgroup_parent_dirs | head -1)" -mindepth 1 -maxdepth 2 -type d -name 'pod-*')
	[[ "$podcg" == */besteffort/pod-* ]] || fail "not under besteffort/: $podcg"
	[ "$(wc -l <<<"$podcg")" -eq 1 ] && [ -n "$podcg" ] || fail "expected one pod-<uid> cgroup, found: $podcg"
	for c in first second; do
		[ -d "$podcg/$c" ] || fail "no cgroup $podcg/$c"
		procs=$(cat "$podcg/$c/cgroup.procs")
		[ -n "$procs" ] || fail "cgroup $podcg/$c has no process"
	done
	grep -qF "/${podcg#/sys/fs/cgroup/*/}" "/proc/$infra/cgroup" || fail "the infra is not in the pod's cgroup: $(cat "/proc/$infra/cgroup")"
	# In every hierarchy (born in the cgroup2 one, moved into each v1 one
	# through its tasks file): the containers' processes and the infra.
	# (peapod's parent may exist in a hierarchy peapod does not use, e.g.
	# v1's freezer on a hybrid host: another test's)
	local d cg n=0
	for d in $(cgroup_parent_dirs); do
		cg=$(find "$d" -mindepth 1 -maxdepth 2 -type d -name 'pod-*')
		[ -n "$cg" ] || continue
		n=$((n + 1))
		grep -rqx "$infra" --include=cgroup.procs "$cg" || fail "the infra is not under $cg"
		for c in first second; do
			[ -n "$(cat "$cg/$c/cgroup.procs")" ] || fail "cgroup $cg/$c has no process"
		done
	done
	[ "$n" -ge 1 ] || fail "no pod cgroup in any hierarchy"
	# The infra runs peapod-infra once set up: no libc, no capabilities,
	# no new privileges, a few pages.
	[[ "$(readlink "/proc/$infra/exe")" == */peapod-infra ]] || fail "infra runs $(readlink "/proc/$infra/exe")"
	grep -qx 'CapEff:.0000000000000000' "/proc/$infra/status" || fail "$(grep Cap "/proc/$infra/status")"
	grep -qx 'NoNewPrivs:.1' "/proc/$infra/status" || fail "no_new_privs not set"
	local rss
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$infra/status")
	[ "$rss" -lt 200 ] || fail "infra RSS ${rss} kB"
	kill -INT "$BG_PID"
	wait_bg 20
	assert_status 130
	assert_no_leaks
}

@test "--verbose prints the pod's events on stderr; without it a successful pod prints none" {
	run_pod --verbose <<<"$(sh_pod verbose-pod Never 'echo hi')"
	assert_status 0
	assert_stdout "[c] hi"
	assert_stderr_contains "peapod: "
	assert_stderr_contains "Succeeded"
	run_pod_file "$POD_FILE"
	assert_status 0
	assert_stdout "[c] hi"
	refute_stderr_contains "peapod: "
	assert_no_leaks
}

@test "a container killed by a signal fails the pod with 128+N" {
	# With a shared PID namespace the container is not PID 1 (which the
	# kernel protects from its own namespace's signals).
	run_pod <<<"$(sh_pod killed Never 'echo dying; kill -KILL $$$$' |
		sed 's/^spec:$/spec:\n  shareProcessNamespace: true/')"
	assert_status 137
	assert_stdout "[c] dying"
	assert_no_leaks
}

@test "a failing init container is restarted under OnFailure, then the app runs" {
	run_pod <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: init-retry
spec:
  restartPolicy: OnFailure
  volumes: [{name: state, emptyDir: {}}]
  initContainers:
    - name: init
      image: @IMAGE@
      volumeMounts: [{name: state, mountPath: /state}]
      command:
        - sh
        - -c
        - |
          if [ -e /state/tried ]; then echo "init ok"; exit 0; fi
          touch /state/tried; echo "init fails"; exit 1
  containers:
    - {name: app, image: "@IMAGE@", command: ["echo", "app ran"]}
EOF2
	assert_status 0
	assert_stdout "[init] init fails
[init] init ok
[app] app ran"
	assert_no_leaks
}

@test "SIGTERM: a PID 1 without a TERM handler is killed once terminationGracePeriodSeconds ends" {
	local f
	f=$(write_manifest <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: no-handler
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "echo ready; exec sleep 1000"]
    - name: d
      image: @IMAGE@
      command: ["sh", "-c", "trap 'echo ignoring TERM' TERM; echo ready; while true; do sleep 0.1; done"]
EOF2
	)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	wait_for_line "$TEST_DIR/out" "[d] ready"
	kill -TERM "$BG_PID"
	wait_bg 20
	assert_status 143
	assert_line "[d] ignoring TERM"
	assert_no_leaks
}

@test "SIGKILL of peapod run leaves the pod to its supervisor; delete then removes all of it" {
	local f
	f=$(sh_pod killed Always 'echo ready; while true; do sleep 0.1; done' | write_manifest)
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	kill -KILL "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=
	# A dead CLI never hurts a pod: it runs on, detached, like an applied one.
	run_peapod get pods killed
	[ "$status" -eq 0 ] || fail "get: $stderr"
	assert_stdout_contains "Running"
	run_peapod delete killed --grace-period 0
	[ "$status" -eq 0 ] || fail "delete: $stderr"
	assert_no_leaks
}

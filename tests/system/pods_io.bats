#!/usr/bin/env bats
# Detached pods, what goes in and out of them: logs (CRI files, -c, --tail,
# --timestamps, --previous, -f, rotation, 100 MB of output), exec, attach,
# and wait.

load helpers
load pods_helpers

# w_pod NAME SCRIPT: a restartPolicy Never pod whose container c runs SCRIPT
# with the test's $TEST_DIR/w (made by the test) at /w, where the test
# drops the files the script waits for.
w_pod() {
	sh_pod "$1" Never "$2" \
		'  volumes: [{name: w, hostPath: {path: @DIR@/w, type: Directory}}]' \
		'      volumeMounts: [{name: w, mountPath: /w}]'
}

CRI_TIME='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z'

# log_dir NAME C: the container's CRI log directory.
log_dir() {
	echo "$PEAPOD_LOG_DIR/pods/default_$1_$(pod_uid "$1")/$2"
}

# ---------------------------------------------------------------------------
# logs

@test "logs: stdout and stderr lines, -c, the default container, --tail, --timestamps, --since" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: talk
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "for i in 1 2 3 4 5; do echo out $i; done; echo err 1 >&2; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    - name: b
      image: @IMAGE@
      command: ["sh", "-c", "echo from b; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 10 logs_have talk "err 1" -c a
	eventually 10 logs_have talk "from b" -c b
	run_peapod logs talk -c a
	assert_status 0
	[ "${#lines[@]}" -eq 6 ] || fail "expected 6 lines"
	assert_order "out 1" "out 5"
	assert_line "err 1"
	run_peapod logs talk -c b
	assert_stdout "from b"
	run_peapod logs talk --container b
	assert_stdout "from b"
	# Without -c: the first container, saying so on stderr.
	run_peapod logs talk
	assert_status 0
	assert_line "out 3"
	refute_line "from b"
	assert_stderr_contains 'Defaulted container "a"'
	run_peapod logs pod/talk -c b
	assert_stdout "from b"

	run_peapod logs talk -c b --tail 1
	assert_stdout "from b"
	run_peapod logs talk -c a --tail 0
	assert_status 0
	assert_stdout ""
	# --tail on the stdout lines only (stderr last, written after them).
	run_peapod logs talk -c a --tail 3
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 lines"
	assert_line "err 1"

	run_peapod logs talk -c a --timestamps
	assert_status 0
	[ "${#lines[@]}" -eq 6 ] || fail "expected 6 lines"
	local l
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^$CRI_TIME\ (out\ [1-5]|err\ 1)$ ]] || fail "bad timestamped line: $l"
	done
	run_peapod logs talk -c a --since 5m
	[ "${#lines[@]}" -eq 6 ] || fail "expected 6 lines since 5m"
	run_peapod logs talk -c a --since 1h --tail 1
	[ "${#lines[@]}" -eq 1 ] || fail "expected 1 line"

	# Errors.
	run_peapod logs talk -c nosuch
	[ "$status" -ne 0 ] || fail "logs of a missing container succeeded"
	assert_stderr_contains "nosuch"
	run_peapod logs nopod
	[ "$status" -ne 0 ] || fail "logs of a missing pod succeeded"
	assert_stderr_contains 'pods "nopod" not found'
	run_peapod logs talk -c a --previous
	[ "$status" -ne 0 ] || fail "--previous without a restart succeeded"
	assert_stderr_contains "previous terminated container"

	delete_ok talk
	assert_no_leaks
}

@test "logs: the file is CRI format at <ns>_<name>_<uid>/<container>/0.log; long lines are split in P records" {
	apply_ok < <(sh_pod cri Never 'echo plain; echo "to stderr" >&2
awk "BEGIN { s = \"\"; for (i = 0; i < 40000; i++) s = s \"x\"; print s }"
printf "no newline at the end"')
	eventually 15 phase_is cri Succeeded
	local f
	f="$(log_dir cri c)/0.log"
	[ -f "$f" ] || fail "no log file $f"
	# Every line: <RFC3339Nano> <stdout|stderr> <P|F> <text>
	local bad
	bad=$(grep -cvE "^$CRI_TIME (stdout|stderr) (P|F) " "$f") || true
	[ "$bad" -eq 0 ] || fail "$bad lines of $f are not CRI log lines: $(grep -vE "^$CRI_TIME (stdout|stderr) (P|F) " "$f" | head -3)"
	grep -qE "^$CRI_TIME stdout F plain$" "$f" || fail "no 'stdout F plain' record"
	grep -qE "^$CRI_TIME stderr F to stderr$" "$f" || fail "no 'stderr F to stderr' record"
	# The 40000 bytes line: partial records, then a full one; whole again in logs.
	grep -qE "^$CRI_TIME stdout P x+$" "$f" || fail "no partial record for the long line"
	local total
	total=$(awk '$2 == "stdout" && $4 ~ /^x+$/ {n += length($4)} END {print n}' "$f")
	[ "$total" -eq 40000 ] || fail "the long line's records hold $total bytes"
	run_peapod logs cri
	assert_status 0
	[ "$(awk 'length($0) == 40000 && /^x+$/' <<<"$output" | wc -l)" -eq 1 ] || fail "the long line is not whole"
	assert_line "plain"
	assert_line "to stderr"
	assert_line "no newline at the end"
	delete_ok cri
	[ ! -e "$f" ] || fail "the log file outlived delete"
	assert_no_leaks
}

@test "logs --previous shows the instance before the restart" {
	apply_ok <<<"$(crash_once_pod again)"
	eventually 15 logs_have again "instance 1"
	run_peapod logs again
	assert_status 0
	assert_stdout "instance 1"
	run_peapod logs again --previous
	assert_status 0
	assert_stdout "instance 0"
	run_peapod logs again -p --timestamps
	[[ "$output" =~ ^$CRI_TIME\ instance\ 0$ ]] || fail "bad --previous --timestamps"
	[ -f "$(log_dir again c)/0.log" ] && [ -f "$(log_dir again c)/1.log" ] || fail "no 0.log and 1.log"
	delete_ok again
	assert_no_leaks
}

@test "logs -f follows new lines and ends when the container ends" {
	mkdir -p "$TEST_DIR/w"
	apply_ok <<<"$(w_pod follow '
echo "line 1"
while [ ! -e /w/go ]; do sleep 0.1; done
echo "line 2"
echo "line 2 err" >&2
while [ ! -e /w/stop ]; do sleep 0.1; done
echo "last"')"
	start_bg "$PEAPOD" logs -f follow
	wait_for_line "$TEST_DIR/out" "line 1"
	touch "$TEST_DIR/w/go"
	wait_for_line "$TEST_DIR/out" "line 2"
	wait_for_line "$TEST_DIR/out" "line 2 err"
	kill -0 "$BG_PID" || fail "logs -f ended while the container runs"
	touch "$TEST_DIR/w/stop"
	wait_bg 20
	assert_status 0
	[ "${#lines[@]}" -eq 4 ] || fail "expected 4 lines"
	assert_order "line 1" "line 2"
	assert_order "line 2" "last"
	[ "${lines[3]}" = last ] || fail "last is not the last line"
	# -f on a completed pod prints what there is and returns.
	run_peapod logs -f follow
	assert_status 0
	[ "${#lines[@]}" -eq 4 ] || fail "expected 4 lines"
	delete_ok follow
	assert_no_leaks
}

@test "logs: 100 MB written quickly come back whole, every line, in order" {
	local n=1000000
	# 100-character lines (101 bytes): a number, a space, padding.
	PEAPOD_LOG_MAX_SIZE=1Gi apply_ok < <(sh_pod big Never "awk 'BEGIN { for (j = 0; j < 92; j++) p = p \"x\"; for (i = 1; i <= $n; i++) printf \"%07d %s\\n\", i, p }'")
	POD_TIMEOUT=120 eventually 120 phase_is big Succeeded
	run_peapod inspect big
	[ "$(json_get 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]' <<<"$output")" = 0 ] ||
		fail "the writer failed"
	# One file: nothing rotated.
	[ "$(find "$(log_dir big c)" -type f | wc -l)" -eq 1 ] || fail "expected one log file: $(ls "$(log_dir big c)")"
	# Count and order with awk on what peapod logs prints.
	local res
	res=$(pp logs big | awk -v n="$n" '
		length($0) != 100 || $1 + 0 != NR { bad++; if (!first) first = NR ": " substr($0, 1, 20) }
		END { print NR, bad + 0, first }')
	[ "$res" = "$n 0 " ] || fail "lines, bad lines, first bad: $res (expected $n 0)"
	local bytes
	bytes=$(pp logs big | wc -c)
	[ "$bytes" -eq $((n * 101)) ] || fail "logs printed $bytes bytes, not $((n * 101))"
	delete_ok big
	assert_no_leaks
}

@test "logs: rotation by PEAPOD_LOG_MAX_SIZE keeps at most PEAPOD_LOG_MAX_FILES files" {
	PEAPOD_LOG_MAX_SIZE=10Ki PEAPOD_LOG_MAX_FILES=3 apply_ok < <(sh_pod rot Always \
		"awk 'BEGIN { for (i = 1; i <= 3000; i++) printf \"%06d padding padding padding padding padding padding\\n\", i }'; trap 'exit 0' TERM; while true; do sleep 0.1; done")
	eventually 20 logs_have rot "003000 padding padding padding padding padding padding"
	local dir
	dir=$(log_dir rot c)
	local rotated
	rotated=$(ls "$dir" | grep -cE '^0\.log\.[0-9]{8}-[0-9]{6}(\.[0-9]+)?$') || true
	[ "$rotated" -ge 1 ] || fail "no rotated file N.log.<timestamp>"
	[ -f "$dir/0.log" ] || fail "no current 0.log"
	[ "$(ls "$dir" | wc -l)" -le 3 ] || fail "more than PEAPOD_LOG_MAX_FILES (3) files"
	[ "$(ls "$dir" | grep -cvE '^0\.log(\.[0-9]{8}-[0-9]{6}(\.[0-9]+)?)?$')" -eq 0 ] || fail "unexpected files"
	local f
	for f in "$dir"/*; do
		[ "$(stat -c %s "$f")" -le 10240 ] || fail "$f is larger than 10Ki"
	done
	# logs reads the rotated files and the current one, in order: the newest
	# lines, consecutive, ending with the last.
	run_peapod logs rot
	assert_status 0
	local res
	# A bug fixed with this test: rename_current (src/logs/crilog_write.c)
	# took the lowest free "<stamp>.N" name; once prune_rotated had removed
	# the oldest of one second's rotations, a newer file got a lower N,
	# sorted as older and was the one pruned next: a stale file stayed
	# (lines 108-214 read after 2890-2996).
	res=$(awk 'NR > 1 && $1 + 0 != prev + 1 { bad++ } { prev = $1 + 0 } END { print (NR > 0), bad + 0, prev }' <<<"$output")
	if [ "$res" != "1 0 3000" ]; then
		# The runs of consecutive numbers, instead of thousands of lines.
		output=$(awk '{n = $1 + 0} NR == 1 || n != p + 1 {if (NR > 1) printf "%d\n", p; printf "%d-", n} {p = n} END {print p}' <<<"$output")
		fail "not consecutive up to 3000: $res; runs of lines:"
	fi
	[ "${#lines[@]}" -lt 3000 ] || fail "nothing was rotated away"
	delete_ok rot
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# exec

exec_pod() {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ex
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "echo in-container > /tmp/marker; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      workingDir: /tmp
      env:
        - {name: FOO, value: bar}
        - {name: BAZ, value: "$(FOO)-baz"}
    - name: other
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 10 ready ex
}

@test "exec: exit status, env, working directory, hostname, the container's files and PID namespace" {
	exec_pod
	run_peapod exec ex -- true
	assert_status 0
	run_peapod exec ex -- sh -c 'exit 3'
	assert_status 3
	run_peapod exec ex -- sh -c 'echo "$FOO $BAZ"'
	assert_status 0
	assert_stdout "bar bar-baz"
	run_peapod exec ex -- pwd
	assert_stdout "/tmp"
	run_peapod exec ex -- hostname
	assert_stdout "ex"
	run_peapod exec ex -- cat /tmp/marker
	assert_stdout "in-container"
	# The other container has its own root file system.
	run_peapod exec ex -c other -- cat /tmp/marker
	[ "$status" -ne 0 ] || fail "the other container sees c's file"
	# Its PID namespace: PID 1 is the container's command.
	run_peapod exec ex -- cat /proc/1/cmdline
	assert_stdout_contains "/tmp/marker"
	run_peapod exec ex -- ps -o pid,args
	assert_line_re ' *1 +sh -c echo in-container.*'
	# stdout and stderr stay apart.
	run_peapod exec ex -- sh -c 'echo out; echo err >&2'
	assert_stdout "out"
	assert_stderr_contains "err"
	# Options after the name, and pod/NAME.
	run_peapod exec pod/ex -c other -- hostname
	assert_stdout "ex"
	delete_ok ex
	assert_no_leaks
}

@test "exec: stdin with -i, none without; a missing command is 127; a missing container or pod fails" {
	exec_pod
	run --separate-stderr bash -c 'printf "data\nmore\n" | timeout 20 "$PEAPOD" exec -i ex -- cat'
	assert_status 0
	assert_stdout $'data\nmore'
	run --separate-stderr bash -c 'printf "data\n" | timeout 20 "$PEAPOD" exec ex -- wc -l'
	assert_status 0
	assert_stdout "0"
	run -127 --separate-stderr timeout 20 "$PEAPOD" exec ex -- no-such-command
	assert_status 127
	assert_stderr_contains "no-such-command"
	assert_stderr_contains "not found"
	run_peapod exec ex -c nosuch -- true
	[ "$status" -ne 0 ] || fail "exec into a missing container succeeded"
	[ "$status" -ne 127 ] || fail "exit status 127 for a missing container"
	assert_stderr_contains "container nosuch is not valid for pod ex"
	run_peapod exec nopod -- true
	[ "$status" -ne 0 ] || fail "exec into a missing pod succeeded"
	assert_stderr_contains 'pods "nopod" not found'
	run_peapod exec ex
	assert_status 2
	delete_ok ex
	assert_no_leaks
}

@test "exec -t gives the command a terminal" {
	exec_pod
	run --separate-stderr timeout 20 script -qec "$PEAPOD exec -t ex -- tty" /dev/null
	assert_status 0
	# The container's terminal line discipline adds a \r, script's another.
	[[ "$output" =~ ^/dev/pts/[0-9]+$'\r'*$ ]] || fail "tty printed no /dev/pts/N"
	run --separate-stderr timeout 20 script -qec "$PEAPOD exec ex -- tty" /dev/null
	assert_stdout_contains "not a tty"
	delete_ok ex
	assert_no_leaks
}

@test "exec into a completed pod fails" {
	apply_ok < <(sh_pod over Never "true")
	eventually 15 phase_is over Succeeded
	run_peapod exec over -- true
	[ "$status" -ne 0 ] || fail "exec into a completed pod succeeded"
	[ "$status" -ne 127 ] || fail "exit status 127 for a completed pod"
	[ -n "$stderr" ] || fail "no error message"
	delete_ok over
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# attach

@test "attach streams the lines written after it started, and ends with the container" {
	mkdir -p "$TEST_DIR/w"
	apply_ok <<<"$(w_pod att '
i=0
while [ ! -e /w/stop ]; do i=$((i + 1)); echo "tick $i"; sleep 0.2; done
echo "the end"')"
	eventually 10 logs_have att "tick 2"
	local before
	before=$(pp logs att | tail -n1 | awk '{print $2}')
	start_bg timeout -k 2 30 "$PEAPOD" attach att
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^tick' "$TEST_DIR/out")" -ge 3 ] && break
		sleep 0.1
	done
	kill -0 "$BG_PID" || fail "attach ended while the container runs"
	touch "$TEST_DIR/w/stop"
	wait_bg 20
	assert_status 0
	[ "${lines[-1]}" = "the end" ] || fail "attach did not show the last line"
	local first
	first=$(awk 'NR == 1 {print $2}' <<<"$output")
	[ "$first" -gt "$before" ] || fail "attach showed tick $first, written before it started (tick $before)"
	# Consecutive from there.
	[ "$(grep '^tick' <<<"$output" | awk 'NR > 1 && $2 != prev + 1 {bad++} {prev = $2} END {print bad + 0}')" = 0 ] ||
		fail "attach skipped lines"
	run_peapod attach nopod
	[ "$status" -ne 0 ] || fail "attach to a missing pod succeeded"
	delete_ok att
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# wait

gated_pod() {
	mkdir -p "$TEST_DIR/w"
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: gated
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: gate
      image: @IMAGE@
      command: ["sh", "-c", "while [ ! -e /w/go ]; do sleep 0.1; done"]
      volumeMounts: [{name: w, mountPath: /w}]
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  volumes:
    - {name: w, hostPath: {path: @DIR@/w, type: Directory}}
EOF
}

@test "wait --for=condition=Ready returns once the pod is ready; jsonpath on the phase" {
	gated_pod
	start_bg "$PEAPOD" wait gated --for=condition=Ready --timeout 30s
	sleep 0.5
	kill -0 "$BG_PID" || fail "wait returned before the pod was ready: $(cat "$TEST_DIR/out" "$TEST_DIR/err")"
	touch "$TEST_DIR/w/go"
	wait_bg 30
	assert_status 0
	assert_stdout "pod/gated condition met"
	ready gated || fail "wait returned but the pod is not Ready"
	run_peapod wait gated --for=jsonpath='{.status.phase}'=Running --timeout 10s
	assert_status 0
	assert_stdout "pod/gated condition met"
	run_peapod wait pod/gated --for=condition=Initialized --timeout 10s
	assert_status 0
	delete_ok gated
	assert_no_leaks
}

@test "wait times out with an error when the condition is not met" {
	gated_pod
	local t0 ms
	t0=$(date +%s%N)
	run_peapod wait gated --for=condition=Ready --timeout 1s
	ms=$(ms_since "$t0")
	[ "$status" -ne 0 ] || fail "wait succeeded on a pod that is not ready"
	assert_stderr_contains "timed out waiting for the condition"
	[ "$ms" -ge 900 ] || fail "wait returned after ${ms} ms, before its timeout"
	run_peapod wait gated --for=jsonpath='{.status.phase}'=Succeeded --timeout 500ms
	[ "$status" -ne 0 ] || fail "wait for the wrong phase succeeded"
	assert_stderr_contains "timed out"
	run_peapod wait nopod --for=condition=Ready --timeout 1s
	[ "$status" -ne 0 ] || fail "wait for a missing pod succeeded"
	assert_stderr_contains "not found"
	run_peapod wait gated --for=bogus
	assert_status 2
	delete_ok gated
	assert_no_leaks
}

@test "wait --for=delete returns once a delete in the background is done" {
	apply_ok < <(sleeper_pod bye)
	start_bg "$PEAPOD" wait bye --for=delete --timeout 30s
	sleep 0.3
	kill -0 "$BG_PID" || fail "wait --for=delete returned while the pod exists"
	local del
	"$PEAPOD" delete bye >"$TEST_DIR/del.out" 2>&1 &
	del=$!
	wait_bg 30
	assert_status 0
	assert_stdout_contains "pod/bye"
	wait "$del" || fail "the delete failed: $(cat "$TEST_DIR/del.out")"
	run_peapod get pods bye
	assert_status 1
	# On a pod that does not exist, at once.
	run_peapod wait bye --for=delete --timeout 1s
	assert_status 0
	assert_no_leaks
}

@test "attach -i sends stdin to a container with stdin: true; with stdinOnce its end is the container's EOF" {
	apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: reader
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      stdin: true
      stdinOnce: true
      command: ["sh", "-c", "while read l; do echo \"got $l\"; done; echo eof"]
EOF2
	run --separate-stderr timeout -k 2 20 sh -c "printf 'hello\nworld\n' | '$PEAPOD' attach -i reader"
	assert_status 0
	assert_line "got hello"
	assert_line "got world"
	assert_line "eof"
	eventually 10 status_is reader Completed
	# stdinOnce: the stdin was handed out once.
	run_peapod attach -i reader
	[ "$status" -ne 0 ] || fail "a second attach -i got the stdin"
	delete_ok reader
	assert_no_leaks
}

@test "attach -i to a container without stdin: true is refused" {
	apply_ok < <(sleeper_pod nostdin)
	eventually 10 ready nostdin
	run_peapod attach -i nostdin
	[ "$status" -ne 0 ] || fail "attach -i succeeded"
	assert_stderr_contains "stdin: true"
	delete_ok nostdin
	assert_no_leaks
}

@test "tty: true gives the container a terminal on 0, 1 and 2; its output is logged as stdout" {
	apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: term
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      tty: true
      command: ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-ttys; tty; echo to-stderr >&2; exit 3"]
EOF2
	eventually 10 status_is term Error
	run_peapod logs term
	assert_status 0
	assert_stdout_contains "all-ttys"
	assert_stdout_contains "/dev/pts/0"
	assert_stdout_contains "to-stderr"
	# A terminal ends its lines with \r\n (ONLCR), and kubelet logs it as stdout.
	local log
	log=$(find "$PEAPOD_LOG_DIR/pods" -path '*/c/0.log')
	grep -q ' stdout F all-ttys'$'\r''$' "$log" || fail "$(cat "$log")"
	! grep -q ' stderr ' "$log" || fail "a tty container logged stderr"
	inspect_is term 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]' 3 ||
		fail "exit code not 3"
	delete_ok term
	assert_no_leaks
}

@test "attach -i to a tty container types into its terminal; our EOF is its ^D" {
	apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: termin
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      tty: true
      stdin: true
      command: ["sh", "-c", "while read l; do echo \"got [$l]\"; done; echo eof; exit 4"]
EOF2
	eventually 10 ready termin
	run --separate-stderr timeout -k 2 20 sh -c "printf 'hello\n' | '$PEAPOD' attach -i termin"
	assert_status 0
	assert_stdout_contains "got [hello]"
	assert_stdout_contains "eof"
	eventually 10 status_is termin Error
	delete_ok termin
	assert_no_leaks
}

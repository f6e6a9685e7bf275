#!/usr/bin/env bats
# The CRI's ExecSync and its streams (Exec, Attach, PortForward over
# SPDY/3.1 from the server's streaming endpoint on 127.0.0.1), driven by
# crictl v1.26 (a client that is not ours: ../shared/tools/bin/crictl, or
# $CRICTL; the file skips, saying so, when it is absent) and by raw HTTP
# with curl for the tokens. The pods are applied with `peapod apply`; a
# container's CRI id is sha256("<pod uid>/<container name>").

load helpers
load pods_helpers
load cri_helpers

setup_file() {
	cri_find_tools || return 0
	if ! command -v curl >/dev/null || ! command -v script >/dev/null; then
		export FILE_SKIP="curl or script (util-linux) is missing (make deps)"
		return 0
	fi
}

setup() {
	cri_setup
}

teardown() {
	cri_teardown
}

# app_pod NAME [CONTAINER LINES]: a pod whose container "app" runs SCRIPT
# (default: until TERM); prints its container id once it runs.
app_pod() {
	local name=$1 script=${2:-$UNTIL_TERM} extra=${3:-}
	apply_ok < <(sh_pod "$name" Never "$script" "" "$extra" | sed 's/- name: c$/- name: app/')
	eventually 10 running "$name" || return 1
	CID=$(printf '%s/%s' "$(pod_uid "$name")" app | sha256sum | cut -d' ' -f1)
	export CID
	SID=$(printf '%s' "$(pod_uid "$name")" | sha256sum | cut -d' ' -f1)
	export SID
}

running() {
	[ "$(inspect_get "$1" 'd["status"]["containerStatuses"][0]["state"].get("running") is not None')" = true ]
}

RT=/runtime.v1.RuntimeService

# exec_req ID: an ExecRequest {container_id: ID, cmd: [true], stdout: true}
# in cri-call.py's hex: notation (its field notation has no booleans).
exec_req() {
	python3 -c 'import sys; c = sys.argv[1].encode()
print("hex:" + (b"\x0a" + bytes([len(c)]) + c + b"\x12\x04true\x28\x01").hex())' "$1"
}

# exec_url: the URL a raw Exec call answers.
exec_url() {
	"$LIB/cri-call.py" "$SOCK" $RT/Exec "$(exec_req "$CID")" | python3 -c 'import sys
w = sys.stdin.read().split()
assert w[0] == "OK", w
b = bytes.fromhex(w[1])
print(b[2:2 + b[1]].decode())'
}

# upgrade URL: the request crictl's client sends, made with curl; prints
# the status line's code.
upgrade() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST \
		-H 'Connection: Upgrade' -H 'Upgrade: SPDY/3.1' \
		-H 'X-Stream-Protocol-Version: v4.channel.k8s.io' "$1"
}

@test "cri exec -s (ExecSync): output, exit codes, a missing command, --timeout kills the command" {
	app_pod es
	start_cri
	crictl exec -s "$CID" sh -c 'echo out; echo err >&2'
	assert_status 0
	assert_line out
	assert_line err
	# crictl 1.26 prints the code in its error and exits 1 for any other
	crictl exec -s "$CID" sh -c 'exit 3'
	assert_status 1
	assert_stdout_contains "exited with 3"
	crictl exec -s "$CID" /no/such/command
	assert_status 1
	assert_stdout_contains "exited with 127"
	# a short id works too
	crictl exec -s "${CID:0:12}" echo short
	assert_status 0
	assert_line short
	# the timeout: DeadlineExceeded, the command killed
	crictl exec -s --timeout 1 "$CID" sh -c 'sleep 7777; echo never'
	assert_status 1
	assert_stdout_contains "timeout 1s exceeded"
	refute_line never
	! pgrep -f '^sleep 7777' >/dev/null || fail "the timed-out command still runs"
	# a long ExecSync holds nothing else up
	"$CRICTL" --runtime-endpoint "unix://$SOCK" exec -s "$CID" sleep 2 &
	BG_PID=$!
	sleep 0.3
	crictl exec -s "$CID" echo meanwhile
	assert_status 0
	assert_line meanwhile
	wait "$BG_PID"
	assert_server_alive
}

@test "cri ExecSync and Exec: errors for an unknown container, a stopped one, an empty command" {
	app_pod ee 'sleep 2'
	start_cri
	cri_call $RT/ExecSync '1=0123456789abcdef,2=true'
	assert_stdout_contains "ERROR NOT_FOUND"
	assert_stdout_contains '0123456789abcdef" not found'
	cri_call $RT/Exec "$(exec_req 0123456789abcdef)"
	assert_stdout_contains "ERROR NOT_FOUND"
	cri_call $RT/Exec "1=$CID,2=true"
	assert_stdout_contains "ERROR INVALID_ARGUMENT"
	assert_stdout_contains "one of stdin, stdout, or stderr must be set"
	eventually 10 bash -c "! \"$PEAPOD\" inspect ee | grep -q '\"running\"'"
	cri_call $RT/ExecSync "1=$CID,2=true"
	assert_stdout_contains "ERROR FAILED_PRECONDITION"
	assert_stdout_contains "is not running"
	cri_call $RT/ExecSync "1=$CID"
	assert_stdout_contains "ERROR INVALID_ARGUMENT"
	cri_call $RT/PortForward '1=0123456789abcdef'
	assert_stdout_contains "ERROR NOT_FOUND"
	assert_server_alive
}

@test "cri exec without -t: stdin piped in, stdout and stderr apart, the exit code carried" {
	app_pod ex
	start_cri
	run --separate-stderr "$CRICTL" --runtime-endpoint "unix://$SOCK" exec -i "$CID" \
		sh -c 'while read l; do echo "out:$l"; echo "err:$l" >&2; done' < <(printf 'a\nb\n')
	assert_status 0
	[ "$output" = "$(printf 'out:a\nout:b')" ] || fail "stdout: $output"
	[ "$stderr" = "$(printf 'err:a\nerr:b')" ] || fail "stderr: $stderr"
	# a large output comes whole
	run "$CRICTL" --runtime-endpoint "unix://$SOCK" exec "$CID" sh -c 'seq 1 200000'
	assert_status 0
	[ "$(printf '%s\n' "$output" | tail -n1)" = 200000 ] || fail "last line ${output: -20}"
	[ "${#lines[@]}" -eq 200000 ] || fail "${#lines[@]} lines"
	# the exit code: crictl 1.26 fails with the code in its message
	run --separate-stderr "$CRICTL" --runtime-endpoint "unix://$SOCK" exec "$CID" sh -c 'echo before; exit 5'
	assert_status 1
	assert_line before
	assert_stderr_contains "command terminated with exit code 5"
	assert_server_alive
}

@test "cri exec -i -t: a terminal, its size as crictl sends it" {
	app_pod et
	start_cri
	# script(1) gives crictl the terminal it insists on
	run script -qec "stty rows 33 cols 77; \"$CRICTL\" --runtime-endpoint unix://$SOCK exec -i -t $CID sh -c 'tty; stty size'" /dev/null </dev/null
	assert_status 0
	assert_stdout_contains /dev/pts/
	assert_stdout_contains "33 77"
	run script -qec "\"$CRICTL\" --runtime-endpoint unix://$SOCK exec -i -t $CID sh -c 'exit 4'" /dev/null </dev/null
	assert_status 1
	assert_stdout_contains "command terminated with exit code 4"
	assert_server_alive
}

@test "cri attach: the container's stdin and output" {
	app_pod at 'while read l; do echo "got:$l"; [ "$l" = bye ] && exit 0; done' \
		'      stdin: true'
	start_cri
	# the container ends at "bye", and so does the attach
	run timeout 20 bash -c '{ sleep 1; printf "hello\nbye\n"; sleep 2; } |
		"$CRICTL" --runtime-endpoint "unix://$SOCK" attach -i "$CID"'
	assert_status 0
	assert_line got:hello
	assert_line got:bye
	assert_server_alive
}

@test "cri port-forward: a busybox httpd in the pod fetched on 127.0.0.1; a closed port says so" {
	app_pod pf 'mkdir -p /tmp/www; echo hello-from-pod >/tmp/www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /tmp/www'
	start_cri
	local port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$CRICTL" --runtime-endpoint "unix://$SOCK" port-forward "$SID" "$port:8080" >"$TEST_DIR/pf.out" 2>&1 &
	BG_PID=$!
	eventually 10 curl -sf --max-time 2 "http://127.0.0.1:$port/index.html"
	run curl -sf --max-time 5 "http://127.0.0.1:$port/index.html"
	assert_status 0
	assert_stdout hello-from-pod
	# several at once, on the one SPDY connection
	local pids=()
	for i in 1 2 3; do
		curl -sf --max-time 5 "http://127.0.0.1:$port/" >"$TEST_DIR/c$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3; do [ "$(cat "$TEST_DIR/c$i")" = hello-from-pod ] || fail "fetch $i: $(cat "$TEST_DIR/c$i")"; done
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	# a port nobody listens on: the connection is closed, the error said
	# (crictl's client-go then drops the whole SPDY connection)
	"$CRICTL" --runtime-endpoint "unix://$SOCK" port-forward "$SID" "$port:9" >"$TEST_DIR/pf2.out" 2>&1 &
	BG_PID=$!
	eventually 10 bash -c "curl -s --max-time 2 http://127.0.0.1:$port/; grep -q 'connect to port 9 in the pod: Connection refused' '$TEST_DIR/pf2.out'"
	kill "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	assert_server_alive
}

@test "cri streams: a token serves once; an unknown, a used or an expired one is refused (404)" {
	app_pod tk
	export PEAPOD_TEST_TIME_SCALE=0.02 # tokens live 1.2 s
	start_cri
	local url
	url=$(exec_url)
	[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/exec/[0-9a-f]{32}$ ]] || fail "url $url"
	run upgrade "$url"
	assert_stdout 101
	run upgrade "$url"
	assert_stdout 404
	run upgrade "${url%/*}/0123456789abcdef0123456789abcdef"
	assert_stdout 404
	run upgrade "${url/exec/attach}"
	assert_stdout 404
	url=$(exec_url)
	sleep 1.5
	run upgrade "$url"
	assert_stdout 404
	# not an upgrade: refused, the token spent
	url=$(exec_url)
	run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url"
	assert_stdout 400
	unset PEAPOD_TEST_TIME_SCALE
	assert_server_alive
}

@test "cri streams: the server killed mid-stream leaves no process behind" {
	app_pod kl
	start_cri
	"$CRICTL" --runtime-endpoint "unix://$SOCK" exec "$CID" sh -c 'sleep 8888' >/dev/null 2>&1 &
	BG_PID=$!
	eventually 10 pgrep -f '^sleep 8888'
	local children
	children=$(pgrep -P "$CRI_PID")
	[ -n "$children" ] || fail "no child of the server serves the stream"
	kill -KILL "$CRI_PID"
	wait "$CRI_PID" 2>/dev/null || true
	CRI_PID=
	eventually 5 bash -c "! pgrep -f '^sleep 8888'"
	for p in $children; do
		eventually 5 bash -c "! kill -0 $p 2>/dev/null" || fail "stream child $p left behind"
	done
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=
	rm -f "$SOCK" "$SOCK.lock"
	pp delete kl >/dev/null
	assert_no_leaks
}

@test "cri exec: nothing left behind after the pod is deleted" {
	app_pod nl
	start_cri
	crictl exec -s "$CID" echo one
	assert_status 0
	run "$CRICTL" --runtime-endpoint "unix://$SOCK" exec "$CID" echo two
	assert_status 0
	stop_cri
	pp delete nl >/dev/null
	assert_no_leaks
}

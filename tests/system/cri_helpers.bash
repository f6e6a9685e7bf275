# What the CRI tests share (cri*.bats): the server on a socket of the
# test's own ($SOCK in $TEST_DIR), crictl (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl beside the repository, $CRICTL overrides it),
# raw calls with grpcio (tests/lib/cri-call.py) and calls with the client
# generated from the proto (tests/lib/cri-client.py: rpc, rpc_ok, rpc_err).

# cri_find_tools (in setup_file): exports CRICTL and LIB, or FILE_SKIP
# saying what is missing (and returns 1).
cri_find_tools() {
	local repo
	repo=$(cd "$(dirname "$BATS_TEST_FILENAME")/../.." && pwd)
	export CRICTL=${CRICTL:-$repo/../shared/tools/bin/crictl}
	export LIB=$repo/tests/lib
	if [ ! -x "$CRICTL" ]; then
		export FILE_SKIP="crictl is missing at $CRICTL (set CRICTL to a cri-tools v1.26 crictl)"
		return 1
	fi
	if ! /usr/bin/python3 -c "import grpc" 2>/dev/null; then
		export FILE_SKIP="Debian's python3-grpcio is missing (make deps)"
		return 1
	fi
}

# cri_client_tools (in setup_file): crictl optional (CRICTL, LIB set; its
# tests skip), the Python client not: FILE_SKIP when Debian's
# python3-grpcio or python3-grpc-tools is missing (and returns 1). The
# stubs are generated once for the suite, in its directory.
cri_client_tools() {
	cri_find_tools || true
	unset FILE_SKIP
	if ! /usr/bin/python3 -c "import grpc, grpc_tools.protoc" 2>/dev/null; then
		export FILE_SKIP="Debian's python3-grpcio or python3-grpc-tools is missing (make deps)"
		return 1
	fi
	export CRI_CLIENT_GEN=$SUITE_TMP/cri-client
}

# cri_server [ARGS...]: the command that serves the CRI on $SOCK, the node
# process (`peapod node --cri-socket`) with an empty manifest directory of
# the test's own; it execs: run it in a subshell (`cri_server &`).
cri_server() {
	mkdir -p "$TEST_DIR/manifests"
	exec "$PEAPOD" node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK" "$@"
}

# start_cri: the server on $SOCK, in the background (CRI_PID), waited for:
# until it says it serves (a killed server's stale socket is there before).
start_cri() {
	cri_server 2>>"$TEST_DIR/cri.err" &
	CRI_PID=$!
	local i
	for ((i = 0; i < 400; i++)); do
		[ -S "$SOCK" ] && awk -v p="started (pid $CRI_PID)" 'index($0, p) { f = 1 }
			f && /peapod-node: serving the CRI/ { ok = 1 } END { exit !ok }' "$TEST_DIR/cri.err" &&
			return 0
		kill -0 "$CRI_PID" 2>/dev/null || fail "the server exited: $(cat "$TEST_DIR/cri.err")"
		sleep 0.05
	done
	fail "no socket at $SOCK: $(cat "$TEST_DIR/cri.err")"
}

# stop_cri: SIGTERM; the server must end cleanly (exit 0, nothing on its
# stderr but the node's own log lines, none of them an error of the CRI:
# under ASan, no leak report).
stop_cri() {
	[ -n "${CRI_PID:-}" ] || return 0
	local st=0
	kill -TERM "$CRI_PID" 2>/dev/null || true
	wait "$CRI_PID" 2>/dev/null || st=$?
	CRI_PID=
	[ "$st" -eq 0 ] || fail "the server exited with $st: $(cat "$TEST_DIR/cri.err")"
	! grep -v -E '^[0-9T:.-]+Z peapod-node: ' "$TEST_DIR/cri.err" | grep -q . ||
		fail "the server said: $(cat "$TEST_DIR/cri.err")"
	! grep -q -E 'peapod-node: cri: ' "$TEST_DIR/cri.err" ||
		fail "the server said: $(cat "$TEST_DIR/cri.err")"
}

crictl() {
	run "$CRICTL" --runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" \
		--timeout 30s "$@"
}

# cri_call METHOD REQUEST: one raw unary call (tests/lib/cri-call.py).
cri_call() {
	run "$LIB/cri-call.py" "$SOCK" "$@"
	assert_status 0
}

assert_server_alive() {
	kill -0 "$CRI_PID" 2>/dev/null || fail "the server died: $(cat "$TEST_DIR/cri.err")"
	crictl version
	assert_status 0
	assert_line "RuntimeName:  peapod"
}


# cri_setup (in setup): the test's directory and socket, or its skip.
cri_setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	CRI_PID=
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	export SOCK=$TEST_DIR/cri.sock
}

# cri_teardown (in teardown): the server stopped (cleanly, see stop_cri),
# the test's background process killed, nothing left.
cri_teardown() {
	stop_cri
	if [ -n "${BG_PID:-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	cleanup_leftovers
	rm -rf "$TEST_DIR"
}

# rpc METHOD JSON: one call with cri-client.py (stubs generated into
# $CRI_CLIENT_GEN); output is the response's JSON or "ERROR CODE details".
rpc() {
	run "$LIB/cri-client.py" "$SOCK" "$1" "$2"
	assert_status 0
}

# rpc_ok METHOD JSON: a call that must succeed.
rpc_ok() {
	rpc "$@"
	[[ "$output" != ERROR* ]] || fail "$1 $2 failed: $output"
}

# rpc_err METHOD JSON CODE [TEXT]: a call that must fail with CODE (and say TEXT).
rpc_err() {
	rpc "$1" "$2"
	[[ "$output" == "ERROR $3 "* ]] || fail "$1 $2: expected $3, got: $output"
	[ -z "${4:-}" ] || assert_stdout_contains "$4"
}

# check PYTHON-ASSERTIONS: evaluated with d bound to the last response.
check() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[2])
exec(sys.argv[1])' "$1" "$output" || fail "unexpected response: $output"
}

# server_answers: the server still answers (without crictl).
server_answers() {
	kill -0 "$CRI_PID" 2>/dev/null || fail "the server died: $(cat "$TEST_DIR/cri.err")"
	rpc_ok Version '{}'
}

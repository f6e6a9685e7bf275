# What the CRI tests share (cri*.bats): the server on a socket of the
# test's own ($SOCK in $TEST_DIR), crictl (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl beside the repository, $CRICTL overrides it)
# and raw calls with grpcio (tests/lib/cri-call.py).

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

# cri_server [ARGS...]: the command that serves the CRI on $SOCK, the node
# process (`peapod node --cri-socket`) with an empty manifest directory of
# the test's own; it execs: run it in a subshell (`cri_server &`).
cri_server() {
	mkdir -p "$TEST_DIR/manifests"
	exec "$PEAPOD" node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK" "$@"
}

# start_cri: the server on $SOCK, in the background (CRI_PID), waited for.
start_cri() {
	cri_server 2>>"$TEST_DIR/cri.err" &
	CRI_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$CRI_PID" 2>/dev/null || fail "the server exited: $(cat "$TEST_DIR/cri.err")"
		sleep 0.05
	done
	fail "no socket at $SOCK"
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


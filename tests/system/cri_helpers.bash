# What the CRI tests share (cri*.bats): the server on a socket of the
# test's own ($SOCK in $TEST_DIR), crictl (cri-tools v1.26.1 at
# ../shared/tools/bin/crictl beside the repository, $CRICTL overrides it),
# raw calls with grpcio (tests/lib/cri-call.py) and calls with the client
# generated from the proto (tests/lib/cri-client.py: rpc, rpc_ok, rpc_err).
# The registry functions need registry_helpers loaded before.

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

# cri_token_registry (in setup_file): the token registry of
# registry_helpers (user:secret; public/app:v1 and team/app:v1) at $REG,
# or FILE_SKIP saying what is missing (and returns 1).
cri_token_registry() {
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 1
	fi
	start_fixture token TOKEN
	wait_fixture TOKEN
	export REG=127.0.0.1:$TOKEN_PORT
}

# cri_pull_env (in setup, after cri_setup): a HOME of the test's own (no
# credentials of the user's), $REG insecure in its registries.conf.
cri_pull_env() {
	export HOME=$TEST_DIR/home XDG_RUNTIME_DIR=$TEST_DIR/xdg
	unset DOCKER_CONFIG REGISTRY_AUTH_FILE
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
	conf <<EOF
[[registry]]
location = "$REG"
insecure = true
EOF
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

# alive: the server still answers (without crictl).
alive() {
	kill -0 "$CRI_PID" 2>/dev/null || fail "the server died: $(cat "$TEST_DIR/cri.err")"
	rpc_ok Version '{}'
}

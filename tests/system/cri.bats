#!/usr/bin/env bats
# The CRI server (src/cri) driven by crictl, a client that is not ours:
# cri-tools v1.26.1 at ../shared/tools/bin/crictl beside the repository
# ($CRICTL overrides it; the file skips, saying so, when it is absent).
# The server is the node process, `peapod node --cri-socket SOCK`, on a
# socket in the test's own directory; the images come from the
# registry fixture's token mode (public/app:v1 anonymous, team/app:v1 for
# user:secret) on 127.0.0.1.

load helpers
load registry_helpers
load cri_helpers

setup_file() {
	cri_find_tools || return 0
	token_registry || return 0
}

teardown_file() {
	stop_fixtures
}

setup() {
	cri_setup
	pull_env
}

teardown() {
	cri_teardown
}

@test "cri: version, info (RuntimeReady, NetworkReady, the verbose config), a socket of mode 0660, removed at exit" {
	start_cri
	[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
	crictl version
	assert_status 0
	assert_line "RuntimeName:  peapod"
	assert_line "RuntimeApiVersion:  v1"
	assert_line_re '^RuntimeVersion:  [0-9]+\.[0-9]+\.[0-9]+.*'
	crictl info
	assert_status 0
	python3 -c '
import json, sys
info = json.load(sys.stdin)
conds = {c["type"]: c for c in info["status"]["conditions"]}
assert conds["RuntimeReady"]["status"] is True, conds
assert conds["NetworkReady"]["status"] is True, conds
assert info["config"]["socket"] == sys.argv[1], info["config"]
' "$SOCK" <<<"$output" || fail "unexpected info: $output"
	stop_cri
	[ ! -e "$SOCK" ] || fail "the socket stayed after the server ended"
}

@test "cri: NetworkReady false, with a reason and a message, when the network's configuration is missing" {
	PEAPOD_NETWORK=nosuchnet start_cri
	crictl info
	assert_status 0
	python3 -c '
import json, sys
conds = {c["type"]: c for c in json.load(sys.stdin)["status"]["conditions"]}
net = conds["NetworkReady"]
assert net["status"] is False, net
assert net["reason"] == "NetworkPluginNotReady", net
assert "nosuchnet" in net["message"], net
assert conds["RuntimeReady"]["status"] is True, conds
' <<<"$output" || fail "unexpected info: $output"
}

@test "cri: a method not served yet is UNIMPLEMENTED, never a fake success; crictl pods, ps list nothing yet" {
	start_cri
	cri_call /runtime.v1.RuntimeService/CheckpointContainer "1=abc"
	assert_stdout "ERROR UNIMPLEMENTED /runtime.v1.RuntimeService/CheckpointContainer is not implemented by peapod yet"
	crictl pods -q
	assert_status 0
	assert_stdout ""
	crictl ps -a -q
	assert_status 0
	assert_stdout ""
	assert_server_alive
}

@test "cri: raw calls: an unknown method, a malformed message, a token in the auth, an unknown image" {
	start_cri
	cri_call /runtime.v1.NoService/Nothing ""
	assert_stdout "ERROR UNIMPLEMENTED unknown method /runtime.v1.NoService/Nothing"
	cri_call /runtime.v1.RuntimeService/RunPodSandbox ""
	assert_stdout "ERROR INVALID_ARGUMENT RunPodSandbox: config is missing"
	cri_call /runtime.v1.ImageService/RemoveImage hex:0aff
	assert_stdout "ERROR INVALID_ARGUMENT RemoveImage: the request is not a valid runtime.v1.RemoveImageRequest message"
	cri_call /runtime.v1.ImageService/PullImage "1={1=$REG/public/app:v1},2={5=tok}"
	assert_stdout_contains "ERROR INVALID_ARGUMENT PullImage: auth.identity_token (an OAuth2 refresh token) is not supported"
	cri_call /runtime.v1.ImageService/PullImage "1={1=$REG/public/app:v1},2={6=tok}"
	assert_stdout_contains "ERROR INVALID_ARGUMENT PullImage: auth.registry_token (a bearer token) is not supported"
	cri_call /runtime.v1.ImageService/PullImage "1={}"
	assert_stdout "ERROR INVALID_ARGUMENT PullImage: no image given"
	# ImageStatus of an image the store does not have: no image, no error
	cri_call /runtime.v1.ImageService/ImageStatus "1={1=nosuch:1}"
	assert_stdout "OK "
	cri_call /runtime.v1.ImageService/RemoveImage "1={1=nosuch:1}"
	assert_stdout "OK "
	assert_server_alive
}

@test "cri: pull, images, inspecti (containerd's ids and names, the config), rmi, RemoveImage twice, gone; by digest" {
	local before id digest
	before=$(store_state)
	start_cri
	crictl pull "$REG/public/app:v1"
	assert_status 0
	assert_line_re "^Image is up to date for sha256:[0-9a-f]{64}$"
	id=${lines[-1]##* }
	crictl images --no-trunc
	assert_status 0
	assert_line_re "$REG/public/app +v1 +$id +.*"
	crictl images -q "$REG/public/app:v1"
	assert_status 0
	assert_stdout "$id"
	crictl inspecti "$REG/public/app:v1"
	assert_status 0
	python3 -c '
import json, sys
out = json.load(sys.stdin)
img, reg = out["status"], sys.argv[2]
assert img["id"] == sys.argv[1], img
assert img["repoTags"] == [reg + "/public/app:v1"], img
assert len(img["repoDigests"]) == 1 and img["repoDigests"][0].startswith(reg + "/public/app@sha256:"), img
assert int(img["size"]) > 0, img
assert out["info"]["imageSpec"]["rootfs"]["type"] == "layers", out["info"]
' "$id" "$REG" <<<"$output" || fail "unexpected inspecti: $output"
	digest=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["repoDigests"][0])' <<<"$output")
	# by id, as kubelet's image gc does
	crictl inspecti "$id"
	assert_status 0
	crictl rmi "$id"
	assert_status 0
	# crictl itself asks ImageStatus first and stops at "no such image";
	# the RPC, twice, succeeds as critest expects
	crictl rmi "$REG/public/app:v1"
	[ "$status" -ne 0 ] || fail "crictl found a removed image"
	assert_stdout_contains "no such image"
	cri_call /runtime.v1.ImageService/RemoveImage "1={1=$REG/public/app:v1}"
	assert_stdout "OK "
	cri_call /runtime.v1.ImageService/RemoveImage "1={1=$id}"
	assert_stdout "OK "
	crictl images -q
	assert_status 0
	refute_line "$id"
	# pulled by digest: a repo digest, no tag (as containerd shows it)
	crictl pull "$digest"
	assert_status 0
	assert_line "Image is up to date for $id"
	crictl inspecti "$digest"
	assert_status 0
	python3 -c '
import json, sys
img = json.load(sys.stdin)["status"]
assert img["repoTags"] == [], img
assert img["repoDigests"] == [sys.argv[1]], img
' "$digest" <<<"$output" || fail "unexpected inspecti: $output"
	cri_call /runtime.v1.ImageService/RemoveImage "1={1=$digest}"
	assert_stdout "OK "
	crictl images -q
	refute_line "$id"
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
}

@test "cri: pull with the request's credentials (creds, auth), a wrong password refused and nothing kept" {
	local before
	before=$(store_state)
	start_cri
	crictl pull "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "pulled a private repository anonymously"
	assert_stdout_contains "unauthorized"
	crictl pull --creds user:wrong "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "a wrong password was accepted"
	assert_stdout_contains "unauthorized"
	[ "$(store_state)" = "$before" ] || fail "a failed pull kept something"
	crictl pull --creds user:secret "$REG/team/app:v1"
	assert_status 0
	crictl rmi "$REG/team/app:v1"
	assert_status 0
	crictl pull --auth "$(printf %s user:secret | base64 -w0)" "$REG/team/app:v1"
	assert_status 0
	crictl rmi "$REG/team/app:v1"
	assert_status 0
	crictl pull --auth "not base64!" "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "bad auth accepted"
	assert_stdout_contains "auth.auth is not base64"
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
}

@test "cri: imagefsinfo gives the store's mountpoint, bytes and inodes used" {
	start_cri
	crictl imagefsinfo
	assert_status 0
	python3 -c '
import json, sys
st = json.load(sys.stdin)["status"]
assert st["fsId"]["mountpoint"] == sys.argv[1], st
assert int(st["usedBytes"]["value"]) > 0 and int(st["inodesUsed"]["value"]) > 0, st
assert int(st["timestamp"]) > 0, st
' "$PEAPOD_ROOT" <<<"$output" || fail "unexpected imagefsinfo: $output"
}

@test "cri: two servers on one socket refused; a stale socket (server killed) replaced; another's socket kept" {
	start_cri
	# another node (its own run directory: one node per host) on the socket
	mkdir -p "$TEST_DIR/manifests"
	PEAPOD_RUN=$TEST_DIR/run2 run_peapod node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK"
	assert_status 1
	assert_stderr_contains "CRI socket $SOCK: another peapod CRI server (pid $CRI_PID) serves it"
	assert_server_alive
	kill -KILL "$CRI_PID"
	wait "$CRI_PID" 2>/dev/null || true
	CRI_PID=
	[ -S "$SOCK" ] || fail "the killed server's socket is gone: nothing stale to test"
	start_cri
	assert_server_alive
	stop_cri
	# a socket some other process listens on is not taken over
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True); time.sleep(30)' "$SOCK" >"$TEST_DIR/other" &
	BG_PID=$!
	wait_for_line "$TEST_DIR/other" ready
	run_peapod node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK"
	assert_status 1
	assert_stderr_contains "CRI socket $SOCK: another process is listening on it"
}

@test "cri: garbage, a client closing mid-request and an idle client do not harm the server" {
	start_cri
	python3 -c '
import os, socket, sys
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s
# not HTTP/2 at all
s = conn(); s.sendall(os.urandom(4096)); s.close()
# the preface, SETTINGS, then a HEADERS frame that promises more than comes
s = conn()
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" +
          b"\x00\x00\x40\x01\x04\x00\x00\x00\x01\x83")
s.close()
# HTTP/1.1
s = conn(); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"); s.recv(100); s.close()
' "$SOCK"
	assert_server_alive
	# an idle client holds a connection while others are served
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print("ready", flush=True); time.sleep(30)' "$SOCK" >"$TEST_DIR/idle" &
	BG_PID=$!
	wait_for_line "$TEST_DIR/idle" ready
	assert_server_alive
	crictl images
	assert_status 0
}

@test "cri: a pull under way holds nothing else up; its process ends with the server, what it stored collected" {
	local before layer port pull child i
	before=$(store_state)
	# a proxy to the registry that hangs half-way through the image's layer
	layer=$(skopeo inspect --tls-verify=false "docker://$REG/public/app:v1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["Layers"][0])')
	python3 "$LIB/slow-proxy.py" "$REG" "$layer" >"$TEST_DIR/port" 3>&- &
	BG_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$TEST_DIR/port" ] && break
		sleep 0.1
	done
	port=$(cat "$TEST_DIR/port")
	printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" >>"$PEAPOD_REGISTRIES_CONF"
	start_cri
	"$CRICTL" --runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" --timeout 60s \
		pull "127.0.0.1:$port/public/app:v1" >"$TEST_DIR/pull.out" 2>&1 3>&- &
	pull=$!
	for ((i = 0; i < 100; i++)); do
		child=$(pgrep -P "$CRI_PID" | head -1)
		[ -n "$child" ] && break
		sleep 0.1
	done
	[ -n "$child" ] || fail "no pull process under the server"
	# the server answers while the pull hangs
	assert_server_alive
	crictl images
	assert_status 0
	kill -0 "$pull" 2>/dev/null || fail "the pull ended: $(cat "$TEST_DIR/pull.out")"
	stop_cri
	! kill -0 "$child" 2>/dev/null || fail "the pull's process outlived the server"
	wait "$pull" && fail "the pull succeeded: $(cat "$TEST_DIR/pull.out")"
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
}

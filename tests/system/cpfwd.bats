#!/usr/bin/env bats
# peapod cp (through the container's root, no tar in the image) and
# peapod port-forward (host loopback -> the pod's loopback, inside its
# network namespace), against real pods.

load helpers
load pods_helpers

# two_pod NAME [POD_LINES]: containers c and d, running until stopped,
# sharing an emptyDir mounted at /v in c and at /w in d.
two_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
${2:-}
  volumes: [{name: v, emptyDir: {}}]
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "$UNTIL_TERM"]
      volumeMounts: [{name: v, mountPath: /v}]
    - name: d
      image: @IMAGE@
      command: ["sh", "-c", "$UNTIL_TERM"]
      volumeMounts: [{name: v, mountPath: /w}]
EOF
}

# in_pod NAME [-c C] -- CMD...: the command's output in the pod.
in_pod() {
	local name=$1
	shift
	pp exec "$name" "$@"
}

# ---------------------------------------------------------------------------
# cp

@test "cp: a file into a container and back, content, mode and times kept" {
	two_pod web | apply_ok
	printf 'hello\nworld\n' >"$TEST_DIR/f"
	chmod 0640 "$TEST_DIR/f"
	touch -d @1000000000 "$TEST_DIR/f"

	run_peapod cp "$TEST_DIR/f" web:/tmp/f
	assert_status 0
	[ "$(in_pod web -- stat -c '%a %u %g %Y' /tmp/f)" = "640 0 0 1000000000" ] || fail "mode or times"
	[ "$(in_pod web -- cat /tmp/f)" = "$(cat "$TEST_DIR/f")" ] || fail "content"

	run_peapod cp web:/tmp/f "$TEST_DIR/back"
	assert_status 0
	cmp "$TEST_DIR/f" "$TEST_DIR/back"
	[ "$(stat -c '%a %Y' "$TEST_DIR/back")" = "640 1000000000" ]

	# Into an existing directory: the source's name, there; an existing
	# file is replaced.
	echo again >"$TEST_DIR/f"
	run_peapod cp "$TEST_DIR/f" web:/tmp
	assert_status 0
	[ "$(in_pod web -- cat /tmp/f)" = again ]
	run_peapod cp web:/etc/passwd "$TEST_DIR"
	assert_status 0
	grep -q '^root:' "$TEST_DIR/passwd"
	# What comes out of a container is never a set-id program of ours.
	in_pod web -- sh -c 'cp /bin/busybox /tmp/suid && chmod 6755 /tmp/suid'
	run_peapod cp web:/tmp/suid "$TEST_DIR/suid"
	assert_status 0
	[ "$(stat -c %a "$TEST_DIR/suid")" = 755 ]
	# -c and NAMESPACE/POD:PATH as kubectl takes them
	run_peapod cp -c d "$TEST_DIR/f" default/web:/tmp/in-d
	assert_status 0
	[ "$(in_pod web -c d -- cat /tmp/in-d)" = again ]
	run in_pod web -c c -- cat /tmp/in-d
	[ "$status" -ne 0 ]
	delete_ok web
	assert_no_leaks
}

@test "cp: a directory both ways, nested, with symlinks and modes" {
	two_pod web | apply_ok
	mkdir -p "$TEST_DIR/src/a/b" "$TEST_DIR/src/empty"
	echo x >"$TEST_DIR/src/a/b/x"
	printf '#!/bin/sh\necho run\n' >"$TEST_DIR/src/a/run.sh"
	chmod 0755 "$TEST_DIR/src/a/run.sh"
	ln -s b/x "$TEST_DIR/src/a/l"
	ln -s /nowhere "$TEST_DIR/src/dangling"
	chmod 0750 "$TEST_DIR/src/a"

	run_peapod cp "$TEST_DIR/src" web:/tmp/dst
	assert_status 0
	[ "$(in_pod web -- cat /tmp/dst/a/b/x)" = x ]
	[ "$(in_pod web -- readlink /tmp/dst/a/l)" = b/x ]
	[ "$(in_pod web -- readlink /tmp/dst/dangling)" = /nowhere ]
	[ "$(in_pod web -- stat -c %a /tmp/dst/a)" = 750 ]
	[ "$(in_pod web -- /tmp/dst/a/run.sh)" = run ]
	in_pod web -- test -d /tmp/dst/empty
	# into an existing directory: a directory of the source's name there
	run_peapod cp "$TEST_DIR/src" web:/tmp
	assert_status 0
	[ "$(in_pod web -- cat /tmp/src/a/b/x)" = x ]

	run_peapod cp web:/tmp/dst "$TEST_DIR/back"
	assert_status 0
	diff -r --no-dereference "$TEST_DIR/src" "$TEST_DIR/back"
	[ "$(readlink "$TEST_DIR/back/a/l")" = b/x ]
	[ "$(stat -c %a "$TEST_DIR/back/a")" = 750 ]
	[ "$(stat -c %a "$TEST_DIR/back/a/run.sh")" = 755 ]
	delete_ok web
	assert_no_leaks
}

@test "cp: symlinks in the container never lead out of its root" {
	two_pod web | apply_ok
	echo secret >"$TEST_DIR/secret"
	mkdir "$TEST_DIR/hostdir"
	in_pod web -- ln -s "../../../../../../../..$TEST_DIR/secret" /tmp/up
	in_pod web -- ln -s "$TEST_DIR/hostdir" /tmp/abs

	# The symlink itself is copied, its target as it is, never followed.
	run_peapod cp web:/tmp/up "$TEST_DIR/got"
	assert_status 0
	[ -L "$TEST_DIR/got" ]
	[ "$(readlink "$TEST_DIR/got")" = "../../../../../../../..$TEST_DIR/secret" ]
	# A path through them resolves inside the root, where the host's files are not.
	run_peapod cp "web:/tmp/up/" "$TEST_DIR/got2"
	assert_status 1
	assert_stderr_contains "No such file or directory"
	[ ! -e "$TEST_DIR/got2" ]
	in_pod web -- ln -s ../../../../.. /tmp/rootlink
	run_peapod cp "web:/tmp/rootlink/etc/hostname" "$TEST_DIR/got3"
	assert_status 0
	[ "$(cat "$TEST_DIR/got3")" = web ]
	run_peapod cp "web:/tmp/abs/../../..$TEST_DIR/secret" "$TEST_DIR/got2"
	assert_status 1
	assert_stderr_contains "No such file or directory"
	[ ! -e "$TEST_DIR/got2" ]
	run_peapod cp "$TEST_DIR/secret" web:/tmp/abs/planted
	assert_status 1
	assert_stderr_contains "pod web, container c: /tmp/abs/planted"
	[ ! -e "$TEST_DIR/hostdir/planted" ]
	# Writing onto a symlink replaces it; the host file stays as it was.
	echo mine >"$TEST_DIR/mine"
	run_peapod cp "$TEST_DIR/mine" web:/tmp/up
	assert_status 0
	[ "$(cat "$TEST_DIR/secret")" = secret ]
	[ "$(in_pod web -- cat /tmp/up)" = mine ]
	in_pod web -- test ! -L /tmp/up
	delete_ok web
	assert_no_leaks
}

@test "cp: into a volume's path lands in the volume, seen by the other container" {
	two_pod web | apply_ok
	mkdir -p "$TEST_DIR/site/css"
	echo body >"$TEST_DIR/site/css/x.css"
	run_peapod cp "$TEST_DIR/site" web:/v/site
	assert_status 0
	[ "$(in_pod web -c d -- cat /w/site/css/x.css)" = body ]
	# and out of the other container's mount of it
	run_peapod cp -c d web:/w/site/css/x.css "$TEST_DIR/x.css"
	assert_status 0
	[ "$(cat "$TEST_DIR/x.css")" = body ]
	delete_ok web
	assert_no_leaks
}

@test "cp: into a pod with its own user namespace, files belong to the container's root" {
	skip_unless_userns
	two_pod web '  hostUsers: false' | apply_ok
	echo u >"$TEST_DIR/f"
	chown 1234:1234 "$TEST_DIR/f"
	run_peapod cp "$TEST_DIR/f" web:/tmp/f
	assert_status 0
	[ "$(in_pod web -- stat -c '%u %g' /tmp/f)" = "0 0" ]
	run_peapod cp "$TEST_DIR/f" web:/v/f
	assert_status 0
	[ "$(in_pod web -c d -- stat -c '%u %g' /w/f)" = "0 0" ]
	delete_ok web
	assert_no_leaks
}

@test "cp: errors: no pod, no container, no path, not running, bad usage" {
	run_peapod cp nope:/etc/passwd "$TEST_DIR/x"
	assert_status 1
	assert_stderr_contains "nope"

	two_pod web | apply_ok
	run_peapod cp -c nope web:/etc/passwd "$TEST_DIR/x"
	assert_status 1
	assert_stderr_contains "container nope"
	run_peapod cp web:/no/such "$TEST_DIR/x"
	assert_status 1
	assert_stderr_line "peapod: pod web, container c: /no/such: No such file or directory"
	run_peapod cp "$TEST_DIR/nothing" web:/tmp/x
	assert_status 1
	assert_stderr_line "peapod: $TEST_DIR/nothing: No such file or directory"
	run_peapod cp web:/etc/passwd "$TEST_DIR/no/dir/x"
	assert_status 1
	assert_stderr_contains "$TEST_DIR/no/dir"
	run_peapod cp "$TEST_DIR/a" "$TEST_DIR/b"
	assert_status 2
	run_peapod cp web:/a web:/b
	assert_status 2
	run_peapod cp web: "$TEST_DIR/x"
	assert_status 2
	assert_stderr_contains "can not be empty"
	delete_ok web

	sh_pod done Never 'true' | apply_ok
	eventually 20 phase_is done Succeeded
	run_peapod cp done:/etc/passwd "$TEST_DIR/x"
	assert_status 1
	assert_stderr_contains "not running"
	[ ! -e "$TEST_DIR/x" ]
	delete_ok done
}

# ---------------------------------------------------------------------------
# port-forward

# http_pod NAME: busybox httpd serving /www on the pod's port 8080 (its
# loopback only: PEAPOD_NETWORK=none pods have nothing else).
http_pod() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	sh_pod "$1" Always 'mkdir -p /www && echo "hello from $$(hostname)" >/www/index.html && exec httpd -f -p 8080 -h /www'
}

# forward_bg ARGS...: `peapod port-forward ARGS` in the background, as a
# terminal would start it (SIGINT at its default disposition).
forward_bg() {
	env --default-signal=INT,TERM "$PEAPOD" port-forward "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
}

# fwd_port REMOTE: the local port the forwarder announced for 127.0.0.1.
fwd_port() {
	sed -n "s/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> $1\$/\1/p" "$TEST_DIR/out" | head -n1
}

wait_forwarding() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(fwd_port "$1")" ] && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	dump_bg
	return 1
	assert_no_leaks
}

@test "port-forward: an HTTP request and a second connection at once, random port, SIGINT ends it" {
	http_pod web | apply_ok
	eventually 20 in_pod web -- wget -q -O /dev/null http://127.0.0.1:8080/
	forward_bg web :8080
	wait_forwarding 8080
	local port
	port=$(fwd_port 8080)
	[ "$port" -gt 0 ]
	run curl -sS --max-time 10 "http://127.0.0.1:$port/"
	[ "$status" -eq 0 ] || fail "curl: $output"
	[ "$output" = "hello from web" ]
	grep -qx "Handling connection for $port" "$TEST_DIR/out"
	# localhost is ::1 too, on the same port, where the host has IPv6
	if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
		grep -qxF "Forwarding from [::1]:$port -> 8080" "$TEST_DIR/out"
		run curl -sS --max-time 10 "http://[::1]:$port/"
		[ "$output" = "hello from web" ] || fail "over ::1: $output"
	fi

	# Two connections open together: the first's request is finished only
	# after the second got its whole answer.
	python3 - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port), timeout=10)
a.sendall(b"GET / HTTP/1.0\r\n")
b = socket.create_connection(("127.0.0.1", port), timeout=10)
b.sendall(b"GET / HTTP/1.0\r\n\r\n")
rb = b"".join(iter(lambda: b.recv(4096), b""))
a.sendall(b"\r\n")
ra = b"".join(iter(lambda: a.recv(4096), b""))
for r in (ra, rb):
    assert r.startswith(b"HTTP/1.") and b"hello from web" in r, r
PY

	kill -INT "$BG_PID"
	wait_bg 10
	assert_status 0
	run curl -sS --max-time 5 "http://127.0.0.1:$port/"
	[ "$status" -ne 0 ]
	delete_ok web
	assert_no_leaks
}

@test "port-forward: LOCAL:REMOTE, several ports, --address, a raw TCP stream both ways (busybox nc)" {
	sh_pod raw Always 'httpd -p 8080 -h /etc; while true; do nc -l -p 9000 -e cat; done' | apply_ok
	eventually 20 in_pod raw -- wget -q -O /dev/null http://127.0.0.1:8080/hostname
	eventually 20 in_pod raw -- sh -c 'echo x | nc -w 1 127.0.0.1 9000 | grep -qx x'
	local p1 p2
	p1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	forward_bg raw "$p1:9000" :8080 --address 127.0.0.1
	wait_forwarding 9000
	wait_forwarding 8080
	[ "$(fwd_port 9000)" = "$p1" ]
	p2=$(fwd_port 8080)
	run grep -c '::1' "$TEST_DIR/out"
	[ "$output" = 0 ]
	# the echo server: what goes in comes back, then our end of input ends it
	run python3 - "$p1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
data = bytes(range(256)) * 1024
s.sendall(data)
got = b""
while len(got) < len(data):
    chunk = s.recv(65536)
    assert chunk, len(got)
    got += chunk
assert got == data
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""
print("echoed", len(got))
PY
	[ "$status" -eq 0 ] || fail "echo: $output"
	[ "$output" = "echoed 262144" ]
	run curl -sS --max-time 10 "http://127.0.0.1:$p2/hostname"
	[ "$output" = raw ]

	kill -TERM "$BG_PID"
	wait_bg 10
	assert_status 0
	delete_ok raw
	assert_no_leaks
}

@test "port-forward: a connection to a closed port ends alone; deleting the pod ends the forward" {
	http_pod web | apply_ok
	forward_bg web :7777 :8080
	wait_forwarding 7777
	run curl -sS --max-time 10 "http://127.0.0.1:$(fwd_port 7777)/"
	[ "$status" -ne 0 ]
	eventually 20 in_pod web -- wget -q -O /dev/null http://127.0.0.1:8080/
	run curl -sS --max-time 10 "http://127.0.0.1:$(fwd_port 8080)/"
	[ "$output" = "hello from web" ]
	grep -q "connect to port 7777 in the pod" "$TEST_DIR/err"

	delete_ok web
	wait_bg 10
	assert_status 1
	assert_stderr_contains "lost connection to pod web"
	assert_no_leaks
}

@test "port-forward: through whichever container runs (the first one exited)" {
	pair_pod half '["true"]' '["sh", "-c", "echo b >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"]' | apply_ok
	eventually 20 in_pod half -c b -- wget -q -O /dev/null http://127.0.0.1:8080/
	eventually 20 inspect_is half 'd["status"]["containerStatuses"][0]["state"]["terminated"]["reason"]' Completed
	forward_bg half :8080
	wait_forwarding 8080
	run curl -sS --max-time 10 "http://127.0.0.1:$(fwd_port 8080)/"
	[ "$output" = b ]
	kill -INT "$BG_PID"
	wait_bg 10
	assert_status 0
	delete_ok half
	assert_no_leaks
}

@test "port-forward: errors: no pod, bad ports, a local port in use, not running" {
	run_peapod port-forward nope 80
	assert_status 1
	assert_stderr_contains "nope"
	run_peapod port-forward web 0
	assert_status 2
	assert_stderr_contains "port 0"
	run_peapod port-forward web 8080:abc
	assert_status 2
	run_peapod port-forward web
	assert_status 2

	http_pod web | apply_ok
	python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); print(s.getsockname()[1], flush=True); sys.stdout.close(); time.sleep(30)' >"$TEST_DIR/busy" &
	local holder=$! port
	eventually 10 test -s "$TEST_DIR/busy"
	port=$(cat "$TEST_DIR/busy")
	run_peapod port-forward web "$port:8080" --address 127.0.0.1
	kill "$holder"
	wait "$holder" || true
	assert_status 1
	assert_stderr_contains "Address already in use"
	run_peapod port-forward web 8080 --address nowhere
	assert_status 1
	assert_stderr_contains "address nowhere"
	delete_ok web

	sh_pod done Never 'true' | apply_ok
	eventually 20 phase_is done Succeeded
	run_peapod port-forward done 8080
	assert_status 1
	assert_stderr_contains "not running"
	delete_ok done
	assert_no_leaks
}

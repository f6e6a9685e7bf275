#!/usr/bin/env bats
# HTTPS for httpGet probes and hooks (scheme: HTTPS): TLS without checking
# the server's certificate, as kubelet. The server is tests/lib/https-server.py
# on the host, run inside the pod's network namespace (nsenter), with a
# self-signed certificate made here; no traffic leaves that namespace.

load helpers
load pods_helpers

# tls_pod NAME YAML: a pod with one container c that sleeps (stops at once
# on SIGTERM) and the given lifecycle/probe YAML (indented 6).
tls_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 5
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/up; while true; do sleep 0.1; done"]
      ports:
        - {name: tls, containerPort: 8443}
$(printf '%s\n' "$2" | indent 6)
EOF
}

# https_server NAME: serves TEST_DIR/www over HTTPS on port 8443 in pod
# NAME's network namespace, requests logged to TEST_DIR/requests; BG_PID
# (killed by teardown).
https_server() {
	local pid
	command -v openssl >/dev/null || skip "openssl is not installed"
	python3 -c 'import ssl' 2>/dev/null || skip "python3 lacks the ssl module"
	mkdir -p "$TEST_DIR/www"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=peapod-test -keyout "$TEST_DIR/key.pem" -out "$TEST_DIR/cert.pem" \
		>/dev/null 2>&1 || fail "cannot make a certificate"
	eventually 10 container_pids "$1" || fail "pod $1 has no running container"
	pid=$(container_pids "$1")
	nsenter --net="/proc/${pid%% *}/ns/net" python3 "$BATS_TEST_DIRNAME/../lib/https-server.py" \
		"$TEST_DIR/www" 8443 "$TEST_DIR/cert.pem" "$TEST_DIR/key.pem" "$TEST_DIR/requests" \
		>"$TEST_DIR/server.out" 2>&1 &
	BG_PID=$!
	eventually 10 grep -q listening "$TEST_DIR/server.out"
}

stop_https_server() {
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	BG_PID=
}

describe_has() {
	pp describe pod "$1" | grep -qF -- "$2"
}

ready_column_is() {
	[ "$(get_column "$1" 2)" = "$2" ]
}

@test "httpGet HTTPS readiness probe: a self-signed server, 404 is not ready, 200 is" {
	apply_ok < <(tls_pod hs "readinessProbe:
  httpGet: {scheme: HTTPS, path: /ok.html, port: tls}
  periodSeconds: 1")
	https_server hs
	eventually 10 describe_has hs "HTTP probe failed with statuscode: 404"
	ready_column_is hs 0/1 || fail "ready on a 404"
	echo ok >"$TEST_DIR/www/ok.html"
	eventually 10 ready_column_is hs 1/1
	grep -qx "GET /ok.html" "$TEST_DIR/requests" || fail "the server saw no probe request"
	stop_https_server
	delete_ok hs
	assert_no_leaks
}

@test "preStop httpGet HTTPS: the request reaches the server before the stop signal" {
	apply_ok < <(tls_pod hh "lifecycle:
  preStop:
    httpGet: {scheme: HTTPS, path: /stop, port: 8443}")
	https_server hh
	delete_ok hh
	grep -qx "GET /stop" "$TEST_DIR/requests" || fail "the preStop request did not arrive"
	stop_https_server
	assert_no_leaks
}

@test "httpGet HTTPS to a plain HTTP server fails with the TLS error" {
	apply_ok < <(tls_pod hp "readinessProbe:
  httpGet: {scheme: HTTPS, path: /, port: 8080}
  periodSeconds: 1")
	pp exec hp -- sh -c 'mkdir -p /tmp/www; httpd -p 8080 -h /tmp/www'
	eventually 10 describe_has hp ':8080/": tls: wrong version number'
	describe_has hp 'Readiness probe failed: Get "https://' || fail "not kubelet's message"
	ready_column_is hp 0/1 || fail "ready over a failed handshake"
	delete_ok hp
	assert_no_leaks
}

#!/usr/bin/env bats
# Container probes: readiness (READY column, Ready conditions), liveness
# (restarts, Unhealthy and Killing events), startup (gates the others),
# initialDelaySeconds; exec, tcpSocket, httpGet and grpc handlers.

load helpers
load pods_helpers

# probe_pod NAME SCRIPT PROBES: a pod with one container c running
# `sh -c SCRIPT` (stops at once on SIGTERM) and the probes' YAML (indented 4).
probe_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; $2; while true; do sleep 0.1; done"]
      ports:
        - {name: web, containerPort: 8080}
$(printf '%s\n' "$3" | indent 6)
EOF
}

condition_is() {
	[ "$(inspect_get "$1" "[c['status'] for c in d['status']['conditions'] if c['type'] == '$2'][0]")" = "$3" ]
}

ready_column_is() {
	[ "$(get_column "$1" 2)" = "$2" ]
}

describe_has() {
	pp describe pod "$1" | grep -qF -- "$2"
}

@test "readiness exec probe: not ready until the file exists, then READY 1/1 and Ready True" {
	apply_ok < <(probe_pod rp true "readinessProbe:
  exec: {command: [cat, /tmp/ready]}
  periodSeconds: 1")
	ready_column_is rp 0/1 || fail "READY is $(get_column rp 2), expected 0/1"
	eventually 5 describe_has rp "Readiness probe failed"
	ready_column_is rp 0/1 || fail "ready while the probe fails"
	condition_is rp Ready False || fail "Ready is not False"
	condition_is rp ContainersReady False || fail "ContainersReady is not False"
	inspect_is rp 'd["status"]["containerStatuses"][0]["started"]' true || fail "not started"
	pp exec rp -- touch /tmp/ready
	eventually 10 ready_column_is rp 1/1
	condition_is rp Ready True || fail "Ready is not True"
	condition_is rp ContainersReady True || fail "ContainersReady is not True"
	# Failing again: not ready after failureThreshold failures.
	pp exec rp -- rm /tmp/ready
	eventually 10 ready_column_is rp 0/1
	inspect_is rp 'd["status"]["containerStatuses"][0]["restartCount"]' 0 || fail "restarted"
	delete_ok rp
	assert_no_leaks
}

# The launchers of exec probes (peapod-exec) of the supervisor of pod $1.
launchers_of() {
	pgrep -P "$(sup_pid "$1")" -x peapod-exec || true
}

# probes_ran NAME N: the probe command has appended at least N lines to
# /tmp/probes in the container.
probes_ran() {
	[ "$(pp exec "$1" -- sh -c 'wc -l < /tmp/probes' 2>/dev/null)" -ge "$2" ]
}

@test "exec probes start from one peapod-exec per container: outside its PID namespace, in its cgroups, gone with it" {
	apply_ok < <(probe_pod lx 'touch /tmp/ready' "readinessProbe:
  exec: {command: [sh, -c, 'echo \$\$ >> /tmp/probes; cat /tmp/ready']}
  periodSeconds: 1")
	eventually 10 ready_column_is lx 1/1
	local l
	l=$(launchers_of lx)
	[ "$(wc -w <<<"$l")" -eq 1 ] || fail "expected one peapod-exec, found: $l"
	# In every cgroup of the container, so the probes are born there.
	local main
	main=$(container_pids lx)
	[ -n "$main" ] || fail "no container process"
	diff <(sed 's/^[0-9]*://' "/proc/$l/cgroup" | sort) <(sed 's/^[0-9]*://' "/proc/$main/cgroup" | sort) ||
		fail "peapod-exec's cgroups differ from the container's"
	# The container sees its probes come and go, never the launcher.
	run_peapod exec lx -- ps -o comm
	assert_status 0
	[[ "$output" != *peapod-exec* ]] || fail "the container sees peapod-exec: $output"
	eventually 5 probes_ran lx 2
	# A restart (the main process killed) ends it; the next instance gets its own.
	kill -KILL "$main"
	eventually 15 restarts_at_least lx 1
	kill -0 "$l" 2>/dev/null && fail "the first instance's peapod-exec $l is still there"
	eventually 10 ready_column_is lx 1/1
	[ "$(wc -w <<<"$(launchers_of lx)")" -eq 1 ] || fail "no peapod-exec for the new instance"
	delete_ok lx
	assert_no_leaks
}

@test "exec probes without peapod-exec (a seccomp profile refusing execveat): each probe execs the usual way" {
	mkdir -p "$TEST_DIR/seccomp"
	cat >"$TEST_DIR/seccomp/no-execveat.json" <<'EOF2'
{"defaultAction": "SCMP_ACT_ALLOW",
 "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF2
	PEAPOD_SECCOMP_DIR=$TEST_DIR/seccomp apply_ok <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: lf
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      securityContext:
        seccompProfile: {type: Localhost, localhostProfile: no-execveat.json}
      readinessProbe:
        exec: {command: [sh, -c, 'echo $$ >> /tmp/probes; test -f /tmp/ready']}
        periodSeconds: 1
EOF2
	eventually 10 probes_ran lf 2
	[ -z "$(launchers_of lf)" ] || fail "a peapod-exec runs: $(launchers_of lf)"
	ready_column_is lf 0/1 || fail "ready without /tmp/ready"
	pp exec lf -- touch /tmp/ready
	eventually 10 ready_column_is lf 1/1
	delete_ok lf
	assert_no_leaks
}

@test "exec probe timeout: the command is killed after timeoutSeconds and the probe fails" {
	apply_ok < <(probe_pod lt true "readinessProbe:
  exec: {command: [sh, -c, 'touch /tmp/started; exec sleep 30']}
  periodSeconds: 1
  timeoutSeconds: 1")
	eventually 10 describe_has lt "Readiness probe failed: timed out after 1s"
	pp exec lt -- test -f /tmp/started || fail "the probe did not start"
	# No probe command lives past its timeout (plus the next one's second).
	local n
	n=$(pp exec lt -- ps -o args | grep -c 'sleep 30' || true)
	[ "$n" -le 1 ] || fail "$n probe commands still running"
	ready_column_is lt 0/1 || fail "ready"
	delete_ok lt
	assert_no_leaks
}

@test "liveness exec probe failing: Unhealthy and Killing events, the container restarts" {
	apply_ok < <(probe_pod lp true "livenessProbe:
  exec: {command: [sh, -c, 'echo not alive; exit 1']}
  periodSeconds: 1
  failureThreshold: 2
  terminationGracePeriodSeconds: 1")
	eventually 15 restarts_at_least lp 1
	run_peapod describe pod lp
	assert_status 0
	assert_stdout_contains "Liveness probe failed: not alive"
	assert_stdout_contains "Container c failed liveness probe, will be restarted"
	delete_ok lp
	assert_no_leaks
}

@test "tcpSocket readiness probe on a named port, inside the pod's network namespace" {
	apply_ok < <(probe_pod tp "sleep 3; mkdir -p /tmp/www; httpd -p 8080 -h /tmp/www" "readinessProbe:
  tcpSocket: {port: web}
  periodSeconds: 1")
	ready_column_is tp 0/1 || fail "ready before anything listens"
	eventually 15 ready_column_is tp 1/1
	run_peapod describe pod tp
	assert_stdout_contains "connection refused"
	delete_ok tp
	assert_no_leaks
}

@test "httpGet readiness probe: 404 is not ready, 200 is" {
	apply_ok < <(probe_pod hp "mkdir -p /tmp/www; httpd -p 8080 -h /tmp/www" "readinessProbe:
  httpGet:
    path: /ok.html
    port: 8080
    httpHeaders: [{name: X-Probe, value: 'yes'}]
  periodSeconds: 1")
	eventually 10 describe_has hp "HTTP probe failed with statuscode: 404"
	ready_column_is hp 0/1 || fail "ready on a 404"
	pp exec hp -- sh -c 'echo ok > /tmp/www/ok.html'
	eventually 10 ready_column_is hp 1/1
	condition_is hp Ready True || fail "Ready is not True"
	delete_ok hp
	assert_no_leaks
}

@test "httpGet to a host name (localhost): the helper child resolves it in the pod" {
	# Names resolve as on the node (its /etc/hosts): a bare chroot may have none.
	getent hosts localhost >/dev/null || skip "this host does not resolve localhost"
	apply_ok < <(probe_pod hn "mkdir -p /tmp/www; httpd -p 8080 -h /tmp/www" "readinessProbe:
  httpGet: {host: localhost, path: /ok.html, port: 8080}
  periodSeconds: 1")
	eventually 10 describe_has hn "HTTP probe failed with statuscode: 404"
	pp exec hn -- sh -c 'echo ok > /tmp/www/ok.html'
	eventually 10 ready_column_is hn 1/1
	delete_ok hn
	assert_no_leaks
}

@test "httpGet probe timeout: a server that accepts and never answers fails after timeoutSeconds" {
	# nc accepts the connection and never writes: the probe's connection
	# is made, its request sent, and no response comes.
	apply_ok < <(probe_pod ht "nc -ll -p 8080 -e sleep 100 & true" "readinessProbe:
  httpGet: {path: /, port: 8080}
  timeoutSeconds: 1
  periodSeconds: 1")
	eventually 15 describe_has ht "Readiness probe failed: timed out after 1s"
	ready_column_is ht 0/1 || fail "ready without a response"
	delete_ok ht
	assert_no_leaks
}

@test "startup probe gates readiness; started follows it" {
	apply_ok < <(probe_pod sp true "startupProbe:
  exec: {command: [cat, /tmp/started]}
  periodSeconds: 1
  failureThreshold: 100
readinessProbe:
  exec: {command: ['true']}
  periodSeconds: 1")
	sleep 2
	inspect_is sp 'd["status"]["containerStatuses"][0]["started"]' false || fail "started before the startup probe passed"
	ready_column_is sp 0/1 || fail "ready before the startup probe passed"
	pp exec sp -- touch /tmp/started
	eventually 10 inspect_is sp 'd["status"]["containerStatuses"][0]["started"]' true
	eventually 10 ready_column_is sp 1/1
	delete_ok sp
	assert_no_leaks
}

@test "initialDelaySeconds: no readiness before it" {
	# What the container's clock says, not what a timer of the test hopes:
	# the container notes when it started, the probe when it first ran;
	# a loaded machine only makes the probe later.
	apply_ok < <(probe_pod ip 'date +%s >/tmp/start' "readinessProbe:
  exec: {command: [sh, -c, 'test -e /tmp/first || date +%s >/tmp/first']}
  initialDelaySeconds: 3
  periodSeconds: 1")
	eventually 15 ready_column_is ip 1/1
	local start first
	start=$(pp exec ip -- cat /tmp/start)
	first=$(pp exec ip -- cat /tmp/first)
	# 3 s later, in whole seconds: at least 2 more
	[ $((first - start)) -ge 2 ] || fail "the probe first ran at $first, the container started at $start"
	delete_ok ip
	assert_no_leaks
}

@test "startup probe failing (tcpSocket, nothing listens) kills and restarts the container" {
	apply_ok < <(probe_pod sf true "startupProbe:
  tcpSocket: {port: 9999}
  periodSeconds: 1
  failureThreshold: 2")
	eventually 15 restarts_at_least sf 1
	run_peapod describe pod sf
	assert_stdout_contains "Startup probe failed"
	assert_stdout_contains "Container c failed startup probe, will be restarted"
	delete_ok sf
	assert_no_leaks
}

# grpc: grpc-health-server (tests/helpers) answers the health service for
# the server and the services named, SERVING while /tmp/status says so.
GRPC_SERVER="grpc-health-server 9090 /tmp/status ready & true"

@test "grpc readiness probe: NOT_SERVING is not ready, SERVING is, and back" {
	apply_ok < <(probe_pod gr "$GRPC_SERVER" "readinessProbe:
  grpc: {port: 9090, service: ready}
  periodSeconds: 1")
	eventually 10 describe_has gr 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")'
	ready_column_is gr 0/1 || fail "ready while NOT_SERVING"
	pp exec gr -- sh -c 'echo SERVING > /tmp/status'
	eventually 10 ready_column_is gr 1/1
	condition_is gr Ready True || fail "Ready is not True"
	pp exec gr -- sh -c 'echo NOT_SERVING > /tmp/status'
	eventually 10 ready_column_is gr 0/1
	inspect_is gr 'd["status"]["containerStatuses"][0]["restartCount"]' 0 || fail "restarted"
	delete_ok gr
	assert_no_leaks
}

@test "grpc liveness probe: the server as a whole (no service); NOT_SERVING restarts the container" {
	apply_ok < <(probe_pod gl "echo SERVING > /tmp/status; $GRPC_SERVER" "livenessProbe:
  grpc: {port: 9090}
  periodSeconds: 1
  failureThreshold: 2
  terminationGracePeriodSeconds: 1")
	# Serving: probes pass (the first may find nothing listening yet) and
	# nothing restarts.
	eventually 10 inspect_is gl '"running" in d["status"]["containerStatuses"][0]["state"]' true
	sleep 3
	describe_has gl "service unhealthy" && fail "a liveness probe failed while SERVING"
	inspect_is gl 'd["status"]["containerStatuses"][0]["restartCount"]' 0 || fail "restarted while SERVING"
	pp exec gl -- sh -c 'echo NOT_SERVING > /tmp/status'
	eventually 15 restarts_at_least gl 1
	run_peapod describe pod gl
	assert_stdout_contains 'Liveness probe failed: service unhealthy (responded with "NOT_SERVING")'
	assert_stdout_contains "Container c failed liveness probe, will be restarted"
	delete_ok gl
	assert_no_leaks
}

@test "grpc probe of an unknown service fails with NotFound; a silent server times out" {
	apply_ok < <(probe_pod gu "echo SERVING > /tmp/status; $GRPC_SERVER; nc -ll -p 9091 -e sleep 100 & true" "readinessProbe:
  grpc: {port: 9090, service: nope}
  periodSeconds: 1
livenessProbe:
  grpc: {port: 9091}
  periodSeconds: 1
  failureThreshold: 1000")
	eventually 10 describe_has gu "Readiness probe failed: error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"
	ready_column_is gu 0/1 || fail "ready for an unknown service"
	eventually 10 describe_has gu "Liveness probe failed: timeout: health rpc did not complete within 1s"
	delete_ok gu
	assert_no_leaks
}

running() {
	[ -n "$(container_pids "$1")" ]
}

# cgi POD NAME STATUS LOCATION BODY: a busybox httpd CGI script
# /cgi-bin/NAME in POD answering "HTTP/1.0 STATUS" with that Location and
# body (its output starts with "HTTP/": httpd passes it on as it is).
cgi() {
	local sh
	sh=$(printf 'mkdir -p /tmp/www/cgi-bin && printf "#!/bin/sh\\nprintf %s\\n" > /tmp/www/cgi-bin/%s && chmod +x /tmp/www/cgi-bin/%s' \
		"'HTTP/1.0 $3\\\\r\\\\nLocation: $4\\\\r\\\\n\\\\r\\\\n$5'" "$2" "$2")
	pp exec "$1" -- sh -c "$sh"
}

@test "httpGet redirects: same host followed, another host a ProbeWarning success" {
	# The startup probe holds the others back until httpd listens (it has
	# bound its port when its command returns) and the test has made both
	# scripts: a liveness probe (one failure kills) before that would
	# restart the container under the test's exec, and the first 404 the
	# readiness probe reports can only be the followed redirect's.
	apply_ok < <(probe_pod hr "mkdir -p /tmp/www/cgi-bin; httpd -p 8080 -h /tmp/www; touch /tmp/up" "startupProbe:
  exec: {command: [sh, -c, 'test -e /tmp/up && test -x /tmp/www/cgi-bin/away']}
  periodSeconds: 1
  failureThreshold: 100
readinessProbe:
  httpGet: {path: /cgi-bin/r, port: 8080}
  periodSeconds: 1
livenessProbe:
  httpGet: {path: /cgi-bin/away, port: 8080}
  periodSeconds: 1
  failureThreshold: 1")
	eventually 10 running hr
	cgi hr r "302 Found" /ok.html ""
	cgi hr away "301 Moved" http://elsewhere.invalid/ "moved away"
	# followed to /ok.html, which is not there yet
	eventually 10 describe_has hr "Readiness probe failed: HTTP probe failed with statuscode: 404"
	pp exec hr -- sh -c 'echo ok > /tmp/www/ok.html'
	eventually 10 ready_column_is hr 1/1
	eventually 10 describe_has hr "Liveness probe warning: Probe terminated redirects, Response body: moved away"
	inspect_is hr 'd["status"]["containerStatuses"][0]["restartCount"]' 0 || fail "a warning restarted it"
	delete_ok hr
	assert_no_leaks
}

@test "httpGet redirect loop: stopped after 10 redirects" {
	apply_ok < <(probe_pod hl "mkdir -p /tmp/www/cgi-bin; httpd -p 8080 -h /tmp/www" "readinessProbe:
  httpGet: {path: /cgi-bin/loop, port: 8080}
  periodSeconds: 1")
	eventually 10 running hl
	cgi hl loop "302 Found" /cgi-bin/loop ""
	eventually 10 describe_has hl '/cgi-bin/loop": stopped after 10 redirects'
	ready_column_is hl 0/1 || fail "ready in a redirect loop"
	delete_ok hl
	assert_no_leaks
}

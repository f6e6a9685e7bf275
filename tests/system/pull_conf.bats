#!/usr/bin/env bats
# image pull under the host's registry settings: registries.conf v2
# (mirrors, insecure and blocked registries, drop-ins) and the certs.d CA
# directories, against Debian's docker-registry on 127.0.0.1 started by
# tests/lib/registry-fixture.py: one in plain HTTP ("real"), one behind TLS
# with htpasswd ("secure"), each holding team/app:v1.

load helpers

# start_fixture MODE NAME: the fixture in MODE, held until its stdin (a
# fifo whose only writer is a sleep) closes; NAME_PORT and NAME_DIR set.
start_fixture() {
	local mode=$1 name=$2 here d
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/registry-$name.XXXXXX")
	mkdir "$d/registry"
	mkfifo "$d/stdin"
	python3 "$here/registry-fixture.py" "$mode" "$d/registry" <"$d/stdin" >"$d/ready" 2>"$d/log" 3>&- &
	echo $! >"$d/fixture.pid"
	sleep 3600 >"$d/stdin" 3>&- &
	echo $! >"$d/holder.pid"
	echo "$d" >>"$SUITE_TMP/pull-conf-fixtures"
	printf -v "${name}_DIR" %s "$d"
	export "${name}_DIR"
}

wait_fixture() {
	local name=$1 d i
	d=${name}_DIR
	d=${!d}
	for ((i = 0; i < 600; i++)); do
		[ -s "$d/ready" ] && break
		sleep 0.1
	done
	printf -v "${name}_PORT" %s "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])' <"$d/ready")"
	export "${name}_PORT"
}

setup_file() {
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 0
	fi
	start_fixture real PLAIN
	start_fixture secure TLS
	wait_fixture PLAIN
	wait_fixture TLS
	# a port nothing listens on: a mirror that is down
	DOWN_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	export DOWN_PORT
}

teardown_file() {
	local d i fixture
	[ -f "$SUITE_TMP/pull-conf-fixtures" ] || return 0
	while read -r d; do
		fixture=$(cat "$d/fixture.pid")
		kill "$(cat "$d/holder.pid")" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$fixture" 2>/dev/null || break
			sleep 0.1
		done
		rm -rf "$d"
	done <"$SUITE_TMP/pull-conf-fixtures"
	rm -f "$SUITE_TMP/pull-conf-fixtures"
}

# conf <<EOF: the test's registries.conf, used by every pull after it.
conf() {
	cat >"$TEST_DIR/registries.conf"
	export PEAPOD_REGISTRIES_CONF=$TEST_DIR/registries.conf
	export PEAPOD_CERTS_DIRS=$TEST_DIR/certs.d
}

store_state() {
	(
		cd "$PEAPOD_ROOT" || exit 1
		find layers images blobs -mindepth 1 ! -name '*.lock' 2>/dev/null | sort
		cat repositories.json 2>/dev/null
	)
}

@test "registries.conf: insecure = true is what makes a registry plain HTTP" {
	conf </dev/null
	run_peapod image pull -q "127.0.0.1:$PLAIN_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "HTTPS to a plain HTTP registry succeeded"
	conf <<EOF
[[registry]]
location = "127.0.0.1:$PLAIN_PORT"
insecure = true
EOF
	run_peapod image pull -q "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_status 0
	assert_line_re '^[0-9a-f]{64}$'
	# --tls-verify=true overrides it
	run_peapod image pull -q --tls-verify=true "127.0.0.1:$PLAIN_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "--tls-verify=true spoke plain HTTP"
	run_peapod image rm "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_status 0
}

@test "registries.conf: mirrors first, in order, a failing one falls through; location rewritten" {
	local before
	before=$(store_state)
	# the registry named does not exist: only the mirrors can serve
	conf <<EOF
[[registry]]
prefix = "registry.invalid/team"
location = "registry.invalid/team"
[[registry.mirror]]
location = "127.0.0.1:$DOWN_PORT/team"
insecure = true
[[registry.mirror]]
location = "127.0.0.1:$PLAIN_PORT/nothing"
insecure = true
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "127.0.0.1:$PLAIN_PORT/team"
insecure = true
EOF
	run_peapod image pull "registry.invalid/team/app:v1"
	assert_status 0
	assert_stderr_contains "warning: mirror 127.0.0.1:$DOWN_PORT/team/app: "
	refute_stderr_contains "/nothing/app"
	run_peapod image ls
	assert_line_re 'registry.invalid/team/app +v1 .*'
	run_peapod image rm registry.invalid/team/app:v1
	assert_status 0

	# a prefix that rewrites the location, no mirror
	conf <<EOF
[[registry]]
prefix = "example.invalid/app"
location = "127.0.0.1:$PLAIN_PORT/team/app"
insecure = true
EOF
	run_peapod image pull -q "example.invalid/app:v1"
	assert_status 0
	run_peapod image rm example.invalid/app:v1
	assert_status 0

	# every mirror down and the registry too: the registry's error, nothing kept
	conf <<EOF
[[registry]]
location = "127.0.0.1:$DOWN_PORT"
insecure = true
[[registry.mirror]]
location = "127.0.0.1:$DOWN_PORT"
insecure = true
EOF
	run_peapod image pull "127.0.0.1:$DOWN_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "pulled from nowhere"
	assert_stderr_contains "warning: mirror 127.0.0.1:$DOWN_PORT/team/app:"
	assert_stderr_contains "pull 127.0.0.1:$DOWN_PORT/team/app:v1: manifest: "
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
}

@test "registries.conf: a blocked registry is refused; drop-ins override per prefix, later wins" {
	local before
	before=$(store_state)
	conf <<EOF
[[registry]]
location = "127.0.0.1:$PLAIN_PORT"
insecure = true
blocked = true
EOF
	run_peapod image pull "127.0.0.1:$PLAIN_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "a blocked registry was pulled from"
	assert_stderr_contains "registry 127.0.0.1:$PLAIN_PORT is blocked (registries.conf, $TEST_DIR/registries.conf:1)"
	[ "$(store_state)" = "$before" ] || fail "the store kept something"

	mkdir "$TEST_DIR/registries.conf.d"
	printf '[[registry]]\nlocation = "127.0.0.1:%s"\nblocked = true\n' "$PLAIN_PORT" \
		>"$TEST_DIR/registries.conf.d/20-block.conf"
	printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$PLAIN_PORT" \
		>"$TEST_DIR/registries.conf.d/10-allow.conf"
	run_peapod image pull "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_stderr_contains "is blocked (registries.conf, $TEST_DIR/registries.conf.d/20-block.conf:1)"
	mv "$TEST_DIR/registries.conf.d/10-allow.conf" "$TEST_DIR/registries.conf.d/30-allow.conf"
	run_peapod image pull -q "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_status 0
	run_peapod image rm "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_status 0
}

@test "registries.conf: a mistake is an error naming FILE:LINE:COL, nothing pulled" {
	conf <<EOF
# peapod test
[[registry]]
location = "127.0.0.1:$PLAIN_PORT"
insecure = yes
EOF
	run_peapod image pull "127.0.0.1:$PLAIN_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "a bad registries.conf was accepted"
	assert_stderr_contains "$TEST_DIR/registries.conf:4:12: not a value (strings are quoted)"
	conf <<EOF
[[registry]]
location = "127.0.0.1:$PLAIN_PORT"
mirrors = []
EOF
	run_peapod image pull "127.0.0.1:$PLAIN_PORT/team/app:v1"
	assert_stderr_contains "$TEST_DIR/registries.conf:3:11: unknown setting registry.mirrors"
}

@test "certs.d: the registry's CA from <dir>/<host:port>/*.crt" {
	conf </dev/null
	run_peapod image pull --creds user:secret "127.0.0.1:$TLS_PORT/team/app:v1"
	[ "$status" -ne 0 ] || fail "an unknown CA was trusted"
	assert_stderr_contains "certificate"
	mkdir -p "$TEST_DIR/certs.d/127.0.0.1:$TLS_PORT"
	cp "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ca_file"])' <"$TLS_DIR/ready")" \
		"$TEST_DIR/certs.d/127.0.0.1:$TLS_PORT/ca.crt"
	echo "not used" >"$TEST_DIR/certs.d/127.0.0.1:$TLS_PORT/client.key"
	run_peapod image pull -q --creds user:secret "127.0.0.1:$TLS_PORT/team/app:v1"
	assert_status 0
	assert_line_re '^[0-9a-f]{64}$'
	run_peapod image rm "127.0.0.1:$TLS_PORT/team/app:v1"
	assert_status 0
}

# Registries for the pull tests: tests/lib/registry-fixture.py in one of
# its modes (real: plain HTTP; secure: TLS and htpasswd; token: plain HTTP
# and a token server; fake: the faults of its namespaces, its requests
# logged to NAME_DIR/requests), each on 127.0.0.1 at a free port.

# fixture_serve DIR MODE ARGS...: registry-fixture.py MODE ARGS... in the
# background, held until its stdin (the fifo DIR/stdin, whose only writer
# is a sleep) closes; it prints its JSON to DIR/ready, its errors to
# DIR/log. DIR exists.
fixture_serve() {
	local d=$1 here
	shift
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	mkfifo "$d/stdin"
	python3 "$here/registry-fixture.py" "$@" <"$d/stdin" >"$d/ready" 2>"$d/log" 3>&- &
	echo $! >"$d/fixture.pid"
	sleep 3600 >"$d/stdin" 3>&- &
	echo $! >"$d/holder.pid"
}

# fixture_port DIR: waits for the fixture of DIR, prints its port.
fixture_port() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -s "$1/ready" ] && break
		sleep 0.1
	done
	python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])' <"$1/ready"
}

# fixture_stop DIR: the fixture of DIR stopped (its stdin closed: it stops
# its registry; killed if it has not ended in 10 s), DIR removed.
fixture_stop() {
	local d=$1 fixture i
	[ -f "$d/fixture.pid" ] || return 0
	fixture=$(cat "$d/fixture.pid")
	kill "$(cat "$d/holder.pid")" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$fixture" 2>/dev/null || break
		sleep 0.1
	done
	kill "$fixture" 2>/dev/null || true
	rm -rf "$d"
}

# fixtures_list: the file naming the fixtures this bats file started.
fixtures_list() {
	echo "$SUITE_TMP/fixtures-$(basename "$BATS_TEST_FILENAME")"
}

# start_fixture MODE NAME: the fixture in MODE (fixture_serve); NAME_DIR
# set, NAME_PORT by wait_fixture NAME.
start_fixture() {
	local mode=$1 name=$2 d
	d=$(mktemp -d "$SUITE_TMP/registry-$name.XXXXXX")
	mkdir "$d/registry"
	# the fake registry's argument is the file it logs its requests to
	local arg=$d/registry
	[ "$mode" != fake ] || arg=$d/requests
	fixture_serve "$d" "$mode" "$arg"
	echo "$d" >>"$(fixtures_list)"
	printf -v "${name}_DIR" %s "$d"
	export "${name}_DIR"
}

wait_fixture() {
	local d=${1}_DIR
	printf -v "${1}_PORT" %s "$(fixture_port "${!d}")"
	export "${1}_PORT"
}

# stop_fixtures: every fixture this file started, stopped.
stop_fixtures() {
	local d
	[ -f "$(fixtures_list)" ] || return 0
	while read -r d; do
		fixture_stop "$d"
	done <"$(fixtures_list)"
	rm -f "$(fixtures_list)"
}

# token_registry (in setup_file): the token fixture (user:secret; public/app:v1
# and team/app:v1) at $REG, or FILE_SKIP saying what is missing (and
# returns 1).
token_registry() {
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 1
	fi
	start_fixture token TOKEN
	wait_fixture TOKEN
	export REG=127.0.0.1:$TOKEN_PORT
}

# pull_home (in setup, TEST_DIR made): the test's own credentials places
# (HOME, XDG_RUNTIME_DIR), nothing of the host's.
pull_home() {
	export HOME=$TEST_DIR/home XDG_RUNTIME_DIR=$TEST_DIR/xdg
	unset DOCKER_CONFIG REGISTRY_AUTH_FILE
	mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
}

# pull_env: pull_home, and $REG in plain HTTP in the test's registries.conf.
pull_env() {
	pull_home
	conf <<EOF
[[registry]]
location = "$REG"
insecure = true
EOF
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

# Registries for the pull tests: tests/lib/registry-fixture.py in one of
# its modes (real: plain HTTP; secure: TLS and htpasswd; token: plain HTTP
# and a token server; fake: the faults of its namespaces, its requests
# logged to NAME_DIR/requests), each on 127.0.0.1 at a free port.

# fixtures_list: the file naming the fixtures this bats file started.
fixtures_list() {
	echo "$SUITE_TMP/fixtures-$(basename "$BATS_TEST_FILENAME")"
}

# start_fixture MODE NAME: the fixture in MODE, held until its stdin (a
# fifo whose only writer is a sleep) closes; NAME_PORT and NAME_DIR set.
start_fixture() {
	local mode=$1 name=$2 here d
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	d=$(mktemp -d "$SUITE_TMP/registry-$name.XXXXXX")
	mkdir "$d/registry"
	mkfifo "$d/stdin"
	# the fake registry's argument is the file it logs its requests to
	local arg=$d/registry
	[ "$mode" != fake ] || arg=$d/requests
	python3 "$here/registry-fixture.py" "$mode" "$arg" <"$d/stdin" >"$d/ready" 2>"$d/log" 3>&- &
	echo $! >"$d/fixture.pid"
	sleep 3600 >"$d/stdin" 3>&- &
	echo $! >"$d/holder.pid"
	echo "$d" >>"$(fixtures_list)"
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

# stop_fixtures: every fixture this file started, stopped (each stops its
# registry and removes its directory when its stdin closes).
stop_fixtures() {
	local d i fixture
	[ -f "$(fixtures_list)" ] || return 0
	while read -r d; do
		fixture=$(cat "$d/fixture.pid")
		kill "$(cat "$d/holder.pid")" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$fixture" 2>/dev/null || break
			sleep 0.1
		done
		rm -rf "$d"
	done <"$(fixtures_list)"
	rm -f "$(fixtures_list)"
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

#!/usr/bin/env bats
# image pull with token authentication against a real token server:
# Debian's docker-registry with `auth: token`, and the fixture's token
# server (tests/lib/registry-fixture.py token) that signs RS256 JWTs, grants
# anonymous pulls of public/* and everything to user:secret, and logs each
# token request. Credentials come from --creds, --authfile,
# $REGISTRY_AUTH_FILE or the usual places (auth.json, docker's config.json).

load helpers
load registry_helpers

setup_file() {
	token_registry || return 0
}

teardown_file() {
	stop_fixtures
}

# The test's own credentials places, nothing of the host's; the registry in
# plain HTTP through registries.conf.
setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	pull_env
}

# token_requests: how many token requests the server has seen so far.
token_requests() {
	wc -l <"$TOKEN_DIR/tokens.log"
}

# auth_json USER PASS [KEY]: an auth.json for KEY (default: the registry).
auth_json() {
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "${3:-$REG}" "$(printf %s "$1:$2" | base64 -w0)"
}

@test "token auth: an anonymous token for a public repository, reused for the whole pull" {
	local before
	before=$(token_requests)
	run_peapod image pull "$REG/public/app:v1"
	assert_status 0
	assert_stderr_contains "Copying blob sha256:"
	# the manifest, the config and the layer: one token
	[ "$(token_requests)" -eq $((before + 1)) ] || fail "$(($(token_requests) - before)) token requests, want 1"
	tail -1 "$TOKEN_DIR/tokens.log" | grep -q '"account": null, "scopes": \["repository:public/app:pull"\], "status": 200' ||
		fail "not an anonymous pull token: $(tail -1 "$TOKEN_DIR/tokens.log")"
	run_peapod image rm "$REG/public/app:v1"
	assert_status 0
}

@test "token auth: a private repository without credentials, or with a wrong password, is unauthorized and leaves nothing" {
	local before
	before=$(store_state)
	run_peapod image pull "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "pulled a private repository anonymously"
	assert_stderr_contains "pull $REG/team/app:v1: manifest: $REG/team/app: manifest v1: unauthorized"
	auth_json user wrong >"$TEST_DIR/auth.json"
	run_peapod image pull --authfile "$TEST_DIR/auth.json" "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "a wrong password was accepted"
	assert_stderr_contains "unauthorized: wrong user name or password"
	tail -1 "$TOKEN_DIR/tokens.log" | grep -q '"account": "user", .*"status": 401' ||
		fail "the token server did not see the wrong password: $(tail -1 "$TOKEN_DIR/tokens.log")"
	[ "$(store_state)" = "$before" ] || fail "the store kept something"
	# a missing --authfile is an error of its own
	run_peapod image pull --authfile "$TEST_DIR/none.json" "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "a missing --authfile was ignored"
	assert_stderr_contains "$TEST_DIR/none.json"
}

@test "token auth: credentials from --authfile, REGISTRY_AUTH_FILE, auth.json and docker's config.json; --creds wins" {
	local before
	auth_json user secret >"$TEST_DIR/good.json"
	auth_json user wrong >"$TEST_DIR/bad.json"

	before=$(token_requests)
	run_peapod image pull -q --authfile "$TEST_DIR/good.json" "$REG/team/app:v1"
	assert_status 0
	[ "$(token_requests)" -eq $((before + 1)) ] || fail "one pull, $(($(token_requests) - before)) token requests"
	tail -1 "$TOKEN_DIR/tokens.log" | grep -q '"account": "user", "scopes": \["repository:team/app:pull"\], "status": 200' ||
		fail "not the user's token: $(tail -1 "$TOKEN_DIR/tokens.log")"
	run_peapod image rm "$REG/team/app:v1"

	REGISTRY_AUTH_FILE=$TEST_DIR/good.json run_peapod image pull -q "$REG/team/app:v1"
	assert_status 0
	run_peapod image rm "$REG/team/app:v1"

	# --authfile over REGISTRY_AUTH_FILE; --creds over both
	REGISTRY_AUTH_FILE=$TEST_DIR/good.json run_peapod image pull -q --authfile "$TEST_DIR/bad.json" "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "--authfile did not win over REGISTRY_AUTH_FILE"
	run_peapod image pull -q --authfile "$TEST_DIR/bad.json" --creds user:secret "$REG/team/app:v1"
	assert_status 0
	run_peapod image rm "$REG/team/app:v1"

	# the usual places: a repository-specific key in podman's auth.json
	# wins over the registry's; docker's config.json after podman's
	mkdir -p "$XDG_RUNTIME_DIR/containers" "$HOME/.docker"
	printf '{"auths": {"%s": {"auth": "%s"}, "%s/team/app": {"auth": "%s"}}}\n' \
		"$REG" "$(printf user:wrong | base64 -w0)" "$REG" "$(printf user:secret | base64 -w0)" \
		>"$XDG_RUNTIME_DIR/containers/auth.json"
	run_peapod image pull -q "$REG/team/app:v1"
	assert_status 0
	run_peapod image rm "$REG/team/app:v1"
	rm "$XDG_RUNTIME_DIR/containers/auth.json"
	auth_json user secret "http://$REG/v1/" >"$HOME/.docker/config.json"
	run_peapod image pull -q "$REG/team/app:v1"
	assert_status 0
	run_peapod image rm "$REG/team/app:v1"
	assert_status 0
}

@test "token auth: a credential helper from docker's config.json" {
	mkdir -p "$HOME/.docker" "$TEST_DIR/bin"
	printf '{"credHelpers": {"%s": "peapodtest"}}\n' "$REG" >"$HOME/.docker/config.json"
	cat >"$TEST_DIR/bin/docker-credential-peapodtest" <<'EOF'
#!/bin/sh
read -r server
echo "$server" >>"$(dirname "$0")/asked"
echo '{"ServerURL": "'"$server"'", "Username": "user", "Secret": "secret"}'
EOF
	chmod +x "$TEST_DIR/bin/docker-credential-peapodtest"
	PATH=$TEST_DIR/bin:$PATH run_peapod image pull -q "$REG/team/app:v1"
	assert_status 0
	[ "$(cat "$TEST_DIR/bin/asked")" = "$REG" ] || fail "the helper was asked: $(cat "$TEST_DIR/bin/asked")"
	run_peapod image rm "$REG/team/app:v1"
	# a helper that is not installed: an error naming it
	run_peapod image pull -q "$REG/team/app:v1"
	[ "$status" -ne 0 ] || fail "pulled without the helper"
	assert_stderr_contains "docker-credential-peapodtest"
}

@test "token auth: a mirror from registries.conf, asked first, with its own repository's token" {
	local before
	conf <<EOF
[[registry]]
prefix = "registry.invalid/images"
location = "registry.invalid/images"
[[registry.mirror]]
location = "$REG/public"
insecure = true
EOF
	before=$(token_requests)
	run_peapod image pull -q "registry.invalid/images/app:v1"
	assert_status 0
	[ "$(token_requests)" -eq $((before + 1)) ] || fail "$(($(token_requests) - before)) token requests, want 1"
	tail -1 "$TOKEN_DIR/tokens.log" | grep -q '"scopes": \["repository:public/app:pull"\], "status": 200' ||
		fail "not a token for the mirror's repository: $(tail -1 "$TOKEN_DIR/tokens.log")"
	run_peapod image ls
	assert_line_re 'registry.invalid/images/app +v1 .*'
	run_peapod image rm "registry.invalid/images/app:v1"
	assert_status 0
}

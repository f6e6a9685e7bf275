#!/usr/bin/env bats
# imagePullSecrets as kubelet uses them: the pod's Secrets of type
# kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg give the
# credentials of its pulls, matched against the image as kubelet's keyring
# does (most specific key first, each tried in turn). Against Debian's
# docker-registry with token auth (tests/lib/registry-fixture.py token:
# everything to user:secret, public/* to anyone), a busybox image pushed to
# the private repository team/busy.

load helpers
load registry_helpers
load pods_helpers

UNTIL_TERM='trap "exit 0" TERM; while true; do sleep 0.1; done'

setup_file() {
	local here d
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 0
	fi
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	start_fixture token TOKEN
	wait_fixture TOKEN
	export REG=127.0.0.1:$TOKEN_PORT
	d=$TOKEN_DIR
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >/dev/null
	skopeo copy --quiet --dest-tls-verify=false --dest-creds user:secret "oci:$d/layout:1" \
		"docker://$REG/team/busy:1" >/dev/null
	export PEAPOD_REGISTRIES_CONF=$d/registries.conf
	cat >"$PEAPOD_REGISTRIES_CONF" <<EOF
[[registry]]
location = "$REG"
insecure = true
EOF
}

teardown_file() {
	stop_fixtures
}

# No credentials of the host's: only the pod's Secrets.
setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	pull_home
}

reason_is() {
	[ "$(inspect_get "$1" "d['status']['containerStatuses'][0]['state']['waiting']['reason']" 2>/dev/null)" = "$2" ]
}

# secret_pod NAME SECRET...: a pod of team/busy:1 (or $POD_IMAGE) with
# those imagePullSecrets.
secret_pod() {
	local name=$1 refs="" s
	shift
	for s in "$@"; do refs="$refs{name: $s}, "; done
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
  terminationGracePeriodSeconds: 2
  imagePullSecrets: [${refs%, }]
  containers:
    - name: c
      image: ${POD_IMAGE:-$REG/team/busy:1}
      command: ["sh", "-c", '$UNTIL_TERM']
EOF
}

# no_password NAME: the password is nowhere the user can see the pod.
no_password() {
	local b64 uid
	b64=$(printf user:secret | base64 -w0)
	uid=$(pod_uid "$1")
	{
		pod_events "$1"
		pp inspect "$1"
		pp describe pod "$1"
		pp get pod "$1" -o json
		pp logs "$1"
	} >"$TEST_DIR/seen" 2>&1 || true
	! grep -qw -e secret -e "${b64%=}" "$TEST_DIR/seen" || fail "the password shows: $(grep -w -e secret -e "${b64%=}" "$TEST_DIR/seen")"
	! grep -rqw -e secret -e "${b64%=}" "$PEAPOD_RUN/pods/$uid" || fail "the password is in the pod's run directory: $(grep -rlw -e secret -e "${b64%=}" "$PEAPOD_RUN/pods/$uid")"
}

@test "imagePullSecrets: without, ErrImagePull unauthorized; with a docker-registry secret, it runs; a missing one is a warning" {
	secret_pod p
	assert_status 0
	eventually 20 reason_is p ErrImagePull
	has_event p "c Failed: Failed to pull image \"$REG/team/busy:1\": .*unauthorized" || fail "no unauthorized: $(pod_events p)"
	delete_ok p

	run_peapod create secret docker-registry regcred --docker-server="$REG" \
		--docker-username=user --docker-password=secret
	assert_status 0
	secret_pod q absent regcred
	assert_status 0
	eventually 20 phase_is q Running
	has_event q "- FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (absent); attempting to pull the image may not succeed." ||
		fail "no missing-secret warning: $(pod_events q)"
	has_event q "c Pulled: Successfully pulled image \"$REG/team/busy:1\"" || fail "no Pulled: $(pod_events q)"
	tail -1 "$TOKEN_DIR/tokens.log" | grep -q '"account": "user", .*"status": 200' ||
		fail "not the secret's user: $(tail -1 "$TOKEN_DIR/tokens.log")"
	no_password q
	delete_ok q
	run_peapod delete secret regcred
	run_peapod image rm "$REG/team/busy:1"
	assert_no_leaks
}

@test "imagePullSecrets: manifest Secrets (.dockerconfigjson with a path key, .dockercfg); the most specific first, each tried in turn" {
	local good bad
	good=$(printf user:secret | base64 -w0)
	bad=$(printf user:wrong | base64 -w0)
	apply_ok <<EOF
apiVersion: v1
kind: Secret
metadata: {name: wrong}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"https://$REG/team/busy": {"auth": "$bad"}}}'
---
apiVersion: v1
kind: Secret
metadata: {name: right}
type: kubernetes.io/dockercfg
stringData:
  .dockercfg: '{"https://$REG/v1/": {"username": "user", "password": "secret"}}'
---
apiVersion: v1
kind: Secret
metadata: {name: elsewhere}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"$REG/other": {"auth": "$good"}}}'
EOF
	# elsewhere matches no key; wrong (host/team/busy) is tried before right (host)
	local before
	before=$(wc -l <"$TOKEN_DIR/tokens.log")
	secret_pod p right elsewhere wrong
	assert_status 0
	eventually 20 phase_is p Running
	tail -n +"$((before + 1))" "$TOKEN_DIR/tokens.log" >"$TEST_DIR/tokens"
	head -1 "$TEST_DIR/tokens" | grep -q '"account": "user", .*"status": 401' ||
		fail "the more specific key was not tried first: $(cat "$TEST_DIR/tokens")"
	grep -q '"account": "user", .*"status": 200' "$TEST_DIR/tokens" || fail "no good token: $(cat "$TEST_DIR/tokens")"
	has_event p FailedToRetrieveImagePullSecret && fail "a warning for secrets that exist: $(pod_events p)"
	no_password p
	delete_ok p
	run_peapod delete secret wrong right elsewhere
	run_peapod image rm "$REG/team/busy:1"
	assert_no_leaks
}

@test "imagePullSecrets: peapod debug's container pulls with its pod's Secrets" {
	run_peapod create secret docker-registry regcred --docker-server="$REG" \
		--docker-username=user --docker-password=secret
	assert_status 0
	POD_IMAGE=$IMAGE secret_pod p regcred
	assert_status 0
	eventually 20 phase_is p Running
	run_peapod debug p -i --image "$REG/team/busy:1" -c dbg -- echo debugged
	assert_status 0
	assert_line "debugged"
	eventually 10 has_event p "dbg Pulled: Successfully pulled image \"$REG/team/busy:1\""
	no_password p
	delete_ok p
	run_peapod delete secret regcred
	run_peapod image rm "$REG/team/busy:1"
	assert_no_leaks
}

@test "imagePullSecrets: a malformed Secret fails the pull, naming it and never a value" {
	apply_ok <<EOF
apiVersion: v1
kind: Secret
metadata: {name: bad}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"$REG": {"auth": "c2VjcmV0"}}}'
EOF
	secret_pod p bad
	assert_status 0
	eventually 20 reason_is p ErrImagePull
	has_event p "c Failed: Error: secret \"bad\" (.dockerconfigjson): auths.\"$REG\".auth: not base64 of user:password" ||
		fail "no error naming the secret: $(pod_events p)"
	! events p | grep -q c2VjcmV0 || fail "the value shows: $(pod_events p)"
	delete_ok p
	run_peapod delete secret bad
	assert_no_leaks
}

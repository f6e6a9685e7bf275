#!/usr/bin/env bats
# Pods pull their images, as kubelet does: per imagePullPolicy (and its
# defaults), in the pod's own supervisor after its sandbox exists, with
# kubelet's waiting reasons, events and back-off. A real registry
# (Debian's docker-registry on 127.0.0.1, tests/lib/registry-fixture.py),
# filled with skopeo from an OCI layout of the busybox rootfs
# (tests/lib/make-oci-layout.py), spoken to in plain HTTP as the
# registries.conf of PEAPOD_REGISTRIES_CONF says.

load helpers
load registry_helpers
load pods_helpers

UNTIL_TERM='trap "exit 0" TERM; while true; do sleep 0.1; done'

setup_file() {
	local here d i
	if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
		export FILE_SKIP="docker-registry or skopeo is missing (make deps)"
		return 0
	fi
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	# the registry's access log (info) tells which blobs were asked for
	REGISTRY_LOG_LEVEL=info start_fixture real R
	wait_fixture R
	d=$R_DIR
	export REG_DIR=$d
	export REG=127.0.0.1:$R_PORT
	make_rootfs "$d/rootfs"
	python3 "$here/make-oci-layout.py" "$d/rootfs" "$d/layout" >"$d/layers"
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

# push REPO:TAG: the layout's image 1 (three layers) to the registry.
push() {
	skopeo copy --quiet --dest-tls-verify=false "oci:$REG_DIR/layout:1" \
		"docker://$REG/$1" >/dev/null
}

# waiting_reason NAME [INDEX]: the waiting reason of app container INDEX.
waiting_reason() {
	inspect_get "$1" "d['status']['containerStatuses'][${2:-0}]['state']['waiting']['reason']"
}

# waiting_is NAME "REASON: MESSAGE": app container 0's waiting state.
waiting_is() {
	[ "$(inspect_get "$1" "'%s: %s' % (d['status']['containerStatuses'][0]['state']['waiting']['reason'], d['status']['containerStatuses'][0]['state']['waiting']['message'])" 2>/dev/null)" = "$2" ]
}

# pulls_at_least NAME N: N or more Pulling events of container c (counted
# at each try: eventually re-runs a command, not a $(...) expanded once).
pulls_at_least() {
	[ "$(pod_events "$1" | grep -c 'c Pulling:')" -ge "$2" ]
}

reason_is() {
	[ "$(waiting_reason "$1" 2>/dev/null)" = "$2" ]
}

# pod_with IMAGE [POLICY] [NAME]: an applied pod of one sleeping container.
pod_with() {
	local policy=${2:+"imagePullPolicy: $2"}
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: ${3:-p}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: c
      image: $1
      $policy
      command: ["sh", "-c", '$UNTIL_TERM']
EOF
}

@test "a pod whose image is only in the registry pulls it and runs; run shows the pull" {
	local before
	before=$(store_state)
	push pp/only:1
	pod_with "$REG/pp/only:1"
	assert_status 0
	eventually 20 phase_is p Running
	has_event p "c Pulling: Pulling image \"$REG/pp/only:1\"" || fail "no Pulling event: $(pod_events p)"
	pod_events p | grep -qE "^c Pulled: Successfully pulled image \"$REG/pp/only:1\" in [0-9.]+s \([0-9.]+s including waiting\)\. Image size: [0-9]+ bytes\.$" ||
		fail "no Pulled event: $(pod_events p)"
	has_event p "already present" && fail "said already present: $(pod_events p)"
	[ "$(inspect_get p 'd["status"]["containerStatuses"][0]["imageID"]')" != "" ] || fail "no imageID"
	delete_ok p
	run_peapod image rm "$REG/pp/only:1"
	assert_status 0

	# peapod run: the pull's progress on stderr, then the container's output
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: r
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "$REG/pp/only:1", command: ["echo", "pulled and ran"]}
EOF
	assert_status 0
	assert_line "[c] pulled and ran"
	assert_stderr_contains "Pulling image \"$REG/pp/only:1\""
	assert_stderr_contains "downloading layer sha256:"
	assert_stderr_contains "Successfully pulled image \"$REG/pp/only:1\""
	run_peapod image rm "$REG/pp/only:1"
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	assert_no_leaks
}

@test "IfNotPresent with the image present does not contact the registry" {
	# nothing listens on 127.0.0.1:9: a pull could only fail
	make_rootfs "$TEST_DIR/rootfs"
	run_peapod image import "$TEST_DIR/rootfs" 127.0.0.1:9/pp/local:1
	assert_status 0
	pod_with 127.0.0.1:9/pp/local:1
	assert_status 0
	eventually 10 phase_is p Running
	has_event p 'c Pulled: Container image "127.0.0.1:9/pp/local:1" already present on machine' ||
		fail "no already-present event: $(pod_events p)"
	has_event p Pulling && fail "pulled: $(pod_events p)"
	delete_ok p
	run_peapod image rm 127.0.0.1:9/pp/local:1
	assert_no_leaks
}

@test "Always with an unchanged image checks the registry and downloads no layer" {
	push pp/always:1
	run_peapod image pull --tls-verify=false "$REG/pp/always:1"
	assert_status 0
	local mark
	mark=$(wc -l <"$REG_DIR/registry/registry.log")
	pod_with "$REG/pp/always:1" Always
	assert_status 0
	eventually 20 phase_is p Running
	has_event p "c Pulling: Pulling image" || fail "no Pulling event: $(pod_events p)"
	has_event p "c Pulled: Successfully pulled image" || fail "no Pulled event: $(pod_events p)"
	has_event p PullProgress && fail "a layer was downloaded: $(pod_events p)"
	# the registry was asked for the manifest, and for no layer
	tail -n +"$((mark + 1))" "$REG_DIR/registry/registry.log" >"$TEST_DIR/reg.log"
	grep -q '/v2/pp/always/manifests/1' "$TEST_DIR/reg.log" || fail "the registry was not asked: $(cat "$TEST_DIR/reg.log")"
	while read -r layer; do
		grep -q "/blobs/$layer" "$TEST_DIR/reg.log" && fail "layer $layer downloaded again"
	done <"$REG_DIR/layers"
	# the manifest's digest only (one HEAD): no manifest body, no config
	grep 'msg="response completed".*/v2/pp/always/manifests/' "$TEST_DIR/reg.log" >"$TEST_DIR/manifests"
	[ "$(wc -l <"$TEST_DIR/manifests")" -eq 1 ] || fail "not one manifest request: $(cat "$TEST_DIR/manifests")"
	grep -q 'http.request.method=HEAD .*http.request.uri=/v2/pp/always/manifests/1 ' "$TEST_DIR/manifests" ||
		fail "not a HEAD: $(cat "$TEST_DIR/manifests")"
	grep -q '/v2/pp/always/blobs/' "$TEST_DIR/reg.log" && fail "a blob was asked for: $(grep '/blobs/' "$TEST_DIR/reg.log")"
	delete_ok p
	# the tag moved: the digest differs, the new image is pulled
	local old
	old=$(pp image inspect "$REG/pp/always:1" | json_get 'd[0]["Id"]')
	skopeo copy --quiet --dest-tls-verify=false "oci:$REG_DIR/layout:2" \
		"docker://$REG/pp/always:1" >/dev/null
	pod_with "$REG/pp/always:1" Always
	assert_status 0
	eventually 20 phase_is p Running
	has_event p "c Pulled: Successfully pulled image" || fail "no Pulled event: $(pod_events p)"
	[ "$(pp image inspect "$REG/pp/always:1" | json_get 'd[0]["Id"]')" != "$old" ] || fail "the old image kept"
	delete_ok p
	run_peapod image rm "$REG/pp/always:1"
	assert_no_leaks
}

@test "Always asks the registry again at every restart, and a restart takes the tag's new image" {
	push pp/again:1
	local mark
	mark=$(wc -l <"$REG_DIR/registry/registry.log")
	# crash-loop back-off 0.5 s doubling to 15 s: a restart after the tag
	# moves comes soon whenever the push ends (at the real scale the one
	# after the push may be 40 s away on a loaded machine)
	export PEAPOD_TEST_TIME_SCALE=0.05
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: $REG/pp/again:1
      imagePullPolicy: Always
      command: ["sh", "-c", "sleep 0.3"]
EOF
	assert_status 0
	eventually 30 restarts_at_least p 2
	[ "$(pod_events p | grep -c 'c Pulling: ')" -ge 3 ] || fail "not one pull per start: $(pod_events p)"
	tail -n +"$((mark + 1))" "$REG_DIR/registry/registry.log" |
		grep -c 'msg="response completed".*/v2/pp/again/manifests/1 ' >"$TEST_DIR/n"
	[ "$(cat "$TEST_DIR/n")" -ge 3 ] || fail "the registry was asked $(cat "$TEST_DIR/n") times"
	# the tag moves: the next restart runs the new image
	local old
	old=$(inspect_get p "d['status']['containerStatuses'][0]['imageID']")
	skopeo copy --quiet --dest-tls-verify=false "oci:$REG_DIR/layout:2" \
		"docker://$REG/pp/again:1" >/dev/null
	eventually 60 image_id_changed p "$old"
	unset PEAPOD_TEST_TIME_SCALE
	delete_ok p
	run_peapod image rm "$REG/pp/again:1"
	assert_no_leaks
}

# image_id_changed NAME OLD: app container 0 reports an imageID other than OLD (and not "").
image_id_changed() {
	local id
	id=$(inspect_get "$1" "d['status']['containerStatuses'][0]['imageID']" 2>/dev/null) || return 1
	[ -n "$id" ] && [ "$id" != "$2" ]
}

@test "the default policy: Always for :latest, IfNotPresent for another tag" {
	make_rootfs "$TEST_DIR/rootfs"
	# present under :latest, but nothing listens on 127.0.0.1:9: Always fails
	run_peapod image import "$TEST_DIR/rootfs" 127.0.0.1:9/pp/def:latest
	assert_status 0
	pod_with 127.0.0.1:9/pp/def
	assert_status 0
	eventually 10 has_event p 'c Failed: Failed to pull image "127.0.0.1:9/pp/def"'
	phase_is p Pending || fail "not Pending"
	delete_ok p
	run_peapod image rm 127.0.0.1:9/pp/def:latest
	assert_no_leaks
}

@test "Never with the image missing waits with ErrImageNeverPull; delete leaves nothing" {
	local before
	before=$(pod_dirs)
	pod_with "$REG/pp/never:1" Never
	assert_status 0
	eventually 10 reason_is p ErrImageNeverPull
	[ "$(inspect_get p 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]')" = \
		"Container image \"$REG/pp/never:1\" is not present with pull policy of Never" ] ||
		fail "wrong message: $(state_status p)"
	phase_is p Pending || fail "not Pending"
	has_event p "c ErrImageNeverPull: Container image" || fail "no event: $(pod_events p)"
	has_event p "c Failed: Error: ErrImageNeverPull" || fail "no Failed event: $(pod_events p)"
	has_event p Pulling && fail "pulled: $(pod_events p)"
	run_peapod get pods p
	assert_stdout_contains ErrImageNeverPull
	delete_ok p
	[ "$(pod_dirs)" = "$before" ] || fail "pod directories left"
	assert_no_leaks
}

@test "a missing tag: ErrImagePull, then ImagePullBackOff, then it runs once pushed" {
	export PEAPOD_TEST_TIME_SCALE=0.05 # back-off 0.5 s doubling
	pod_with "$REG/pp/late:1"
	assert_status 0
	eventually 10 has_event p "c Failed: Failed to pull image \"$REG/pp/late:1\": "
	eventually 10 has_event p 'c Failed: Error: ErrImagePull'
	eventually 10 has_event p "c BackOff: Back-off pulling image \"$REG/pp/late:1\""
	# reason and message from one status (the next attempt may come between two)
	eventually 10 waiting_is p "ImagePullBackOff: Back-off pulling image \"$REG/pp/late:1\""
	phase_is p Pending || fail "not Pending"
	run_peapod describe pod p
	assert_stdout_contains "Back-off pulling image"
	assert_stdout_contains "Failed to pull image"
	# retried: another Pulling after the back-off
	eventually 30 pulls_at_least p 2
	push pp/late:1
	eventually 30 phase_is p Running
	has_event p "c Pulled: Successfully pulled image" || fail "no Pulled event"
	unset PEAPOD_TEST_TIME_SCALE
	delete_ok p
	run_peapod image rm "$REG/pp/late:1"
	assert_no_leaks
}

@test "a container the pulled image makes invalid waits with CreateContainerConfigError" {
	push pp/cfg:1
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: $REG/pp/cfg:1
      command: ["true"]
      securityContext: {runAsNonRoot: true, runAsUser: 0}
EOF
	assert_status 0
	eventually 20 reason_is p CreateContainerConfigError
	# and stays so: no "Back-off pulling image" a second later (the pull
	# worked; a loaded run once read that)
	sleep 2
	reason_is p CreateContainerConfigError || fail "not kept: $(state_status p)"
	inspect_get p 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]' |
		grep -F "runAsUser breaks non-root policy" >/dev/null || fail "no message: $(state_status p)"
	has_event p "c Pulled: Successfully pulled image" || fail "not pulled: $(pod_events p)"
	has_event p "c Failed: Error: container's runAsUser breaks non-root policy" || fail "no event: $(pod_events p)"
	has_event p "c Started" && fail "it started: $(pod_events p)"
	delete_ok p
	run_peapod image rm "$REG/pp/cfg:1"
	assert_status 0
	assert_no_leaks
}

@test "init containers keep their order while their images are pulled" {
	push pp/init-a:1
	push pp/app:1
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: order
spec:
  restartPolicy: Never
  volumes: [{name: v, emptyDir: {}}]
  initContainers:
    - {name: a, image: "$REG/pp/init-a:1", command: ["sh", "-c", "echo a >>/v/order"], volumeMounts: [{name: v, mountPath: /v}]}
    - {name: b, image: "$IMAGE", command: ["sh", "-c", "echo b >>/v/order"], volumeMounts: [{name: v, mountPath: /v}]}
  containers:
    - {name: c, image: "$REG/pp/app:1", command: ["sh", "-c", "echo \$(cat /v/order)"], volumeMounts: [{name: v, mountPath: /v}]}
EOF
	assert_status 0
	assert_line "[c] a b"
	run_peapod image rm "$REG/pp/init-a:1" "$REG/pp/app:1"
	assert_no_leaks
}

@test "delete while pulling leaves nothing" {
	local before port here layer
	before=$(store_state)
	push pp/slow:1
	# a proxy to the registry that hangs half-way through the base layer:
	# the pull has stored the manifest and the config, and downloads
	here=$(cd "$(dirname "$BATS_TEST_FILENAME")/../lib" && pwd)
	layer=$(sed -n 1p "$REG_DIR/layers")
	python3 "$here/slow-proxy.py" "$REG" "$layer" >"$TEST_DIR/port" 3>&- &
	local proxy=$!
	eventually 5 test -s "$TEST_DIR/port"
	port=$(cat "$TEST_DIR/port")
	printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" >>"$PEAPOD_REGISTRIES_CONF"
	pod_with "127.0.0.1:$port/pp/slow:1"
	assert_status 0
	eventually 10 has_event p "c PullProgress: .*downloading layer $layer"
	reason_is p ContainerCreating || fail "not ContainerCreating: $(state_status p)"
	local pid pulls=()
	for pid in $(pgrep -x peapod-pull); do
		belongs_to_suite "$pid" && pulls+=("$pid")
	done
	[ "${#pulls[@]}" -eq 1 ] || fail "expected one peapod-pull process: ${pulls[*]}"
	[ "$(store_state)" != "$before" ] || fail "the pull had stored nothing yet"
	delete_ok p
	none_alive "${pulls[@]}" || fail "the pull's process outlived the pod"
	kill "$proxy"
	wait "$proxy" 2>/dev/null || true
	# what the killed pull stored was collected by the pod's supervisor
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	[ -z "$(find "$PEAPOD_ROOT" -maxdepth 3 -name '.tmp*')" ] || fail "temporaries left: $(find "$PEAPOD_ROOT" -maxdepth 3 -name '.tmp*')"
	assert_no_leaks
}

@test "two pods pulling the same image at once both run" {
	push pp/two:1
	local n
	for n in a b; do
		sed "s/^  name: p$/  name: $n/" >"$TEST_DIR/$n.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - {name: c, image: "$REG/pp/two:1", command: ["sh", "-c", '$UNTIL_TERM']}
EOF
	done
	pp apply -f "$TEST_DIR/a.yaml" &
	pp apply -f "$TEST_DIR/b.yaml"
	wait
	eventually 30 phase_is a Running
	eventually 30 phase_is b Running
	delete_ok a b
	run_peapod image rm "$REG/pp/two:1"
	assert_no_leaks
}

@test "debug: the ephemeral container's image is pulled by the pod's supervisor, then it runs" {
	push pp/dbg:1
	pod_with "$IMAGE" "" p
	assert_status 0
	eventually 20 phase_is p Running
	run_peapod debug p -i --image "$REG/pp/dbg:1" -c dbg --target c -- sh -c 'echo debugged; ps -o args'
	assert_status 0
	assert_line "debugged"
	assert_stdout_contains "sleep 0.1"
	eventually 10 has_event p "dbg Pulled: Successfully pulled image \"$REG/pp/dbg:1\""
	has_event p "dbg Pulling: Pulling image"
	[ "$(inspect_get p "d['status']['ephemeralContainerStatuses'][0]['imageID']")" != "" ]
	run_peapod delete p
	assert_status 0
	run_peapod image rm "$REG/pp/dbg:1"
	assert_no_leaks
}

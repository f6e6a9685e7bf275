#!/usr/bin/env bats
# PersistentVolumeClaims: a claim makes a directory that outlives every
# pod; persistentVolumeClaim volumes mount it (readOnly); get, describe and
# delete pvc (refused while a pod uses it); ReadWriteOncePod admits one
# pod; the API server's validation and update rules.

load helpers
load pods_helpers

eval "$(declare -f teardown | sed '1s/^teardown/helpers_teardown/')"
teardown() {
	rm -rf "$PEAPOD_ROOT/objects" "$PEAPOD_ROOT/volumes"
	helpers_teardown
}

# claim NAME [MODE] [SIZE]: a PersistentVolumeClaim document.
claim() {
	cat <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $1
spec:
  accessModes: [${2:-ReadWriteOnce}]
  resources:
    requests:
      storage: ${3:-1Gi}
---
EOF
}

# claim_pod NAME CLAIM SCRIPT [READONLY]: a restartPolicy Never pod with the
# claim at /data.
claim_pod() {
	sh_pod "$1" Never "$3" "  volumes:
    - name: data
      persistentVolumeClaim: {claimName: $2, readOnly: ${4:-false}}" "      volumeMounts: [{name: data, mountPath: /data}]"
}

# long_pod NAME CLAIM: a pod that keeps the claim mounted until deleted.
long_pod() {
	claim_pod "$1" "$2" "$UNTIL_TERM"
}

@test "a claim's data outlives its pod and a new pod reads it; get and describe pvc; delete removes the data" {
	local f
	f=$( (claim data; claim_pod writer data 'echo hello > /data/greeting; ls -ld /data | cut -c1-10') | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "persistentvolumeclaim/data created"
	assert_line "pod/writer created"
	eventually 20 phase_is writer Succeeded
	run_peapod logs writer
	assert_stdout "drwxrwxrwx"
	run_peapod delete pod writer
	assert_status 0
	[ -f "$PEAPOD_ROOT/volumes/default/data/greeting" ] || fail "data gone with its pod"

	f=$(claim_pod reader data 'cat /data/greeting' true | write_manifest)
	run_pod_file "$f"
	assert_status 0
	assert_stdout "[c] hello"

	# readOnly: the volume is mounted read-only
	f=$(claim_pod ro data 'echo x > /data/other || echo refused' true | write_manifest)
	run_pod_file "$f"
	assert_stdout_contains "refused"

	run_peapod get pvc
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +STATUS\ +VOLUME\ +CAPACITY\ +ACCESS\ MODES\ +STORAGECLASS\ +AGE$ ]] ||
		fail "bad header: ${lines[0]}"
	assert_line_re '^data +Bound +pvc-[0-9a-f-]+ +1Gi +RWO +<unset> +[0-9]+s$'
	run_peapod get persistentvolumeclaims data -o name
	assert_stdout "persistentvolumeclaim/data"
	run_peapod get pvc data -o json
	[ "$(echo "$output" | json_get 'd["status"]["phase"]')" = Bound ]
	[ "$(echo "$output" | json_get 'd["spec"]["accessModes"]')" = '["ReadWriteOnce"]' ]
	run_peapod describe pvc data
	assert_status 0
	assert_line_re '^Status: +Bound$'
	assert_line_re '^Capacity: +1Gi$'
	assert_line_re '^Access Modes: +RWO$'
	assert_line_re '^Used By: +<none>$'

	# apply of the same claim: unchanged; a bigger request: configured
	run_peapod apply -f <(claim data)
	assert_stdout "persistentvolumeclaim/data unchanged"
	run_peapod apply -f <(claim data ReadWriteOnce 2Gi)
	assert_stdout "persistentvolumeclaim/data configured"
	[ -f "$PEAPOD_ROOT/volumes/default/data/greeting" ] || fail "data lost on expansion"

	run_peapod delete pvc data
	assert_status 0
	assert_stdout 'persistentvolumeclaim "data" deleted'
	[ ! -e "$PEAPOD_ROOT/volumes/default/data" ] || fail "data left after delete"
	assert_no_leaks
}

@test "delete pvc is refused while a pod uses it, naming the pod; allowed once the pod is gone" {
	local f
	f=$( (claim keep; long_pod user keep) | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 20 status_is user Running
	run_peapod delete pvc keep
	assert_status 1
	assert_stderr_contains 'persistentvolumeclaim "keep" is in use by pod "user"'
	run_peapod describe pvc keep
	assert_line_re '^Used By: +user$'
	[ -d "$PEAPOD_ROOT/volumes/default/keep" ] || fail "data removed while in use"
	run_peapod delete pod user
	assert_status 0
	run_peapod delete pvc keep
	assert_status 0
	[ ! -e "$PEAPOD_ROOT/volumes/default/keep" ] || fail "data left after delete"
	assert_no_leaks
}

@test "ReadWriteOncePod: a second pod using the claim is refused with a clear message" {
	local f g
	f=$( (claim solo ReadWriteOncePod; long_pod first solo) | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 20 status_is first Running
	g=$(long_pod second solo | write_manifest)
	run_peapod apply -f "$g"
	assert_status 1
	assert_stderr_contains 'spec.volumes[0].persistentVolumeClaim.claimName'
	assert_stderr_contains 'persistentvolumeclaim "solo" has access mode ReadWriteOncePod and is in use by pod "first"'
	run_peapod get pods second
	assert_status 1
	# a ReadWriteOnce claim admits several pods of this host, as kubelet does
	run_peapod apply -f <(claim shared)
	run_peapod apply -f "$(long_pod one shared | write_manifest)"
	assert_status 0
	run_peapod apply -f "$(long_pod two shared | write_manifest)"
	assert_status 0
	run_peapod delete pod first one two
	assert_status 0
	run_peapod delete pvc solo shared
	assert_status 0
	assert_no_leaks
}

@test "a pod naming a missing claim is refused naming the field; bad claims refused as the API server does" {
	local f
	f=$(long_pod lost nowhere | write_manifest)
	run_peapod apply -f "$f"
	assert_status 1
	assert_stderr_contains 'spec.volumes[0].persistentVolumeClaim.claimName'
	assert_stderr_contains 'persistentvolumeclaims "nowhere" not found'
	run_peapod get pods lost
	assert_status 1

	f=$(printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: bad}\nspec:\n  resources: {requests: {storage: 1Gi}}\n' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains 'spec.accessModes: Required value'
	f=$(claim bad ReadWriteSometimes | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains 'Unsupported value: "ReadWriteSometimes"'
	f=$(claim bad ReadWriteOnce lots | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains 'spec.resources.requests.storage'
	run_peapod get pvc bad
	assert_status 1

	# the spec is immutable but for the storage request
	run_peapod apply -f <(claim fixed)
	assert_status 0
	run_peapod apply -f <(claim fixed ReadWriteMany)
	assert_status 2
	assert_stderr_contains 'PersistentVolumeClaim "fixed" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests'
	run_peapod apply -f <(claim fixed ReadWriteOnce 500Mi)
	assert_status 2
	assert_stderr_contains 'can not be less than'
	run_peapod delete pvc fixed
	assert_status 0
	assert_no_leaks
}

@test "a hostPath PersistentVolume bound by a claim's volumeName: the pod uses the host's directory, which stays (Retain)" {
	local f
	mkdir "$TEST_DIR/pvdata"
	echo seed >"$TEST_DIR/pvdata/seed"
	f=$( (cat <<'EOF'
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-host}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: @DIR@/pvdata}
  claimRef: {namespace: default, name: bound}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bound}
spec:
  accessModes: [ReadWriteOnce]
  volumeName: pv-host
  resources: {requests: {storage: 1Gi}}
---
EOF
		long_pod user bound) | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "persistentvolume/pv-host created"
	assert_line "persistentvolumeclaim/bound created"
	assert_line "pod/user created"
	eventually 20 status_is user Running
	run_peapod exec user -- sh -c 'cat /data/seed; echo from-pod > /data/out'
	assert_stdout "seed"
	[ "$(cat "$TEST_DIR/pvdata/out")" = from-pod ] || fail "not the host's directory"
	[ ! -e "$PEAPOD_ROOT/volumes/default/bound" ] || fail "a directory of its own was made"

	run_peapod get pv
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +CAPACITY\ +ACCESS\ MODES\ +RECLAIM\ POLICY\ +STATUS\ +CLAIM\ +STORAGECLASS\ +AGE$ ]] ||
		fail "bad header: ${lines[0]}"
	assert_line_re '^pv-host +2Gi +RWO +Retain +Bound +default/bound +[0-9]+s$'
	run_peapod get pvc bound
	assert_line_re '^bound +Bound +pv-host +1Gi +RWO +<unset> +[0-9]+s$'
	run_peapod describe pv pv-host
	assert_line_re '^Status: +Bound$'
	assert_stdout_contains "Path:  $TEST_DIR/pvdata"

	run_peapod delete pv pv-host
	assert_status 1
	assert_stderr_contains 'persistentvolume "pv-host" is bound to claim default/bound: delete the claim first'
	run_peapod delete -f "$f"
	assert_status 0
	assert_line 'pod "user" deleted'
	assert_line 'persistentvolumeclaim "bound" deleted'
	assert_line 'persistentvolume "pv-host" deleted'
	# Retain: the host's data stays
	[ "$(cat "$TEST_DIR/pvdata/out")" = from-pod ] || fail "the volume's data went"

	# a claim whose volume is not there is Pending, and a pod using it refused
	run_peapod apply -f <(printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: waits}\nspec:\n  accessModes: [ReadWriteOnce]\n  volumeName: nope\n  resources: {requests: {storage: 1Gi}}\n')
	assert_status 0
	run_peapod get pvc waits
	assert_line_re '^waits +Pending +nope +1Gi +RWO +<unset> +[0-9]+s$'
	run_peapod apply -f "$(long_pod stuck waits | write_manifest)"
	assert_status 1
	assert_stderr_contains 'spec.volumes[0].persistentVolumeClaim.claimName: persistentvolumeclaim "waits" is Pending: persistentvolumes "nope" not found'
	run_peapod delete pvc waits
	assert_status 0
	assert_no_leaks
}

#!/usr/bin/env bats
# ConfigMaps and Secrets changed while pods run (supervisor/objwatch.c):
# their volumes rewritten through one ..data switch, never half-written;
# subPath mounts and env keep what they had; a deleted object's volume keeps
# its last content (FailedMount); an optional one applied later shows up;
# a container waiting for an object its env needs starts once it is applied,
# at a first start or a restart (CreateContainerConfigError).

load helpers
load pods_helpers

eval "$(declare -f teardown | sed '1s/^teardown/helpers_teardown/')"
teardown() {
	rm -rf "$PEAPOD_ROOT/objects"
	helpers_teardown
}

# cm NAME KEY=VALUE...: applies a ConfigMap of those keys.
cm() {
	local name=$1 kv
	shift
	{
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata:\n' "$name"
		for kv in "$@"; do printf '  %s: "%s"\n' "${kv%%=*}" "${kv#*=}"; done
	} >"$TEST_DIR/cm-$name.yaml"
	pp apply -f "$TEST_DIR/cm-$name.yaml" >/dev/null
}

# logs_match NAME REGEX: a line of NAME's logs matches.
logs_match() {
	pp logs "$1" 2>/dev/null | grep -qE -- "$2"
}

@test "updates reach a running pod through the ..data switch, never half-written; subPath and env keep theirs" {
	cm live a=1 b=1 pair=1-1
	# The reader checks every read: pair's halves always match, and a and b
	# read through one ..data (a vanished old directory is skipped).
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    env:
    - name: V
      valueFrom: {configMapKeyRef: {name: live, key: a}}
    command:
    - sh
    - -c
    - |
      trap 'exit 0' TERM
      last=
      while :; do
        p=$(cat /cm/pair)
        case "$p" in
          *-*) [ "${p%-*}" = "${p#*-}" ] || echo "BAD pair=$p" ;;
          *) echo "BAD pair=$p" ;;
        esac
        d=$(readlink /cm/..data)
        if a=$(cat /cm/$d/a 2>/dev/null) && b=$(cat /cm/$d/b 2>/dev/null); then
          [ "$a" = "$b" ] || echo "BAD a=$a b=$b"
        fi
        if [ "$p" != "$last" ]; then
          echo "seen=${p%-*} sub=$(cat /sub/a) env=$V link=$(readlink /cm/a)"
          last=$p
        fi
      done
    volumeMounts:
    - {name: cm, mountPath: /cm}
    - {name: cm, mountPath: /sub/a, subPath: a}
  volumes:
  - name: cm
    configMap: {name: live}
EOF
	assert_status 0
	eventually 10 logs_have reader "seen=1 sub=1 env=1 link=..data/a"
	local n
	for ((n = 2; n <= 30; n++)); do
		cm live a=$n b=$n pair=$n-$n
	done
	eventually 10 logs_have reader "seen=30 sub=1 env=1 link=..data/a"
	run_peapod logs reader
	refute_stdout_contains BAD
	# one ..data, its old directories gone
	run_peapod exec reader -- sh -c 'ls -a /cm | grep -c "^\.\.2"'
	assert_stdout 1
	pp delete reader >/dev/null
	assert_no_leaks
}

@test "a deleted object's volume keeps its last content (FailedMount); an optional one applied later shows up" {
	cm keep a=kept
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: watcher}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command:
    - sh
    - -c
    - |
      trap 'exit 0' TERM
      last=
      while :; do
        s="$(cat /cm/a 2>&1)|$(cat /opt/x 2>/dev/null)|$(ls /opt | wc -l)"
        [ "$s" = "$last" ] || echo "state=$s"
        last=$s
        sleep 0.05
      done
    volumeMounts:
    - {name: cm, mountPath: /cm}
    - {name: opt, mountPath: /opt}
  volumes:
  - name: cm
    configMap: {name: keep}
  - name: opt
    projected:
      sources:
      - configMap: {name: later, optional: true}
EOF
	assert_status 0
	eventually 10 logs_have watcher "state=kept||0"
	pp delete configmap keep >/dev/null
	describe_has_failed_mount() {
		pp describe pod watcher | grep -q 'FailedMount.*MountVolume.SetUp failed for volume "cm" : .*configmap "keep" not found'
	}
	eventually 10 describe_has_failed_mount
	cm later x=hi
	eventually 10 logs_have watcher "state=kept|hi|1"
	# the optional one deleted: its files go (kubelet's empty payload)
	pp delete configmap later >/dev/null
	eventually 10 logs_have watcher "state=kept||0"
	# the deleted one back, changed: shown
	cm keep a=back
	eventually 10 logs_have watcher "state=back||0"
	pp delete watcher >/dev/null
	assert_no_leaks
}

@test "env: a container waiting for a missing ConfigMap starts at once when it is applied (not after its back-off)" {
	# No time scale: the retry's back-off is 10 s; the apply wakes it.
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: envwait}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "echo got=\$WANT; $UNTIL_TERM"]
    env:
    - name: WANT
      valueFrom: {configMapKeyRef: {name: soon, key: v}}
EOF
	assert_status 0
	eventually 10 status_is envwait CreateContainerConfigError
	# After its second try the next is 20 s away: the apply, not the
	# back-off, starts it.
	config_failures() {
		[ "$(pp describe pod envwait | grep -c 'Error: configmap "soon" not found')" -ge 2 ]
	}
	eventually 20 config_failures
	cm soon v=hello
	eventually 10 logs_have envwait got=hello
	pp delete envwait >/dev/null
	assert_no_leaks
}

@test "env: a restart that finds its ConfigMap gone waits in CreateContainerConfigError, then restarts when it is back" {
	export PEAPOD_TEST_TIME_SCALE=0.01
	cm renv v=one
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: renv}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Always
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "echo got=\$WANT; [ -e /tmp/x ] || sleep 1; exit 3"]
    env:
    - name: WANT
      valueFrom: {configMapKeyRef: {name: renv, key: v}}
EOF
	assert_status 0
	eventually 10 logs_have renv got=one
	pp delete configmap renv >/dev/null
	waiting_reason() {
		[ "$(inspect_get renv 'd["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]')" = CreateContainerConfigError ] &&
			[ "$(inspect_get renv 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]')" = 'configmap "renv" not found' ]
	}
	eventually 10 waiting_reason
	local restarts
	restarts=$(inspect_get renv 'd["status"]["containerStatuses"][0]["restartCount"]')
	sleep 0.5
	# no restart made while it waits
	[ "$(inspect_get renv 'd["status"]["containerStatuses"][0]["restartCount"]')" = "$restarts" ]
	cm renv v=two
	eventually 10 logs_have renv got=two
	pp delete renv >/dev/null
	assert_no_leaks
}

@test "SIGKILL of a supervisor watching objects leaves nothing behind" {
	cm gone a=1
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: killed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "$UNTIL_TERM"]
    volumeMounts: [{name: cm, mountPath: /cm}]
  volumes:
  - name: cm
    configMap: {name: gone}
EOF
	assert_status 0
	eventually 10 status_is killed Running
	local sup
	sup=$(sup_pid killed)
	kill -KILL "$sup"
	eventually 5 none_alive "$sup"
	# an apply after it died: nothing to notify, nothing fails
	cm gone a=2
	run_peapod gc
	assert_status 0
	assert_no_leaks
}

@test "a volume's missing Secret or key: the pod waits (ContainerCreating, FailedMount), the volume empty; it starts once they are applied" {
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: mountwait}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: @IMAGE@
    command: ["sh", "-c", "echo init-saw=\$(cat /sec/user)"]
    volumeMounts: [{name: sec, mountPath: /sec}]
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "echo saw=\$(cat /sec/user)/\$(cat /cm/k); $UNTIL_TERM"]
    volumeMounts: [{name: sec, mountPath: /sec}, {name: cm, mountPath: /cm}]
  volumes:
  - name: sec
    secret: {secretName: later-sec}
  - name: cm
    configMap: {name: later-cm, items: [{key: k, path: k}]}
EOF
	assert_status 0
	[ "$(inspect_get mountwait 'd["status"]["phase"]')" = Pending ]
	run_peapod describe pod mountwait
	assert_stdout_contains 'FailedMount'
	assert_stdout_contains 'MountVolume.SetUp failed for volume "sec" : spec.volumes[0].secret: secret "later-sec" not found'
	assert_stdout_contains 'MountVolume.SetUp failed for volume "cm" : spec.volumes[1].configMap: configmap "later-cm" not found'
	[ "$(inspect_get mountwait 'd["status"]["initContainerStatuses"][0]["state"]["waiting"]["reason"]')" = PodInitializing ]
	# one of the two there, the other's key missing: still waiting
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: later-sec}\nstringData: {user: admin}\n' >"$TEST_DIR/sec.yaml"
	pp apply -f "$TEST_DIR/sec.yaml" >/dev/null
	cm later-cm other=x
	key_missing() {
		pp describe pod mountwait | grep -q 'configmap references non-existent config key: k'
	}
	eventually 10 key_missing
	[ "$(inspect_get mountwait 'd["status"]["phase"]')" = Pending ]
	! pp logs mountwait -c init 2>/dev/null | grep -q init-saw
	cm later-cm k=v
	eventually 10 logs_have mountwait saw=admin/v
	pp logs mountwait -c init | grep -qx init-saw=admin
	eventually 10 status_is mountwait Running
	# a Secret's update reaches its volume too
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: later-sec}\nstringData: {user: root2}\n' >"$TEST_DIR/sec.yaml"
	pp apply -f "$TEST_DIR/sec.yaml" >/dev/null
	sec_user() {
		[ "$(pp exec mountwait -c c -- cat /sec/user)" = root2 ]
	}
	eventually 10 sec_user
	pp delete mountwait >/dev/null
	assert_no_leaks
}

@test "a pod waiting for its volume's object is deleted cleanly" {
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: neverthere}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "$UNTIL_TERM"]
    volumeMounts: [{name: cm, mountPath: /cm}]
  volumes:
  - name: cm
    configMap: {name: nope}
EOF
	assert_status 0
	eventually 10 status_is neverthere ContainerCreating
	pp delete neverthere >/dev/null
	assert_no_leaks
}

#!/usr/bin/env bats
# Bad input: invalid manifests and bad usage exit 2 with a precise message;
# pods that cannot start (a failed hostPath check) exit 1; a pod whose image
# is missing waits for it, as kubelet's does.
# None of them may create anything.

load helpers

INVALID_DIR=${INVALID_DIR:-$BATS_TEST_DIRNAME/../manifests/invalid}

# state_snapshot: what exists in PEAPOD_RUN, PEAPOD_ROOT/pods and our cgroups.
# (The shared record directories, $PEAPOD_RUN/names/<namespace> and
# $PEAPOD_RUN/pods, are not a pod's: whether an earlier test left them
# depends on the order tests run in. Files and pod directories count.)
state_snapshot() {
	# (trash: what earlier tests' deletes are still unlinking)
	find "$PEAPOD_RUN" -mindepth 1 ! -type d -not -path "$PEAPOD_RUN/trash*" 2>/dev/null | sort
	find "$PEAPOD_RUN/pods" -mindepth 1 2>/dev/null | sort
	find "$PEAPOD_ROOT/pods" "$PEAPOD_ROOT/containers" -mindepth 1 2>/dev/null | sort
	local d
	for d in $(cgroup_parent_dirs); do
		find "$d" -mindepth 1 -type d
	done
}

@test "every invalid manifest in tests/manifests/invalid exits 2 with FILE:LINE:COL: FIELD.PATH: and the message" {
	local files=("$INVALID_DIR"/*.yaml)
	[ -e "${files[0]}" ] || fail "no manifests in $INVALID_DIR"
	local f abs expect loc rest path substr before problems=""
	before=$(state_snapshot)
	for f in "${files[@]}"; do
		abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
		expect=$(sed -n '1s/^# error: //p' "$abs")
		if [ -z "$expect" ]; then
			problems+=$'\n'"$abs: first line is not '# error: LINE:COL: ...'"
			continue
		fi
		loc=${expect%%: *}
		rest=${expect#*: }
		# "FIELD.PATH: substring" or, for errors not about a field, just "substring".
		if [[ "$rest" =~ ^([A-Za-z_][A-Za-z0-9_.]*(\[[0-9]+\])*([.][A-Za-z0-9_.]+(\[[0-9]+\])*)*):\ (.*)$ ]]; then
			path=${BASH_REMATCH[1]}
			substr=${BASH_REMATCH[5]}
		else
			path=
			substr=$rest
		fi
		run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" run -f "$abs"
		if [ "$status" -ne 2 ]; then
			problems+=$'\n'"$abs: exit status $status, expected 2; stderr: $stderr"
			continue
		fi
		local want="$abs:$loc:"
		[ -n "$path" ] && want="$abs:$loc: $path:"
		if [[ "$stderr" != *"$want"* ]]; then
			problems+=$'\n'"$abs: stderr lacks \"$want\"; stderr: $stderr"
		elif [[ "$stderr" != *"$substr"* ]]; then
			problems+=$'\n'"$abs: stderr lacks \"$substr\"; stderr: $stderr"
		fi
		if [ -n "$output" ]; then
			problems+=$'\n'"$abs: unexpected stdout: $output"
		fi
		if [ "$(state_snapshot)" != "$before" ]; then
			problems+=$'\n'"$abs: created state: $(diff <(echo "$before") <(state_snapshot) | grep '^>')"
			cleanup_leftovers
		fi
	done
	if [ -n "$problems" ]; then
		echo "invalid manifests not rejected as their first line says:$problems"
		return 1
	fi
	assert_no_leaks
}

@test "an invalid manifest on stdin is reported with <stdin> or - as its name and exits 2" {
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" run -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bad-policy
spec:
  restartPolicy: Sometimes
  containers:
    - {name: c, image: busybox:1.36}
EOF
	assert_status 2
	local re='(^|[ :])(-|<stdin>):6:18: spec\.restartPolicy: unsupported value "Sometimes"'
	[[ "$stderr" =~ $re ]] || fail "no '<stdin>:6:18: spec.restartPolicy:' in the message"
	assert_no_leaks
}

@test "inline invalid manifests: unknown fields, wrong types and YAML errors exit 2 with their location" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: typo
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      comand: ["true"]
EOF
	)
	run_pod_file "$f"
	assert_status 2
	assert_stderr_contains "$f:10:7: spec.containers[0].comand:"
	assert_stderr_contains "unknown field"

	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bad-yaml
spec:
  containers: [
EOF
	)
	run_pod_file "$f"
	assert_status 2
	[[ "$stderr" == *"$f:"[0-9]*:[0-9]*": "* ]] || fail "no FILE:LINE:COL: for a YAML syntax error"

	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: grace
spec:
  terminationGracePeriodSeconds: soon
  containers:
    - {name: c, image: "@IMAGE@"}
EOF
	)
	run_pod_file "$f"
	assert_status 2
	assert_stderr_contains "$f:6:34: spec.terminationGracePeriodSeconds:"
	refute_stdout_contains "[c]"
	assert_no_leaks
}

@test "bad usage exits 2 with a message" {
	run_peapod
	assert_status 2
	[ -n "$stderr" ] || fail "no message"

	run_peapod run
	assert_status 2
	assert_stderr_contains "-f"

	run_peapod run -f "$TEST_DIR/x.yaml" --no-such-flag
	assert_status 1 # an unknown flag: 1, as kubectl's
	assert_stderr_contains "no-such-flag"

	run_peapod run -f "$TEST_DIR/x.yaml" extra-argument
	assert_status 2
	assert_stderr_contains "extra-argument"

	run_peapod frobnicate
	assert_status 2
	assert_stderr_contains "frobnicate"

	run_peapod image frobnicate
	assert_status 2
	assert_stderr_contains "frobnicate"

	run_peapod image import
	assert_status 2

	[ -z "$(pod_dirs)" ] || fail "pod directories were created: $(pod_dirs)"
	assert_no_leaks
}

@test "a manifest file that does not exist exits 2 naming it" {
	run_peapod run -f "$TEST_DIR/absent.yaml"
	assert_status 2
	assert_stderr_contains "$TEST_DIR/absent.yaml"
	assert_no_leaks
}

@test "--help prints usage and exits 0" {
	run_peapod --help
	assert_status 0
	assert_stdout_contains "run"
	run_peapod run --help
	assert_status 0
	assert_stdout_contains "-f"
	assert_no_leaks
}

@test "a missing image (pull policy Never): run says why it waits; Ctrl-C stops it and nothing is left" {
	local before
	before=$(state_snapshot)
	POD_FILE=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: no-image
spec:
  restartPolicy: Never
  containers:
    - {name: c, image: "nosuch/image:9.9", imagePullPolicy: Never, command: ["true"]}
EOF
)
	run --separate-stderr timeout --preserve-status -s INT -k 10 3 "$PEAPOD" run -f "$POD_FILE"
	assert_status 130
	assert_stderr_contains 'Container image "nosuch/image:9.9" is not present with pull policy of Never'
	[ "$(state_snapshot)" = "$before" ] || fail "state was left"
	assert_no_leaks
}

@test "a missing hostPath Directory exits 1 and creates nothing" {
	local before
	before=$(state_snapshot)
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: no-host-dir
spec:
  restartPolicy: Never
  volumes:
    - {name: v, emptyDir: {}}
    - {name: hp, hostPath: {path: "@DIR@/missing", type: Directory}}
  containers:
    - name: c
      image: @IMAGE@
      command: ["echo", "should not run"]
      volumeMounts: [{name: hp, mountPath: /hp}, {name: v, mountPath: /v}]
EOF
	assert_status 1
	assert_stderr_contains "$TEST_DIR/missing"
	refute_stdout_contains "should not run"
	[ "$(state_snapshot)" = "$before" ] || fail "state was created"
	[ ! -e "$TEST_DIR/missing" ] || fail "the hostPath was created"
	assert_no_leaks
}

#!/usr/bin/env bats
# The get, describe, logs and events flags a kubectl user types every day,
# against real pods: label and field selectors, watching (inotify), the
# output formats (jsonpath, custom-columns, --no-headers, --show-labels,
# -L, --sort-by).

load helpers
load pods_helpers

# labelled NAME APP TIER [POLICY] [SCRIPT]: a pod with labels app and tier,
# one container c running SCRIPT (default: until SIGTERM).
labelled() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {app: $2, tier: $3}
spec:
  restartPolicy: ${4:-Always}
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "${5:-$UNTIL_TERM}"]
EOF
}

# three pods: web-1 (app=web, tier=front), web-2 (app=web, tier=back),
# db (app=db, tier=back); all Running
three_pods() {
	apply_ok < <(labelled web-1 web front)
	apply_ok < <(labelled web-2 web back)
	apply_ok < <(labelled db db back)
	eventually 20 status_is web-1 Running
	eventually 20 status_is web-2 Running
	eventually 20 status_is db Running
}

# names: the NAME column of the last output, space-separated
names() {
	awk 'NR > 1 {print $1}' <<<"$output" | paste -sd' '
}

@test "get -l: equality, inequality, set-based, existence; --field-selector" {
	three_pods
	run_peapod get pods -l app=web
	assert_status 0
	[ "$(names)" = "web-1 web-2" ] || fail "app=web"
	run_peapod get pods -l 'app==web,tier!=front'
	[ "$(names)" = "web-2" ] || fail "app==web,tier!=front"
	run_peapod get pods --selector 'app in (db, web),tier notin (front)'
	[ "$(names)" = "db web-2" ] || fail "in/notin"
	run_peapod get pods -l '!app'
	assert_status 0
	assert_stdout ""
	assert_stderr_contains "No resources found in default namespace."
	run_peapod get pods -l tier
	[ "$(names)" = "db web-1 web-2" ] || fail "exists"
	run_peapod get pods --field-selector metadata.name=db
	[ "$(names)" = "db" ] || fail "field metadata.name"
	run_peapod get pods --field-selector status.phase=Running,metadata.name!=db -l app=web
	[ "$(names)" = "web-1 web-2" ] || fail "field status.phase"
	run_peapod get pods --field-selector status.phase==Succeeded
	assert_stdout ""
}

@test "selectors: kubectl's errors, exit status 2" {
	apply_ok < <(labelled one a b)
	run_peapod get pods -l 'app in web'
	assert_status 2
	assert_stderr_contains "unable to parse requirement: found 'web', expected: '('"
	run_peapod get pods -l 'app=web,'
	assert_status 2
	assert_stderr_contains "expected: identifier after ','"
	run_peapod get pods --field-selector spec.nodeName=x
	assert_status 2
	assert_stderr_contains "field label not supported: spec.nodeName"
	run_peapod get pods one -l app=a
	assert_status 2
	assert_stderr_contains "name cannot be provided when a selector is specified"
}

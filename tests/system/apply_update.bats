#!/usr/bin/env bats
# apply of a Pod that exists, as kubectl and the API server treat it: the
# same manifest is unchanged and touches nothing; labels, annotations and
# added tolerations are configured in place; any other change is refused
# with the API server's message; apply --force deletes and recreates.

load helpers
load pods_helpers

# labelled NAME LABEL [POD_LINES] [SCRIPT]: a sleeper pod with a label app=LABEL.
labelled() {
	sh_pod "$1" Always "${4:-$UNTIL_TERM}" "${3:-}" | sed "s/^  name: $1\$/  name: $1\\n  labels: {app: $2}/"
}

# pull_failing NAME: the pod's STATUS is ErrImagePull or ImagePullBackOff.
pull_failing() {
	[[ "$(get_column "$1" 3)" =~ ^(ErrImagePull|ImagePullBackOff)$ ]]
}

@test "apply of the same manifest: unchanged, the pod untouched" {
	local f uid sup
	f=$(labelled same web | write_manifest)
	run_peapod apply -f "$f"
	assert_stdout "pod/same created"
	eventually 20 status_is same Running
	uid=$(pod_uid same)
	sup=$(sup_pid same)
	run_peapod apply -f "$f"
	assert_status 0
	assert_stdout "pod/same unchanged"
	[ "$(pod_uid same)" = "$uid" ] || fail "the pod was recreated"
	[ "$(sup_pid same)" = "$sup" ] || fail "the supervisor changed"
	[ "$(inspect_get same 'd["status"]["containerStatuses"][0]["restartCount"]')" = 0 ]
	# the same objects written another way (JSON) are the same too
	run_peapod apply -f <(python3 -c 'import sys,yaml,json; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$f" 2>/dev/null || cat "$f")
	assert_stdout "pod/same unchanged"
	delete_ok same
	assert_no_leaks
}

@test "apply of changed labels, annotations and added tolerations: configured in place" {
	local f g uid
	f=$(labelled meta web | write_manifest)
	apply_ok <"$f"
	eventually 20 status_is meta Running
	uid=$(pod_uid meta)
	g=$(labelled meta api "  tolerations: [{key: gpu, operator: Exists}]" | sed 's/^  labels: {app: api}$/  labels: {app: api}\n  annotations: {note: hello}/' | write_manifest)
	run_peapod apply -f "$g"
	assert_status 0
	assert_stdout "pod/meta configured"
	[ "$(pod_uid meta)" = "$uid" ] || fail "the pod was recreated"
	[ "$(inspect_get meta 'd["metadata"]["labels"]["app"]')" = api ]
	[ "$(inspect_get meta 'd["metadata"]["annotations"]["note"]')" = hello ]
	[ "$(inspect_get meta 'd["spec"]["tolerations"][0]["key"]')" = gpu ]
	[ "$(inspect_get meta 'd["status"]["containerStatuses"][0]["restartCount"]')" = 0 ]
	run_peapod apply -f "$g"
	assert_stdout "pod/meta unchanged"
	# a toleration taken away is not an addition: refused
	run_peapod apply -f "$f"
	assert_status 1
	assert_stderr_contains 'The Pod "meta" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`'
	delete_ok meta
	assert_no_leaks
}

@test "apply of another change: refused with the API server's message, the pod untouched; --force recreates it" {
	local f g uid
	f=$(labelled other web | write_manifest)
	apply_ok <"$f"
	eventually 20 status_is other Running
	uid=$(pod_uid other)
	g=$(labelled other web "" "echo v2; $UNTIL_TERM" | write_manifest)
	run_peapod apply -f "$g"
	assert_status 1
	assert_stderr_contains 'The Pod "other" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)'
	[ "$(pod_uid other)" = "$uid" ] || fail "the pod was recreated"
	eventually 20 status_is other Running

	run_peapod apply -f "$g" --force
	assert_status 0
	assert_stdout "pod/other configured"
	[ "$(pod_uid other)" != "$uid" ] || fail "the pod was not recreated"
	eventually 20 status_is other Running
	run_peapod logs other
	assert_stdout "v2"
	run_peapod apply -f "$g" --force
	assert_stdout "pod/other unchanged"

	delete_ok other
	assert_no_leaks
}

@test "apply of activeDeadlineSeconds: a first or smaller one counts from the pod's start; larger or removed refused" {
	local f uid
	f=$(labelled dl web "  activeDeadlineSeconds: 600" | write_manifest)
	apply_ok <"$f"
	eventually 20 status_is dl Running
	uid=$(pod_uid dl)
	run_peapod apply -f <(sed 's/activeDeadlineSeconds: 600/activeDeadlineSeconds: 700/' "$f")
	assert_status 1
	assert_stderr_contains 'The Pod "dl" is invalid: spec.activeDeadlineSeconds: Invalid value: 700: must be less than or equal to previous value'
	run_peapod apply -f <(sed '/activeDeadlineSeconds/d' "$f")
	assert_status 1
	assert_stderr_contains 'The Pod "dl" is invalid: spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value'
	run_peapod apply -f <(sed 's/activeDeadlineSeconds: 600/activeDeadlineSeconds: 500/' "$f")
	assert_status 0
	assert_stdout "pod/dl configured"
	[ "$(inspect_get dl 'd["spec"]["activeDeadlineSeconds"]')" = 500 ]
	status_is dl Running || fail "the pod stopped"
	# 1 s from a start more than 1 s ago: the pod fails at once, as kubelet's
	sleep 1.2
	run_peapod apply -f <(sed 's/activeDeadlineSeconds: 600/activeDeadlineSeconds: 1/' "$f")
	assert_status 0
	assert_stdout "pod/dl configured"
	eventually 20 phase_is dl Failed
	[ "$(inspect_get dl 'd["status"]["reason"]')" = DeadlineExceeded ]
	[ "$(pod_uid dl)" = "$uid" ] || fail "the pod was recreated"
	delete_ok dl
	assert_no_leaks
}

@test "apply of a new image: the container is stopped and started again with it, restartCount 1, the pod kept" {
	local f g uid
	pp image tag "$IMAGE" peapod-test/retagged:2 >/dev/null
	f=$(labelled img web "" "echo started; $UNTIL_TERM" | write_manifest)
	apply_ok <"$f"
	eventually 20 status_is img Running
	uid=$(pod_uid img)
	g=$(sed "s|image: $IMAGE|image: peapod-test/retagged:2|" "$f" | write_manifest)
	run_peapod apply -f "$g"
	assert_status 0
	assert_stdout "pod/img configured"
	eventually 20 restarts_at_least img 1
	eventually 20 status_is img Running
	[ "$(pod_uid img)" = "$uid" ] || fail "the pod was recreated"
	[ "$(inspect_get img 'd["status"]["containerStatuses"][0]["image"]')" = peapod-test/retagged:2 ]
	[ "$(inspect_get img 'd["status"]["containerStatuses"][0]["restartCount"]')" = 1 ]
	[ "$(inspect_get img 'd["spec"]["containers"][0]["image"]')" = peapod-test/retagged:2 ]
	run_peapod describe pod img
	assert_stdout_contains "Container c definition changed, will be restarted"
	run_peapod logs img --previous
	assert_stdout "started"
	run_peapod apply -f "$g"
	assert_stdout "pod/img unchanged"
	delete_ok img
	pp image rm peapod-test/retagged:2 >/dev/null
	assert_no_leaks
}

@test "apply of a new image that cannot be had: the container waits for it as kubelet shows it" {
	local f uid
	f=$(labelled gone web | write_manifest)
	apply_ok <"$f"
	eventually 20 status_is gone Running
	run_peapod apply -f <(sed "s|image: $IMAGE|image: 127.0.0.1:1/none:1|" "$f")
	assert_status 0
	assert_stdout "pod/gone configured"
	eventually 30 pull_failing gone
	delete_ok gone
	assert_no_leaks
}

@test "replace --force -f: the pod deleted and made anew, as kubectl says it; without --force refused" {
	local f uid
	f=$(labelled rep web | write_manifest)
	run_peapod replace --force -f "$f"
	assert_status 0
	assert_stdout "pod/rep replaced"
	eventually 20 status_is rep Running
	uid=$(pod_uid rep)
	run_peapod replace --force -f "$f"
	assert_status 0
	assert_stdout 'pod "rep" deleted
pod/rep replaced'
	[ "$(pod_uid rep)" != "$uid" ] || fail "the pod was not recreated"
	eventually 20 status_is rep Running
	run_peapod replace -f "$f"
	assert_status 2
	assert_stderr_contains "only replace --force is supported"
	delete_ok rep
	assert_no_leaks
}

#!/usr/bin/env bats
# Jobs on real pods: completions and parallelism, failed pods replaced
# after the back-off until backoffLimit, activeDeadlineSeconds,
# ttlSecondsAfterFinished, Indexed completion, get/describe/delete job,
# apply's update rules, a CronJob refused; nothing left behind.

load helpers
load pods_helpers

# The job controller's back-off (10 s doubling) shortened: 100 ms doubling.
export PEAPOD_TEST_TIME_SCALE=0.01

# job NAME SPEC_LINES SCRIPT [POD_LINES] [CONTAINER_LINES]: a Job whose pods
# run `sh -c SCRIPT` in busybox (restartPolicy Never unless POD_LINES say).
job() {
	cat <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
$(printf '%s\n' "$2" | indent 2)
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
${4:-}
      containers:
        - name: c
          image: @IMAGE@
${5:-}
          command: ["sh", "-c"]
          args:
            - |
$(printf '%s\n' "$3" | indent 14)
EOF
}

# job_column NAME COLUMN: get jobs' cell (2 STATUS, 3 COMPLETIONS).
job_column() {
	pp get jobs "$1" | awk -v c="$2" 'NR == 2 {print $c}'
}

job_status_is() {
	[ "$(job_column "$1" 2)" = "$2" ]
}

# job_pods NAME: the names of the job's pods.
job_pods() {
	pp get pods -l "batch.kubernetes.io/job-name=$1" -o name 2>/dev/null | sed 's#^pod/##'
}

job_pod_count_is() {
	[ "$(job_pods "$1" | grep -c .)" -eq "$2" ]
}

job_gone() {
	! pp get jobs "$1" >/dev/null 2>&1
}

@test "completions 3, parallelism 2: never more than 2 pods at once, 3 succeed, Complete" {
	local f
	# each pod logs its start and end in a shared file; replayed, the log
	# says how many ran at once
	f=$(job count "completions: 3
parallelism: 2" 'echo "+ $HOSTNAME" >> /shared/log; sleep 1; echo "- $HOSTNAME" >> /shared/log' \
		"      volumes: [{name: shared, hostPath: {path: @DIR@}}]" \
		"          volumeMounts: [{name: shared, mountPath: /shared}]" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "job.batch/count created"
	run_peapod wait --for=condition=complete job/count --timeout 60s
	assert_status 0
	assert_line "job.batch/count condition met"
	run_peapod get jobs count
	assert_status 0
	assert_line_re "^NAME +STATUS +COMPLETIONS +DURATION +AGE$"
	assert_line_re "^count +Complete +3/3 +[0-9]+s +[0-9]+s$"
	[ "$(grep -c '^+' "$TEST_DIR/log")" -eq 3 ] || fail "$(cat "$TEST_DIR/log")"
	max=$(awk '/^\+/ {n++} /^-/ {n--} n > m {m = n} END {print m}' "$TEST_DIR/log")
	[ "$max" -le 2 ] || fail "$max pods ran at once: $(cat "$TEST_DIR/log")"
	# the pods: named NAME-xxxxx, labelled, owned by the job, kept Completed
	run job_pods count
	[ "${#lines[@]}" -eq 3 ] || fail "pods: ${lines[*]}"
	for p in "${lines[@]}"; do
		[[ "$p" =~ ^count-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]] || fail "pod name $p"
		run_peapod get pod "$p" -o jsonpath='{.metadata.labels.job-name} {.metadata.ownerReferences[0].kind} {.status.phase}'
		assert_stdout "count Job Succeeded"
	done
	run_peapod describe job count
	assert_status 0
	assert_line_re "^Completions: +3$"
	assert_line_re "^Parallelism: +2$"
	assert_line_re "^Completion Mode: +NonIndexed$"
	assert_line_re "^Pods Statuses: +0 Active \(0 Ready\) / 3 Succeeded / 0 Failed$"
	assert_line_re "^Selector: +batch.kubernetes.io/controller-uid=[0-9a-f-]+$"
	assert_line_re "^Completed At: +.*$"
	assert_line_re "^  Normal +SuccessfulCreate +.* +job-controller +Created pod: count-[a-z0-9]{5}$"
	assert_line_re "^  Normal +Completed +.* +job-controller +Job completed$"
	run_peapod get job count -o jsonpath='{.status.succeeded} {.status.conditions[0].type}'
	assert_stdout "3 Complete"

	run_peapod delete job count
	assert_status 0
	eventually 20 job_pod_count_is count 0
	assert_no_leaks
}

@test "a failing pod is replaced after the back-off until backoffLimit, then Failed BackoffLimitExceeded" {
	local f
	f=$(job fails "backoffLimit: 2" 'exit 3' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	run_peapod wait --for=condition=failed jobs/fails --timeout 60s
	assert_status 0
	assert_line "job.batch/fails condition met"
	run_peapod get job fails -o jsonpath='{.status.failed} {.status.conditions[0].reason}: {.status.conditions[0].message}'
	assert_stdout "3 BackoffLimitExceeded: Job has reached the specified backoff limit"
	run_peapod get jobs fails
	assert_line_re "^fails +Failed +0/1 +[0-9]+s +[0-9]+s$"
	# three pods tried, none more after the job failed
	run job_pods fails
	[ "${#lines[@]}" -eq 3 ] || fail "pods: ${lines[*]}"
	run_peapod describe job fails
	assert_line_re "^Pods Statuses: +0 Active \(0 Ready\) / 0 Succeeded / 3 Failed$"
	assert_line_re "^  Warning +BackoffLimitExceeded +.* +job-controller +Job has reached the specified backoff limit$"
	run_peapod delete job fails
	assert_status 0
	eventually 20 job_pod_count_is fails 0
	assert_no_leaks
}

@test "the job controller killed with SIGKILL: a later command resumes it, each pod counted once" {
	local f p
	f=$(job survive "completions: 3" 'sleep 1' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 30 job_pod_count_is survive 1
	for p in $(suite_ctrl_pids); do
		kill -KILL "$p"
	done
	eventually 10 test -z "$(suite_ctrl_pids)"
	# wait (as get, describe...) resumes the controllers whose lock is free
	run_peapod wait --for=condition=complete job/survive --timeout 60s
	assert_status 0
	[ -n "$(suite_ctrl_pids)" ] || fail "no controller resumed"
	run_peapod get job survive -o jsonpath='{.status.succeeded} {.status.failed}'
	assert_stdout "3 "
	run job_pods survive
	[ "${#lines[@]}" -eq 3 ] || fail "pods: ${lines[*]}"
	run_peapod delete job survive
	assert_status 0
	eventually 20 job_pod_count_is survive 0
	assert_no_leaks
}

@test "activeDeadlineSeconds: the job fails DeadlineExceeded and its running pods are deleted" {
	local f
	f=$(job slow "activeDeadlineSeconds: 2
parallelism: 2
completions: 2" "$UNTIL_TERM" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 30 job_status_is slow Failed
	run_peapod get job slow -o jsonpath='{.status.conditions[0].reason}: {.status.conditions[0].message}'
	assert_stdout "DeadlineExceeded: Job was active longer than specified deadline"
	eventually 20 job_pod_count_is slow 0
	run_peapod describe job slow
	assert_line_re "^  Warning +DeadlineExceeded +.* +Job was active longer than specified deadline$"
	assert_line_re "^  Normal +SuccessfulDelete +.* +Deleted pod: slow-[a-z0-9]{5}$"
	run_peapod delete job slow
	assert_status 0
	assert_no_leaks
}

@test "OnFailure: the container's restarts count toward backoffLimit" {
	local f
	f=$(job restarts "backoffLimit: 2" 'exit 1' | sed 's/restartPolicy: Never/restartPolicy: OnFailure/' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	run_peapod wait --for=condition=failed job/restarts --timeout 60s
	assert_status 0
	run_peapod get job restarts -o jsonpath='{.status.conditions[0].reason}'
	assert_stdout "BackoffLimitExceeded"
	# one pod, restarted in place, deleted when the job failed
	eventually 20 job_pod_count_is restarts 0
	run_peapod describe job restarts
	assert_line_re "^  Normal +SuccessfulCreate +.*$"
	[ "$(grep -c SuccessfulCreate <<<"$output")" -eq 1 ] || fail "more than one pod made"
	run_peapod delete job restarts
	assert_status 0
	assert_no_leaks
}

@test "suspend: no pods while suspended (Suspended), they start when it is resumed" {
	local f g
	f=$(job later "suspend: true
completions: 2
parallelism: 2" 'true' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 20 job_status_is later Suspended
	job_pod_count_is later 0 || fail "pods of a suspended job"
	g=$(sed 's/suspend: true/suspend: false/' "$f" | write_manifest)
	run_peapod apply -f "$g"
	assert_status 0
	assert_line "job.batch/later configured"
	run_peapod wait --for=condition=complete job/later --timeout 60s
	assert_status 0
	run_peapod describe job later
	assert_line_re "^  Normal +Suspended +.* +Job suspended$"
	assert_line_re "^  Normal +Resumed +.* +Job resumed$"
	run_peapod delete job later
	assert_status 0
	assert_no_leaks
}

@test "ttlSecondsAfterFinished: the finished job and its pods are deleted" {
	local f
	f=$(job brief "ttlSecondsAfterFinished: 1" 'true' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 60 job_gone brief
	eventually 20 job_pod_count_is brief 0
	assert_no_leaks
}

@test "Indexed: one pod per index, JOB_COMPLETION_INDEX and the index label; completedIndexes" {
	local f p ix
	f=$(job idx "completions: 3
parallelism: 3
completionMode: Indexed" 'echo "index $JOB_COMPLETION_INDEX on $(hostname)"' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 60 job_status_is idx Complete
	run_peapod get job idx -o jsonpath='{.status.completedIndexes}'
	assert_stdout "0-2"
	# (not $i: bats' run sets it)
	for ix in 0 1 2; do
		p=$(pp get pods -l "batch.kubernetes.io/job-completion-index=$ix,job-name=idx" -o name | sed 's#^pod/##')
		[[ "$p" =~ ^idx-$ix-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]] || fail "index $ix: pod \"$p\""
		run_peapod logs "$p"
		assert_stdout "index $ix on idx-$ix"
	done
	run_peapod describe job idx
	assert_line_re "^Completed Indexes: +0-2$"
	run_peapod delete job idx
	assert_status 0
	eventually 20 job_pod_count_is idx 0
	assert_no_leaks
}

@test "apply of a Job: unchanged, configured (parallelism), a changed template refused; delete takes its pods" {
	local f g
	f=$(job edit "parallelism: 2
completions: 4" "$UNTIL_TERM" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 30 job_pod_count_is edit 2
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "job.batch/edit unchanged"
	g=$(sed 's/parallelism: 2/parallelism: 1/' "$f" | write_manifest)
	run_peapod apply -f "$g"
	assert_status 0
	assert_line "job.batch/edit configured"
	eventually 30 job_pod_count_is edit 1
	g=$(sed 's/sleep 0.1/sleep 0.2/' "$f" | write_manifest)
	run_peapod apply -f "$g"
	[ "$status" -ne 0 ] || fail "a changed template was accepted"
	assert_stderr_contains 'The Job "edit" is invalid: spec.template: Invalid value: '
	assert_stderr_contains ': field is immutable'
	run_peapod delete job edit
	assert_status 0
	assert_line 'job.batch "edit" deleted'
	eventually 20 job_pod_count_is edit 0
	run_peapod get jobs
	assert_stderr_contains "No resources found"
	assert_no_leaks
}

@test "invalid Jobs and a CronJob are refused naming the file, line and field" {
	local f
	f=$(job bad "completions: -1" 'true' | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:6:16: spec.completions: must be greater than or equal to 0"
	f=$(job bad "parallelism: 1" 'true' | sed 's/restartPolicy: Never/restartPolicy: Always/' | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:9:22: spec.template.spec.restartPolicy: Unsupported value: \"Always\""
	f=$(write_manifest <<'EOF'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
EOF
	)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:2:7: kind: CronJob is not supported: "
	run_peapod get jobs
	assert_stderr_contains "No resources found"
	assert_no_leaks
}

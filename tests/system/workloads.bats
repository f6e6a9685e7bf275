#!/usr/bin/env bats
# Deployments, ReplicaSets and DaemonSets kept by their controller
# (peapod-ctrl, src/controller): pods named, labelled and owned as
# Kubernetes does, replaced when deleted, rolled over by RollingUpdate and
# Recreate, scaled; the controller killed and resumed without duplicates;
# a delete cascading to everything; bad inputs refused before anything is
# made.

load helpers
load pods_helpers

# deployment NAME REPLICAS [STRATEGY_LINES] [ENV_VALUE] [IMAGE]: a Deployment
# of sleepers labelled app=NAME (ENV_VALUE changes the template).
deployment() {
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
${3:-}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: ${5:-@IMAGE@}
          command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
          env: [{name: V, value: "${4:-1}"}]
EOF
}

# ctrl_pids: the suite's peapod-ctrl processes.
ctrl_pids() {
	suite_ctrl_pids
}

# running_ready PREFIX: how many pods named PREFIX* are 1/1 Running.
running_ready() {
	pp get pods 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 && $2 == "1/1" && $3 == "Running"' | wc -l
}

# pods_of PREFIX: how many pods named PREFIX* there are.
pods_of() {
	pp get pods 2>/dev/null | awk -v p="$1" 'index($1, p) == 1' | wc -l
}

count_is() {
	[ "$("$1" "$2")" -eq "$3" ]
}

rolled_out() {
	pp rollout status "deployment/$1" --timeout 1s | grep -q "successfully rolled out"
}

@test "a Deployment of 3: pods named, labelled and owned as Kubernetes; a deleted pod replaced; the controller killed, resumed, no duplicates" {
	local f rs hash pod ctrl
	f=$(deployment web 3 | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	assert_stdout "deployment.apps/web created"
	eventually 30 count_is running_ready web- 3
	eventually 20 rolled_out web
	# one ReplicaSet web-<hash>, its pods web-<hash>-<5>
	rs=$(pp get rs -o name)
	[[ "$rs" =~ ^replicaset.apps/web-[bcdfghjklmnpqrstvwxz2456789]+$ ]] || fail "rs: $rs"
	hash=${rs#replicaset.apps/web-}
	pod=$(pp get pods -o name | head -1)
	pod=${pod#pod/}
	[[ "$pod" =~ ^web-$hash-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]] || fail "pod: $pod"
	run_peapod get pod "$pod" -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)["metadata"]
assert d["labels"] == {"app": "web", "pod-template-hash": "'"$hash"'"}, d["labels"]
r = d["ownerReferences"]
assert len(r) == 1 and r[0]["kind"] == "ReplicaSet" and r[0]["name"] == "web-'"$hash"'", r
assert r[0]["apiVersion"] == "apps/v1" and r[0]["controller"] is True and r[0]["blockOwnerDeletion"] is True, r
assert r[0]["uid"], r'
	run_peapod get rs "web-$hash" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'
	assert_stdout "Deployment/web"
	run_peapod describe pod "$pod"
	assert_line_re "^Controlled By: +ReplicaSet/web-$hash$"
	run_peapod get deployments
	assert_line_re "^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$"
	assert_line_re "^web +3/3 +3 +3 +[0-9]+s$"
	run_peapod get deploy web -o name
	assert_stdout "deployment.apps/web"

	# a pod deleted: replaced
	delete_ok "$pod"
	eventually 30 count_is running_ready web- 3
	run_peapod get pods "$pod"
	assert_status 1
	# the replacement's event (the user's delete is not the controller's:
	# whether it also saw the pod stopping and removed it is a race, and
	# Kubernetes' ReplicaSet says nothing of a pod someone else deleted)
	run_peapod describe rs "web-$hash"
	[ "$(grep -c 'SuccessfulCreate .*Created pod: web-' <<<"$output")" -eq 4 ] ||
		fail "not 3 pods and a replacement created: $output"

	# the controller killed: the pods stay; get restarts it; no duplicate
	ctrl=$(ctrl_pids)
	[ "$(echo "$ctrl" | wc -w)" -eq 1 ] || fail "controllers: $ctrl"
	kill -KILL "$ctrl"
	eventually 5 exited "$ctrl"
	[ "$(running_ready web-)" -eq 3 ]
	run_peapod get deployments
	assert_status 0
	eventually 10 bash -c "[ -n \"\$(pgrep -x peapod-ctrl)\" ]"
	[ "$(ctrl_pids | wc -w)" -eq 1 ] || fail "controllers: $(ctrl_pids)"
	# it adopted the 3 and made none
	eventually 10 rolled_out web
	[ "$(pods_of web-)" -eq 3 ] || fail "$(pp get pods)"
	# apply of the same file: unchanged
	run_peapod apply -f "$f"
	assert_stdout "deployment.apps/web unchanged"

	# a pod whose supervisor died (Unknown): replaced
	pod=$(pp get pods -o name | head -1)
	pod=${pod#pod/}
	kill -KILL "$(sup_pid "$pod")"
	eventually 30 bash -c "! '$PEAPOD' get pod $pod >/dev/null 2>&1"
	eventually 30 count_is running_ready web- 3
	[ "$(pods_of web-)" -eq 3 ] || fail "$(pp get pods)"

	run_peapod delete deployment web
	assert_status 0
	assert_stdout 'deployment.apps "web" deleted'
	[ "$(pods_of web-)" -eq 0 ] || fail "$(pp get pods)"
	run_peapod get rs
	assert_stderr_contains "No resources found"
	assert_no_leaks
}

@test "a changed template rolls with maxUnavailable 1 and maxSurge 0: never fewer than 2 Ready" {
	local f g samples min
	pp image tag "$IMAGE" peapod-test/rolled:2
	f=$(deployment roll 3 "  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	eventually 30 rolled_out roll
	g=$(deployment roll 3 "  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}" 1 peapod-test/rolled:2 | write_manifest)
	samples=$TEST_DIR/samples
	# sample the ready count through the whole rollout
	(
		while [ ! -e "$TEST_DIR/stop" ]; do
			running_ready roll- >>"$samples"
		done
	) &
	BG_PID=$!
	run_peapod apply -f "$g"
	assert_stdout "deployment.apps/roll configured"
	run_peapod rollout status deployment/roll --timeout 60s
	assert_status 0
	assert_line 'deployment "roll" successfully rolled out'
	eventually 20 count_is pods_of roll- 3
	touch "$TEST_DIR/stop"
	wait "$BG_PID"
	BG_PID=
	min=$(sort -n "$samples" | head -1)
	echo "ready counts sampled: $(sort -n "$samples" | uniq -c | tr '\n' ' ')"
	[ "$(wc -l <"$samples")" -ge 5 ] || fail "too few samples"
	[ "$min" -ge 2 ] || fail "only $min Ready during the rollout"
	# every pod of the new template; the old ReplicaSet kept, scaled to 0
	run_peapod get rs
	[ "$(echo "$output" | awk '$2 == 0 && $3 == 0' | wc -l)" -eq 1 ] || fail "old rs: $output"
	[ "$(echo "$output" | awk '$2 == 3 && $3 == 3' | wc -l)" -eq 1 ] || fail "new rs: $output"
	run_peapod get pods -o json
	echo "$output" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
imgs = [c["image"] for p in items for c in p["spec"]["containers"]]
assert imgs == ["peapod-test/rolled:2"] * 3, imgs'
	run_peapod describe deployment roll
	assert_stdout_contains "ScalingReplicaSet"
	assert_line_re ".*Scaled down replica set roll-[a-z0-9]+ from 3 to 2$"
	delete_ok deployment roll
	pp image rm peapod-test/rolled:2 >/dev/null 2>&1 || true
	assert_no_leaks
}

@test "scale a Deployment to 1 and back to 3; scale of a missing one fails" {
	local f
	f=$(deployment sc 3 | write_manifest)
	run_peapod apply -f "$f"
	eventually 30 rolled_out sc
	run_peapod scale deployment sc --replicas 1
	assert_status 0
	assert_stdout "deployment.apps/sc scaled"
	eventually 20 count_is pods_of sc- 1
	eventually 20 rolled_out sc
	run_peapod get deploy sc
	assert_line_re "^sc +1/1 +1 +1 +[0-9]+s$"
	run_peapod scale deploy/sc --replicas=3
	assert_status 0
	eventually 30 count_is running_ready sc- 3
	eventually 20 rolled_out sc
	# apply of a changed replicas: configured, scaled (no new template)
	run_peapod apply -f <(deployment sc 2 | sed "s|@IMAGE@|$IMAGE|")
	assert_stdout "deployment.apps/sc configured"
	eventually 20 count_is pods_of sc- 2
	eventually 20 rolled_out sc
	[ "$(pp get rs -o name | wc -l)" -eq 1 ] || fail "a new ReplicaSet: $(pp get rs)"
	# rollout restart: a new ReplicaSet, the old one scaled to 0
	run_peapod rollout restart deployment/sc
	assert_stdout "deployment.apps/sc restarted"
	run_peapod rollout status deployment/sc --timeout 60s
	assert_status 0
	eventually 20 count_is pods_of sc- 2
	run_peapod get rs
	[ "$(echo "$output" | awk '$2 == 2 && $3 == 2' | wc -l)" -eq 1 ] || fail "rs: $output"
	[ "$(echo "$output" | awk '$2 == 0 && $3 == 0' | wc -l)" -eq 1 ] || fail "rs: $output"
	run_peapod scale deployment nope --replicas 2
	assert_status 1
	assert_stderr_contains 'deployments.apps "nope" not found'
	run_peapod scale deployment sc --replicas -1
	assert_status 2
	delete_ok deploy sc
	assert_no_leaks
}

@test "Recreate: every old pod gone before the new ones" {
	local f g
	f=$(deployment rec 2 "  strategy: {type: Recreate}" | write_manifest)
	run_peapod apply -f "$f"
	eventually 30 rolled_out rec
	g=$(deployment rec 2 "  strategy: {type: Recreate}" 2 | write_manifest)
	run_peapod apply -f "$g"
	assert_stdout "deployment.apps/rec configured"
	run_peapod rollout status deployment/rec --timeout 60s
	assert_status 0
	run_peapod describe deployment rec
	assert_stdout_contains "StrategyType:          Recreate"
	# the old ReplicaSet went to 0 before the new one went up
	local down up
	down=$(grep -n "Scaled down replica set rec-" <<<"$output" | head -1 | cut -d: -f1)
	up=$(grep -nE "Scaled up replica set rec-[a-z0-9]+ from 0 to 2" <<<"$output" | tail -1 | cut -d: -f1)
	[ -n "$down" ] && [ -n "$up" ] && [ "$down" -lt "$up" ] || fail "not scaled down before up"
	[ "$(pods_of rec-)" -eq 2 ]
	delete_ok -f "$g"
	assert_no_leaks
}

@test "a paused Deployment keeps its pods through a template change; unpaused, it rolls" {
	local f g h
	f=$(deployment pz 2 | write_manifest)
	run_peapod apply -f "$f"
	eventually 30 rolled_out pz
	g=$(deployment pz 2 "  paused: true" 2 | write_manifest)
	run_peapod apply -f "$g"
	assert_stdout "deployment.apps/pz configured"
	eventually 10 bash -c "'$PEAPOD' get deploy pz -o jsonpath='{.status.conditions[1].reason}' | grep -qx DeploymentPaused"
	[ "$(pp get rs -o name | wc -l)" -eq 1 ] || fail "rolled while paused: $(pp get rs)"
	h=$(deployment pz 2 "" 2 | write_manifest)
	run_peapod apply -f "$h"
	run_peapod rollout status deployment/pz --timeout 60s
	assert_status 0
	[ "$(pp get rs -o name | wc -l)" -eq 2 ] || fail "no rollout: $(pp get rs)"
	delete_ok -f "$h"
	assert_no_leaks
}

@test "a rollout that makes no progress for progressDeadlineSeconds: ProgressDeadlineExceeded, rollout status fails" {
	local f
	f=$(deployment stuck 1 "  progressDeadlineSeconds: 2" | sed 's|^          env: .*|          readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}|' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	run_peapod rollout status deployment/stuck --timeout 60s
	assert_status 1
	assert_stderr_contains 'error: deployment "stuck" exceeded its progress deadline'
	run_peapod describe deployment stuck
	assert_line_re "^  Progressing +False +ProgressDeadlineExceeded$"
	delete_ok deployment stuck
	assert_no_leaks
}

@test "a ReplicaSet alone: kept at its count, its pods named NAME-<5>" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: solo
spec:
  replicas: 2
  selector:
    matchExpressions: [{key: app, operator: In, values: [solo]}]
  template:
    metadata:
      labels: {app: solo}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: c
          image: @IMAGE@
          command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
EOF
)
	run_peapod apply -f "$f"
	assert_stdout "replicaset.apps/solo created"
	eventually 30 count_is running_ready solo- 2
	eventually 10 bash -c "'$PEAPOD' get rs | grep -Eq '^solo +2 +2 +2 +[0-9]+s$'"
	pp get pods -o name | grep -Eq '^pod/solo-[bcdfghjklmnpqrstvwxz2456789]{5}$'
	run_peapod scale rs solo --replicas 0
	assert_status 0
	eventually 20 count_is pods_of solo- 0
	delete_ok -f "$f"
	assert_no_leaks
}

@test "a DaemonSet runs one pod here; one whose nodeSelector does not match this host runs none" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {kubernetes.io/os: linux}
      containers:
        - name: c
          image: @IMAGE@
          command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: elsewhere
spec:
  selector:
    matchLabels: {app: elsewhere}
  template:
    metadata:
      labels: {app: elsewhere}
    spec:
      nodeSelector: {kubernetes.io/hostname: not-this-host}
      containers:
        - name: c
          image: @IMAGE@
EOF
)
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "daemonset.apps/agent created"
	assert_line "daemonset.apps/elsewhere created"
	refute_stderr_contains "nodeSelector is not supported"
	eventually 30 count_is running_ready agent- 1
	eventually 10 bash -c "'$PEAPOD' get ds | grep -Eq '^agent +1 +1 +1 +1 +1 +kubernetes.io/os=linux +[0-9]+s$'"
	run_peapod get ds
	assert_line_re "^elsewhere +0 +0 +0 +0 +0 +kubernetes.io/hostname=not-this-host +[0-9]+s$"
	[ "$(pods_of elsewhere-)" -eq 0 ]
	run_peapod get pods -o json
	echo "$output" | python3 -c '
import json, sys
(p,) = json.load(sys.stdin)["items"]
l = p["metadata"]["labels"]
assert l["app"] == "agent" and l["pod-template-generation"] == "1" and l["controller-revision-hash"], l
assert p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet", p["metadata"]'
	delete_ok -f "$f"
	[ "$(pods_of agent-)" -eq 0 ]
	assert_no_leaks
}

@test "bad workloads refused naming file:line:field, nothing made" {
	local f
	f=$(deployment bad 2 | sed 's/labels: {app: bad}/labels: {app: other}/' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "$f:12:15: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: \`selector\` does not match template \`labels\`"
	f=$(deployment bad -1 | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "$f:6:13: spec.replicas"
	f=$(deployment bad 1 | sed '/selector:/,+1d' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "spec.selector: Required value"
	f=$(deployment bad 1 "  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy \`type\` is 'Recreate'"
	f=$(deployment bad 1 "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when \`maxSurge\` is 0"
	f=$(deployment bad 1 "  strategy: {rollingUpdate: {maxSurge: 120%}}" | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "must not be greater than 100%"
	# the template is a pod: every pod check applies, named under spec.template
	f=$(deployment bad 1 | sed 's/- name: c/- name: C_bad/' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "$f:16:"
	assert_stderr_contains "spec.template.spec.containers[0].name"
	f=$(deployment bad 1 | sed 's/terminationGracePeriodSeconds: 1/restartPolicy: Never/' | write_manifest)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
	run_peapod get deployments
	assert_stderr_contains "No resources found"
	[ -z "$(ctrl_pids)" ]
	[ -z "$(find "$PEAPOD_ROOT/objects" -path '*/deployments/*' 2>/dev/null)" ]
	assert_no_leaks
}

@test "an idle controller costs nothing: no CPU time while nothing changes" {
	local f ctrl t0 t1
	f=$(deployment idle 1 | write_manifest)
	run_peapod apply -f "$f"
	eventually 30 rolled_out idle
	ctrl=$(ctrl_pids)
	# settled: its CPU time does not move while nothing changes
	sleep 1
	t0=$(awk '{print $14 + $15}' "/proc/$ctrl/stat")
	sleep 5
	t1=$(awk '{print $14 + $15}' "/proc/$ctrl/stat")
	[ "$t0" = "$t1" ] || fail "the controller used CPU while idle: $t0 -> $t1 ticks"
	# and its process is named as peapod's are
	[ "$(cat "/proc/$ctrl/comm")" = peapod-ctrl ]
	delete_ok deployment idle
	assert_no_leaks
}

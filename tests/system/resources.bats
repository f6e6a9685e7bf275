#!/usr/bin/env bats
# Resources through the cgroups: limits read back from the cgroup files, the
# QoS class and its cgroup placement, oom_score_adj, OOMKilled of one
# container with its sibling alive, the pod's pids limit against a fork
# bomb, namespaced sysctls, and the three cgroup layouts (this host is
# hybrid; pure v1 and pure v2 are tried in a private mount namespace).

load helpers
load pods_helpers

# cg_layout NAME / cg_path NAME: where the pod's supervisor put its cgroup.
cg_layout() {
	inspect_get "$1" 'd["peapod"]["cgroup"]["layout"]'
}
cg_path() {
	inspect_get "$1" 'd["peapod"]["cgroup"]["path"]'
}

# cg_file CONTROLLER PATH FILE: a cgroup file of a v1 controller or, on v2,
# of the unified hierarchy.
cg_file() {
	if [ -d "/sys/fs/cgroup/$1" ]; then
		cat "/sys/fs/cgroup/$1$2/$3"
	else
		cat "/sys/fs/cgroup$2/$3"
	fi
}

# ctr NAME CONTAINER EXPR: EXPR on the container's status (bound to c).
ctr() {
	inspect_get "$1" "[c for c in d['status']['containerStatuses'] if c['name'] == '$2'][0]$3"
}

# pid_of_container NAME CONTAINER: its main process (status.json).
pid_of_container() {
	state_status "$1" | json_get "[c['pid'] for c in d['status']['containerStatuses'] if c['name'] == '$2'][0]"
}

burstable_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: res
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      resources:
        requests: {cpu: 250m, memory: 32Mi}
        limits: {cpu: "0.5", memory: 64Mi}
    - name: b
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      resources:
        limits: {cpu: "1", memory: "134217728", ephemeral-storage: 1Gi}
EOF
}

@test "limits are written as kubelet converts them, pod limits are the sums (read back from the cgroup files)" {
	apply_ok < <(burstable_pod)
	eventually 10 ready res || fail "pod not ready"
	local layout path
	layout=$(cg_layout res)
	path=$(cg_path res)
	[[ "$path" == "/$PEAPOD_CGROUP_PARENT/burstable/pod-"* ]] || fail "Burstable pod not under burstable/: $path"
	case "$layout" in
	hybrid | v1)
		# a: 250m -> 256 shares, 0.5 CPU -> 50000/100000, 64Mi, no swap
		[ "$(cg_file cpu "$path/a" cpu.shares)" = 256 ] || fail "a cpu.shares"
		[ "$(cg_file cpu "$path/a" cpu.cfs_quota_us)" = 50000 ] || fail "a quota"
		[ "$(cg_file cpu "$path/a" cpu.cfs_period_us)" = 100000 ] || fail "a period"
		[ "$(cg_file memory "$path/a" memory.limit_in_bytes)" = 67108864 ] || fail "a memory"
		if [ -e "/sys/fs/cgroup/memory$path/a/memory.memsw.limit_in_bytes" ]; then
			[ "$(cg_file memory "$path/a" memory.memsw.limit_in_bytes)" = 67108864 ] || fail "a memsw"
		fi
		# b: its request defaulted to its limit: 1 CPU -> 1024 shares
		[ "$(cg_file cpu "$path/b" cpu.shares)" = 1024 ] || fail "b cpu.shares"
		[ "$(cg_file cpu "$path/b" cpu.cfs_quota_us)" = 100000 ] || fail "b quota"
		[ "$(cg_file memory "$path/b" memory.limit_in_bytes)" = 134217728 ] || fail "b memory"
		# the pod: the sums (1280 shares, 1.5 CPU, 192Mi), the default pids limit
		[ "$(cg_file cpu "$path" cpu.shares)" = 1280 ] || fail "pod cpu.shares"
		[ "$(cg_file cpu "$path" cpu.cfs_quota_us)" = 150000 ] || fail "pod quota"
		[ "$(cg_file memory "$path" memory.limit_in_bytes)" = 201326592 ] || fail "pod memory"
		[ "$(cg_file pids "$path" pids.max)" = 4096 ] || fail "pod pids.max"
		# the container's process is in its own cgroup of each hierarchy
		local pid
		pid=$(pid_of_container res a)
		grep -qE "^[0-9]+:memory:$path/a\$" "/proc/$pid/cgroup" || fail "a not in its memory cgroup: $(cat "/proc/$pid/cgroup")"
		grep -qE "^[0-9]+:(cpu|cpu,cpuacct):$path/a\$" "/proc/$pid/cgroup" || fail "a not in its cpu cgroup"
		;;
	v2)
		[ "$(cg_file x "$path/a" cpu.weight)" = 35 ] || fail "a cpu.weight (256 shares)"
		[ "$(cg_file x "$path/a" cpu.max)" = "50000 100000" ] || fail "a cpu.max"
		[ "$(cg_file x "$path/a" memory.max)" = 67108864 ] || fail "a memory.max"
		[ "$(cg_file x "$path/b" cpu.weight)" = 100 ] || fail "b cpu.weight"
		;;
	*) fail "unknown layout $layout" ;;
	esac
	# ephemeral-storage has no cgroup: said once, as a warning event
	run_peapod describe pod res
	assert_stdout_contains "QoS Class:                   Burstable"
	assert_stdout_contains "ephemeral-storage is not enforced"
	delete_ok res
}

guaranteed_pod() {
	sleeper_pod gua '' '      resources: {limits: {cpu: 100m, memory: 16Mi}}'
}

# has_cap_sys_resource: this shell may lower oom_score_adj (bit 24 of CapEff).
has_cap_sys_resource() {
	local eff
	eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	(((0x$eff >> 24) & 1))
}

@test "QoS classes: Guaranteed directly under the parent, BestEffort under besteffort/; qosClass, describe; oom_score_adj" {
	local own
	own=$(cat /proc/self/oom_score_adj)
	apply_ok < <(guaranteed_pod)
	apply_ok < <(sleeper_pod be)
	eventually 10 ready gua || fail "gua not ready"
	eventually 10 ready be || fail "be not ready"
	[ "$(inspect_get gua 'd["status"]["qosClass"]')" = Guaranteed ] || fail "gua qosClass"
	[ "$(inspect_get be 'd["status"]["qosClass"]')" = BestEffort ] || fail "be qosClass"
	[[ "$(cg_path gua)" == "/$PEAPOD_CGROUP_PARENT/pod-"* ]] || fail "gua path $(cg_path gua)"
	[[ "$(cg_path be)" == "/$PEAPOD_CGROUP_PARENT/besteffort/pod-"* ]] || fail "be path $(cg_path be)"
	run_peapod describe pod gua
	assert_stdout_contains "QoS Class:                   Guaranteed"
	# BestEffort: 1000. Guaranteed: -997, which needs CAP_SYS_RESOURCE to go
	# below our own value: where the host withholds it, one above our own (the
	# supervisor's: an OOM kill takes the container first), with a warning.
	[ "$(cat "/proc/$(pid_of_container be c)/oom_score_adj")" = 1000 ] || fail "BestEffort oom_score_adj"
	local want=-997 got
	if ! has_cap_sys_resource && [ "$own" -gt -997 ]; then
		want=$((own + 1))
		assert_stdout_contains "ResourcesRestricted"
		assert_stdout_contains "oom_score_adj -997 (Guaranteed pod) is below peapod's own $own"
	fi
	got=$(cat "/proc/$(pid_of_container gua c)/oom_score_adj")
	[ "$got" = "$want" ] || fail "Guaranteed oom_score_adj: $got, want $want"
	# exec'd processes get the container's, not the caller's
	run_peapod exec be -- cat /proc/self/oom_score_adj
	assert_stdout 1000
	# the BestEffort pod's cpu.shares, and its QoS group's: kubelet's minimum, 2
	if [ "$(cg_layout be)" != v2 ]; then
		[ "$(cg_file cpu "/$PEAPOD_CGROUP_PARENT/besteffort" cpu.shares)" = 2 ] || fail "besteffort group cpu.shares"
		[ "$(cg_file cpu "$(cg_path be)" cpu.shares)" = 2 ] || fail "BestEffort pod cpu.shares"
		[ "$(cg_file cpu "$(cg_path be)/c" cpu.shares)" = 2 ] || fail "BestEffort container cpu.shares"
	fi
	# The QoS group goes with its last pod, and peapod's parent with the
	# host's last pod: nothing of peapod's stays in any hierarchy.
	delete_ok be
	[ -z "$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/$PEAPOD_CGROUP_PARENT/besteffort")" ] ||
		fail "the besteffort group outlived its last pod"
	[ -n "$(cgroup_parent_dirs)" ] || fail "the parent went while gua still runs"
	delete_ok gua
	[ -z "$(cgroup_parent_dirs)" ] || fail "peapod's parent outlived the last pod: $(cgroup_parent_dirs)"
}

@test "a Burstable container's oom_score_adj is 1000 - 1000*request/MemTotal" {
	apply_ok < <(burstable_pod)
	eventually 10 ready res || fail "pod not ready"
	local total want
	total=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))
	want=$((1000 - 1000 * 33554432 / total))
	[ "$want" -gt 999 ] && want=999
	[ "$want" -lt 3 ] && want=3
	[ "$(cat "/proc/$(pid_of_container res a)/oom_score_adj")" = "$want" ] || fail "a: want $want"
	delete_ok res
}

oom_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: oom
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  containers:
    - name: hog
      image: @IMAGE@
      command: ["memhog", "256"]
      resources:
        limits: {memory: 32Mi}
    - name: sibling
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
}

@test "a container over its memory limit is OOMKilled (137) in its own cgroup, its sibling lives, the restart policy applies" {
	apply_ok < <(oom_pod)
	eventually 20 inspect_is oom "[c for c in d['status']['containerStatuses'] if c['name'] == 'hog'][0]['lastState']['terminated']['reason']" OOMKilled ||
		fail "hog never OOMKilled"
	[ "$(ctr oom hog '["lastState"]["terminated"]["exitCode"]')" = 137 ] || fail "exit code"
	[ "$(ctr oom hog '["restartCount"]')" -ge 1 ] || fail "not restarted (OnFailure)"
	[ "$(ctr oom sibling '["restartCount"]')" = 0 ] || fail "sibling restarted"
	ctr oom sibling '["state"]["running"]' >/dev/null || fail "sibling not running"
	run_peapod describe pod oom
	assert_stdout_contains "OOMKilled"
	delete_ok oom
}

@test "restartPolicy Never: an OOMKilled container stays terminated, reason OOMKilled, exit code 137" {
	sed 's/OnFailure/Never/' < <(oom_pod) | apply_ok
	eventually 20 inspect_is oom "[c for c in d['status']['containerStatuses'] if c['name'] == 'hog'][0]['state']['terminated']['reason']" OOMKilled ||
		fail "not OOMKilled"
	[ "$(ctr oom hog '["state"]["terminated"]["exitCode"]')" = 137 ] || fail "exit code"
	ctr oom sibling '["state"]["running"]' >/dev/null || fail "sibling not running"
	delete_ok oom
}

@test "a fork bomb is stopped by the pod's pids limit (PEAPOD_POD_PIDS_LIMIT) and the pod still deletes" {
	PEAPOD_POD_PIDS_LIMIT=40 apply_ok < <(sh_pod bomb Never "exec forker 200")
	# 40 = the infra process, forker itself and its 38 children; fork 39 fails.
	eventually 10 logs_have bomb "forked 38 (then Resource temporarily unavailable)" ||
		fail "not stopped at the limit: $(pp logs bomb)"
	local path
	path=$(cg_path bomb)
	[ "$(cg_file pids "$path" pids.max)" = 40 ] || fail "pids.max"
	[ "$(cg_file pids "$path" pids.current)" -le 40 ] || fail "pids.current above the limit"
	if [ "$(cg_layout bomb)" != v2 ]; then
		# v1 counts the refused fork where the forking task is
		[ "$(awk '/^max/ {print $2}' "/sys/fs/cgroup/pids$path/c/pids.events")" -gt 0 ] || fail "no fork was refused"
	fi
	delete_ok bomb
	eventually 10 no_cgroup_procs || fail "processes left"
}

sysctl_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sysctl
spec:
  restartPolicy: Never
  securityContext:
    sysctls:
      - name: net.ipv4.ip_local_port_range
        value: "20000 30000"
      - name: kernel.shm_rmid_forced
        value: "1"
      - name: net/ipv4/ping_group_range
        value: "0 1000"
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ping_group_range"]
EOF
}

# (That they are set in the pod's namespaces is tested in security.bats.)
@test "a sysctl that is not namespaced, or net.* with hostNetwork, is refused at parse time with FILE:LINE:COL" {
	local f
	f=$(sed 's/name: kernel.shm_rmid_forced/name: vm.swappiness/' < <(sysctl_pod) | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:11:15: spec.securityContext.sysctls[1].name: sysctl \"vm.swappiness\" is not namespaced"
	f=$(sed 's/^  restartPolicy: Never/  hostNetwork: true/' < <(sysctl_pod) | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:9:15: spec.securityContext.sysctls[0].name: may not be specified when 'hostNetwork' is true"
	[ -z "$(ls -A "$PEAPOD_RUN/pods" 2>/dev/null)" ] || fail "something was created"
}

@test "bad quantities and requests above limits are refused at parse time with FILE:LINE:COL" {
	local f
	f=$(sed 's/cpu: 250m/cpu: 2.5.0/' < <(burstable_pod) | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "$f:12:"
	assert_stderr_contains "spec.containers[0].resources.requests.cpu: quantity \"2.5.0\" is not valid"
	f=$(sed 's/cpu: 250m/cpu: 750m/' < <(burstable_pod) | write_manifest)
	run_peapod apply -f "$f"
	[ "$status" -ne 0 ] || fail "accepted"
	assert_stderr_contains "spec.containers[0].resources.requests.cpu: must be less than or equal to cpu limit of 0.5"
}

# ---------------------------------------------------------------------------
# The other layouts, in a private mount namespace with its own /sys/fs/cgroup.

# layout_pod [CONTAINER_LINES]: a restartPolicy Never pod "lay" whose
# container c runs until stopped; its container lines default to a memory
# limit of 48Mi.
layout_pod() {
	local limit='      resources: {limits: {memory: 48Mi}}'
	sh_pod lay Never "$UNTIL_TERM" '' "${1-$limit}"
}

# in_private_cgroupfs SCRIPT: runs SCRIPT (bash) in a new mount namespace
# whose /sys/fs/cgroup is a fresh tmpfs; the script mounts what it wants.
in_private_cgroupfs() {
	unshare -m --propagation private bash -c "mount -t tmpfs peapod-test /sys/fs/cgroup && $1"
}

# run_in_private_cgroupfs MOUNTS FILE: `peapod run -f FILE` in the background
# (BG_PID: unshare execs bash, which execs peapod: the pid is peapod's, so
# SIGINT stops the pod as Ctrl-C does), after MOUNTS in a private /sys/fs/cgroup.
run_in_private_cgroupfs() {
	env --default-signal=INT,TERM unshare -m --propagation private bash -c \
		"mount -t tmpfs peapod-test /sys/fs/cgroup && $1 && exec '$PEAPOD' run -f '$2'" \
		>"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
}

@test "pure cgroup v1 (v1 hierarchies only, in a private mount namespace): limits, kill through the freezer, removal" {
	skip_unless_private_mounts
	local c mounts=""
	for c in freezer pids memory cpu cpuacct; do
		[ -d "/sys/fs/cgroup/$c" ] || skip "no v1 $c hierarchy on this host"
		mounts+="mkdir /sys/fs/cgroup/$c && mount -t cgroup -o $c peapod-test /sys/fs/cgroup/$c && "
	done
	run_in_private_cgroupfs "$mounts true" "$(write_manifest < <(layout_pod))"
	eventually 20 inspect_is lay 'd["peapod"]["cgroup"]["layout"]' v1 || fail "not v1: $(cat "$TEST_DIR/err")"
	local path
	path=$(cg_path lay)
	[ "$(cat "/sys/fs/cgroup/memory$path/c/memory.limit_in_bytes")" = 50331648 ] || fail "memory limit"
	[ -n "$(cat "/sys/fs/cgroup/freezer$path/c/cgroup.procs")" ] || fail "not in the freezer cgroup"
	# No unified hierarchy there: nothing of this pod in cgroup2.
	[ ! -d "/sys/fs/cgroup/unified$path" ] || fail "cgroup2 used on pure v1"
	kill -INT "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	[ ! -d "/sys/fs/cgroup/memory$path" ] || fail "cgroup left"
	[ ! -d "/sys/fs/cgroup/freezer$path" ] || fail "cgroup left"
}

@test "pure cgroup v2 (cgroup2 at /sys/fs/cgroup in a private mount namespace): membership, infra leaf, kill, removal" {
	skip_unless_private_mounts
	# On this host every controller is bound to a v1 hierarchy, so a cgroup2
	# mounted alone has none: memory, cpu and pids limits cannot be covered
	# here (a limit is refused as not enforceable, checked below); what is
	# covered is the layout: the tree, the infra's leaf, cgroup.kill, removal.
	local f uni=/sys/fs/cgroup/unified path
	[ -d "$uni" ] || uni=/sys/fs/cgroup
	run_in_private_cgroupfs "mount -t cgroup2 peapod-test /sys/fs/cgroup" \
		"$(layout_pod '' | write_manifest)"
	eventually 20 inspect_is lay 'd["peapod"]["cgroup"]["layout"]' v2 || fail "not v2: $(cat "$TEST_DIR/err")"
	path=$(cg_path lay)
	[[ "$path" == "/$PEAPOD_CGROUP_PARENT/besteffort/pod-"* ]] || fail "path $path"
	[ -n "$(cat "$uni$path/c/cgroup.procs")" ] || fail "container not in its cgroup"
	[ -n "$(cat "$uni$path/_infra/cgroup.procs")" ] || fail "infra not in its leaf"
	[ -z "$(cat "$uni$path/cgroup.procs")" ] || fail "a process in the pod cgroup itself (v2 no-internal-process rule)"
	kill -INT "$BG_PID"
	wait "$BG_PID" || true
	BG_PID=
	[ ! -d "$uni$path" ] || fail "cgroup left"
	# A memory limit needs the memory controller, which cannot reach here.
	f=$(write_manifest < <(layout_pod))
	run in_private_cgroupfs "mount -t cgroup2 peapod-test /sys/fs/cgroup && '$PEAPOD' run -f '$f' 2>&1"
	[ "$status" -ne 0 ] || fail "a memory limit was accepted without a memory controller"
	[[ "$output" == *"memory.max: its controller is not enabled"* ]] || fail "unexpected: $output"
}

hugepages_pod() {
	sleeper_pod huge '' '      resources: {limits: {memory: 64Mi, hugepages-2Mi: 4Mi}}'
}

@test "hugepages-2Mi: a hugetlb.2MB limit where the hugetlb controller reaches peapod's cgroups, else refused naming the file" {
	[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2 MiB huge pages on this host"
	local reaches=false
	# v1 hugetlb hierarchy, or hugetlb enabled in the root of a cgroup2 that has it
	if [ -d /sys/fs/cgroup/hugetlb ] || grep -qw hugetlb /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
		grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null; then
		reaches=true
	fi
	apply_pod < <(hugepages_pod)
	if [ "$reaches" = false ]; then
		# This host: hugetlb is on the unified hierarchy but the root (not
		# ours) does not enable it for children, so nothing can enforce it.
		[ "$status" -ne 0 ] || fail "a hugepages limit was accepted without hugetlb"
		assert_stderr_contains "no hugetlb.2MB.max: the hugetlb controller does not reach this cgroup"
		[ -z "$(ls -A "$PEAPOD_RUN/pods" 2>/dev/null)" ] || fail "the refused pod left state"
		return
	fi
	[ "$status" -eq 0 ] || fail "apply failed"
	local path file
	path=$(cg_path huge)
	file=$(ls /sys/fs/cgroup/hugetlb"$path"/c/hugetlb.2MB.limit_in_bytes /sys/fs/cgroup/unified"$path"/c/hugetlb.2MB.max /sys/fs/cgroup"$path"/c/hugetlb.2MB.max 2>/dev/null | head -1)
	[ "$(cat "$file")" = 4194304 ] || fail "hugetlb limit: $(cat "$file")"
	delete_ok huge
}

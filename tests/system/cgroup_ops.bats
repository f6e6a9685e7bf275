#!/usr/bin/env bats
# Operations through the pod's cgroups: the device allow-list, killing every
# process of a pod (double-forked ones too), pause/unpause and statistics.

load helpers
load pods_helpers

# A block device the host itself can open: the root filesystem's disk, else
# any other (loop, zram), tried through a node made in TEST_DIR. Prints
# MAJOR:MINOR. (Some sandboxes deny even root the disk under /.)
host_block_device() {
	local d cands
	cands=$(mountpoint -d / 2>/dev/null; cat /sys/block/*/dev 2>/dev/null)
	for d in $cands; do
		[ "${d%%:*}" != 0 ] || continue
		rm -f "$TEST_DIR/blk"
		mknod "$TEST_DIR/blk" b "${d%%:*}" "${d##*:}" 2>/dev/null || continue
		if dd if="$TEST_DIR/blk" of=/dev/null count=0 2>/dev/null; then
			rm -f "$TEST_DIR/blk"
			echo "$d"
			return 0
		fi
	done
	rm -f "$TEST_DIR/blk"
	return 1
}

# devices_pod NAME PRIVILEGED MAJOR MINOR
devices_pod() {
	sh_pod "$1" Never "mknod /dev/disk b $3 $4 && echo mknod ok
if dd if=/dev/disk of=/dev/null count=0 2>/tmp/err; then echo disk opened
else echo \"disk: \$\$(cat /tmp/err)\"; fi
echo hello >/dev/null && echo null ok
[ \"\$\$(head -c 4 /dev/zero | wc -c)\" = 4 ] && echo zero ok
[ \"\$\$(head -c 4 /dev/urandom | wc -c)\" = 4 ] && echo urandom ok
head -c 1 /dev/full >/dev/null && echo full ok" \
		'' "      securityContext: {privileged: $2}"
}

check_devices_denied() {
	local disk
	disk=$(host_block_device) || skip "the host cannot open any of its block devices"
	devices_pod devices-denied false "${disk%%:*}" "${disk##*:}" >"$TEST_DIR/pod.yaml"
	run_pod <"$TEST_DIR/pod.yaml"
	assert_status 0
	assert_line "[c] mknod ok"
	assert_line_re '\[c\] disk: .*Operation not permitted.*'
	refute_line "[c] disk opened"
	assert_line "[c] null ok"
	assert_line "[c] zero ok"
	assert_line "[c] urandom ok"
	assert_line "[c] full ok"
	assert_no_leaks
}

@test "devices: a container cannot open a host block device through a node it made; null, zero, urandom work" {
	check_devices_denied
}

@test "devices: the eBPF device program (PEAPOD_CGROUP_DEVICES=bpf) denies the same on the unified hierarchy" {
	[ -d /sys/fs/cgroup/unified ] || [ -f /sys/fs/cgroup/cgroup.controllers ] ||
		skip "no cgroup2 hierarchy on this host"
	PEAPOD_CGROUP_DEVICES=bpf check_devices_denied
}

@test "devices: a privileged container can open a host block device" {
	local disk
	disk=$(host_block_device) || skip "the host cannot open any of its block devices"
	devices_pod devices-privileged true "${disk%%:*}" "${disk##*:}" >"$TEST_DIR/pod.yaml"
	run_pod <"$TEST_DIR/pod.yaml"
	assert_status 0
	assert_line "[c] mknod ok"
	assert_line "[c] disk opened"
	assert_line "[c] null ok"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Killing through the cgroup

# suite_pids_of ARG: pids of the suite's cgroups whose command line has ARG.
suite_pids_of() {
	local d p
	for d in $(cgroup_parent_dirs); do
		for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "$p"
		done
	done | sort -u
}

@test "delete kills a double-forked daemon that ignores SIGTERM and left its container's process tree" {
	# With a shared PID namespace the daemon is reparented to the infra
	# process: only the cgroup still ties it to the pod.
	apply_ok <<<"$(sh_pod daemon Always "(sh -c 'trap \"\" TERM; exec sleep 7771 </dev/null >/dev/null 2>&1' &)
echo forked
trap 'exit 0' TERM; while true; do sleep 0.1; done" '  shareProcessNamespace: true')"
	eventually 10 logs_have daemon forked
	local daemon
	eventually 10 test -n "$(suite_pids_of 'sleep 7771')"
	daemon=$(suite_pids_of 'sleep 7771')
	[ -n "$daemon" ] || fail "no daemon found"
	# It is not a child of the container's process (its subshell exited).
	local ctr
	ctr=$(container_pids daemon)
	[ "$(awk '/^PPid:/ {print $2}' "/proc/$daemon/status")" != "$ctr" ] ||
		fail "the daemon is still a child of the container's process"
	delete_ok daemon
	none_alive $daemon || fail "the daemon $daemon is still alive after delete"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# pause and unpause

# pod_frozen NAME: the kernel reports the pod's cgroup frozen (wherever its
# QoS class put it: <parent>[/burstable|/besteffort]/pod-UID).
pod_frozen() {
	local uid h f
	uid=$(pod_uid "$1") || return 1
	for h in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		f=$(find "$h/$PEAPOD_CGROUP_PARENT" -maxdepth 3 -path "*/pod-$uid/cgroup.events" 2>/dev/null | head -n1)
		if [ -n "$f" ]; then
			grep -qx 'frozen 1' "$f"
			return
		fi
	done
	f=$(find "/sys/fs/cgroup/freezer/$PEAPOD_CGROUP_PARENT" -maxdepth 3 -path "*/pod-$uid/freezer.state" | head -n1)
	[ "$(cat "$f")" = FROZEN ]
}

paused_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: frozen
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"]
      livenessProbe:
        exec: {command: ["true"]}
        periodSeconds: 1
        timeoutSeconds: 1
        failureThreshold: 1
EOF
}

@test "pause freezes every process of the pod (get: Paused, exec refused, no probe fails); unpause resumes it" {
	apply_ok < <(paused_pod)
	eventually 10 logs_have frozen "tick 3"
	local pid
	pid=$(container_pids frozen)

	run_peapod pause frozen
	assert_status 0
	assert_stdout "pod/frozen paused"
	pod_frozen frozen || fail "the pod's cgroup is not frozen"
	[ "$(state_status frozen | json_get 'd["peapod"]["paused"]')" = true ] ||
		fail "status.json does not record the pause"
	status_is frozen Paused || fail "get does not show Paused: $(get_row frozen)"
	run_peapod describe pod frozen
	assert_line_re 'Paused: +True.*'
	# Pausing again is no error.
	run_peapod pause frozen
	assert_status 0

	run_peapod exec frozen -- true
	[ "$status" -ne 0 ] || fail "exec into a paused pod succeeded"
	assert_stderr_contains "paused"

	# The liveness probe (1 s period and timeout, one failure kills) would
	# fail against a frozen container: it must not run meanwhile.
	sleep 3
	pod_frozen frozen || fail "the pod thawed by itself"

	run_peapod unpause frozen
	assert_status 0
	assert_stdout "pod/frozen unpaused"
	pod_frozen frozen && fail "the pod's cgroup is still frozen"
	eventually 10 status_is frozen Running
	local last
	last=$(pp logs frozen | tail -n1)
	eventually 10 eval '[ "$(pp logs frozen | tail -n1)" != "$last" ]'
	[ "$(container_pids frozen)" = "$pid" ] || fail "the container was restarted"
	[ "$(inspect_get frozen 'd["status"]["containerStatuses"][0]["restartCount"]')" = 0 ] ||
		fail "the container restarted"

	run_peapod unpause frozen
	[ "$status" -ne 0 ] || fail "unpause of a pod that is not paused succeeded"
	assert_stderr_contains "not paused"
	delete_ok frozen
	assert_no_leaks
}

@test "delete of a paused pod thaws it, stops it gracefully and leaves nothing" {
	apply_ok < <(paused_pod)
	eventually 10 logs_have frozen "tick 1"
	run_peapod pause frozen
	assert_status 0
	delete_ok frozen
	assert_no_leaks
}

@test "a paused pod whose supervisor died is cleaned up by gc: frozen processes killed, cgroups removed" {
	apply_ok < <(paused_pod)
	eventually 10 logs_have frozen "tick 1"
	local pids sup
	pids=$(container_pids frozen)
	run_peapod pause frozen
	assert_status 0
	sup=$(sup_pid frozen)
	kill -KILL "$sup"
	eventually 10 none_alive "$sup"
	run_peapod gc
	assert_status 0
	assert_stdout "1 pod cleaned up"
	# shellcheck disable=SC2086
	none_alive $pids || fail "frozen processes outlived gc: $pids"
	assert_no_leaks
}

@test "pause and unpause of a pod that does not exist fail" {
	run_peapod pause nosuchpod
	[ "$status" -ne 0 ] || fail "pause succeeded"
	run_peapod unpause nosuchpod
	[ "$status" -ne 0 ] || fail "unpause succeeded"
	assert_no_leaks
}

# Pause and exec, one after the other (supervisor/freeze.c). In test builds
# PEAPOD_TEST_EXEC_SETUP_DELAY_MS makes exec's CLI sleep between the
# supervisor's reply and the clone of its process: the window in which a
# pause used to freeze the child before its exec, holding the CLI for good.

# has_pidfd PID: the process holds a pidfd (exec's CLI: the supervisor's
# reply has come, the setup is under way).
has_pidfd() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'anon_inode:\[pidfd\]'
}

# in_host_layout [v1|v2] CMD...: CMD with that layout (in_layout), or the host's.
in_host_layout() {
	local layout=$1
	shift
	if [ -n "$layout" ]; then
		in_layout "$layout" "$@"
	else
		"$@"
	fi
}

# start_bg_layout [v1|v2] CMD...: start_bg of CMD with that layout, BG_PID
# CMD's own pid (unshare and sh exec it).
start_bg_layout() {
	local layout=$1
	shift
	case $layout in
	v1) start_bg unshare -m --propagation private sh -c \
		'umount -l /sys/fs/cgroup/unified && exec "$@"' sh "$@" ;;
	v2) start_bg unshare -m --propagation private sh -c \
		'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"' sh "$@" ;;
	*) start_bg "$@" ;;
	esac
}

# slow_exec LAYOUT MS ARGS...: exec's CLI in the background (BG_PID) with its
# setup made MS milliseconds slow; returns once it has the supervisor's reply.
slow_exec() {
	local layout=$1 ms=$2
	shift 2
	start_bg_layout "$layout" env --default-signal=INT,TERM \
		PEAPOD_TEST_EXEC_SETUP_DELAY_MS="$ms" "$PEAPOD" exec "$@"
	eventually 20 has_pidfd "$BG_PID"
}

# check_pause_waits_for_exec [v1|v2]
check_pause_waits_for_exec() {
	POD_FILE=$(sleeper_pod racer | write_manifest)
	run in_host_layout "$1" "$PEAPOD" apply -f "$POD_FILE"
	assert_status 0
	eventually 10 status_is racer Running
	slow_exec "$1" 1500 racer -- echo from-exec
	run_peapod pause racer
	assert_status 0
	assert_stdout "pod/racer paused"
	# The pause came once the exec's process had exec'd: no child of the
	# CLI is still its copy (the comm of a child not yet exec'd). The
	# command itself may be frozen before it exits, as any process of the
	# pod: it ends after the unpause.
	local c
	for c in $(pgrep -P "$BG_PID"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" != "$(basename "$PEAPOD")" ] ||
			fail "the pod was paused while the exec's process was being set up"
	done
	pod_frozen racer || fail "the pod's cgroup is not frozen"
	run_peapod unpause racer
	assert_status 0
	wait_bg 20
	assert_status 0
	assert_stdout "from-exec"
}

@test "pause waits for an exec being set up (which then runs); exec is refused while a pause waits; unpause cancels a waiting pause" {
	check_pause_waits_for_exec ""

	# A pause waiting for a slow exec: other execs are refused meanwhile,
	# and an unpause cancels the pause (the exec then runs as usual).
	slow_exec "" 4000 racer -- echo slow
	"$PEAPOD" pause racer >"$TEST_DIR/pause.out" 2>"$TEST_DIR/pause.err" &
	local pause=$!
	eventually 20 eval '! "$PEAPOD" exec racer -- true 2>"$TEST_DIR/refused" &&
		grep -q "is being paused" "$TEST_DIR/refused"'
	run_peapod unpause racer
	assert_status 0
	local rc=0
	wait "$pause" || rc=$?
	[ "$rc" -eq 1 ] || fail "the cancelled pause exited $rc"
	grep -q "cancelled by an unpause" "$TEST_DIR/pause.err" ||
		fail "the cancelled pause said: $(cat "$TEST_DIR/pause.err")"
	wait_bg 20
	assert_status 0
	assert_stdout "slow"
	pod_frozen racer && fail "the pod is frozen"
	run_peapod exec racer -- true
	assert_status 0
	delete_ok racer
	assert_no_leaks
}

@test "a pause that waits too long for an exec's setup is refused with the reason; the exec runs" {
	apply_ok < <(sleeper_pod racer)
	eventually 10 status_is racer Running
	slow_exec "" 8000 racer -- echo late
	run_peapod pause racer
	assert_status 1
	assert_stderr_contains "still being set up"
	pod_frozen racer && fail "the pod was frozen"
	status_is racer Running || fail "get shows $(get_row racer)"
	wait_bg 20
	assert_status 0
	assert_stdout "late"
	delete_ok racer
	assert_no_leaks
}

# pod_cgroup_dir NAME: the pod's cgroup that freezes it (the unified
# hierarchy's, else the v1 freezer's).
pod_cgroup_dir() {
	local uid h d
	uid=$(pod_uid "$1") || return 1
	for h in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/freezer; do
		d=$(find "$h/$PEAPOD_CGROUP_PARENT" -maxdepth 2 -type d -name "pod-$uid" 2>/dev/null | head -n1)
		if [ -n "$d" ] && { [ -f "$d/cgroup.freeze" ] || [ -f "$d/freezer.state" ]; }; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# set_frozen DIR 1|0: freezes or thaws the cgroup behind peapod's back.
set_frozen() {
	if [ -f "$1/cgroup.freeze" ]; then
		echo "$2" >"$1/cgroup.freeze"
	elif [ "$2" = 1 ]; then
		echo FROZEN >"$1/freezer.state"
	else
		echo THAWED >"$1/freezer.state"
	fi
}

# child_in DIR PPID: prints a process in cgroup DIR whose parent is PPID.
child_in() {
	local p
	for p in $(cat "$1/cgroup.procs"); do
		if grep -qx "PPid:[[:space:]]*$2" "/proc/$p/status" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

@test "pure v1 layout (emulated): pause waits for an exec being set up (the v1 freezer)" {
	skip_unless_private_mounts
	check_pause_waits_for_exec v1
	delete_ok racer
	assert_no_leaks
}

# check_exec_sigterm [v1|v2]
check_exec_sigterm() {
	POD_FILE=$(sleeper_pod iced | write_manifest)
	run in_host_layout "$1" "$PEAPOD" apply -f "$POD_FILE"
	assert_status 0
	eventually 10 status_is iced Running
	local cg
	cg=$(pod_cgroup_dir iced) || fail "no freezable cgroup for the pod"
	set_frozen "$cg" 1
	start_bg_layout "$1" env --default-signal=INT,TERM "$PEAPOD" exec iced -- \
		sh -c 'echo ran >/tmp/marker'
	# Its child sits frozen in the container's cgroup, before its exec.
	eventually 20 child_in "$cg/c" "$BG_PID" || { set_frozen "$cg" 0; false; }
	local child
	child=$(child_in "$cg/c" "$BG_PID")
	kill -TERM "$BG_PID"
	wait_bg 10 || { set_frozen "$cg" 0; false; }
	[ "$status" -eq 143 ] || { set_frozen "$cg" 0; fail "exec exited $status, not by SIGTERM"; }
	set_frozen "$cg" 0
	# Thawed, the orphan sees its caller gone and exits without running the command.
	eventually 10 none_alive "$child"
	run_peapod exec iced -- test -e /tmp/marker
	[ "$status" -eq 1 ] || fail "the command of the killed exec ran (status $status)"
	delete_ok iced
	assert_no_leaks
}

@test "an exec born into a cgroup frozen behind peapod's back ends on SIGTERM, and its command never runs" {
	check_exec_sigterm ""
}

@test "pure v1 layout (emulated): an exec that joins a v1 freezer frozen behind peapod's back ends on SIGTERM" {
	skip_unless_private_mounts
	check_exec_sigterm v1
}

# ---------------------------------------------------------------------------
# stats, top pod, inspect

burner_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: usage
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: burner
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"]
    - name: holder
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; head -c 33554432 /dev/zero >/dev/shm/fill && echo filled; while true; do sleep 0.1; done"]
EOF
}

# The memory controller reaches the pod's containers on this host.
have_memory_stats() {
	[ "$(inspect_get usage 'd["peapod"]["stats"]["containers"][1].get("memoryWorkingSetBytes", -1)')" != -1 ]
}

@test "stats: a container burning CPU shows CPU use, the idle one little; memory and pids read back" {
	apply_ok < <(burner_pod)
	eventually 10 logs_have usage filled -c holder
	run_peapod stats usage -i 0.5 --no-stream
	assert_status 0
	[[ "${lines[0]}" =~ ^POD\ +CONTAINER\ +CPU\ %\ +MEM\ USAGE\ +WORKING\ SET\ +PIDS$ ]] ||
		fail "bad header"
	[ "${#lines[@]}" -eq 4 ] || fail "expected a header, two containers and the pod"
	local cpu pids
	cpu=$(awk '$2 == "burner" {sub("%", "", $3); print int($3)}' <<<"$output")
	# A busy loop on a 2-CPU host: well above zero (not asserting a share).
	[ "$cpu" -ge 10 ] || fail "the burner shows ${cpu}% CPU"
	local idle
	idle=$(awk '$2 == "holder" {sub("%", "", $3); print int($3)}' <<<"$output")
	[ "$idle" -lt "$cpu" ] || fail "the idle holder shows ${idle}% CPU, the burner ${cpu}%"
	pids=$(awk '$2 == "holder" {print $6}' <<<"$output")
	[ "$pids" -ge 1 ] || fail "the holder shows $pids pids"
	assert_line_re 'usage +\(pod\) +[0-9.]+% +.*'
	if have_memory_stats; then
		# 32 MiB in /dev/shm (shmem, charged to the holder) is in its working set.
		local ws
		ws=$(inspect_get usage 'd["peapod"]["stats"]["containers"][1]["memoryWorkingSetBytes"]')
		[ "$ws" -ge 33554432 ] || fail "holder's working set $ws < 32 MiB"
		[ "$ws" -lt $((256 * 1024 * 1024)) ] || fail "holder's working set $ws is implausible"
		awk '$2 == "holder" {exit !($4 ~ /MB$/)}' <<<"$output" || fail "holder's memory not in MB"
	fi
	delete_ok usage
	assert_no_leaks
}

@test "top pod: CPU in millicores and memory in Mi, per pod and --containers" {
	apply_ok < <(burner_pod)
	eventually 10 logs_have usage filled -c holder
	run_peapod top pod usage -i 0.5
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +CPU\(cores\)\ +MEMORY\(bytes\)$ ]] || fail "bad header"
	local mc
	mc=$(awk '$1 == "usage" {sub("m$", "", $2); print $2}' <<<"$output")
	[ "$mc" -ge 100 ] || fail "the pod uses ${mc}m CPU"
	if have_memory_stats; then
		assert_line_re 'usage +[0-9]+m +(3[2-9]|[4-9][0-9]|[1-2][0-9][0-9])Mi'
	fi
	run_peapod top pod usage --containers -i 0.5
	assert_status 0
	[[ "${lines[0]}" =~ ^POD\ +NAME\ +CPU\(cores\)\ +MEMORY\(bytes\)$ ]] || fail "bad header"
	assert_line_re 'usage +burner +[0-9]+m +.*'
	assert_line_re 'usage +holder +[0-9]+m +.*'
	# Every running pod without a name.
	run_peapod top pod -i 0.2
	assert_status 0
	assert_line_re 'usage +[0-9]+m +.*'
	delete_ok usage
	run_peapod top pod usage -i 0.2
	[ "$status" -ne 0 ] || fail "top of a deleted pod succeeded"
	assert_no_leaks
}

@test "inspect has the pod's and each container's cumulative usage" {
	apply_ok < <(burner_pod)
	eventually 10 logs_have usage filled -c holder
	local cpu0 cpu1
	cpu0=$(inspect_get usage 'd["peapod"]["stats"]["containers"][0]["cpuUsageNanoseconds"]')
	[ "$(inspect_get usage 'd["peapod"]["stats"]["containers"][0]["name"]')" = burner ] ||
		fail "first container is not the burner"
	eventually 10 eval '[ "$(inspect_get usage "d[\"peapod\"][\"stats\"][\"containers\"][0][\"cpuUsageNanoseconds\"]")" -gt "$cpu0" ]'
	cpu1=$(inspect_get usage 'd["peapod"]["stats"]["cpuUsageNanoseconds"]')
	[ "$cpu1" -ge "$cpu0" ] || fail "the pod used less CPU ($cpu1) than its container ($cpu0)"
	[ "$(inspect_get usage 'd["peapod"]["stats"]["pids"]')" -ge 3 ] || fail "pod pids < 3"
	delete_ok usage
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# The same operations on pure v1 and pure v2 layouts, emulated on this host in
# a private mount namespace: without the unified mount, /sys/fs/cgroup holds
# only v1 hierarchies (pure v1: devices controller, v1 freezer, cpuacct);
# with the unified hierarchy bound over /sys/fs/cgroup, it is a pure cgroup2
# host (eBPF device program, cgroup.freeze, cgroup.kill, cpu.stat) whose
# cgroup2 has no cpu/memory/pids controllers (they are bound to v1 here), so
# memory and pids limits and memory stats are not covered on v2.

# in_layout v1|v2 CMD...: runs CMD (and the supervisors it starts) with that layout.
in_layout() {
	local layout=$1
	shift
	[ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/freezer ] ||
		skip "emulating layouts needs a hybrid host (v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified)"
	if [ "$layout" = v1 ]; then
		unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec "$@"' sh "$@"
	else
		unshare -m --propagation private sh -c \
			'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"' sh "$@"
	fi
}

layout_pod() {
	sh_pod layout Always "mknod /dev/disk b $1 $2 && echo mknod ok
if dd if=/dev/disk of=/dev/null count=0 2>/dev/null; then echo disk opened; else echo disk denied; fi
echo x >/dev/null && echo null ok
(sh -c 'trap \"\" TERM; exec sleep 7772 </dev/null >/dev/null 2>&1' &)
trap 'exit 0' TERM; i=0; while true; do i=\$\$((i+1)); echo tick \$\$i; sleep 0.1; done" \
		'  shareProcessNamespace: true'
}

# pod_cgroup_file HIERARCHY FILE: the pod's FILE in the host's HIERARCHY.
pod_cgroup_file() {
	find "/sys/fs/cgroup/$1/$PEAPOD_CGROUP_PARENT" -path "*/pod-$(pod_uid layout)/$2" | head -n1
}

check_layout_ops() {
	skip_unless_private_mounts
	local layout=$1 disk daemon f
	disk=$(host_block_device) || skip "the host cannot open any of its block devices"
	layout_pod "${disk%%:*}" "${disk##*:}" >"$TEST_DIR/pod.yaml"
	POD_FILE=$(write_manifest <"$TEST_DIR/pod.yaml")
	run in_layout "$layout" "$PEAPOD" apply -f "$POD_FILE"
	assert_status 0
	eventually 10 logs_have layout "tick 2"
	run pp logs layout
	assert_line "mknod ok"
	assert_line "disk denied"
	assert_line "null ok"

	# pause goes through the supervisor, which runs with the emulated layout.
	pp pause layout
	if [ "$layout" = v1 ]; then
		f=$(pod_cgroup_file freezer freezer.state)
		[ "$(cat "$f")" = FROZEN ] || fail "v1 freezer.state is $(cat "$f")"
	else
		f=$(pod_cgroup_file unified cgroup.events)
		grep -qx 'frozen 1' "$f" || fail "cgroup.events: $(cat "$f")"
	fi
	status_is layout Paused || fail "get does not show Paused"
	pp unpause layout
	eventually 10 status_is layout Running

	run in_layout "$layout" "$PEAPOD" stats layout -i 0.3
	assert_status 0
	assert_line_re 'layout +c +[0-9.]+% +.* +[0-9]+'

	daemon=$(suite_pids_of 'sleep 7772')
	[ -n "$daemon" ] || fail "no daemon found"
	delete_ok layout
	none_alive $daemon || fail "the daemon $daemon is still alive after delete"
	assert_no_leaks
}

@test "pure v1 layout (emulated): devices controller, v1 freezer, cpuacct stats, kill through the freezer" {
	check_layout_ops v1
}

@test "pure v2 layout (emulated): eBPF device program, cgroup.freeze, cpu.stat, cgroup.kill" {
	check_layout_ops v2
}

@test "pure v1 without a devices hierarchy: the pod runs and a warning says devices are not restricted" {
	[ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/devices ] ||
		skip "emulating it needs a hybrid host with a v1 devices hierarchy"
	skip_unless_private_mounts
	POD_FILE=$(sh_pod nodevcg Never 'echo ran' | write_manifest)
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" unshare -m --propagation private sh -c \
		'umount -l /sys/fs/cgroup/unified && umount -l /sys/fs/cgroup/devices && exec "$@"' \
		sh "$PEAPOD" run -f "$POD_FILE"
	assert_status 0
	assert_stdout "[c] ran"
	assert_stderr_contains "device access is not restricted"
	assert_no_leaks
}

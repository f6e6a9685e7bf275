#!/usr/bin/env bats
# Exhausted resources (issue #21): a full disk under the logs and under the
# store (small tmpfs mounts of the test's own), too few file descriptors, a
# container eating its memory limit beside the supervisor.
# Each ends with a clear error or event, no corrupted record or image, and
# recovery once the resource returns.

load helpers
load pods_helpers

# small_fs SIZE: prints the path of a new tmpfs of that size (unmounted and
# removed by teardown; outside SUITE_TMP, where the leak checks look for
# mounts that pods left).
small_fs() {
	local d
	d=$(mktemp -d /tmp/peapod-exhaust.XXXXXX)
	mount -t tmpfs -o size="$1",mode=0755 tmpfs "$d"
	echo "$d"
}

teardown() {
	local m
	"$PEAPOD" delete --all --force >/dev/null 2>&1 || true
	for m in $(awk '$5 ~ "^/tmp/peapod-exhaust\\." {print $5}' /proc/self/mountinfo); do
		umount -l "$m" 2>/dev/null || true
		rmdir "$m" 2>/dev/null || true
	done
	cleanup_leftovers
	rm -rf "$TEST_DIR"
}

# fill DIR: a file taking all but about KB kilobytes of DIR's filesystem.
fill() {
	local free
	free=$(df -k --output=avail "$1" | tail -1)
	[ "$free" -gt "$2" ] || return 0
	dd if=/dev/zero of="$1/filler" bs=1k count=$((free - $2)) status=none 2>/dev/null || true
}

# whole_records DIR: every line of every log file under DIR is a whole CRI
# record (time, stream, tag, text).
whole_records() {
	local f
	for f in $(find "$1" -name '*.log*' -type f); do
		if grep -vqE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) (stdout|stderr) [FP] ' "$f"; then
			echo "not a whole record in $f:"
			grep -vnE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) (stdout|stderr) [FP] ' "$f" | head -3
			return 1
		fi
	done
}

@test "logs on a full disk: the container runs on, its output is dropped with an event, the files keep whole records, and logging resumes when room returns" {
	PEAPOD_LOG_DIR=$(small_fs 1m)
	export PEAPOD_LOG_DIR
	fill "$PEAPOD_LOG_DIR" 48
	# long lines: a full disk cuts some in the middle of a write
	local f
	f=$(sh_pod chatty Always \
		'i=0; pad=$$(printf "%0300d" 0); while true; do i=$$((i+1)); echo "line $$i $$pad"; usleep 2000; done' |
		write_manifest)
	"$PEAPOD" apply -f "$f" >/dev/null
	eventually 20 has_event chatty "LogWriteFailed" ||
		fail "no LogWriteFailed event: $(pod_events chatty)"
	has_event chatty "c LogWriteFailed: Container c's log could not be written (No space left on device)" ||
		fail "the event does not say why: $(pod_events chatty)"
	# the container was never held back by its log
	run_peapod exec chatty -- echo alive
	assert_status 0
	assert_stdout alive
	[ "$(inspect_get chatty "d['status']['containerStatuses'][0]['restartCount']")" = 0 ] ||
		fail "the container restarted"
	# room again: the log is written again, the event says how much was lost
	rm -f "$PEAPOD_LOG_DIR/filler"
	eventually 20 has_event chatty "LogWriteResumed" ||
		fail "no LogWriteResumed event: $(pod_events chatty)"
	has_event chatty "records were dropped" || fail "$(pod_events chatty)"
	run_peapod logs chatty --tail 1
	assert_status 0
	assert_stdout_contains "line "
	# the record the full disk cut short was finished when room came back
	whole_records "$PEAPOD_LOG_DIR/pods"
	"$PEAPOD" delete chatty >/dev/null
	assert_no_leaks
}

@test "a log record cut short by a full disk is taken off the file when the container ends" {
	PEAPOD_LOG_DIR=$(small_fs 256k)
	export PEAPOD_LOG_DIR
	fill "$PEAPOD_LOG_DIR" 64
	# one burst far larger than the room left, then exit
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: burst
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: "@IMAGE@"
      command: ["sh", "-c", "i=0; pad=$$(printf '%0500d' 0); while [ $$i -lt 2000 ]; do i=$$((i+1)); echo \"line $$i $$pad\"; done"]
EOF
)
	"$PEAPOD" apply -f "$f" >/dev/null
	"$PEAPOD" wait burst --for=jsonpath='{.status.phase}'=Succeeded --timeout=30s >/dev/null
	has_event burst "c LogWriteFailed" || fail "no event: $(pod_events burst)"
	rm -f "$PEAPOD_LOG_DIR/filler"
	whole_records "$PEAPOD_LOG_DIR/pods"
	run_peapod logs burst
	assert_status 0
	assert_line_re '^line 1 0+$'
	"$PEAPOD" delete burst >/dev/null 2>&1 || true
	assert_no_leaks
}

@test "a full disk under the store: an import that does not fit fails and leaves the store as it was; a pod that cannot get its layer fails cleanly; both work once there is room" {
	PEAPOD_ROOT=$(small_fs 24m)
	export PEAPOD_ROOT
	make_rootfs "$TEST_DIR/rootfs"
	"$PEAPOD" image import "$TEST_DIR/rootfs" "$IMAGE" >/dev/null
	local before
	before=$(cd "$PEAPOD_ROOT" && find layers images -mindepth 1 ! -name '*.lock' | sort)
	mkdir -p "$TEST_DIR/big"
	cp -r "$TEST_DIR/rootfs/." "$TEST_DIR/big/"
	dd if=/dev/urandom of="$TEST_DIR/big/blob" bs=1M count=40 status=none
	run_peapod image import "$TEST_DIR/big" big:1
	assert_status 1
	assert_stderr_contains "No space left on device"
	[ "$(cd "$PEAPOD_ROOT" && find layers images -mindepth 1 ! -name '*.lock' | sort)" = "$before" ] ||
		fail "the failed import left: $(cd "$PEAPOD_ROOT" && find layers images -mindepth 1 -maxdepth 3)"
	run_peapod image ls
	refute_stdout_contains "big"
	# the store full: a pod's writable layer cannot be made
	fill "$PEAPOD_ROOT" 0
	run_pod <<<"$(sh_pod full Never 'echo ran')"
	assert_status 1
	assert_stderr_contains "No space left on device"
	[ -z "$(pod_dirs)" ] || fail "the failed pod left: $(pod_dirs)"
	assert_no_leaks
	# room again
	rm -f "$PEAPOD_ROOT/filler"
	run_pod <<<"$(sh_pod full Never 'echo ran')"
	assert_status 0
	assert_line "[c] ran"
	run_peapod image inspect "$IMAGE"
	assert_status 0
	assert_no_leaks
}

@test "too few file descriptors: apply says so and leaves nothing; the next apply works" {
	local f
	f=$(sh_pod fds Never 'echo ran' | write_manifest)
	run --separate-stderr bash -c "ulimit -n 9; exec '$PEAPOD' apply -f '$f'"
	if [ "$status" = 0 ]; then
		# it fitted: then it must have run as any pod
		"$PEAPOD" wait fds --for=jsonpath='{.status.phase}'=Succeeded --timeout=30s >/dev/null
	else
		[ "$status" = 1 ] || fail "exit $status: $stderr"
		[[ $stderr == *"Too many open files"* ]] || fail "no clear reason: $stderr"
		[ -z "$(pod_dirs)" ] || fail "the failed apply left: $(pod_dirs)"
	fi
	"$PEAPOD" delete fds >/dev/null 2>&1 || true
	assert_no_leaks
	run_pod_file "$f"
	assert_status 0
	assert_line "[c] ran"
	assert_no_leaks
}

# ---- memory pressure on the supervisor ----

mem_pod() {
	write_manifest <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: mem
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
    - name: hog
      image: "@IMAGE@"
      command: ["memhog", "256"]
      resources:
        limits: {cpu: 100m, memory: 32Mi}
    - name: sib
      image: "@IMAGE@"
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      resources:
        limits: {cpu: 100m, memory: 16Mi}
EOF2
}

hog_oomkilled() {
	[ "$(hog_state "['reason']")" = OOMKilled ]
}

hog_state() {
	inspect_get mem "[c for c in d['status']['containerStatuses'] if c['name'] == 'hog'][0]['state']['terminated']$1"
}

# The supervisor is forked by the command that applies the pod and stays in
# that command's cgroups: none of the pod's memory is charged to it, and an
# OOM kill in the pod's (or a container's) memory cgroup cannot reach it. A
# host-wide OOM weighs oom_score_adj: the supervisor lowers its own to
# kubelet's -999; where the host refuses (no CAP_SYS_RESOURCE) each
# container whose value would be below it gets one above it instead.
@test "memory pressure: a Guaranteed pod's container eats its limit: OOMKilled, reason OOMKilled; the supervisor, outside the pod's cgroups and below its containers' oom_score_adj, lives and reports it" {
	local f sup infra path own sup_adj sib_adj eff
	f=$(mem_pod)
	"$PEAPOD" apply -f "$f" >/dev/null
	sup=$(sup_pid mem)
	eventually 30 hog_oomkilled || fail "hog never OOMKilled: $(pp describe pod mem)"
	[ "$(hog_state "['exitCode']")" = 137 ] || fail "exit code $(hog_state "['exitCode']")"
	# the supervisor lived through it, and told
	kill -0 "$sup" || fail "the supervisor died"
	[ "$(sup_pid mem)" = "$sup" ] || fail "another supervisor"
	run_peapod describe pod mem
	assert_stdout_contains "OOMKilled"
	[ "$(inspect_get mem 'd["status"]["qosClass"]')" = Guaranteed ] || fail "not Guaranteed"
	# not in the pod's memory cgroup, nor under it
	path=$(inspect_get mem 'd["peapod"]["cgroup"]["path"]')
	if grep -Eq "^[0-9]+:(.*,)?memory(,.*)?:$path(/|\$)|^0::$path(/|\$)" "/proc/$sup/cgroup"; then
		fail "the supervisor is in the pod's cgroup: $(cat "/proc/$sup/cgroup")"
	fi
	# the order of a host-wide OOM kill: the supervisor last
	sup_adj=$(cat "/proc/$sup/oom_score_adj")
	sib_adj=$(cat "/proc/$(state_status mem | json_get "[c['pid'] for c in d['status']['containerStatuses'] if c['name'] == 'sib'][0]")/oom_score_adj")
	eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	own=$(cat /proc/self/oom_score_adj)
	if (((0x$eff >> 24) & 1)); then
		[ "$sup_adj" = -999 ] || fail "supervisor oom_score_adj $sup_adj, want -999"
		[ "$sib_adj" = -997 ] || fail "container oom_score_adj $sib_adj, want -997"
	else
		[ "$sup_adj" = "$own" ] || fail "supervisor oom_score_adj $sup_adj, want its caller's $own"
		[ "$sib_adj" -gt "$sup_adj" ] || fail "container oom_score_adj $sib_adj not above the supervisor's $sup_adj"
	fi
	# the sibling and the infra process live on
	inspect_get mem "[c for c in d['status']['containerStatuses'] if c['name'] == 'sib'][0]['state']['running']" >/dev/null ||
		fail "the sibling died"
	"$PEAPOD" delete mem >/dev/null
	assert_no_leaks
}

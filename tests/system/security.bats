#!/usr/bin/env bats
# The adversarial suite: every test is a real pod that tries something a
# confined container must not be able to do (or reads back what it was
# given), and checks that it was refused or contained and that nothing on
# the host changed. sectool (tests/helpers/sectool.c) prints the kernel's
# answer to one attempt: "ok" or the errno name.

load helpers

# The 14 capabilities containerd grants by default.
DEFAULT_CAPS=00000000a80425fb

# sec_pod CSEC SCRIPT [PODSPEC]: runs a pod of one container "c" with the
# securityContext CSEC (a YAML flow mapping) running sh -c SCRIPT; PODSPEC
# is extra pod spec text (indented two spaces).
sec_pod() {
	run_pod <<<"$(sh_pod sec Never "$2" "${3:-}" "      securityContext: $1")"
}

# try_refused NAME ERRNO [CSEC]: sectool try NAME in a pod answers ERRNO.
try_refused() {
	sec_pod "${3:-{\}}" "sectool try $1"
	assert_status 0
	assert_line "[c] $2"
	assert_no_leaks
}

# status_field NAME: the value of NAME in the container's /proc/self/status
# lines that sec_pod's output holds.
status_field() {
	sed -n "s/^\[c\] $1:[[:space:]]*//p" <<<"$output"
}

# assert_fields VALUE NAME...: each NAME has VALUE in those lines.
assert_fields() {
	local value=$1 name
	shift
	for name in "$@"; do
		[ "$(status_field "$name")" = "$value" ] || fail "$name is not $value"
	done
}

host_caps_bounding() {
	sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status
}

# assert_refused TEXT [WHAT]: the last run failed (else fails with WHAT,
# "accepted" by default) and its stderr holds TEXT.
assert_refused() {
	[ "$status" -ne 0 ] || fail "${2:-accepted}"
	assert_stderr_contains "$1"
}

# one_pod IMAGE COMMAND [CONTAINER_LINES] [POD_LINES]: runs a restartPolicy
# Never pod "sec" of one container "c" of IMAGE running COMMAND (a YAML flow
# sequence); CONTAINER_LINES are more lines of the container (indented six:
# securityContext, volumeMounts, workingDir ...), POD_LINES more pod spec
# lines (indented two: securityContext, volumes ...).
one_pod() {
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
${4:-}
  containers:
    - name: c
      image: $1
${3:-}
      command: $2
EOF
}

STATUS='grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status'

# ---------------------------------------------------------------------------
# Capabilities, no_new_privs and seccomp, read back

@test "default: containerd's 14 capabilities, bounding = granted, inheritable and ambient empty" {
	sec_pod '{}' "$STATUS"
	assert_status 0
	assert_fields 0000000000000000 CapInh CapAmb
	assert_fields "$DEFAULT_CAPS" CapPrm CapEff CapBnd
	assert_no_leaks
}

@test "default: no_new_privs off, the seccomp filter on" {
	sec_pod '{}' "$STATUS"
	assert_fields 0 NoNewPrivs
	assert_fields 2 Seccomp
	assert_no_leaks
}

@test "a non-root user keeps the bounding set and nothing else" {
	sec_pod '{runAsUser: 1000}' "$STATUS; id -u"
	assert_line "[c] 1000"
	assert_fields 0000000000000000 CapPrm CapEff CapAmb
	assert_fields "$DEFAULT_CAPS" CapBnd
	assert_no_leaks
}

@test "allowPrivilegeEscalation: false sets no_new_privs" {
	sec_pod '{allowPrivilegeEscalation: false}' "$STATUS"
	assert_fields 1 NoNewPrivs
	assert_fields 2 Seccomp
	assert_no_leaks
}

@test "capabilities drop ALL: every set empty, the bounding set too" {
	sec_pod '{capabilities: {drop: [ALL]}}' "$STATUS; chown 1000 /tmp && echo chowned"
	assert_fields 0000000000000000 CapInh CapPrm CapEff CapBnd CapAmb
	refute_line "[c] chowned"
	assert_no_leaks
}

@test "capabilities add NET_ADMIN, drop CHOWN and KILL: exactly that" {
	# default - CHOWN(0) - KILL(5) + NET_ADMIN(12)
	sec_pod '{capabilities: {add: [NET_ADMIN], drop: [CHOWN, CAP_KILL]}}' "$STATUS"
	assert_fields 00000000a80435da CapEff CapBnd
	assert_no_leaks
}

@test "capabilities add ALL: every capability this host's root has, and the filter allows their syscalls" {
	sec_pod '{capabilities: {add: [ALL]}}' "$STATUS; sectool try unshare_mount"
	assert_fields "$(host_caps_bounding)" CapEff
	assert_fields 2 Seccomp
	assert_line "[c] ok"
	assert_no_leaks
}

@test "privileged: all capabilities, no seccomp, /sys writable, nothing masked" {
	sec_pod '{privileged: true}' "$STATUS; grep ' /sys ' /proc/mounts; wc -c </proc/timer_list"
	assert_fields "$(host_caps_bounding)" CapEff
	assert_fields 0 Seccomp
	assert_line_re '\[c\] sysfs /sys sysfs rw,.*'
	refute_line "[c] 0"
	assert_no_leaks
}

@test "seccompProfile Unconfined: no filter, capabilities unchanged" {
	sec_pod '{seccompProfile: {type: Unconfined}}' "$STATUS"
	assert_fields 0 Seccomp
	assert_fields "$DEFAULT_CAPS" CapEff
	assert_no_leaks
}

@test "the pod-level seccompProfile applies unless the container sets its own" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  securityContext: {seccompProfile: {type: Unconfined}}
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "grep ^Seccomp: /proc/self/status"]
    - name: b
      image: @IMAGE@
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      command: ["sh", "-c", "grep ^Seccomp: /proc/self/status"]
EOF
	assert_status 0
	assert_line_re '\[a\] Seccomp:\s+0'
	assert_line_re '\[b\] Seccomp:\s+2'
	assert_no_leaks
}

@test "peapod exec gets the container's capabilities, no_new_privs and seccomp filter, and no fd of ours" {
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: secx}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL], add: [KILL]}}
      command: ["sleep", "3600"]
EOF
)
	run_peapod apply -f "$f"
	assert_status 0
	run_peapod exec secx -- sh -c "$STATUS; sectool try keyctl; sectool fds; echo end"
	local exec_status=$status exec_output=$output
	run_peapod delete pod secx
	assert_status 0
	status=$exec_status output=$exec_output
	assert_status 0
	assert_line_re 'CapEff:\s+0000000000000020'
	assert_line_re 'CapBnd:\s+0000000000000020'
	assert_line_re 'CapInh:\s+0000000000000000'
	assert_line_re 'NoNewPrivs:\s+1'
	assert_line_re 'Seccomp:\s+2'
	assert_line EPERM
	# sectool fds prints nothing: only 0, 1 and 2 are open.
	[ "$(sed -n '/^EPERM$/,/^end$/p' <<<"$output" | wc -l)" -eq 2 ] || fail "fds leaked into exec"
	assert_no_leaks
}

@test "the container's process has no fd but 0, 1 and 2" {
	sec_pod '{}' 'sectool fds; echo end'
	assert_status 0
	assert_stdout "[c] end"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# System calls the default profile refuses

@test "seccomp: keyctl is refused (EPERM)" {
	try_refused keyctl EPERM
}

@test "seccomp: add_key is refused (EPERM)" {
	try_refused add_key EPERM
}

@test "seccomp: bpf is refused (EPERM)" {
	try_refused bpf EPERM
}

@test "seccomp: perf_event_open is refused (EPERM)" {
	try_refused perf_event_open EPERM
}

@test "seccomp: kexec_load is refused (EPERM)" {
	try_refused kexec_load EPERM
}

@test "seccomp: init_module, finit_module and delete_module are refused (EPERM)" {
	sec_pod '{}' 'sectool try init_module; sectool try finit_module; sectool try delete_module'
	assert_status 0
	assert_stdout "[c] EPERM"$'\n'"[c] EPERM"$'\n'"[c] EPERM"
	assert_no_leaks
}

@test "seccomp: a user namespace cannot be created (unshare, clone)" {
	sec_pod '{}' 'sectool try unshare_user; sectool try clone_newuser; unshare -U true 2>/dev/null || echo refused'
	assert_status 0
	assert_stdout "[c] EPERM"$'\n'"[c] EPERM"$'\n'"[c] refused"
	assert_no_leaks
}

@test "seccomp: clone3 answers ENOSYS, so that libc falls back to clone" {
	try_refused clone3 ENOSYS
}

@test "seccomp: personality READ_IMPLIES_EXEC is refused, the query is allowed" {
	sec_pod '{}' 'sectool try personality_rie; sectool try personality_query'
	assert_stdout "[c] EPERM"$'\n'"[c] ok"
	assert_no_leaks
}

@test "seccomp: AF_VSOCK sockets are refused, AF_INET allowed" {
	sec_pod '{}' 'sectool try socket_vsock; sectool try socket_inet'
	assert_stdout "[c] EPERM"$'\n'"[c] ok"
	assert_no_leaks
}

@test "seccomp: a syscall newer than the profile answers ENOSYS, an old one not in it EPERM" {
	# 1000: no syscall yet; 156 (_sysctl): older than the profile's newest, not in it.
	sec_pod '{}' 'sectool try nr:1000; sectool try nr:156'
	assert_stdout "[c] ENOSYS"$'\n'"[c] EPERM"
	assert_no_leaks
}

@test "seccomp: swapon, reboot, acct, settimeofday, iopl are refused" {
	sec_pod '{}' 'for t in swapon reboot acct settimeofday iopl; do sectool try $t; done'
	assert_stdout "[c] EPERM"$'\n'"[c] EPERM"$'\n'"[c] EPERM"$'\n'"[c] EPERM"$'\n'"[c] EPERM"
	assert_no_leaks
}

@test "seccomp: setns and userfaultfd are refused" {
	sec_pod '{}' 'sectool try setns; sectool try userfaultfd'
	assert_stdout "[c] EPERM"$'\n'"[c] EPERM"
	assert_no_leaks
}

@test "seccomp: a Localhost profile from PEAPOD_SECCOMP_DIR is applied" {
	mkdir -p "$TEST_DIR/seccomp/profiles"
	cat >"$TEST_DIR/seccomp/profiles/no-mkdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
EOF
	PEAPOD_SECCOMP_DIR=$TEST_DIR/seccomp sec_pod \
		'{seccompProfile: {type: Localhost, localhostProfile: profiles/no-mkdir.json}}' \
		'mkdir /tmp/d 2>/dev/null || echo refused; sectool try keyctl'
	assert_status 0
	assert_stdout "[c] refused"$'\n'"[c] ok"
	assert_no_leaks
}

@test "seccomp: a missing or invalid Localhost profile refuses the pod, nothing is created" {
	mkdir -p "$TEST_DIR/seccomp"
	echo '{"defaultAction": "SCMP_ACT_FOO"}' >"$TEST_DIR/seccomp/bad.json"
	local before
	before=$(pod_dirs)
	PEAPOD_SECCOMP_DIR=$TEST_DIR/seccomp sec_pod \
		'{seccompProfile: {type: Localhost, localhostProfile: missing.json}}' 'true'
	assert_refused "missing.json" "a missing profile was accepted"
	PEAPOD_SECCOMP_DIR=$TEST_DIR/seccomp sec_pod \
		'{seccompProfile: {type: Localhost, localhostProfile: bad.json}}' 'true'
	assert_refused "unknown action SCMP_ACT_FOO" "a bad profile was accepted"
	[ "$(pod_dirs)" = "$before" ] || fail "a refused pod left directories"
	assert_no_leaks
}

@test "seccomp: a localhostProfile that leaves the directory is refused at parse time" {
	sec_pod '{seccompProfile: {type: Localhost, localhostProfile: ../../etc/profile.json}}' 'true'
	assert_status 2
	assert_stderr_contains "securityContext.seccompProfile.localhostProfile: must be a relative path without '..'"
}

# ---------------------------------------------------------------------------
# Mounts, /proc and /sys

@test "mount is refused and nothing is mounted" {
	sec_pod '{}' 'sectool try mount; mount -t tmpfs none /mnt 2>/dev/null || echo refused; grep -c " /mnt " /proc/mounts'
	assert_line "[c] EPERM"
	assert_line "[c] refused"
	assert_line "[c] 0"
	assert_no_leaks
}

@test "umount of /proc is refused" {
	try_refused umount_proc EPERM
}

@test "sethostname is refused; the host's hostname is unchanged" {
	local before
	before=$(hostname)
	sec_pod '{}' 'hostname evil 2>/dev/null || echo refused; hostname'
	assert_line "[c] refused"
	assert_line "[c] sec"
	[ "$(hostname)" = "$before" ] || fail "the host's hostname changed"
	assert_no_leaks
}

@test "/proc/sys is read-only: writing kernel.hostname fails, the host is unchanged" {
	local before
	before=$(cat /proc/sys/kernel/hostname)
	sec_pod '{}' 'echo evil >/proc/sys/kernel/hostname 2>/dev/null || echo refused; grep " /proc/sys " /proc/mounts'
	assert_line "[c] refused"
	assert_line_re '\[c\] proc /proc/sys proc ro,.*'
	[ "$(cat /proc/sys/kernel/hostname)" = "$before" ] || fail "the hostname changed"
	assert_no_leaks
}

@test "/proc/sysrq-trigger cannot be written" {
	[ -e /proc/sysrq-trigger ] || skip "this kernel has no /proc/sysrq-trigger"
	sec_pod '{}' 'echo h >/proc/sysrq-trigger || echo refused'
	assert_line "[c] refused"
	assert_no_leaks
}

@test "/proc/kcore is masked" {
	[ -e /proc/kcore ] || skip "this kernel has no /proc/kcore"
	sec_pod '{}' 'wc -c </proc/kcore'
	assert_line "[c] 0"
	assert_no_leaks
}

@test "/proc/keys and /proc/timer_list are masked by /dev/null" {
	[ -e /proc/timer_list ] || skip "this kernel has no /proc/timer_list"
	sec_pod '{}' 'wc -c </proc/timer_list; wc -c </proc/keys; echo x >/proc/timer_list && echo written'
	assert_stdout "[c] 0"$'\n'"[c] 0"$'\n'"[c] written"
	# Written to /dev/null: the host's file still has its content.
	[ "$(wc -c </proc/timer_list)" -gt 0 ] || fail "the host's timer_list is empty"
	assert_no_leaks
}

@test "/proc/acpi and /sys/firmware are empty and read-only" {
	[ -d /sys/firmware ] && [ -d /proc/acpi ] || skip "this host has no /sys/firmware or /proc/acpi"
	sec_pod '{}' 'ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l; touch /sys/firmware/x 2>/dev/null || echo refused'
	assert_stdout "[c] 0"$'\n'"[c] 0"$'\n'"[c] refused"
	assert_no_leaks
}

@test "procMount: Unmasked leaves /proc as it is" {
	[ -e /proc/timer_list ] || skip "this kernel has no /proc/timer_list"
	sec_pod '{procMount: Unmasked}' 'wc -c </proc/timer_list'
	assert_status 0
	refute_line "[c] 0"
	assert_no_leaks
}

@test "/sys is read-only" {
	sec_pod '{}' 'grep " /sys " /proc/mounts; echo 1 >/sys/kernel/uevent_helper 2>/dev/null || echo refused'
	assert_line_re '\[c\] sysfs /sys sysfs ro,.*'
	assert_line "[c] refused"
	assert_no_leaks
}

@test "readOnlyRootFilesystem: the root is read-only, volumes stay writable" {
	one_pod @IMAGE@ '["sh", "-c", "touch /x 2>/dev/null || echo refused; touch /data/x && echo volume-ok"]' \
		'      securityContext: {readOnlyRootFilesystem: true}
      volumeMounts: [{name: v, mountPath: /data}]' \
		'  volumes: [{name: v, emptyDir: {}}]'
	assert_status 0
	assert_line "[c] refused"
	assert_line "[c] volume-ok"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Users

@test "runAsNonRoot with the image's root user is refused, naming the container; nothing is created" {
	local before
	before=$(pod_dirs)
	sec_pod '{runAsNonRoot: true}' 'true'
	assert_refused 'container has runAsNonRoot and image will run as root (pod: "sec", container: c)'
	[ "$(pod_dirs)" = "$before" ] || fail "a refused pod left directories"
	assert_no_leaks
}

@test "runAsNonRoot with runAsUser 0 is refused; with runAsUser 1000 it runs" {
	sec_pod '{runAsNonRoot: true, runAsUser: 0}' 'true'
	assert_refused "container's runAsUser breaks non-root policy"
	sec_pod '{runAsNonRoot: true, runAsUser: 1000}' 'id -u'
	assert_status 0
	assert_line "[c] 1000"
	assert_no_leaks
}

@test "pod-level runAsUser, runAsGroup, supplementalGroups and fsGroup; emptyDirs belong to fsGroup, setgid" {
	one_pod @IMAGE@ "[\"sh\", \"-c\", \"id -u; id -g; id -G | tr ' ' '\\\\n' | sort | tr '\\\\n' ' '; echo; stat -c '%g %A' /data /mem; touch /data/f; stat -c '%u %g' /data/f\"]" \
		'      volumeMounts: [{name: v, mountPath: /data}, {name: m, mountPath: /mem}]' \
		'  securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000}
  volumes: [{name: v, emptyDir: {}}, {name: m, emptyDir: {medium: Memory}}]'
	assert_status 0
	assert_line "[c] 1000"
	assert_line "[c] 3000"
	assert_line "[c] 2000 3000 4000 "
	assert_line "[c] 1000 2000"
	[ "$(grep -c '2000 drwxrwsrwx' <<<"$output")" -eq 2 ] || fail "both emptyDirs belong to fsGroup, setgid"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Parse-time refusals

@test "allowPrivilegeEscalation: false with privileged or an added SYS_ADMIN is refused at parse time" {
	sec_pod '{privileged: true, allowPrivilegeEscalation: false}' 'true'
	assert_status 2
	assert_stderr_contains ".yaml:12:"
	assert_stderr_contains "securityContext.allowPrivilegeEscalation: cannot set allowPrivilegeEscalation to false and privileged to true"
	sec_pod '{capabilities: {add: [sys_admin]}, allowPrivilegeEscalation: false}' 'true'
	assert_status 2
	assert_stderr_contains "cannot set allowPrivilegeEscalation to false and capabilities.add CAP_SYS_ADMIN"
}

@test "an unknown capability name is refused at parse time with its place" {
	sec_pod '{capabilities: {drop: [CHOWN, NO_SUCH_CAP]}}' 'true'
	assert_status 2
	assert_stderr_contains 'securityContext.capabilities.drop[1]: unknown capability "NO_SUCH_CAP"'
	assert_stderr_contains ".yaml:12:"
}

# ---------------------------------------------------------------------------
# Paths from images and manifests stay inside the container

# A busybox image whose /data is a symlink to a directory of the host, and
# whose /etc/hosts is an absolute symlink to a host file.
symlink_image() {
	make_rootfs "$TEST_DIR/rootfs"
	mkdir -p "$TEST_DIR/host-dir"
	echo "host content" >"$TEST_DIR/host-dir/keep"
	ln -s "$TEST_DIR/host-dir" "$TEST_DIR/rootfs/data"
	ln -s "../../../../../../$TEST_DIR/host-dir" "$TEST_DIR/rootfs/rel"
	rm -f "$TEST_DIR/rootfs/etc/hosts"
	ln -s "$TEST_DIR/host-hosts" "$TEST_DIR/rootfs/etc/hosts"
	cp "$HELPERS/sectool" "$TEST_DIR/rootfs/bin/sectool"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/symlinks:1
	assert_status 0
}

@test "a mount target that is a symlink in the image (absolute or climbing ..) lands inside the container" {
	symlink_image
	local before
	before=$(tree_sum "$TEST_DIR/host-dir")
	one_pod peapod-test/symlinks:1 '["sh", "-c", "touch /data/planted /rel/planted2 && echo written; ls /data /rel"]' \
		'      volumeMounts: [{name: v, mountPath: /data}, {name: w, mountPath: /rel}]' \
		'  volumes: [{name: v, emptyDir: {}}, {name: w, emptyDir: {}}]'
	assert_status 0
	assert_line "[c] written"
	[ "$(tree_sum "$TEST_DIR/host-dir")" = "$before" ] || fail "the host directory changed"
	[ ! -e "$TEST_DIR/host-dir/planted" ] || fail "the mount went to the host"
	! grep -qF "$TEST_DIR/host-dir" /proc/self/mountinfo || fail "a mount on the host directory"
	run_peapod image rm peapod-test/symlinks:1
	assert_no_leaks
}

@test "/etc/hosts planted as a symlink to a host file: the host file is neither created nor written" {
	symlink_image
	one_pod peapod-test/symlinks:1 '["sh", "-c", "grep -c localhost /etc/hosts"]'
	assert_status 0
	[ ! -e "$TEST_DIR/host-hosts" ] || fail "the host file was created: $(cat "$TEST_DIR/host-hosts")"
	run_peapod image rm peapod-test/symlinks:1
	assert_no_leaks
}

@test "a subPath that a container made a symlink out of its volume is refused; the host is unchanged" {
	mkdir -p "$TEST_DIR/host-dir"
	echo secret >"$TEST_DIR/host-dir/file"
	local before
	before=$(tree_sum "$TEST_DIR/host-dir")
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  volumes: [{name: v, emptyDir: {}}]
  initContainers:
    - name: plant
      image: @IMAGE@
      volumeMounts: [{name: v, mountPath: /v}]
      command: ["sh", "-c", "ln -s $TEST_DIR/host-dir /v/abs; ln -s ../../../../../../../$TEST_DIR/host-dir /v/rel"]
  containers:
    - name: abs
      image: @IMAGE@
      volumeMounts: [{name: v, mountPath: /x, subPath: abs}]
      command: ["sh", "-c", "echo evil >/x/file; ls /x"]
    - name: rel
      image: @IMAGE@
      volumeMounts: [{name: v, mountPath: /x, subPath: rel}]
      command: ["sh", "-c", "echo evil >/x/file; ls /x"]
EOF
	assert_refused "leaves its root" "the pod succeeded"
	refute_stdout_contains "file"
	[ "$(tree_sum "$TEST_DIR/host-dir")" = "$before" ] || fail "the host directory changed"
	assert_no_leaks
}

@test "workingDir through a /proc/self/fd magic link (CVE-2024-21626) is refused" {
	local n
	for n in 3 4 5 6 7 8; do
		one_pod @IMAGE@ '["sh", "-c", "pwd; ls ..; echo escaped"]' "      workingDir: /proc/self/fd/$n"
		refute_line "[c] escaped"
		assert_stderr_contains "working directory /proc/self/fd/$n"
	done
	assert_no_leaks
}

@test "a command through /proc/self/fd finds no fd of peapod's open" {
	local n
	for n in 3 4 5 6 7; do
		one_pod @IMAGE@ "[\"/proc/self/fd/$n\"]"
		assert_refused "/proc/self/fd/$n" "fd $n ran"
	done
	assert_no_leaks
}

@test "a setuid-root binary does not raise a user under no_new_privs (allowPrivilegeEscalation: false)" {
	make_rootfs "$TEST_DIR/rootfs"
	cp "$HELPERS/sectool" "$TEST_DIR/rootfs/bin/suid-sectool"
	chown 0:0 "$TEST_DIR/rootfs/bin/suid-sectool"
	chmod 4755 "$TEST_DIR/rootfs/bin/suid-sectool"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/suid:1
	assert_status 0
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1000}
  containers:
    - name: escalates
      image: peapod-test/suid:1
      command: ["suid-sectool", "id"]
    - name: nnp
      image: peapod-test/suid:1
      securityContext: {allowPrivilegeEscalation: false}
      command: ["suid-sectool", "id"]
EOF
	assert_status 0
	# Without no_new_privs the setuid bit works (the control), with it not.
	assert_line "[escalates] 1000 0 0"
	assert_line "[nnp] 1000 1000 1000"
	run_peapod image rm peapod-test/suid:1
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# The infra process and peapod's own binary

@test "the infra process (PID 1 with shareProcessNamespace) cannot be ptraced, nor its exe or root opened" {
	sec_pod '{}' 'sectool try ptrace_attach:1; sectool try open_exe_read:1; ls /proc/1/root/ 2>/dev/null || echo no-root' \
		'  shareProcessNamespace: true'
	assert_status 0
	assert_stdout "[c] EPERM"$'\n'"[c] EACCES"$'\n'"[c] no-root"
	assert_no_leaks
}

@test "a container granted SYS_PTRACE that attaches to the infra finds nothing: no capabilities, an empty root" {
	sec_pod '{capabilities: {add: [SYS_PTRACE]}}' \
		'sectool try ptrace_attach:1; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/1/status; ls -A /proc/1/root/ | wc -l' \
		'  shareProcessNamespace: true'
	assert_status 0
	assert_line_re '\[c\] CapEff:\s+0000000000000000'
	assert_line_re '\[c\] CapBnd:\s+0000000000000000'
	assert_line_re '\[c\] NoNewPrivs:\s+1'
	assert_line "[c] 0"
	assert_no_leaks
}

@test "/proc/self/exe is the container's own binary; it cannot be opened for writing (CVE-2019-5736)" {
	local sum
	sum=$(md5sum <"$PEAPOD")
	sec_pod '{}' 'readlink /proc/self/exe; sectool try open_exe_write:self'
	assert_status 0
	assert_stdout "[c] /bin/busybox"$'\n'"[c] ETXTBSY"
	[ "$(md5sum <"$PEAPOD")" = "$sum" ] || fail "peapod's binary changed"
	assert_no_leaks
}

@test "processes exec'd into a container never show peapod's binary to it (CVE-2019-5736)" {
	local f i sum
	sum=$(md5sum <"$PEAPOD")
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: secw}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command:
        - sh
        - -c
        - |
          : >/tmp/seen
          while :; do
            for p in /proc/[0-9]*; do
              l=$(readlink "$p/exe" 2>/dev/null) || continue
              case $l in /bin/busybox|/usr/local/bin/*) ;; *) echo "$p $l" >>/tmp/seen ;; esac
            done
          done
EOF
)
	run_peapod apply -f "$f"
	assert_status 0
	for i in $(seq 1 15); do
		timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" exec secw -- true || fail "exec $i failed"
	done
	run_peapod exec secw -- cat /tmp/seen
	local seen=$output
	run_peapod delete pod secw
	assert_status 0
	[ -z "$seen" ] || { output=$seen; fail "the container saw a binary of the host"; }
	[ "$(md5sum <"$PEAPOD")" = "$sum" ] || fail "peapod's binary changed"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# AppArmor and SELinux

@test "appArmorProfile is refused clearly on a host without AppArmor; Unconfined is accepted" {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		skip "this host has AppArmor"
	fi
	sec_pod '{appArmorProfile: {type: Localhost, localhostProfile: k8s-deny-write}}' 'true'
	assert_refused "Cannot enforce AppArmor: AppArmor is not enabled on the host"
	sec_pod '{appArmorProfile: {type: Unconfined}}' 'echo ran'
	assert_status 0
	assert_line "[c] ran"
	assert_no_leaks
}

@test "seLinuxOptions are refused clearly on a host without SELinux" {
	[ ! -e /sys/fs/selinux/enforce ] || skip "this host has SELinux"
	sec_pod '{seLinuxOptions: {user: system_u, role: system_r, type: container_t, level: "s0:c1,c2"}}' 'true'
	assert_refused "seLinuxOptions: SELinux is not enabled on the host"
	assert_no_leaks
}

@test "the image's USER is looked up in its own /etc/passwd, never through a magic link to one of peapod's fds" {
	make_rootfs "$TEST_DIR/rootfs"
	rm "$TEST_DIR/rootfs/etc/passwd"
	ln -s /proc/self/fd/0 "$TEST_DIR/rootfs/etc/passwd"
	run_peapod image import "$TEST_DIR/rootfs" peapod-test/passwd-link:1 --user app
	assert_status 0
	one_pod peapod-test/passwd-link:1 '["id"]'
	assert_refused 'container "c": open /etc/passwd' "the container ran"
	run_peapod image rm peapod-test/passwd-link:1
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# Images that try to escape their layer

# evil_tar FILE KIND: a tar archive with a busybox-less root and one hostile
# entry: dotdot, absolute, blockdev, chardev, symlink-then-file, or big.
evil_tar() {
	python3 - "$1" "$2" "$TEST_DIR" <<'PY'
import io, sys, tarfile
path, kind, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
def add(t, name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
with tarfile.open(path, "w") as t:
    add(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "etc/passwd", b"root:x:0:0::/:/bin/sh\n")
    if kind == "dotdot":
        add(t, "../../../../../../.." + tmp + "/escaped-dotdot", b"evil")
    elif kind == "absolute":
        add(t, tmp + "/escaped-absolute", b"evil")
    elif kind == "blockdev":
        add(t, "disk", type=tarfile.BLKTYPE, devmajor=7, devminor=0, mode=0o600)
    elif kind == "chardev":
        add(t, "mem", type=tarfile.CHRTYPE, devmajor=1, devminor=1, mode=0o600)
    elif kind == "symlink-then-file":
        add(t, "out", type=tarfile.SYMTYPE, linkname=tmp)
        add(t, "out/escaped-symlink", b"evil")
    elif kind == "big":
        add(t, "big", b"y" * (2 << 20))
PY
}

@test "image import: entries with .. or an absolute path never land outside the layer" {
	local kind
	for kind in dotdot absolute symlink-then-file; do
		evil_tar "$TEST_DIR/$kind.tar" "$kind"
		run_peapod image import "$TEST_DIR/$kind.tar" "peapod-test/evil-$kind:1"
		run_peapod image rm "peapod-test/evil-$kind:1"
	done
	[ -z "$(ls "$TEST_DIR" | grep escaped)" ] || fail "an entry escaped: $(ls "$TEST_DIR")"
	assert_no_leaks
}

@test "image import: device nodes are refused with a clear error" {
	local kind
	for kind in blockdev chardev; do
		evil_tar "$TEST_DIR/$kind.tar" "$kind"
		run_peapod image import "$TEST_DIR/$kind.tar" "peapod-test/evil-$kind:1"
		assert_refused "device nodes are not allowed in an image" "$kind accepted"
		run_peapod image ls
		refute_stdout_contains "evil-$kind"
	done
	assert_no_leaks
}

@test "image import: an archive larger than PEAPOD_IMAGE_MAX_BYTES is refused (tar bomb)" {
	evil_tar "$TEST_DIR/big.tar" big
	gzip -9 "$TEST_DIR/big.tar"
	PEAPOD_IMAGE_MAX_BYTES=1048576 run_peapod image import "$TEST_DIR/big.tar.gz" peapod-test/bomb:1
	assert_refused "the archive holds more than 1048576 bytes" "the bomb was accepted"
	run_peapod image ls
	refute_stdout_contains "bomb"
	assert_no_leaks
}

@test "manifest: a billion-laughs document and deep nesting are refused, bounded" {
	local prev
	{
		echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
		for i in b c d e f g h i j; do
			echo "$i: &$i [*$(printf '%s' "${prev:-a}"),*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a},*${prev:-a}]"
			prev=$i
		done
	} >"$TEST_DIR/laughs.yaml"
	unset prev
	run_peapod run -f "$TEST_DIR/laughs.yaml"
	assert_status 2
	assert_stderr_contains "too many YAML nodes"
	python3 -c 'print("a: " + "[" * 5000 + "]" * 5000)' >"$TEST_DIR/deep.yaml"
	run_peapod run -f "$TEST_DIR/deep.yaml"
	assert_status 2
	assert_stderr_contains "YAML nesting deeper than 64 levels"
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# sysctls

@test "namespaced sysctls are set in the pod's namespaces; the host's values are unchanged" {
	local ports shm
	ports=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	shm=$(cat /proc/sys/kernel/shm_rmid_forced)
	one_pod @IMAGE@ '["sh", "-c", "cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ping_group_range"]' '' \
		'  securityContext:
    sysctls:
      - {name: net.ipv4.ip_local_port_range, value: "40000 41000"}
      - {name: kernel.shm_rmid_forced, value: "1"}
      - {name: net/ipv4/ping_group_range, value: "0 2147483647"}'
	assert_status 0
	assert_line_re '\[c\] 40000\s+41000'
	assert_line "[c] 1"
	assert_line_re '\[c\] 0\s+2147483647'
	[ "$(cat /proc/sys/net/ipv4/ip_local_port_range)" = "$ports" ] || fail "the host's port range changed"
	[ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$shm" ] || fail "the host's shm_rmid_forced changed"
	assert_no_leaks
}

@test "a sysctl outside the pod's namespaces is refused at parse time; a net sysctl with hostNetwork too" {
	local before
	before=$(cat /proc/sys/kernel/panic)
	sec_pod '{}' 'true' '  securityContext: {sysctls: [{name: kernel.panic, value: "7"}]}'
	assert_status 2
	assert_stderr_contains 'spec.securityContext.sysctls[0].name: sysctl "kernel.panic" is not namespaced'
	sec_pod '{}' 'true' '  hostNetwork: true
  securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: "0"}]}'
	assert_status 2
	assert_stderr_contains "spec.securityContext.sysctls[0].name: may not be specified when 'hostNetwork' is true"
	[ "$(cat /proc/sys/kernel/panic)" = "$before" ] || fail "the host's kernel.panic changed"
	assert_no_leaks
}

@test "a subPath swapped for a symlink to the host while containers start never mounts the host's directory" {
	mkdir -p "$TEST_DIR/host-dir"
	echo secret >"$TEST_DIR/host-dir/file"
	local before i ctrs=""
	before=$(tree_sum "$TEST_DIR/host-dir")
	for i in 1 2 3 4 5 6 7 8; do
		ctrs+="    - {name: c$i, image: \"@IMAGE@\", volumeMounts: [{name: v, mountPath: /x, subPath: d}], command: [\"sh\", \"-c\", \"touch /x/planted-$i\"]}"$'\n'
	done
	# The swapper (a sidecar, started first) turns the subPath d into a
	# symlink to the host directory and back, as fast as it can.
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{name: v, emptyDir: {}}]
  initContainers:
    - name: swapper
      image: @IMAGE@
      restartPolicy: Always
      volumeMounts: [{name: v, mountPath: /v}]
      command: ["sh", "-c", "mkdir -p /v/d; while :; do mv /v/d /v/real; ln -s $TEST_DIR/host-dir /v/d; rm /v/d; mv /v/real /v/d; done"]
  containers:
$ctrs
EOF
	[ "$(tree_sum "$TEST_DIR/host-dir")" = "$before" ] || fail "the host directory changed: $(ls "$TEST_DIR/host-dir")"
	assert_no_leaks
}

@test "mknod of a block device: refused without CAP_MKNOD; the node is never the host's disk in /dev" {
	sec_pod '{capabilities: {drop: [MKNOD]}}' 'sectool try mknod_blk:/tmp/loop0; ls /tmp'
	assert_status 0
	assert_stdout "[c] EPERM"
	# With the default MKNOD the node can be made; opening it is for the
	# device cgroup to refuse (its allow-list is not this suite's concern).
	sec_pod '{}' 'sectool try mknod_blk:/tmp/loop0; ls /dev | grep -c -E "^(sd|vd|nvme|loop)" || true'
	assert_line "[c] ok"
	assert_line "[c] 0"
	assert_no_leaks
}

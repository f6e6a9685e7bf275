# Shared by the system tests: running pods, templating manifests, assertions
# that print what peapod said, and the leak checks every test ends with.
#
# The suite's environment comes from setup_suite.bash: PEAPOD, HELPERS,
# SUITE_TMP, PEAPOD_ROOT, PEAPOD_RUN, PEAPOD_CGROUP_PARENT, IMAGE and
# DEFAULTS_IMAGE.

if type bats_require_minimum_version >/dev/null 2>&1; then
	bats_require_minimum_version 1.5.0
fi

# How long a single `peapod run` may take before the test gives up on it.
POD_TIMEOUT=${POD_TIMEOUT:-40}

# ---------------------------------------------------------------------------
# Per-test setup and teardown

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	BG_PID=
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	# the store's images before the test (what a failed one added goes)
	"$PEAPOD" image ls -q >"$TEST_DIR/.images" 2>/dev/null || true
}

teardown() {
	if [ -n "${BG_PID:-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	# A failed test must not make the next ones fail: remove whatever it left.
	cleanup_leftovers
	[ "${BATS_TEST_COMPLETED:-}" = 1 ] || forget_test_images
	rm -rf "$TEST_DIR"
}

# forget_test_images: after a failed test, the images it added to the
# store go (a layer left there would make the next pull skip it).
forget_test_images() {
	local id
	[ -f "$TEST_DIR/.images" ] || return 0
	for id in $("$PEAPOD" image ls -q 2>/dev/null); do
		grep -qxF "$id" "$TEST_DIR/.images" || "$PEAPOD" image rm --force "$id" >/dev/null 2>&1 || true
	done
	"$PEAPOD" image prune >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------
# Manifests and running pods

# write_manifest: copies stdin to a new file under TEST_DIR, replacing the
# placeholders @DIR@ (TEST_DIR), @IMAGE@ and @DEFAULTS_IMAGE@; prints its path.
# Use quoted heredocs (<<'EOF') so that shell `$` reach the pod unchanged.
write_manifest() {
	local f
	f=$(mktemp "$TEST_DIR/pod-XXXXXX.yaml")
	sed -e "s|@DIR@|$TEST_DIR|g" -e "s|@IMAGE@|$IMAGE|g" \
		-e "s|@DEFAULTS_IMAGE@|$DEFAULTS_IMAGE|g" >"$f"
	echo "$f"
}

# run_pod [PEAPOD RUN FLAGS...] <<'EOF' ... EOF: writes the manifest and runs
# `peapod run -f FILE` under timeout; sets status, output (stdout), stderr,
# lines, stderr_lines and POD_FILE.
run_pod() {
	POD_FILE=$(write_manifest)
	run_pod_file "$POD_FILE" "$@"
}

run_pod_file() {
	local f=$1
	shift
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" run -f "$f" "$@"
}

# run_peapod ARGS...: any other peapod command.
run_peapod() {
	run --separate-stderr timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" "$@"
}

# indent N: prefixes every line of stdin with N spaces.
indent() {
	local pad
	pad=$(printf '%*s' "$1" '')
	sed "s/^/$pad/"
}

# sh_pod NAME RESTART_POLICY SCRIPT [POD_LINES] [CONTAINER_LINES]: a pod
# with one busybox container "c" running `sh -c SCRIPT` (SCRIPT still goes
# through Kubernetes' $(VAR) expansion, so write $$ for a shell $$).
# POD_LINES are more pod spec lines (indented two spaces: volumes,
# shareProcessNamespace ...), CONTAINER_LINES more lines of the container
# (indented six: volumeMounts, securityContext ...).
sh_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: 1
${4:-}
  containers:
    - name: c
      image: @IMAGE@
${5:-}
      command: ["sh", "-c"]
      args:
        - |
$(printf '%s\n' "$3" | indent 10)
EOF
}

# pair_pod NAME COMMAND_A COMMAND_B: a restartPolicy Never pod of two busybox
# containers a and b running the commands (YAML flow sequences).
pair_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  containers:
    - {name: a, image: "@IMAGE@", command: $2}
    - {name: b, image: "@IMAGE@", command: $3}
EOF
}

# UNTIL_TERM: a container script that runs until SIGTERM and then exits 0
# at once (the trap runs between two short sleeps).
# shellcheck disable=SC2034 # used by the .bats files
UNTIL_TERM="trap 'exit 0' TERM; while true; do sleep 0.1; done"

# sync_pod NAME A SCRIPT_A B SCRIPT_B [POD_LINES]: a restartPolicy Never pod
# of two busybox containers A and B running `sh -c` on their scripts, which
# share an emptyDir "sync" at /sync to wait for each other. Both scripts may
# call `await FILE TENTHS`: it waits up to TENTHS tenths of a second for
# /sync/FILE and fails if it did not come.
sync_pod() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	local await='await() { i=0; while [ ! -e "/sync/$1" ] && [ $i -lt "$2" ]; do sleep 0.1; i=`expr $i + 1`; done; [ -e "/sync/$1" ]; }'
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
${6:-}
  volumes:
    - name: sync
      emptyDir: {}
  containers:
    - name: $2
      image: @IMAGE@
      volumeMounts: [{name: sync, mountPath: /sync}]
      command: ["sh", "-c"]
      args:
        - |
$(printf '%s\n' "$await" "$3" | indent 10)
    - name: $4
      image: @IMAGE@
      volumeMounts: [{name: sync, mountPath: /sync}]
      command: ["sh", "-c"]
      args:
        - |
$(printf '%s\n' "$await" "$5" | indent 10)
EOF
}

# start_pod_bg FILE: starts `peapod run -f FILE` in the background as a
# terminal would (SIGINT and SIGTERM at their default dispositions; bash
# ignores SIGINT in background jobs otherwise). Output goes to
# $TEST_DIR/out and $TEST_DIR/err; the pid is BG_PID.
start_pod_bg() {
	env --default-signal=INT,TERM "$PEAPOD" run -f "$1" >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
}

# wait_for_line FILE LINE [SECONDS]: waits until FILE has the exact LINE.
wait_for_line() {
	local i n=$((${3:-20} * 10))
	for ((i = 0; i < n; i++)); do
		grep -qxF -- "$2" "$1" 2>/dev/null && return 0
		if [ -n "${BG_PID:-}" ] && ! kill -0 "$BG_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	grep -qxF -- "$2" "$1" 2>/dev/null && return 0
	echo "FAIL: no line '$2' in $1"
	dump_bg
	return 1
}

# wait_bg SECONDS: waits for BG_PID to exit; sets status, output, stderr (and
# lines) from its exit status and files. Fails (after SIGKILL) when it is
# still running after SECONDS.
wait_bg() {
	local i n=$((${1:-20} * 10))
	for ((i = 0; i < n; i++)); do
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
		BG_PID=
		echo "FAIL: peapod still ran ${1:-20}s later (killed it)"
		dump_bg
		return 1
	fi
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	output=$(cat "$TEST_DIR/out")
	stderr=$(cat "$TEST_DIR/err")
	# shellcheck disable=SC2034 # lines and stderr_lines as bats' `run` sets them
	mapfile -t lines <<<"$output"
	# shellcheck disable=SC2034
	mapfile -t stderr_lines <<<"$stderr"
}

dump_bg() {
	echo "--- stdout:"
	cat "$TEST_DIR/out" 2>/dev/null
	echo "--- stderr:"
	cat "$TEST_DIR/err" 2>/dev/null
}

# ---------------------------------------------------------------------------
# Assertions: on failure they print the expectation and what peapod said.

dump() {
	echo "--- exit status: ${status-}"
	echo "--- stdout:"
	printf '%s\n' "${output-}"
	echo "--- stderr:"
	printf '%s\n' "${stderr-}"
}

fail() {
	echo "FAIL: $*"
	dump
	return 1
}

assert_status() {
	[ "$status" -eq "$1" ] || fail "expected exit status $1, got $status"
}

# assert_stdout TEXT: stdout is exactly TEXT.
assert_stdout() {
	[ "$output" = "$1" ] || fail "stdout is not exactly:"$'\n'"$1"
}

# assert_line TEXT: stdout has the exact line TEXT.
assert_line() {
	grep -qxF -- "$1" <<<"$output" || fail "stdout has no line: $1"
}

refute_line() {
	! grep -qxF -- "$1" <<<"$output" || fail "stdout has the line: $1"
}

# assert_line_re REGEX: some stdout line matches the extended REGEX entirely.
assert_line_re() {
	grep -qxE -- "$1" <<<"$output" || fail "no stdout line matches: $1"
}

assert_stdout_contains() {
	[[ "$output" == *"$1"* ]] || fail "stdout does not contain: $1"
}

refute_stdout_contains() {
	[[ "$output" != *"$1"* ]] || fail "stdout contains: $1"
}

assert_stderr_contains() {
	[[ "$stderr" == *"$1"* ]] || fail "stderr does not contain: $1"
}

refute_stderr_contains() {
	[[ "$stderr" != *"$1"* ]] || fail "stderr contains: $1"
}

assert_stderr_line() {
	grep -qxF -- "$1" <<<"$stderr" || fail "stderr has no line: $1"
}

# assert_order A B: the stdout line A comes before the stdout line B.
assert_order() {
	local a b
	a=$(grep -nxF -- "$1" <<<"$output" | head -1 | cut -d: -f1)
	b=$(grep -nxF -- "$2" <<<"$output" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "expected line '$1' before line '$2'"
}

# ---------------------------------------------------------------------------
# Leaks: anything of a pod still there after `peapod run` returned.

# The suite's cgroup parent in every mounted hierarchy that has it.
cgroup_parent_dirs() {
	local h
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		[ -d "$h/$PEAPOD_CGROUP_PARENT" ] && echo "$h/$PEAPOD_CGROUP_PARENT"
	done
	return 0
}

# Is pid a process of this suite (in its cgroups, or with its environment)?
belongs_to_suite() {
	grep -qF "/$PEAPOD_CGROUP_PARENT/" "/proc/$1/cgroup" 2>/dev/null && return 0
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qF "$SUITE_TMP"
}

# Live (not zombie) peapod-infra processes of this suite.
suite_infra_pids() {
	local p st
	for p in $(pgrep -x peapod-infra); do
		st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] || continue
		belongs_to_suite "$p" && echo "$p"
	done
	return 0
}

# Live pod supervisors (peapod-sup) of this suite.
suite_supervisor_pids() {
	local p st
	for p in $(pgrep -x peapod-sup); do
		st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] || continue
		belongs_to_suite "$p" && echo "$p"
	done
	return 0
}

# Live workload controllers (peapod-ctrl) of this suite.
suite_ctrl_pids() {
	local p st
	for p in $(pgrep -x peapod-ctrl); do
		st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] || continue
		belongs_to_suite "$p" 2>/dev/null && echo "$p"
	done
	return 0
}

# exited PID: the process is gone or a zombie: its files, so its locks,
# are closed (SIGKILL's delivery does not wait for that).
exited() {
	[ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ] || ! kill -0 "$1" 2>/dev/null
}

# The suite's pod records: state and data directories, names, log directories,
# and the block groups they are made in (util/fs.h pp_mkdir_grouped: empty
# once each is renamed into place).
record_dirs() {
	echo "$PEAPOD_ROOT/pods" "$PEAPOD_RUN/pods" "$PEAPOD_ROOT/containers" "$PEAPOD_LOG_DIR/pods"
	trash_dirs
	local g
	for g in "$PEAPOD_ROOT/groups" "$PEAPOD_RUN/groups" "$PEAPOD_LOG_DIR/groups"; do
		[ -d "$g" ] && find "$g" -mindepth 1 -maxdepth 1 -type d
	done
	[ -d "$PEAPOD_RUN/names" ] && find "$PEAPOD_RUN/names" -mindepth 1 -maxdepth 1 -type d
	return 0
}

# Everything of ours still there, one line each (empty: no leak).
# trash_dirs: where deleted pods' files wait for their unlinking by a
# short-lived peapod-rm child (util/fs.h pp_discard_dir).
trash_dirs() {
	echo "$PEAPOD_ROOT/trash" "$PEAPOD_RUN/trash" "$PEAPOD_LOG_DIR/trash"
}
trash_empty() {
	local d
	for d in $(trash_dirs); do
		[ -z "$(ls -A "$d" 2>/dev/null)" ] || return 1
	done
}
list_leaks() {
	local d
	awk -v t="$SUITE_TMP" 'index($0, t) {print "mount: " $5 " (" $0 ")"}' /proc/self/mountinfo
	for d in $(cgroup_parent_dirs); do
		find "$d" -mindepth 1 -type d -printf 'cgroup: %p\n'
	done
	for d in $(suite_infra_pids); do
		echo "process: peapod-infra pid $d (ppid $(awk '/^PPid:/ {print $2}' "/proc/$d/status" 2>/dev/null))"
	done
	for d in $(suite_supervisor_pids); do
		echo "process: peapod-sup pid $d"
	done
	for d in $(suite_ctrl_pids); do
		echo "process: peapod-ctrl pid $d"
	done
	[ -d "$PEAPOD_RUN/workloads" ] && find "$PEAPOD_RUN/workloads" -type f -printf 'workload file: %p\n'
	# exec probes' launchers (zombies, waiting for a late reaper, hold nothing)
	for d in $(pgrep -x peapod-exec); do
		case "$(awk '/^State:/ {print $2}' "/proc/$d/status" 2>/dev/null)" in
		'' | Z | X) continue ;;
		esac
		belongs_to_suite "$d" && echo "process: peapod-exec pid $d"
	done
	for d in $(record_dirs); do
		[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -printf 'directory: %p\n'
	done
	# User namespace id ranges (hostUsers: false) still allocated.
	[ -d "$PEAPOD_RUN/userns" ] &&
		find "$PEAPOD_RUN/userns" -mindepth 1 -maxdepth 1 ! -name .lock -printf 'id range: %p\n'
	return 0
}

# assert_no_leaks: called at the end of every test. Processes get a moment
# to be reaped; nothing else should need one once peapod has returned.
assert_no_leaks() {
	local i leaks
	for ((i = 0; i < 20; i++)); do
		[ -z "$(suite_infra_pids)$(suite_supervisor_pids)$(suite_ctrl_pids)" ] && trash_empty && break
		sleep 0.1
	done
	leaks=$(list_leaks)
	if [ -n "$leaks" ]; then
		echo "FAIL: left behind after the pod:"
		echo "$leaks"
		return 1
	fi
}

# Removes what a failed test may have left: processes in our cgroups and
# our infra processes (all started by this suite), our mounts, cgroups and
# pod directories. Quiet and idempotent.
cleanup_leftovers() {
	local d p m
	for p in $(suite_ctrl_pids) $(suite_supervisor_pids) $(suite_infra_pids); do
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -d "$PEAPOD_ROOT/objects" ] && find "$PEAPOD_ROOT/objects" -mindepth 2 -maxdepth 2 \
		\( -name deployments -o -name replicasets -o -name daemonsets \) -exec rm -rf {} + 2>/dev/null
	[ -d "$PEAPOD_RUN/workloads" ] && rm -rf "$PEAPOD_RUN/workloads" 2>/dev/null
	for d in $(cgroup_parent_dirs); do
		# shellcheck disable=SC2044 # pids, no spaces
		for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
	done
	# Deepest mounts first.
	for m in $(awk -v t="$SUITE_TMP" 'index($5, t) {print length($5) " " $5}' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2); do
		umount -l "$m" 2>/dev/null || true
	done
	for d in $(cgroup_parent_dirs); do
		for ((p = 0; p < 20; p++)); do
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			[ -z "$(find "$d" -mindepth 1 -type d)" ] && break
			sleep 0.1
		done
	done
	for d in $(record_dirs); do
		[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
	done
	[ -d "$PEAPOD_RUN/userns" ] &&
		find "$PEAPOD_RUN/userns" -mindepth 1 -maxdepth 1 ! -name .lock -delete 2>/dev/null
	return 0
}

# pod_dirs: the pod directories now in PEAPOD_ROOT and PEAPOD_RUN (for
# "nothing was created" checks).
pod_dirs() {
	find "$PEAPOD_ROOT" "$PEAPOD_RUN" -mindepth 1 -maxdepth 2 -path '*/pods/*' 2>/dev/null | sort
}

# ---------------------------------------------------------------------------
# Root filesystems

# make_rootfs DIR: a small busybox root filesystem (one symlink per applet,
# users root, app (1000) and nobody) for image tests.
make_rootfs() {
	local dir=$1 a
	mkdir -p "$dir"/{bin,etc,tmp,root,home/app,proc,sys,dev,srv}
	cp /bin/busybox "$dir/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
	done
	chmod 1777 "$dir/tmp"
	chown 1000:1000 "$dir/home/app"
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/home/app:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$dir/etc/passwd"
	printf '%s\n' 'root:x:0:' 'app:x:1000:' 'nogroup:x:65534:' >"$dir/etc/group"
}

# tree_sum DIR: one checksum over names, types, modes, link targets and
# file contents of the tree.
tree_sum() {
	(
		cd "$1" || exit 1
		find . -printf '%p %y %m %U %G %l\n' | sort
		find . -type f -exec md5sum {} + | sort -k2
	) | md5sum | cut -d' ' -f1
}

# In a chroot (e.g. ../shared/tools/fresh-machine.sh) "/" is not a mount
# point, so a private mount namespace (unshare -m, ip netns add) cannot be
# made, and the kernel refuses to create user namespaces (EPERM). Tests that
# need either skip there, saying why.
# The *_missing functions print why not (nothing when possible). A whole
# file skips by exporting FILE_SKIP from setup_file (bats 1.8 cannot skip
# there): setup() then skips each test with that reason.
private_mounts_missing() {
	unshare -m --propagation private true 2>/dev/null ||
		echo "no private mount namespace here (in a chroot, / is not a mount point)"
}
userns_missing() {
	unshare -U true 2>/dev/null ||
		echo "user namespaces cannot be created here (the kernel refuses them in a chroot)"
}
skip_unless_private_mounts() {
	local why
	why=$(private_mounts_missing)
	[ -z "$why" ] || skip "$why"
}
skip_unless_userns() {
	local why
	why=$(userns_missing)
	[ -z "$why" ] || skip "$why"
}


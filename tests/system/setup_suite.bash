# Once per run of the system tests: a private image store, state directory
# and cgroup parent (so the tests never touch the host's peapod state), the
# test images, and at the end a check that nothing of the suite was left.

setup_suite() {
	local here repo
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	repo=$(cd "$here/../.." && pwd)
	# The test build: build/peapod with the test knobs (PEAPOD_TEST_TIME_SCALE).
	export PEAPOD=${PEAPOD:-$repo/build/peapod-test}
	export HELPERS=${HELPERS:-$repo/build/helpers}
	if [ ! -x "$PEAPOD" ]; then
		echo "peapod binary $PEAPOD is missing: run make" >&2
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "the system tests need root" >&2
		return 1
	fi

	SUITE_TMP=$(mktemp -d /tmp/peapod-systest.XXXXXX)
	export SUITE_TMP
	export PEAPOD_ROOT=$SUITE_TMP/root
	export PEAPOD_RUN=$SUITE_TMP/run
	export PEAPOD_LOG_DIR=$SUITE_TMP/log
	export PEAPOD_CGROUP_PARENT=peapod-test-$$
	# The suite runs in the host's network namespace: its pods get loopback
	# only. network.bats gives its pods networks inside a namespace of its own.
	export PEAPOD_NETWORK=none
	export PEAPOD_CNI_CONF_DIR=$SUITE_TMP/cni
	export IMAGE=busybox:1.36
	export DEFAULTS_IMAGE=peapod-test/defaults:1
	mkdir -p "$PEAPOD_ROOT" "$PEAPOD_RUN"
	# Orphaned infra processes of other runs are not this suite's doing.
	SUITE_OLD_ORPHANS=$(orphan_infra_pids | tr '\n' ' ')
	export SUITE_OLD_ORPHANS

	# shellcheck source=tests/system/helpers.bash
	source "$here/helpers.bash"
	local log=$SUITE_TMP/setup.log
	if ! HELPERS_DIR=$HELPERS "$repo/tests/lib/make-busybox-image.sh" "$PEAPOD" "$IMAGE" >"$log" 2>&1; then
		echo "building the $IMAGE test image failed:" >&2
		cat "$log" >&2
		return 1
	fi

	# An image whose config supplies every default a manifest may omit.
	make_rootfs "$SUITE_TMP/defaults-rootfs"
	if ! "$PEAPOD" image import "$SUITE_TMP/defaults-rootfs" "$DEFAULTS_IMAGE" \
		--entrypoint '["/bin/echo"]' --cmd '["from","image"]' \
		--env PATH=/usr/local/bin:/usr/bin:/bin --env GREETING=hi \
		--workdir /srv --user app >"$log" 2>&1; then
		echo "importing $DEFAULTS_IMAGE failed:" >&2
		cat "$log" >&2
		return 1
	fi
	rm -rf "$SUITE_TMP/defaults-rootfs"
}

# Live peapod-infra processes whose parent is gone (reparented to init or a subreaper).
orphan_infra_pids() {
	local p pp
	for p in $(pgrep -x peapod-infra); do
		# A zombie is dead already (init may be slow to reap it).
		[ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = Z ] && continue
		pp=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		# Its parent is its pod's supervisor; anything else (init, a subreaper) means it was orphaned.
		[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = peapod-sup ] || echo "$p"
	done
	return 0
}

teardown_suite() {
	[ -n "${SUITE_TMP:-}" ] && [ -d "$SUITE_TMP" ] || return 0
	local here leaks p
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	# shellcheck source=tests/system/helpers.bash
	source "$here/helpers.bash"

	"$PEAPOD" image rm "$IMAGE" "$DEFAULTS_IMAGE" >/dev/null 2>&1 || true
	sleep 0.2
	local i
	for ((i = 0; i < 20; i++)); do trash_empty && break; sleep 0.1; done
	leaks=$(list_leaks)
	for p in $(orphan_infra_pids); do
		[[ " $SUITE_OLD_ORPHANS " == *" $p "* ]] && continue
		# another test run's, under its own cgroup parent: not this suite's
		if ! belongs_to_suite "$p" && grep -q "/peapod-test-" "/proc/$p/cgroup" 2>/dev/null; then
			continue
		fi
		grep -q "process: peapod-infra pid $p " <<<"$leaks" ||
			leaks+=$'\n'"process: orphaned peapod-infra pid $p"
	done
	for p in "$PEAPOD_ROOT/pods" "$PEAPOD_RUN/pods" "$PEAPOD_LOG_DIR/pods" $(trash_dirs); do
		[ -d "$p" ] && [ -n "$(ls -A "$p")" ] && leaks+=$'\n'"directory: $p is not empty"
	done

	cleanup_leftovers
	local d
	for d in $(cgroup_parent_dirs); do
		rmdir "$d" 2>/dev/null || leaks+=$'\n'"cgroup: cannot remove $d"
	done
	rm -rf "$SUITE_TMP"

	leaks=$(sed '/^$/d' <<<"$leaks")
	if [ -n "$leaks" ]; then
		echo "the system tests left behind:" >&2
		echo "$leaks" >&2
		return 1
	fi
}

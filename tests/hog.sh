#!/bin/bash
# `make check-hog` (not part of make check): the system tests with two busy
# loops beside them (issue #21: no timing- or load-dependent assertion may
# fail on a loaded 2-core machine). The loops are this script's children,
# ended by their PIDs whatever happens. Arguments: what bats runs (default
# tests/system); HOG_LOOPS: how many loops (default 2).
set -u
cd "$(dirname "$0")/.." || exit 1
loops=()
stop_loops() {
	local p
	for p in "${loops[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${loops[@]}"; do
		wait "$p" 2>/dev/null
	done
	loops=()
}
trap stop_loops EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < ${HOG_LOOPS:-2}; i++)); do
	bash -c 'while :; do :; done' &
	loops+=($!)
done
echo "check-hog: ${#loops[@]} busy loops (pids ${loops[*]}) beside the system tests"
rc=0
bats --tap "${@:-tests/system}" || rc=$?
stop_loops
echo "check-hog: bats exited $rc"
exit "$rc"

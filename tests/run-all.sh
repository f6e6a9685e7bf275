#!/bin/bash
# The whole suite, as `make check` runs it: C tests (unit tests and the
# runtime's real-kernel tests), the system tests (bats, real pods), the same C
# tests under ASan+UBSan, format and lint checks, and bounded fuzz runs.
# Every part prints TAP; the last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0
failed=0
log=$(mktemp -d /tmp/peapod-check.XXXXXX)

# count FILE: adds a TAP log's ok / not ok lines to the totals
count() {
	local p f
	# (cmocka prints a skipped test as "not ok N # SKIP": a skip, as bats's
	# "ok N # skip", not a failure)
	p=$(grep -cE '^ok |^not ok [0-9]+ # SKIP' "$1")
	f=$(grep -E '^not ok ' "$1" | grep -cvE '^not ok [0-9]+ # SKIP')
	passed=$((passed + p))
	failed=$((failed + f))
}

# run_c_tests DIR: each cmocka binary in DIR, TAP output
run_c_tests() {
	local t out
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		out="$log/$(basename "$1")-$(basename "$t").tap"
		echo "# $t"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
		local rc=$?
		cat "$out"
		if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
			echo "not ok - $t exited with status $rc" | tee -a "$out"
		fi
		count "$out"
	done
}

echo "## C tests"
run_c_tests "$BUILD"

echo "## system tests"
out="$log/system.tap"
PEAPOD="$PWD/$BUILD/peapod-test" HELPERS="$PWD/$BUILD/helpers" bats --tap tests/system >"$out" 2>&1
cat "$out"
count "$out"

echo "## C tests under ASan+UBSan"
if make -s asan >"$log/asan-build.log" 2>&1; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_c_tests build-asan
else
	cat "$log/asan-build.log"
	echo "not ok - sanitizer build" | tee "$log/asan.tap"
	count "$log/asan.tap"
fi

echo "## format and static analysis"
if clang-format --dry-run -Werror $(find src tests fuzz -name '*.[ch]') >"$log/format.log" 2>&1; then
	echo "ok - every C file is clang-formatted" | tee "$log/lint.tap"
else
	head -20 "$log/format.log"
	echo "not ok - clang-format would change files (run make format)" | tee "$log/lint.tap"
fi
if make -s lint >"$log/cppcheck.log" 2>&1; then
	echo "ok - cppcheck finds nothing" | tee -a "$log/lint.tap"
else
	cat "$log/cppcheck.log"
	echo "not ok - cppcheck findings" | tee -a "$log/lint.tap"
fi
count "$log/lint.tap"

echo "## fuzzing (make fuzz: every fuzz/fuzz_*.c target): the manifest parser for ${FUZZ_SECONDS}s, each other target for a third of it"
if make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS" >"$log/fuzz.log" 2>&1; then
	echo "ok - $(ls fuzz/fuzz_*.c | sed 's#fuzz/##; s#\.c$##' | paste -sd' ') ran without a crash or leak" | tee "$log/fuzz.tap"
else
	tail -40 "$log/fuzz.log"
	echo "not ok - a fuzz target found a problem (see above)" | tee "$log/fuzz.tap"
fi
count "$log/fuzz.tap"

rm -rf "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

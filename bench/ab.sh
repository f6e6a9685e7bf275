#!/bin/bash
# Before and after a change, in one run: two peapod binaries (BENCH_A and
# BENCH_B, e.g. a build of the commit before in another BUILD dir) time the
# same things interleaved, one of each in turn, so that both see the same
# noise of the machine: a one-container /bin/true pod, `run` to its exit;
# a 3-container pod, apply -> Ready; an exec into it; its delete. BENCH_RUNS (10) runs after
# a warm-up. Each binary has a private state of its own under one temp dir;
# nothing is left. Prints a markdown table.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BT=$BUILD/bench/benchtime
A=${BENCH_A:?BENCH_A=path of the "before" peapod}
B=${BENCH_B:?BENCH_B=path of the "after" peapod}
RUNS=${BENCH_RUNS:-10}
[ "$(id -u)" = 0 ] || { echo "ab: needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/peapod-ab.XXXXXX)
export PEAPOD_NETWORK=none
cleanup() {
	set +e
	for s in a b; do
		bin=$([ $s = a ] && echo "$A" || echo "$B")
		env PEAPOD_ROOT="$TMP/$s/root" PEAPOD_RUN="$TMP/$s/run" PEAPOD_LOG_DIR="$TMP/$s/log" \
			PEAPOD_CGROUP_PARENT=peapod-ab-$$-$s "$bin" delete --all --force >/dev/null 2>&1
		env PEAPOD_ROOT="$TMP/$s/root" PEAPOD_RUN="$TMP/$s/run" PEAPOD_LOG_DIR="$TMP/$s/log" \
			PEAPOD_CGROUP_PARENT=peapod-ab-$$-$s "$bin" gc >/dev/null 2>&1
	done
	find /sys/fs/cgroup -maxdepth 2 -type d -name "peapod-ab-$$-*" 2>/dev/null |
		while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_state() { # a|b CMD...: CMD with that binary's private state
	local s=$1
	shift
	env PEAPOD_ROOT="$TMP/$s/root" PEAPOD_RUN="$TMP/$s/run" PEAPOD_LOG_DIR="$TMP/$s/log" \
		PEAPOD_CGROUP_PARENT=peapod-ab-$$-$s "$@"
}
for s in a b; do
	bin=$([ $s = a ] && echo "$A" || echo "$B")
	in_state $s env HELPERS_DIR="$BUILD/helpers" "$TOP/tests/lib/make-busybox-image.sh" "$bin" busybox:1.36 >/dev/null
done

cat >"$TMP/true.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: abtrue
spec:
  restartPolicy: Never
  containers:
  - name: t
    image: busybox:1.36
    imagePullPolicy: Never
    command: ["/bin/true"]
EOF
{
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: ab3\nspec:\n  terminationGracePeriodSeconds: 10\n  containers:\n'
	for c in c1 c2 c3; do
		printf '  - name: %s\n    image: busybox:1.36\n    imagePullPolicy: Never\n    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 1000000 & wait"]\n' "$c"
	done
} >"$TMP/pod3.yaml"

for i in $(seq 0 "$RUNS"); do
	for s in a b; do
		bin=$([ $s = a ] && echo "$A" || echo "$B")
		[ "$i" = 1 ] && : >"$TMP/$s.trace"
		t=$(PEAPOD_TRACE=$TMP/$s.trace in_state $s "$BT" run "$bin" run -f "$TMP/true.yaml")
		r=$(PEAPOD_TRACE=$TMP/$s.trace in_state $s "$BT" run "$bin" apply -f "$TMP/pod3.yaml" ::: "$bin" wait ab3 --for=condition=Ready)
		# the first exec into a container, then two more (as a user's, or
		# bench.sh's 30 after one warm-up): the last two are timed
		in_state $s "$bin" exec ab3 -c c1 -- /bin/true
		x=$(for _ in 1 2; do in_state $s "$BT" run "$bin" exec ab3 -c c1 -- /bin/true; done)
		d=$(PEAPOD_TRACE=$TMP/$s.trace in_state $s "$BT" run "$bin" delete ab3)
		[ "$i" = 0 ] && continue
		echo "$t" >>"$TMP/$s.true"
		echo "$r" >>"$TMP/$s.ready"
		echo "$d" >>"$TMP/$s.delete"
		echo "$x" >>"$TMP/$s.exec"
	done
done
stat() { "$BT" stats <"$1" | awk '{printf "%s (%s-%s)", $1, $2, $3}'; }
med() { "$BT" stats <"$1" | awk '{print $1}'; }
echo "| ms, median (min-max) of $RUNS, interleaved | before ($A) | after ($B) | after / before |"
echo "|---|---|---|---|"
for k in true ready exec delete; do
	case $k in
	exec) label="3-container pod, \`exec -c c1 -- /bin/true\` (2nd and 3rd exec of each run)" ;;
	true) label="one-container /bin/true pod, \`run\` to exit" ;;
	ready) label="3-container pod, apply -> Ready" ;;
	delete) label="3-container pod, delete -> gone" ;;
	esac
	echo "| $label | $(stat "$TMP/a.$k") | $(stat "$TMP/b.$k") | $(awk -v a="$(med "$TMP/a.$k")" -v b="$(med "$TMP/b.$k")" 'BEGIN{printf "%.2f", b / a}') |"
done
# Steps from the trace (src/util/trace.h): a container's exit as its
# supervisor sees it, from `ctr X running` (the /bin/true pod) or from
# `sup stop` (the 3-container pod's delete) to `ctr X exited`; the CLI to
# its supervisor's start; the sandbox's infra process.
steps() { # TRACE FROM-PREFIX: ms from each FROM to the same container's exit
	sort -n "$1" | awk -v from="$2" '
		$3 == "sup" && $4 == "stop" { stop[$2] = $1 }
		$3 == "ctr" && $5 == "running" { run[$2, $4] = $1 }
		$3 == "ctr" && $5 == "exited" {
			if (from == "running" && ($2, $4) in run && $4 == "t") printf "%.3f\n", ($1 - run[$2, $4]) / 1e6
			if (from == "stop" && $2 in stop && $4 != "t") printf "%.3f\n", ($1 - stop[$2]) / 1e6
		}
		# the CLI (apply, run) to its supervisor running, and the
		# sandbox: the infra process made and set up
		$3 == "cli" && ($4 == "run" || $4 == "apply") && NF == 4 { cli = $1 }
		from == "spawn" && $3 == "sup" && $4 == "start" && cli { printf "%.3f\n", ($1 - cli) / 1e6; cli = 0 }
		$3 == "sandbox" && $4 == "create" { sb[$2] = $1 }
		from == "infra" && $3 == "sandbox" && $4 == "infra" && $5 == "up" && $2 in sb { printf "%.3f\n", ($1 - sb[$2]) / 1e6 }
		# delete: the supervisor gone to the CLI done (the record
		# removed, under the lock the exiting supervisor lets go of)
		$3 == "delete" && $4 == "supervisor" && $5 == "gone" { gone[$2] = $1 }
		from == "gone" && $3 == "cli" && $4 == "delete" && $5 == "exit" && $2 in gone { printf "%.3f\n", ($1 - gone[$2]) / 1e6 }
		' >"$1.$2"
}
for s in a b; do
	for k in running stop spawn infra gone; do
		steps "$TMP/$s.trace" $k
	done
done
for k in running stop spawn infra gone; do
	case $k in
	running) label="trace: /bin/true container \`running\` -> \`exited\` (its run and exit)" ;;
	stop) label="trace: delete, \`sup stop\` -> each container \`exited\`" ;;
	spawn) label="trace: \`cli run\`/\`cli apply\` -> \`sup start\` (manifest read, supervisor forked)" ;;
	infra) label="trace: \`sandbox create\` -> \`sandbox infra up\` (/dev/shm, infra process made and set up, or awaited when cloned ahead)" ;;
	gone) label="trace: delete, \`delete supervisor gone\` -> \`cli delete exit\` (the record removed)" ;;
	esac
	echo "| $label | $(stat "$TMP/a.trace.$k") | $(stat "$TMP/b.trace.$k") | $(awk -v a="$(med "$TMP/a.trace.$k")" -v b="$(med "$TMP/b.trace.$k")" 'BEGIN{printf "%.2f", b / a}') |"
done

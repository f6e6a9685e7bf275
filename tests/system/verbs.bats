#!/usr/bin/env bats
# Help for every verb (made from the tables the verbs parse with), unknown
# flags, version, the completion scripts and __complete, get of several
# kinds at once, get -w on a deleted pod, and exit status 1 with a one-line
# reason for every verb given an object that does not exist.

load helpers
load pods_helpers

# sleeper NAME [CONTAINER...]: a Running pod whose containers wait for SIGTERM.
sleeper() {
	local name=$1
	shift
	printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n' "$name"
	printf '  terminationGracePeriodSeconds: 1\n  containers:\n'
	for c in "${@:-c}"; do
		printf '    - {name: %s, image: "@IMAGE@", command: ["sh", "-c", "%s"]}\n' \
			"$c" "$UNTIL_TERM"
	done
}

# verbs: the visible verbs, as __complete lists them, then the subcommands
# of image and system as "image:pull" (one word each; split with ${v/:/ })
verbs() {
	"$PEAPOD" __complete ""
	"$PEAPOD" __complete image "" | sed 's/^/image:/'
	"$PEAPOD" __complete system "" | sed 's/^/system:/'
}

@test "help: every verb's --help, -h and help VERB, exit 0, kubectl's layout; each flag shown is taken" {
	local n=0
	for word in $(verbs); do
		local -a v=(${word/:/ })
		run_peapod "${v[@]}" --help
		assert_status 0
		assert_stdout_contains "Examples:"
		assert_stdout_contains "Usage:"
		assert_stdout_contains "  peapod ${v[*]}"
		local help=$output
		# kubectl's order: Examples, Options, Usage
		awk '/^Examples:/{e=NR} /^Options:/{o=NR} /^Usage:/{u=NR}
		     END{exit !(e && u > e && (!o || (o > e && o < u)))}' <<<"$help" ||
			fail "$v: sections out of order"
		run_peapod help "${v[@]}"
		[ "$output" = "$help" ] || fail "help ${v[*]} differs from ${v[*]} --help"
		# each long option the help lists is one the verb takes: the flag
		# (a dummy value when it takes one) then --help still prints help
		for flag in $(grep -oE '^    (-[a-zA-Z], )?--[a-z-]+(\[?=[^:]*)?:' <<<"$help" |
			sed -E 's/^ +(-., )?//; s/:$//'); do
			local arg=${flag%%[[=]*}
			[ "$arg" = "--help" ] && continue
			[[ "$flag" == *=* ]] && arg="$arg=x"
			run_peapod "${v[@]}" "$arg" --help
			[ "$status" -eq 0 ] || fail "peapod ${v[*]} $arg --help: $stderr"
			[ "$output" = "$help" ] || fail "peapod ${v[*]} $arg --help: not the help"
			n=$((n + 1))
		done
	done
	[ "$n" -gt 80 ] || fail "only $n flags checked"
	run_peapod logs -h
	assert_status 0
	assert_stdout_contains "--all-containers"
	run_peapod exec web -h
	assert_status 0
	assert_stdout_contains "peapod exec [-i] [-t] POD"
}

@test "help: peapod --help and help list the verbs grouped as kubectl's" {
	run_peapod --help
	assert_status 0
	local top=$output
	for g in "Basic Commands:" "Troubleshooting and Debugging Commands:" \
		"Advanced Commands:" "Other Commands:"; do
		assert_stdout_contains "$g"
	done
	assert_line_re '  get +list pods.*'
	assert_line_re '  port-forward +forward.*'
	refute_stdout_contains "__complete"
	run_peapod help
	[ "$output" = "$top" ] || fail "help differs from --help"
	assert_order "Basic Commands:" "Troubleshooting and Debugging Commands:"
	assert_order "Troubleshooting and Debugging Commands:" "Other Commands:"
	run_peapod help nosuchverb
	assert_status 2
	assert_stderr_contains 'unknown command "nosuchverb"'
	run_peapod nosuchverb
	assert_status 2
	assert_stderr_contains "see 'peapod --help'"
}

@test "unknown flags: one line naming the flag and the verb's help, exit 1" {
	for word in $(verbs); do
		[ "$word" = image ] || [ "$word" = system ] && continue # the subcommands' below
		local -a v=(${word/:/ })
		run_peapod "${v[@]}" --no-such-flag
		[ "$status" -eq 1 ] || fail "${v[*]}: status $status"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "${v[*]}: ${#stderr_lines[@]} lines: $stderr"
		assert_stderr_contains "unknown flag --no-such-flag; see 'peapod ${v[*]} --help'"
	done
	# a flag of the table import, rm and prune share, which rm does not take
	run_peapod image rm --entrypoint x busybox
	assert_status 1
	assert_stderr_contains "unknown flag --entrypoint; see 'peapod image rm --help'"
	run_peapod get -Z
	assert_status 1
	assert_stderr_contains "unknown flag -Z"
	run_peapod get pods -o
	assert_status 1
	assert_stderr_contains "flag needs an argument: -o; see 'peapod get --help'"
	# a flag of the table logs and attach share, which attach does not take
	run_peapod attach web --tail 3
	assert_status 1
	assert_stderr_contains "unknown flag --tail; see 'peapod attach --help'"
	run_peapod stats --containers
	assert_status 1
	assert_stderr_contains "unknown flag --containers"
}

@test "version: client, store format, kernel features; -o json|yaml; --version" {
	run_peapod version
	assert_status 0
	assert_line_re '^Client Version: .+'
	assert_line_re '^Store Format: [0-9]+$'
	assert_line_re '^  cgroup layout: +(v1|hybrid|v2)$'
	for f in "idmapped mounts" "seccomp" "user namespaces" "pidfd" "clone3 into cgroup" \
		overlayfs isa-l; do
		assert_line_re "  $f: +(yes|no)( .*)?"
	done
	# the layout as the cgroup code found it
	local layout=v1
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && layout=v2
	[ -d /sys/fs/cgroup/unified ] && [ "$(stat -fc %T /sys/fs/cgroup/unified)" = cgroup2fs ] &&
		layout=hybrid
	assert_line_re "^  cgroup layout: +$layout$"
	run_peapod version -o json
	assert_status 0
	[ "$(json_get 'd["features"]["cgroupLayout"]' <<<"$output")" = "$layout" ] || fail "json"
	json_get 'd["clientVersion"]["gitVersion"]' <<<"$output" >/dev/null || fail "gitVersion"
	[ "$(json_get 'd["features"]["overlayfs"]' <<<"$output")" = true ] || fail "overlayfs"
	run_peapod version -o yaml
	assert_line_re '  cgroupLayout: .+'
	assert_line_re '^storeFormat: [0-9]+$'
	run_peapod --version
	assert_status 0
	assert_line_re 'Client Version: .+'
	run_peapod version --client
	[ "${#lines[@]}" -eq 1 ] || fail "--client: $output"
	run_peapod version -o xml
	assert_status 1
}

@test "completion: bash completes verbs, flags, pod and container names, kinds, images" {
	apply_ok < <(sleeper web-1 app sidecar)
	apply_ok < <(sleeper db)
	pp create configmap settings --from-literal=a=b >/dev/null
	eventually 20 status_is web-1 Running
	run_peapod completion bash
	assert_status 0
	local script=$output
	# the script's function called as bash calls it
	complete_words() {
		bash -c '
			peapod() { "$PEAPOD" "$@"; }
			source /dev/stdin
			complete -p peapod >/dev/null || exit 9
			fn=$(complete -p peapod | sed -E "s/.*-F ([^ ]+).*/\1/")
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_WORDS[0]=$PEAPOD
			"$fn"
			printf "%s\n" "${COMPREPLY[@]}"' bash "$@" <<<"$script"
	}
	run complete_words peapod lo
	assert_stdout "logs"
	run complete_words peapod logs web
	assert_stdout "web-1"
	run complete_words peapod logs ""
	assert_stdout "$(printf '%s\n' db web-1)"
	run complete_words peapod logs web-1 -c ""
	assert_stdout "$(printf '%s\n' app sidecar)"
	run complete_words peapod exec -c s web-1
	run complete_words peapod exec web-1 --container s
	assert_stdout "sidecar"
	run complete_words peapod get ""
	assert_line "pods"
	assert_line "configmaps"
	assert_line "all"
	run complete_words peapod get configmaps ""
	assert_stdout "settings"
	run complete_words peapod describe pod w
	assert_stdout "web-1"
	run complete_words peapod get pods --sh
	assert_stdout "--show-labels"
	run complete_words peapod get pods -n ""
	assert_line "default"
	run complete_words peapod image inspect "busy"
	assert_line "$IMAGE"
	run complete_words peapod completion ""
	assert_stdout "$(printf '%s\n' bash zsh fish)"
	pp delete configmap settings >/dev/null
}

@test "completion: zsh and fish scripts (parsed when the shells exist), __complete as their source" {
	for sh in zsh fish; do
		run_peapod completion "$sh"
		assert_status 0
		assert_stdout_contains "__complete"
		if command -v "$sh" >/dev/null; then
			"$sh" -n <<<"$output" || fail "$sh does not parse its script"
		fi
	done
	run_peapod completion tcsh
	assert_status 1
	assert_stderr_contains 'unknown shell "tcsh"'
	apply_ok < <(sleeper web-1)
	run_peapod __complete "logs" "w"
	assert_stdout "web-1"
	run_peapod __complete "create" "secret" ""
	assert_stdout "$(printf '%s\n' generic tls docker-registry)"
}

@test "get of several kinds: pods,configmaps and all with kind/NAME rows, sections apart; TYPE/NAME arguments" {
	apply_ok < <(sleeper web)
	pp create configmap settings --from-literal=a=b >/dev/null
	eventually 20 status_is web Running
	run_peapod get pods,configmaps
	assert_status 0
	assert_line_re '^NAME +READY +STATUS +RESTARTS +AGE$'
	assert_line_re 'pod/web +1/1 +Running +0 +[0-9]+s'
	assert_line_re '^NAME +DATA +AGE$'
	assert_line_re 'configmap/settings +1 +[0-9]+s'
	assert_line ""
	# a blank line between the two sections, none elsewhere
	[ "$(grep -c '^$' <<<"$output")" -eq 1 ] || fail "blank lines"
	# the columns still line up: READY right under the header's
	local h r
	h=$(grep '^NAME .*READY' <<<"$output" | awk '{print index($0, "READY")}')
	r=$(grep '^pod/web' <<<"$output" | awk '{print index($0, "1/1")}')
	[ "$h" -eq "$r" ] || fail "READY at $h, 1/1 at $r"
	run_peapod get all
	assert_status 0
	assert_line_re 'pod/web +1/1 +Running .*'
	refute_stdout_contains "configmap/"
	run_peapod get pod/web configmap/settings
	assert_status 0
	assert_line_re 'pod/web +1/1 +Running .*'
	assert_line_re 'configmap/settings +1 +[0-9]+s'
	run_peapod get pod/web
	assert_line_re 'web +1/1 +Running .*'
	run_peapod get pods,configmaps -o name
	assert_stdout "$(printf '%s\n' pod/web configmap/settings)"
	run_peapod get pod/web configmap/nope
	assert_status 1
	assert_stderr_contains 'configmaps "nope" not found'
	run_peapod get pod/web nokind/x
	assert_status 2
	pp delete configmap settings >/dev/null
}

@test "get -w: a deleted pod's last row, --watch-only too; a pod created while watching shows up" {
	apply_ok < <(sleeper gone)
	eventually 20 status_is gone Running
	env --default-signal=INT "$PEAPOD" get pods -w >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
	# bounded: teardown kills BG_PID only, this one ends by itself on a failure
	timeout -s INT 60 env --default-signal=INT "$PEAPOD" get pods gone --watch-only \
		>"$TEST_DIR/only" 2>&1 3>&- &
	local only_pid=$!
	eventually 10 grep -qE '^gone ' "$TEST_DIR/out"
	sleep 0.5 # both watching
	apply_ok < <(sleeper born)
	eventually 20 status_is born Running
	eventually 10 grep -qE '^born +1/1 +Running' "$TEST_DIR/out"
	pp delete pod gone >/dev/null
	# after the delete, the pod's row once more: the last line of each
	eventually 10 sh -c "tail -n1 '$TEST_DIR/out' | grep -qE '^gone '" ||
		{ cat "$TEST_DIR/out"; false; }
	eventually 10 sh -c "tail -n1 '$TEST_DIR/only' | grep -qE '^gone '" ||
		{ cat "$TEST_DIR/only"; false; }
	# the row printed when it went is the last one it had before
	# (its last row twice: when it changed last, and when it went; for
	# --watch-only, once at least: it printed a pod it had not shown yet)
	[ "$(grep -E '^gone ' "$TEST_DIR/out" | awk '{print $1, $2, $3}' | tail -n2 | uniq | wc -l)" -eq 1 ] &&
		[ "$(grep -cE '^gone ' "$TEST_DIR/out")" -ge 2 ] || { cat "$TEST_DIR/out"; fail "no last row"; }
	[ "$(grep -E '^gone ' "$TEST_DIR/only" | awk '{print $1, $2, $3}' | tail -n2 | uniq | wc -l)" -eq 1 ] ||
		{ cat "$TEST_DIR/only"; fail "no last row (--watch-only)"; }
	[ "$(head -n1 "$TEST_DIR/only" | awk '{print $1}')" = NAME ] || fail "--watch-only: a header first"
	kill -INT "$BG_PID" "$only_pid"
	wait "$only_pid" || true
	wait_bg 10
	[ "$(grep -c '^NAME' "$TEST_DIR/out")" -eq 1 ] || fail "one header"
}

@test "exit status 1 and one line naming the object, for every verb given one that does not exist" {
	local img_tar=$TEST_DIR/x.tar
	while IFS='|' read -r cmd what; do
		# shellcheck disable=SC2086
		run_peapod $cmd
		[ "$status" -eq 1 ] || fail "peapod $cmd: status $status ($stderr)"
		local last=${stderr_lines[${#stderr_lines[@]} - 1]}
		[[ "$last" == *"$what"* ]] || fail "peapod $cmd: '$last' does not name $what"
		[[ "$cmd" == debug* ]] || [ "${#stderr_lines[@]}" -eq 1 ] ||
			fail "peapod $cmd: ${#stderr_lines[@]} lines: $stderr"
		[ -z "$output" ] || fail "peapod $cmd: printed $output"
	done <<EOF
describe pod nope|"nope"
logs nope|"nope"
exec nope -- true|"nope"
attach nope|"nope"
inspect nope|"nope"
delete pod nope|"nope"
wait pod/nope --for=condition=Ready --timeout=1s|"nope"
pause nope|"nope"
unpause nope|"nope"
cp nope:/x $TEST_DIR/y|"nope"
port-forward nope 1234:80|"nope"
debug nope --image $IMAGE|"nope"
get pod nope|"nope"
top pod nope|"nope"
stats nope|"nope"
events --for pod/nope|"nope"
get configmap nope|configmaps "nope"
describe configmap nope|configmaps "nope"
delete configmap nope|configmaps "nope"
get secret nope|secrets "nope"
describe secret nope|secrets "nope"
delete secret nope|secrets "nope"
get pvc nope|persistentvolumeclaims "nope"
describe pvc nope|persistentvolumeclaims "nope"
delete pvc nope|persistentvolumeclaims "nope"
get pv nope|persistentvolumes "nope"
image inspect nope|"nope:latest"
image rm nope|"nope:latest"
image tag nope other|"nope:latest"
image save nope -o $img_tar|"nope:latest"
EOF
	[ ! -e "$img_tar" ] || fail "save left $img_tar"
}

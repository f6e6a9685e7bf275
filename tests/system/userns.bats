#!/usr/bin/env bats
# hostUsers: false: every pod in a user namespace of its own with a range
# of 65536 host ids, so that root in the container is an unprivileged id on
# the host. Each test reads the ids back from the host's side (/proc/PID,
# file owners) as well as from inside.

load helpers
load pods_helpers

setup_file() {
	FILE_SKIP=$(userns_missing)
	export FILE_SKIP
}

IDS_PER_POD=65536

# userns_pod NAME SCRIPT [VOLUME_YAML MOUNT_YAML]: a detached pod with
# hostUsers: false, one container c running sh -c SCRIPT, an emptyDir "e"
# at /e and, when given, more volumes and mounts (indented as in the spec).
userns_pod() {
	sh_pod "$1" Never "$2" "  hostUsers: false
  volumes:
    - name: e
      emptyDir: {}
${3:-}" "      volumeMounts:
        - {name: e, mountPath: /e}
${4:-}"
}

# range_of NAME: the first host id of the pod's range, from the allocator's
# record under $PEAPOD_RUN/userns (a file per range, named by its slot,
# holding the pod's uid).
range_of() {
	local uid f
	uid=$(pod_uid "$1") || return 1
	for f in "$PEAPOD_RUN"/userns/*; do
		[ "$(cat "$f")" = "$uid" ] && echo $(($(basename "$f") * IDS_PER_POD)) && return 0
	done
	echo "no id range recorded for pod $1 ($uid)" >&2
	return 1
}

# ranges_allocated: how many id ranges are recorded.
ranges_allocated() {
	find "$PEAPOD_RUN/userns" -mindepth 1 -maxdepth 1 ! -name .lock 2>/dev/null | wc -l
}

# host_uid PID: the real uid of PID as the host sees it.
host_uid() {
	awk '/^Uid:/ {print $2}' "/proc/$1/status"
}

@test "root in the container is 0 inside and the pod's own unprivileged id on the host" {
	apply_ok < <(userns_pod u "id -u > /e/inside; $UNTIL_TERM")
	eventually 10 ready u
	local base pid infra
	base=$(range_of u)
	[ "$base" -ge "$IDS_PER_POD" ] || fail "range $base overlaps the host's own ids"
	[ $((base % IDS_PER_POD)) -eq 0 ] || fail "range $base is not a multiple of $IDS_PER_POD"
	pid=$(container_pids u)
	[ "$(cat "$PEAPOD_ROOT/pods/$(pod_uid u)/volumes/e/inside")" = 0 ]
	[ "$(host_uid "$pid")" = "$base" ] || fail "host uid $(host_uid "$pid"), expected $base"
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = "$base" ]
	read -r inside outside count <"/proc/$pid/uid_map"
	[ "$inside $outside $count" = "0 $base $IDS_PER_POD" ] || fail "uid_map: $(cat "/proc/$pid/uid_map")"
	read -r inside outside count <"/proc/$pid/gid_map"
	[ "$inside $outside $count" = "0 $base $IDS_PER_POD" ] || fail "gid_map: $(cat "/proc/$pid/gid_map")"
	# The pod's net, ipc and uts namespaces are owned by its user namespace:
	# the infra process holding them is in it too, not in the host's.
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	for infra in $(suite_infra_pids); do
		[ "$(readlink "/proc/$infra/ns/net")" = "$(readlink "/proc/$pid/ns/net")" ] || continue
		[ "$(readlink "/proc/$infra/ns/user")" = "$(readlink "/proc/$pid/ns/user")" ] ||
			fail "the infra process is not in the pod's user namespace"
		# ... and, like any pod's, in the host's mount namespace (holding
		# no copy of the host's mounts), its root an empty tmpfs.
		[ "$(readlink "/proc/$infra/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] ||
			fail "the infra process has a mount namespace of its own"
		[ "$(host_uid "$infra")" = "$base" ]
	done
	# The default capabilities, relative to the pod's user namespace.
	[ "$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")" = 00000000a80425fb ]
	delete_ok u
	assert_no_leaks
}

@test "runAsUser, runAsGroup and fsGroup are ids of the pod's range on the host" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ids
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
  volumes:
    - name: e
      emptyDir: {}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - {name: e, mountPath: /e}
      command: ["sh", "-c", "touch /e/mine; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 10 ready ids
	local base pid dir
	base=$(range_of ids)
	pid=$(container_pids ids)
	[ "$(host_uid "$pid")" = $((base + 1000)) ] || fail "host uid $(host_uid "$pid")"
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = $((base + 3000)) ]
	dir=$PEAPOD_ROOT/pods/$(pod_uid ids)/volumes/e
	eventually 10 test -f "$dir/mine"
	[ "$(stat -c %g "$dir")" = $((base + 2000)) ] || fail "emptyDir group $(stat -c %g "$dir")"
	[ "$(stat -c %u:%g "$dir/mine")" = "$((base + 1000)):$((base + 2000))" ] ||
		fail "file owner $(stat -c %u:%g "$dir/mine")"
	run_peapod exec ids -- sh -c 'id -u; id -G; stat -c %g /e'
	assert_status 0
	assert_line 1000
	assert_line 2000
	delete_ok ids
	assert_no_leaks
}

@test "a terminal, a read-only root and a restarted container in the pod's user namespace" {
	# Each instance sets its traps, then records under its number, in the
	# pod's /dev/shm (which a restart keeps), its terminal and its failed
	# write to the root. It ends (exit 1) only on the test's USR1: the test
	# makes the restart, and no instance ends on its own under an exec.
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: misc
spec:
  hostUsers: false
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      tty: true
      securityContext: {readOnlyRootFilesystem: true}
      command:
        - sh
        - -c
        - |
          trap 'exit 0' TERM; trap 'exit 1' USR1
          n=$(cat /dev/shm/n 2>/dev/null || echo 0); echo $((n + 1)) > /dev/shm/n
          tty > /dev/shm/tty.$n; touch /ro 2>/dev/shm/ro.$n; : > /dev/shm/up.$n
          while true; do sleep 0.1; done
EOF
	eventually 10 ready misc
	eventually 10 pp exec misc -- test -e /dev/shm/up.0 || fail "the first instance never came up"
	local first userns pid
	first=$(container_pids misc)
	userns=$(readlink "/proc/$first/ns/user")
	kill -USR1 "$first"
	eventually 15 restarts_at_least misc 1 || fail "the container never restarted"
	eventually 10 ready misc
	inspect_is misc 'd["status"]["containerStatuses"][0]["restartCount"]' 1 || fail "restartCount is not 1"
	inspect_is misc 'd["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"]' 1 ||
		fail "the first instance did not end with its exit 1"
	# The restarted instance is in the pod's user namespace, as the first was.
	pid=$(container_pids misc)
	[ -n "$pid" ] && [ "$pid" != "$first" ] || fail "no new instance: pid '$pid', the first was $first"
	[ "$(readlink "/proc/$pid/ns/user")" = "$userns" ] || fail "the restarted instance left the pod's user namespace"
	[ "$(host_uid "$pid")" = "$(range_of misc)" ] || fail "the restarted instance has host uid $(host_uid "$pid")"
	# What the restarted instance saw: a terminal of its own, a read-only root.
	eventually 10 pp exec misc -- test -e /dev/shm/up.1 || fail "the restarted instance never came up"
	run_peapod exec misc -- sh -c 'cat /dev/shm/tty.1 /dev/shm/ro.1; stat -c %u:%g $(cat /dev/shm/tty.1)'
	assert_status 0
	assert_line_re '^/dev/pts/[0-9]+$'
	assert_stdout_contains 'Read-only file system'
	assert_line 0:5
	run_peapod exec -t misc -- id -u
	assert_status 0
	assert_stdout_contains 0
	delete_ok misc
	assert_no_leaks
}

@test "exec joins the pod's user namespace: root inside, the mapped id on the host" {
	apply_ok < <(userns_pod ex "exec tail -f /dev/null")
	eventually 10 ready ex
	local base
	base=$(range_of ex)
	run_peapod exec ex -- sh -c 'id -u; cat /proc/self/uid_map'
	assert_status 0
	[ "${lines[0]}" = 0 ] || fail "exec runs as ${lines[0]}"
	read -r inside outside count <<<"${lines[1]}"
	[ "$inside $outside $count" = "0 $base $IDS_PER_POD" ] || fail "exec's uid_map: ${lines[1]}"
	# The exec'd process, seen from the host while it runs.
	timeout -k 5 "$POD_TIMEOUT" "$PEAPOD" exec ex -- sleep 3 3>&- &
	local bg=$! userns pid p
	userns=$(readlink "/proc/$(container_pids ex)/ns/user")
	for ((i = 0; i < 50; i++)); do
		for p in $(pgrep -x sleep); do
			[ "$(readlink "/proc/$p/ns/user")" = "$userns" ] && pid=$p
		done
		[ -n "${pid:-}" ] && break
		sleep 0.1
	done
	[ -n "${pid:-}" ] || fail "the exec'd sleep never showed in the pod's user namespace"
	[ "$(host_uid "$pid")" = "$base" ] || fail "exec'd process has host uid $(host_uid "$pid")"
	wait "$bg"
	delete_ok ex
	assert_no_leaks
}

@test "an init container, exec and httpGet probes and a postStart hook work in the pod's user namespace" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  volumes:
    - name: www
      emptyDir: {}
  initContainers:
    - name: init
      image: @IMAGE@
      volumeMounts:
        - {name: www, mountPath: /www}
      command: ["sh", "-c", "echo ok > /www/ok.html"]
  containers:
    - name: web
      image: @IMAGE@
      volumeMounts:
        - {name: www, mountPath: /www}
      command: ["sh", "-c", "exec httpd -f -p 8080 -h /www"]
      readinessProbe:
        httpGet: {path: /ok.html, port: 8080}
        periodSeconds: 1
      livenessProbe:
        tcpSocket: {port: 8080}
        periodSeconds: 1
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      lifecycle:
        postStart:
          exec: {command: ["sh", "-c", "id -u > /tmp/hook"]}
      readinessProbe:
        exec: {command: ["sh", "-c", "test \"$(cat /tmp/hook)\" = 0"]}
        periodSeconds: 1
EOF
	eventually 15 ready probed || fail "the probes never passed"
	run_peapod exec probed -c c -- cat /tmp/hook
	assert_stdout 0
	run_peapod get pods probed
	assert_line_re 'probed +2/2 +Running +0 +[0-9]+[smh]'
	run_peapod describe pod probed
	refute_stdout_contains Unhealthy
	delete_ok probed
	assert_no_leaks
}

@test "files the pod creates on an emptyDir and a hostPath are the pod's ids on the host" {
	local hp=$TEST_DIR/hp
	mkdir -m 0777 "$hp"
	apply_ok < <(userns_pod vol "touch /e/made /h/made /sub/made; mkdir /e/d; echo done > /e/ok; $UNTIL_TERM" \
		"    - name: h
      hostPath: {path: $hp, type: Directory}" "        - {name: h, mountPath: /h}
        - {name: e, mountPath: /sub, subPath: deep}")
	eventually 10 ready vol
	local base dir
	base=$(range_of vol)
	dir=$PEAPOD_ROOT/pods/$(pod_uid vol)/volumes/e
	eventually 10 test -f "$dir/ok"
	[ "$(stat -c %u:%g "$dir/made")" = "$base:$base" ] || fail "emptyDir file: $(stat -c %u:%g "$dir/made")"
	[ "$(stat -c %u:%g "$dir/d")" = "$base:$base" ]
	# A subPath the runtime made in the emptyDir is the pod's root's too.
	[ "$(stat -c %u:%g "$dir/deep" "$dir/deep/made")" = "$base:$base"$'\n'"$base:$base" ] ||
		fail "subPath: $(stat -c %u:%g "$dir/deep" "$dir/deep/made")"
	[ "$(stat -c %u:%g "$hp/made")" = "$base:$base" ] || fail "hostPath file: $(stat -c %u:%g "$hp/made")"
	# Inside, the same files are root's.
	run_peapod exec vol -- stat -c %u:%g /e/made /h/made
	assert_stdout $'0:0\n0:0'
	delete_ok vol
	assert_no_leaks
}

@test "the pod's root cannot do what the host's root can: host-root files, mounts, devices" {
	local hp=$TEST_DIR/hp
	# Sticky, as /tmp: only the owner (or CAP_FOWNER over it) removes a file.
	mkdir -m 1777 "$hp"
	echo host >"$hp/rootfile"
	chmod 0644 "$hp/rootfile"
	echo secret >"$hp/private"
	chmod 0600 "$hp/private"
	apply_ok < <(userns_pod deny "$UNTIL_TERM" \
		"    - name: h
      hostPath: {path: $hp, type: Directory}" "        - {name: h, mountPath: /h}")
	eventually 10 ready deny
	# Host-root files show as nobody's, and root's capabilities do not reach them.
	run_peapod exec deny -- sh -c 'stat -c %u /h/rootfile; echo x >> /h/rootfile && echo wrote; cat /h/private && echo read; chown 0 /h/rootfile && echo chowned; rm /h/rootfile && echo removed; true'
	assert_status 0
	assert_line 65534
	refute_line wrote
	refute_line read
	refute_line chowned
	[ "$(cat "$hp/rootfile")" = host ] || fail "the host's file changed"
	[ "$(stat -c %u "$hp/rootfile")" = 0 ]
	# No mount (no SYS_ADMIN, even in its own user namespace), no device node.
	run_peapod exec deny -- sectool try mount
	assert_stdout EPERM
	run_peapod exec deny -- sectool try mknod_blk:/tmp/blk
	assert_stdout EPERM
	delete_ok deny
	assert_no_leaks
}

@test "/proc and /sys are the pod's: its own network devices, its hostname and sysctls" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sys
spec:
  hostUsers: false
  hostname: inside
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls:
      - {name: net.ipv4.ip_unprivileged_port_start, value: "80"}
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 10 ready sys
	run_peapod exec sys -- sh -c 'ls /sys/class/net; hostname; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; echo "10.9.9.9 extra" >> /etc/hosts && echo hosts-written'
	assert_status 0
	# /etc/hosts is the pod's root's, as in any pod.
	assert_line hosts-written
	assert_line lo
	refute_line eth0
	assert_line inside
	assert_line 80
	delete_ok sys
	assert_no_leaks
}

@test "two pods get disjoint ranges; delete frees its range, gc frees a dead pod's" {
	apply_ok < <(userns_pod one "$UNTIL_TERM")
	apply_ok < <(userns_pod two "$UNTIL_TERM")
	eventually 10 ready one
	eventually 10 ready two
	local a b
	a=$(range_of one)
	b=$(range_of two)
	[ "$a" != "$b" ] || fail "both pods have range $a"
	[ $((a - b)) -ge "$IDS_PER_POD" ] || [ $((b - a)) -ge "$IDS_PER_POD" ] || fail "ranges $a and $b overlap"
	[ "$(ranges_allocated)" -eq 2 ]
	delete_ok one
	[ "$(ranges_allocated)" -eq 1 ] || fail "delete left $(ranges_allocated) ranges"
	# A pod whose supervisor died keeps its range until gc.
	local sup
	sup=$(sup_pid two)
	kill -KILL "$sup"
	eventually 10 none_alive "$sup"
	eventually 10 no_infra
	[ "$(ranges_allocated)" -eq 1 ]
	# A range whose pod has no record at all (a crash at the wrong moment).
	printf ghost-uid >"$PEAPOD_RUN/userns/4000"
	run_peapod gc
	assert_status 0
	[ "$(ranges_allocated)" -eq 0 ] || fail "gc left $(ranges_allocated) ranges"
	# A freed range is given again.
	apply_ok < <(userns_pod three "$UNTIL_TERM")
	eventually 10 ready three
	[ "$(range_of three)" = "$a" ] || [ "$(range_of three)" = "$b" ] || fail "range $(range_of three) is new"
	delete_ok three
	assert_no_leaks
}

@test "hostUsers: true and unset run in the host's user namespace, as before" {
	apply_ok < <(userns_pod host "$UNTIL_TERM" | sed 's/hostUsers: false/hostUsers: true/')
	eventually 10 ready host
	local pid
	pid=$(container_pids host)
	[ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ]
	[ "$(host_uid "$pid")" = 0 ]
	[ "$(ranges_allocated)" -eq 0 ]
	delete_ok host
	assert_no_leaks
}

@test "privileged in the pod's user namespace: its own mounts, but not the host's nor the locked ones" {
	local fwd host
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host=$(hostname)
	run_pod <<<"$(sh_pod priv Never '
mount -t tmpfs x /tmp && echo mounted-tmpfs
mount -o remount,rw / 2>/dev/null && echo remounted-root-rw
umount -l /proc 2>/dev/null && echo unmounted-proc
hostname changed && echo hostname-$(hostname)
echo 1 > /proc/sys/net/ipv4/ip_forward && echo forwarding-$(cat /proc/sys/net/ipv4/ip_forward)
grep -q 000001ffffffffff /proc/self/status && echo all-caps
true' '  hostUsers: false' '      securityContext: {privileged: true, readOnlyRootFilesystem: true}')"
	assert_status 0
	assert_line "[c] mounted-tmpfs"
	refute_line "[c] remounted-root-rw"
	refute_line "[c] unmounted-proc"
	# Its namespaces are the pod's: root there configures them.
	assert_line "[c] hostname-changed"
	assert_line "[c] forwarding-1"
	assert_line "[c] all-caps"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ] || fail "the host's ip_forward changed"
	[ "$(hostname)" = "$host" ] || fail "the host's hostname changed"
	assert_no_leaks
}

@test "even privileged, the pod's root cannot ptrace the infra process nor open its exe (CVE-2019-5736)" {
	local sum
	sum=$(md5sum <"$PEAPOD")
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ptr
spec:
  hostUsers: false
  shareProcessNamespace: true
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      securityContext: {privileged: true}
      command: ["sh", "-c", "sectool try ptrace_attach:1; sectool try open_exe_read:1; sectool try open_exe_write:1"]
EOF
	assert_status 0
	# Its capabilities are the pod's user namespace's; the infra process's
	# memory belongs to the host's.
	assert_stdout "[c] EPERM"$'\n'"[c] EACCES"$'\n'"[c] EACCES"
	[ "$(md5sum <"$PEAPOD")" = "$sum" ] || fail "peapod's binary changed"
	assert_no_leaks
}

@test "a workingDir the runtime creates belongs to the pod's root" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: wd
spec:
  hostUsers: false
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      workingDir: /made/here
      command: ["sh", "-c", "pwd; stat -c %u:%g .; touch x && echo wrote; stat -c %u /bin"]
EOF
	assert_status 0
	assert_stdout "[c] /made/here"$'\n'"[c] 0:0"$'\n'"[c] wrote"$'\n'"[c] 0"
	assert_no_leaks
}

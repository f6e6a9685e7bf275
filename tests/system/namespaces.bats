#!/usr/bin/env bats
# The pod's shared context: network, IPC and UTS namespaces shared by its
# containers (and not the host's), PID namespaces per container or shared,
# /dev/shm, and hostNetwork / hostPID / hostIPC.

load helpers

@test "containers share the pod's net, ipc and uts namespaces, which are not the host's" {
	local cmd='["sh", "-c", "for n in net ipc uts; do echo $n=`readlink /proc/self/ns/$n`; done"]'
	run_pod <<<"$(pair_pod ns-share "$cmd" "$cmd")"
	assert_status 0
	local n a b
	for n in net ipc uts; do
		a=$(sed -n "s/^\[a\] $n=//p" <<<"$output")
		b=$(sed -n "s/^\[b\] $n=//p" <<<"$output")
		[ -n "$a" ] || fail "container a printed no $n namespace"
		[ "$a" = "$b" ] || fail "$n namespaces differ: a $a, b $b"
		[ "$a" != "$(readlink /proc/self/ns/$n)" ] || fail "the pod uses the host's $n namespace"
	done
	assert_no_leaks
}

@test "localhost (127.0.0.1) reaches another container's server (busybox httpd + wget)" {
	run_pod <<<"$(sync_pod localhost web '
mkdir -p /tmp/www
echo "hello over localhost" > /tmp/www/index.html
# httpd daemonizes; it dies with the PID namespace of this container.
httpd -p 8080 -h /tmp/www
await done 200
echo web done
' client '
i=0
until wget -q -O - http://127.0.0.1:8080/index.html; do
  i=`expr $i + 1`
  [ $i -lt 100 ] || { echo "no answer"; touch /sync/done; exit 1; }
  sleep 0.1
done
touch /sync/done
')"
	assert_status 0
	assert_line "[client] hello over localhost"
	assert_line "[web] web done"
	assert_no_leaks
}

@test "the loopback interface is up and host interfaces are not in the pod" {
	run_pod <<<"$(sh_pod loopback Never '
ip -o link show lo | grep -q "[<,]UP[,>]" && echo "lo is up"
ip -o -4 addr show dev lo | sed "s/.* inet \([^ ]*\) .*/addr \1/"
ip -o link | sed "s/^[0-9]*: \([^:@]*\).*/has \1/"
ls /sys/class/net | sed "s/^/sys /"
')"
	assert_status 0
	assert_line "[c] lo is up"
	assert_line "[c] addr 127.0.0.1/8"
	assert_line "[c] has lo"
	assert_line "[c] sys lo"
	local i
	for i in $(ip -o link | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
		[ "$i" = lo ] || refute_line "[c] has $i"
		[ "$i" = lo ] || refute_line "[c] sys $i"
	done
	assert_no_leaks
}

@test "SysV shared memory, semaphores and message queues are shared by the pod's containers" {
	run_pod <<<"$(sync_pod sysv-ipc writer '
shmtool sysv-write 4242 "shared segment text" &&
shmtool sem-create 4243 &&
shmtool msg-send 4244 "queued message" &&
touch /sync/written
' reader '
await written 100 || exit 9
echo "shm: `shmtool sysv-read 4242`"
shmtool sem-exists 4243 && echo "sem: exists"
echo "msg: `shmtool msg-recv 4244`"
shmtool sysv-rm 4242
')"
	assert_status 0
	assert_line "[reader] shm: shared segment text"
	assert_line "[reader] sem: exists"
	assert_line "[reader] msg: queued message"
	assert_no_leaks
}

@test "the host's IPC namespace does not see the pod's SysV objects" {
	run_pod <<<"$(sh_pod ipc-private Never '
shmtool sysv-write 4252 "pod only" && echo written
')"
	assert_status 0
	assert_line "[c] written"
	run "$HELPERS/shmtool" sysv-read 4252
	[ "$status" -ne 0 ] || fail "the host reads the pod's segment 4252: $output"
	assert_no_leaks
}

@test "POSIX shared memory in /dev/shm is shared by the pod's containers" {
	run_pod <<<"$(sync_pod posix-shm writer '
shmtool posix-write peapod-test "posix text" && ls /dev/shm && touch /sync/written
' reader '
await written 100 || exit 9
echo "posix: `shmtool posix-read peapod-test`"
ls /dev/shm
')"
	assert_status 0
	assert_line "[writer] peapod-test"
	assert_line "[reader] posix: posix text"
	assert_line "[reader] peapod-test"
	assert_no_leaks
}

@test "/dev/shm is a 64 MiB tmpfs" {
	run_pod <<<"$(sh_pod devshm Never '
awk "\$2 == \"/dev/shm\" {print \"fstype\", \$3}" /proc/mounts
df -k /dev/shm | awk "NR == 2 {print \"size\", \$2}"
')"
	assert_status 0
	assert_stdout "[c] fstype tmpfs
[c] size 65536"
	assert_no_leaks
}

@test "all containers have the pod name as hostname" {
	local cmd='["sh", "-c", "echo `hostname` `uname -n` `cat /etc/hostname` $HOSTNAME"]'
	run_pod <<<"$(pair_pod host-name-pod "$cmd" "$cmd")"
	assert_status 0
	assert_line "[a] host-name-pod host-name-pod host-name-pod host-name-pod"
	assert_line "[b] host-name-pod host-name-pod host-name-pod host-name-pod"
	assert_no_leaks
}

@test "spec.hostname overrides the pod name as hostname" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: named-pod
spec:
  hostname: custom-host
  restartPolicy: Never
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "echo `hostname` `cat /etc/hostname` $HOSTNAME"]
EOF
	assert_status 0
	assert_stdout "[a] custom-host custom-host custom-host"
	assert_no_leaks
}

@test "without shareProcessNamespace each container is PID 1 and sees only its own processes" {
	run_pod <<<"$(sync_pod pid-private a '
: token-a
# $$$$ is a shell $$ after the $$ escaping of Kubernetes
echo "pid $$$$"
touch /sync/a-up
await b-done 200
' b '
echo "pid $$$$"
await a-up 100
if grep -l "token[-]a" /proc/[0-9]*/cmdline 2>/dev/null; then echo "sees a"; else echo "does not see a"; fi
touch /sync/b-done
')"
	assert_status 0
	assert_line "[a] pid 1"
	assert_line "[b] pid 1"
	assert_line "[b] does not see a"
	assert_no_leaks
}

@test "with shareProcessNamespace PID 1 is the infra and containers see each other" {
	# (b takes a's lowest pid with the token: its shell; a's await forks
	# short-lived subshells with the same command line, and /proc/13 sorts
	# before /proc/2: a loaded run once picked one that was gone)
	run_pod <<<"$(sync_pod pid-shared a '
: token-a
echo "a: secret of a" > /tmp/secret-a
echo "pid1 `cat /proc/1/comm`"
[ "$$$$" != 1 ] && echo "a is not pid 1"
touch /sync/a-up
await b-done 200
' b '
await a-up 100
echo "pid1 `cat /proc/1/comm`"
a=`grep -l "token[-]a" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | sort -n | head -1`
if [ -n "$a" ]; then echo "sees a"; cat /proc/$a/root/tmp/secret-a; fi
[ -e /tmp/secret-a ] || echo "own /tmp has no secret-a"
touch /sync/b-done
' '  shareProcessNamespace: true')"
	assert_status 0
	assert_line "[a] pid1 peapod-infra"
	assert_line "[a] a is not pid 1"
	assert_line "[b] pid1 peapod-infra"
	assert_line "[b] sees a"
	assert_line "[b] a: secret of a"
	assert_line "[b] own /tmp has no secret-a"
	assert_no_leaks
}

@test "with shareProcessNamespace the infra reaps orphaned zombies" {
	run_pod <<<"$(sh_pod zombie-reaper Never '
# The middle shell exits at once: its sleep child is orphaned to PID 1.
sh -c "sleep 0.5 & echo \$! > /tmp/orphan"
p=`cat /tmp/orphan`
echo "orphan ppid `sed -n "s/^PPid:[[:space:]]*//p" /proc/$p/status`"
i=0
while [ -e /proc/$p ] && [ $i -lt 50 ]; do i=`expr $i + 1`; sleep 0.1; done
if [ -e /proc/$p ]; then echo "orphan left: `grep State: /proc/$p/status`"; else echo "orphan reaped"; fi
' | sed 's/^spec:$/spec:\n  shareProcessNamespace: true/')"
	assert_status 0
	assert_line "[c] orphan ppid 1"
	assert_line "[c] orphan reaped"
	assert_no_leaks
}

@test "hostNetwork uses the host's network namespace, interfaces and hostname" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: host-net
spec:
  hostNetwork: true
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command:
        - sh
        - -c
        - |
          echo "net `readlink /proc/self/ns/net`"
          echo "uts `readlink /proc/self/ns/uts`"
          echo "hostname `hostname`"
          ip -o link | awk -F': ' '{sub(/@.*/, "", $2); print "link", $2}' | sort
          ls /sys/class/net | sed 's/^/sys /' | sort
EOF
	assert_status 0
	assert_line "[c] net $(readlink /proc/self/ns/net)"
	assert_line "[c] hostname $(hostname)"
	local want
	want=$(ip -o link | awk -F': ' '{sub(/@.*/, "", $2); print "[c] link", $2}' | sort)
	[ "$(grep '^\[c\] link ' <<<"$output")" = "$want" ] || fail "interfaces differ from the host's:"$'\n'"$want"
	want=$(ls /sys/class/net | sed 's/^/[c] sys /' | sort)
	[ "$(grep '^\[c\] sys ' <<<"$output")" = "$want" ] || fail "/sys/class/net differs from the host's:"$'\n'"$want"
	assert_no_leaks
}

@test "hostPID sees the host's processes and hostIPC uses the host's IPC namespace" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: host-pid-ipc
spec:
  hostPID: true
  hostIPC: true
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command:
        - sh
        - -c
        - |
          echo "pid `readlink /proc/self/ns/pid`"
          echo "ipc `readlink /proc/self/ns/ipc`"
          echo "pid1 `cat /proc/1/comm`"
EOF
	assert_status 0
	assert_line "[c] pid $(readlink /proc/self/ns/pid)"
	assert_line "[c] ipc $(readlink /proc/self/ns/ipc)"
	assert_line "[c] pid1 $(cat /proc/1/comm)"
	assert_no_leaks
}

#!/usr/bin/env bats
# Each container's root filesystem: an overlay whose writes stay in the
# container, the kernel filesystems and device nodes a container expects,
# and the /etc files the pod provides.

load helpers

# The layer directories of the busybox test image, as one checksum.
image_layers_sum() {
	tree_sum "$PEAPOD_ROOT/layers"
}

@test "a write in one container is seen neither by the pod's other container nor by another pod, and the image is unchanged" {
	local before
	before=$(image_layers_sum)
	run_pod <<<"$(sync_pod overlay-writes a '
echo written-by-a > /etc/marker
echo "hacker::0:0::/:/bin/sh" >> /etc/passwd
rm /bin/ls
echo data > /tmp/a-file
cat /etc/marker
touch /sync/a-done
' b '
await a-done 100 || exit 9
[ -e /etc/marker ] && echo "b sees marker" || echo "b: no marker"
[ -e /tmp/a-file ] && echo "b sees a-file" || echo "b: no a-file"
grep -c hacker /etc/passwd
[ -e /bin/ls ] && echo "b: ls present"
')"
	assert_status 0
	assert_line "[a] written-by-a"
	assert_line "[b] b: no marker"
	assert_line "[b] b: no a-file"
	assert_line "[b] 0"
	assert_line "[b] b: ls present"
	assert_no_leaks

	run_pod <<<"$(sh_pod overlay-second-pod Never '
[ -e /etc/marker ] && echo "sees marker" || echo "no marker"
grep -c hacker /etc/passwd
[ -e /bin/ls ] && echo "ls present"
')"
	assert_status 0
	assert_stdout "[c] no marker
[c] 0
[c] ls present"
	[ "$(image_layers_sum)" = "$before" ] || fail "the image's layers under $PEAPOD_ROOT/layers changed"
	assert_no_leaks
}

@test "the container's writes survive within the container and the root is a volatile overlay" {
	# volatile (shown as fsync=volatile since 6.x): its upper layer is not
	# synced when the overlay goes (in the container's exit); the layer
	# goes with the container anyway.
	run_pod <<<"$(sh_pod overlay-type Never '
awk "\$2 == \"/\" {print \"root\", \$3}" /proc/mounts
awk "\$2 == \"/\" {print (\",\" \$4 \",\" ~ /,(fsync=)?volatile,/ ? \"volatile\" : \"synced\")}" /proc/mounts
echo kept > /root-file && cat /root-file
')"
	assert_status 0
	assert_stdout "[c] root overlay
[c] volatile
[c] kept"
	assert_no_leaks
}

@test "/proc, /dev, /dev/pts, /dev/mqueue, /dev/shm and a read-only /sys are mounted" {
	run_pod <<<"$(sh_pod kernel-fs Never '
for m in /proc /dev /dev/pts /dev/mqueue /dev/shm /sys; do
  awk -v m=$m "\$2 == m {split(\$4, o, \",\"); print m, \$3, o[1]}" /proc/mounts
done
touch /sys/peapod-test 2>/dev/null && echo "sys writable" || echo "sys read-only"
[ -r /proc/self/status ] && echo "proc works"
')"
	assert_status 0
	assert_line "[c] /proc proc rw"
	assert_line "[c] /dev tmpfs rw"
	assert_line_re '\[c\] /dev/pts devpts rw'
	assert_line "[c] /dev/mqueue mqueue rw"
	assert_line "[c] /dev/shm tmpfs rw"
	assert_line "[c] /sys sysfs ro"
	assert_line "[c] sys read-only"
	assert_line "[c] proc works"
	assert_no_leaks
}

@test "/dev has the standard device nodes and they work" {
	run_pod <<<"$(sh_pod dev-nodes Never '
for d in null zero full random urandom tty; do
  [ -c /dev/$d ] && echo "$d char" || echo "$d missing"
done
echo discard > /dev/null && echo "null writable"
echo "zero `head -c 4 /dev/zero | od -An -tx1 | tr -d " "`"
echo x > /dev/full 2>/dev/null && echo "full accepted" || echo "full refused"
echo "urandom `head -c 16 /dev/urandom | wc -c`"
[ -e /dev/ptmx ] && echo "ptmx present"
')"
	assert_status 0
	local d
	for d in null zero full random urandom tty; do
		assert_line "[c] $d char"
	done
	assert_line "[c] null writable"
	assert_line "[c] zero 00000000"
	assert_line "[c] full refused"
	assert_line "[c] urandom 16"
	assert_line "[c] ptmx present"
	assert_no_leaks
}

@test "the host's devices are not in the container's /dev" {
	run_pod <<<"$(sh_pod dev-private Never '
ls /dev | sort | tr "\n" " "; echo
')"
	assert_status 0
	refute_stdout_contains " vda "
	refute_stdout_contains " kmsg "
	refute_stdout_contains " mem "
	assert_no_leaks
}

@test "/etc/hosts has the localhost lines, the pod's hostname and the hostAliases" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hosts-pod
spec:
  restartPolicy: Never
  hostAliases:
    - ip: 10.1.2.3
      hostnames: [foo.local, bar.local]
    - ip: 10.1.2.4
      hostnames: [baz.local]
  containers:
    - name: c
      image: @IMAGE@
      command: ["cat", "/etc/hosts"]
EOF
	assert_status 0
	assert_line "[c] 127.0.0.1	localhost"
	assert_line "[c] 127.0.0.1	hosts-pod"
	assert_line "[c] # Entries added by HostAliases."
	assert_line "[c] 10.1.2.3	foo.local	bar.local"
	assert_line "[c] 10.1.2.4	baz.local"
	assert_order "[c] 127.0.0.1	localhost" "[c] 127.0.0.1	hosts-pod"
	assert_order "[c] 127.0.0.1	hosts-pod" "[c] # Entries added by HostAliases."
	assert_order "[c] # Entries added by HostAliases." "[c] 10.1.2.3	foo.local	bar.local"
	assert_order "[c] 10.1.2.3	foo.local	bar.local" "[c] 10.1.2.4	baz.local"
	assert_no_leaks
}

@test "/etc/hosts without hostAliases has no HostAliases section; /etc/hostname is the hostname" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: plain-hosts
spec:
  hostname: myhost
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "cat /etc/hosts; echo hostname-file `cat /etc/hostname`"]
EOF
	assert_status 0
	assert_line "[c] 127.0.0.1	myhost"
	assert_line "[c] hostname-file myhost"
	refute_stdout_contains "HostAliases"
	assert_no_leaks
}

@test "dnsPolicy None: /etc/resolv.conf is exactly the dnsConfig" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dns-none
spec:
  restartPolicy: Never
  dnsPolicy: "None"
  dnsConfig:
    nameservers: [10.9.8.7, 10.9.8.6]
    searches: [example.test, svc.example.test]
    options:
      - name: ndots
        value: "2"
      - name: edns0
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "grep -v '^#' /etc/resolv.conf | grep ."]
EOF
	assert_status 0
	assert_line "[c] nameserver 10.9.8.7"
	assert_line "[c] nameserver 10.9.8.6"
	assert_line "[c] search example.test svc.example.test"
	assert_line_re '\[c\] options (ndots:2 edns0|edns0 ndots:2)'
	assert_order "[c] nameserver 10.9.8.7" "[c] nameserver 10.9.8.6"
	[ "$(grep -c '^\[c\] nameserver' <<<"$output")" -eq 2 ] || fail "expected exactly the 2 nameservers of dnsConfig"
	assert_no_leaks
}

@test "dnsPolicy Default: /etc/resolv.conf is the host's merged with dnsConfig" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dns-default
spec:
  restartPolicy: Never
  dnsPolicy: Default
  dnsConfig:
    nameservers: [10.9.8.7]
    searches: [example.test]
    options:
      - name: ndots
        value: "3"
  containers:
    - name: c
      image: @IMAGE@
      command: ["cat", "/etc/resolv.conf"]
EOF
	assert_status 0
	local ns
	for ns in $(awk '$1 == "nameserver" {print $2}' /etc/resolv.conf); do
		assert_line "[c] nameserver $ns"
	done
	assert_line "[c] nameserver 10.9.8.7"
	assert_line_re '\[c\] search (.* )?example\.test( .*)?'
	assert_line_re '\[c\] options (.* )?ndots:3( .*)?'
	assert_no_leaks
}

@test "/etc/hosts, /etc/hostname and /etc/resolv.conf are the same in every container of the pod" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: etc-same
spec:
  restartPolicy: Never
  containers:
    - name: a
      image: @IMAGE@
      command: ["sh", "-c", "cat /etc/hosts /etc/hostname /etc/resolv.conf | md5sum"]
    - name: b
      image: @IMAGE@
      command: ["sh", "-c", "cat /etc/hosts /etc/hostname /etc/resolv.conf | md5sum"]
EOF
	assert_status 0
	local a b
	a=$(sed -n 's/^\[a\] //p' <<<"$output")
	b=$(sed -n 's/^\[b\] //p' <<<"$output")
	[ -n "$a" ] && [ "$a" = "$b" ] || fail "the containers' /etc files differ"
	assert_no_leaks
}

@test "with hostNetwork /etc/hosts is the host's plus the hostAliases" {
	run_pod <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: host-net-hosts
spec:
  hostNetwork: true
  restartPolicy: Never
  hostAliases:
    - ip: 10.1.2.3
      hostnames: [foo.local]
  containers:
    - name: c
      image: @IMAGE@
      command: ["cat", "/etc/hosts"]
EOF2
	assert_status 0
	local line
	# A minimal host (a chroot) may have no /etc/hosts: then only the aliases.
	if [ -f /etc/hosts ]; then
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			assert_line "[c] $line"
		done </etc/hosts
	fi
	assert_line "[c] 10.1.2.3	foo.local"
	assert_no_leaks
}

#!/usr/bin/env bats
# volumeMounts' mountPropagation: None (rprivate), HostToContainer (rslave)
# and Bidirectional (rshared, privileged containers only), with mounts made
# on the host and in containers while the pod runs.

load helpers
load pods_helpers

# shared_dir DIR: DIR (created) becomes a mount of its own, shared: the
# host's mounts are private here, and propagation needs a shared source
# (kubelet's directories are on an rshared mount). Removed by unmount_all.
shared_dir() {
	mkdir -p "$1"
	mount --bind "$1" "$1"
	mount --make-shared "$1"
}

# unmount_all DIR: the test's own host mounts at and below DIR, deepest first.
unmount_all() {
	umount -R "$1"
}

# mounted PATH: PATH is a mount point in the test's (the host's) namespace.
mounted() {
	awk -v p="$1" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo
}

# bidirectional_pod NAME VOLUME_SOURCE TMPFS: runs a pod of two containers
# sharing a volume (VOLUME_SOURCE: "hostPath: {...}", "emptyDir: {}"...). The
# privileged "mounter", once "reader" is up, mounts a tmpfs (TMPFS its
# source's name) at m in it through a Bidirectional mount and writes m/f;
# "reader" reads it through a HostToContainer mount and counts m's entries
# through a mount without propagation. Both ran to the end: the tmpfs and
# its file seen through HostToContainer, nothing through the other.
bidirectional_pod() {
	run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
    - name: vol
      $2
  containers:
    - name: mounter
      image: @IMAGE@
      securityContext: {privileged: true}
      volumeMounts:
        - {name: vol, mountPath: /shared, mountPropagation: Bidirectional}
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /shared/reader-up ] && [ \$i -lt 200 ]; do sleep 0.1; i=\`expr \$i + 1\`; done
          mkdir /shared/m && mount -t tmpfs $3 /shared/m && echo from-mounter > /shared/m/f.tmp && mv /shared/m/f.tmp /shared/m/f
          echo mounted
    - name: reader
      image: @IMAGE@
      volumeMounts:
        - {name: vol, mountPath: /seen, mountPropagation: HostToContainer}
        - {name: vol, mountPath: /private}
      command:
        - sh
        - -c
        - |
          touch /seen/reader-up
          i=0
          while [ ! -e /seen/m/f ] && [ \$i -lt 200 ]; do sleep 0.1; i=\`expr \$i + 1\`; done
          echo "seen: \`cat /seen/m/f\`"
          echo "private: \`ls -A /private/m | wc -l\`"
          ls -A /private/m
EOF
	assert_status 0
	assert_line "[mounter] mounted"
	assert_line "[reader] seen: from-mounter"
	assert_line "[reader] private: 0"
}

@test "HostToContainer: a host mount made after the pod started reaches the container; None does not" {
	local s=$TEST_DIR/shared
	shared_dir "$s"
	mkdir "$s/vol"
	local f
	f=$(write_manifest <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: host-to-container
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes:
    - name: hp
      hostPath: {path: @DIR@/shared/vol, type: Directory}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - {name: hp, mountPath: /slave, mountPropagation: HostToContainer}
        - {name: hp, mountPath: /none, mountPropagation: None}
        - {name: hp, mountPath: /default}
      command:
        - sh
        - -c
        - |
          echo ready
          i=0
          while [ ! -e /slave/go ] && [ $i -lt 200 ]; do sleep 0.1; i=`expr $i + 1`; done
          echo "slave: `cat /slave/sub/hello`"
          echo "none: `ls -A /none/sub | wc -l`"
          echo "default: `ls -A /default/sub | wc -l`"
          grep -c ' /slave/sub ' /proc/self/mountinfo
EOF
	)
	mkdir "$s/vol/sub"
	start_pod_bg "$f"
	wait_for_line "$TEST_DIR/out" "[c] ready"
	mount -t tmpfs peapod-test-h2c "$s/vol/sub"
	echo from-host >"$s/vol/sub/hello"
	touch "$s/vol/go"
	wait_bg 20
	assert_status 0
	assert_line "[c] slave: from-host"
	assert_line "[c] none: 0"
	assert_line "[c] default: 0"
	assert_line "[c] 1"
	unmount_all "$s"
	assert_no_leaks
}

@test "Bidirectional: a privileged container's mount reaches the host and a HostToContainer container" {
	local s=$TEST_DIR/shared
	shared_dir "$s"
	mkdir "$s/vol"
	bidirectional_pod bidirectional "hostPath: {path: @DIR@/shared/vol, type: Directory}" peapod-test-bidir
	# On the host, as with kubelet: the container's mount outlives the pod
	# (Kubernetes leaves it to the container to unmount what it mounted).
	mounted "$s/vol/m" || fail "the container's mount did not reach the host"
	[ "$(cat "$s/vol/m/f")" = from-mounter ] || fail "the host does not see the container's file"
	unmount_all "$s"
	assert_no_leaks
}

@test "Bidirectional on an emptyDir reaches the pod's other containers, never the host, and goes with the pod" {
	local medium
	for medium in '{}' '{medium: Memory}'; do
		bidirectional_pod bidirectional-empty-dir "emptyDir: $medium" peapod-test-ed
		assert_no_leaks
	done
}

@test "delete of a running pod whose containers made propagated mounts succeeds and leaves no mount of the pod's" {
	local s=$TEST_DIR/shared
	shared_dir "$s"
	mkdir "$s/vol"
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: mounts-at-delete
spec:
  terminationGracePeriodSeconds: 1
  volumes:
    - name: hp
      hostPath: {path: @DIR@/shared/vol, type: Directory}
    - name: disk
      emptyDir: {}
    - name: mem
      emptyDir: {medium: Memory}
  containers:
    - name: mounter
      image: @IMAGE@
      securityContext: {privileged: true}
      volumeMounts:
        - {name: hp, mountPath: /host, mountPropagation: Bidirectional}
        - {name: disk, mountPath: /disk, mountPropagation: Bidirectional}
        - {name: mem, mountPath: /mem, mountPropagation: Bidirectional}
      command:
        - sh
        - -c
        - |
          for d in /host /disk /mem; do
            mkdir $d/m && mount -t tmpfs peapod-test-del $d/m && mkdir $d/m/deeper && mount -t tmpfs peapod-test-del $d/m/deeper || exit 1
          done
          touch /host/done
          trap 'exit 0' TERM; while true; do sleep 0.1; done
    - name: reader
      image: @IMAGE@
      volumeMounts:
        - {name: disk, mountPath: /disk, mountPropagation: HostToContainer}
        - {name: mem, mountPath: /mem, mountPropagation: HostToContainer}
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 20 test -e "$s/vol/done"
	mounted "$s/vol/m/deeper" || fail "the container's nested mount did not reach the host"
	# the emptyDirs' mounts are the pod's own: none is on the host
	local uid
	uid=$(pod_uid mounts-at-delete)
	run grep -F "$uid" /proc/self/mountinfo
	[ -z "$output" ] || fail "a mount of the pod's is on the host: $output"
	delete_ok mounts-at-delete
	# the hostPath's mounts stay, as kubelet leaves them (the container's to undo)
	mounted "$s/vol/m/deeper" || fail "the hostPath's mounts were taken from the host"
	unmount_all "$s"
	assert_no_leaks
}

@test "Bidirectional in a container that is not privileged is refused with FILE:LINE:COL and creates nothing" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: not-privileged
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/never, type: DirectoryOrCreate}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - name: hp
          mountPath: /host
          mountPropagation: Bidirectional
      command: ["true"]
EOF
	assert_status 2
	assert_stderr_contains "$POD_FILE:16:29: spec.containers[0].volumeMounts[0].mountPropagation: Bidirectional mount propagation is available only to privileged containers"
	[ ! -e "$TEST_DIR/never" ] || fail "the hostPath directory was created"
	[ -z "$(pod_dirs)" ] || fail "pod directories were created: $(pod_dirs)"
	assert_no_leaks
}

@test "HostToContainer and Bidirectional on a private host mount fail to start, in containerd's words" {
	local p=$TEST_DIR/private mode want
	mkdir "$p"
	mount --bind "$p" "$p"
	mount --make-private "$p"
	for mode in HostToContainer Bidirectional; do
		want="not a shared or slave mount"
		[ "$mode" = Bidirectional ] && want="not a shared mount"
		run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: private-source
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/private, type: Directory}
  containers:
    - name: c
      image: @IMAGE@
      securityContext: {privileged: true}
      volumeMounts:
        - {name: hp, mountPath: /host, mountPropagation: $mode}
      command: ["echo", "started"]
EOF
		assert_status 128
		assert_stderr_contains "container \"c\": mount /host: path \"$p\" is mounted on \"$p\" but it is $want"
		assert_stderr_contains "exited with code 128 (StartError)"
		refute_stdout_contains started
	done
	unmount_all "$p"
	assert_no_leaks
}

@test "a mount inside a Bidirectional mount of the same container is refused: it would outlive the pod on the host" {
	local s=$TEST_DIR/shared
	shared_dir "$s"
	mkdir "$s/vol"
	run_pod <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: nested-in-bidirectional
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/shared/vol, type: Directory}
    - name: cache
      emptyDir: {}
  containers:
    - name: c
      image: @IMAGE@
      securityContext: {privileged: true}
      volumeMounts:
        - {name: hp, mountPath: /host, mountPropagation: Bidirectional}
        - {name: cache, mountPath: /host/cache}
      command: ["echo", "started"]
EOF2
	assert_status 128
	assert_stderr_contains 'container "c": mount /host/cache: it is inside the Bidirectional mount /host, where a mount would propagate out of the container (to the host) and outlive it'
	refute_stdout_contains started
	mounted "$s/vol/cache" && fail "the emptyDir was mounted on the host"
	unmount_all "$s"
	assert_no_leaks
}

@test "a HostToContainer container started after a Bidirectional one mounted on an emptyDir sees the mount" {
	# The reader fails once (a restart, as kubelet's), then looks again:
	# the mount was made before this second container started.
	local medium
	for medium in '{}' '{medium: Memory}'; do
		run_pod <<EOF2
apiVersion: v1
kind: Pod
metadata:
  name: started-later
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  volumes:
    - name: shared
      emptyDir: $medium
  containers:
    - name: mounter
      image: @IMAGE@
      securityContext: {privileged: true}
      volumeMounts:
        - {name: shared, mountPath: /shared, mountPropagation: Bidirectional}
      command:
        - sh
        - -c
        - mkdir /shared/m && mount -t tmpfs peapod-test-later /shared/m && echo from-mounter > /shared/m/f && touch /shared/done && sleep 3
    - name: reader
      image: @IMAGE@
      volumeMounts:
        - {name: shared, mountPath: /seen, mountPropagation: HostToContainer}
        - {name: shared, mountPath: /private}
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /seen/done ] && [ \$i -lt 200 ]; do sleep 0.1; i=\`expr \$i + 1\`; done
          [ -e /seen/restarted ] || { touch /seen/restarted; exit 1; }
          echo "seen: \`cat /seen/m/f\`"
          echo "private: \`cat /private/m/f\`"
EOF2
		assert_status 0
		assert_line "[reader] seen: from-mounter"
		# None is rprivate, not empty: a recursive bind of what is there
		assert_line "[reader] private: from-mounter"
		assert_no_leaks
	done
}

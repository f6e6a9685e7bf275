#!/usr/bin/env bats
# Volumes: emptyDir (disk and memory), hostPath and its type checks,
# volumeMounts readOnly, subPath and subPathExpr.

load helpers

# hostpath_pod NAME TYPE PATH MOUNT SCRIPT: a pod with one hostPath volume
# "hp" (type TYPE, "" for none) mounted at MOUNT in container "c".
hostpath_pod() {
	sh_pod "$1" Never "$5" "  volumes:
    - name: hp
      hostPath:
        path: $3
        type: \"$2\"" "      volumeMounts:
        - name: hp
          mountPath: $4"
}

# assert_hostpath_refused: the run failed with exit 1 naming PATH and
# created nothing.
assert_refused_creating_nothing() {
	assert_status 1
	assert_stderr_contains "$1"
	refute_stdout_contains "[c]"
	[ -z "$(pod_dirs)" ] || fail "pod directories were created: $(pod_dirs)"
	assert_no_leaks
}

@test "an emptyDir is shared by the containers that mount it" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: empty-dir
spec:
  restartPolicy: Never
  volumes:
    - name: shared
      emptyDir: {}
  containers:
    - name: a
      image: @IMAGE@
      volumeMounts: [{name: shared, mountPath: /data}]
      command: ["sh", "-c", "ls -A /data | wc -l; echo from-a > /data/f.tmp && mv /data/f.tmp /data/f"]
    - name: b
      image: @IMAGE@
      volumeMounts: [{name: shared, mountPath: /shared/here}]
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /shared/here/f ] && [ $i -lt 100 ]; do sleep 0.1; i=`expr $i + 1`; done
          cat /shared/here/f
EOF
	assert_status 0
	assert_line "[a] 0"
	assert_line "[b] from-a"
	assert_no_leaks
}

@test "an emptyDir with medium Memory is a tmpfs bounded by sizeLimit" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: mem-dir
spec:
  restartPolicy: Never
  volumes:
    - name: mem
      emptyDir:
        medium: Memory
        sizeLimit: 16Mi
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts: [{name: mem, mountPath: /mem}]
      command:
        - sh
        - -c
        - |
          awk '$2 == "/mem" {print "fstype", $3}' /proc/mounts
          df -k /mem | awk 'NR == 2 {print "size", $2}'
          dd if=/dev/zero of=/mem/big bs=1M count=20 2>/dev/null && echo "20M fit" || echo "20M refused"
EOF
	assert_status 0
	assert_line "[c] fstype tmpfs"
	assert_line "[c] size 16384"
	assert_line "[c] 20M refused"
	assert_no_leaks
}

@test "an emptyDir with medium Memory is shared by the pod's containers" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: mem-shared
spec:
  restartPolicy: Never
  volumes:
    - name: mem
      emptyDir: {medium: Memory}
  containers:
    - name: a
      image: @IMAGE@
      volumeMounts: [{name: mem, mountPath: /mem}]
      command: ["sh", "-c", "echo in-memory > /mem/f.tmp && mv /mem/f.tmp /mem/f"]
    - name: b
      image: @IMAGE@
      volumeMounts: [{name: mem, mountPath: /mem}]
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /mem/f ] && [ $i -lt 100 ]; do sleep 0.1; i=`expr $i + 1`; done
          cat /mem/f
EOF
	assert_status 0
	assert_line "[b] in-memory"
	assert_no_leaks
}

@test "hostPath Directory mounts an existing directory read-write" {
	mkdir "$TEST_DIR/hostdir"
	echo "from the host" >"$TEST_DIR/hostdir/in"
	run_pod <<<"$(hostpath_pod hp-dir Directory "$TEST_DIR/hostdir" /host 'cat /host/in; echo from-pod > /host/out')"
	assert_status 0
	assert_stdout "[c] from the host"
	[ "$(cat "$TEST_DIR/hostdir/out")" = from-pod ] || fail "the pod's write is not on the host"
	assert_no_leaks
}

@test "hostPath Directory that is missing fails with exit 1 and creates nothing" {
	run_pod <<<"$(hostpath_pod hp-dir-missing Directory "$TEST_DIR/nope" /host 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/nope"
	[ ! -e "$TEST_DIR/nope" ] || fail "the missing directory was created"
}

@test "hostPath Directory on a regular file fails with exit 1" {
	touch "$TEST_DIR/file"
	run_pod <<<"$(hostpath_pod hp-dir-file Directory "$TEST_DIR/file" /host 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/file"
}

@test "hostPath DirectoryOrCreate creates the missing directory" {
	run_pod <<<"$(hostpath_pod hp-dir-create DirectoryOrCreate "$TEST_DIR/made" /host 'echo hello > /host/f; ls -A /host')"
	assert_status 0
	assert_stdout "[c] f"
	[ -d "$TEST_DIR/made" ] || fail "$TEST_DIR/made was not created"
	[ "$(cat "$TEST_DIR/made/f")" = hello ] || fail "the pod's write is not on the host"
	assert_no_leaks
}

@test "hostPath DirectoryOrCreate creates missing parent directories too (kubelet uses MkdirAll)" {
	run_pod <<<"$(hostpath_pod hp-dir-create-deep DirectoryOrCreate "$TEST_DIR/made/deep" /host 'echo hello > /host/f; ls -A /host')"
	assert_status 0
	assert_stdout "[c] f"
	[ -d "$TEST_DIR/made/deep" ] || fail "$TEST_DIR/made/deep was not created"
	[ "$(cat "$TEST_DIR/made/deep/f")" = hello ] || fail "the pod's write is not on the host"
	assert_no_leaks
}

@test "hostPath with no type mounts whatever is there" {
	mkdir "$TEST_DIR/untyped"
	echo untyped >"$TEST_DIR/untyped/f"
	run_pod <<<"$(hostpath_pod hp-untyped "" "$TEST_DIR/untyped" /host 'cat /host/f')"
	assert_status 0
	assert_stdout "[c] untyped"
	assert_no_leaks
}

@test "hostPath File mounts an existing file; a missing one fails" {
	echo "file content" >"$TEST_DIR/afile"
	run_pod <<<"$(hostpath_pod hp-file File "$TEST_DIR/afile" /etc/afile 'cat /etc/afile; [ -f /etc/afile ] && echo regular')"
	assert_status 0
	assert_stdout "[c] file content
[c] regular"
	assert_no_leaks

	run_pod <<<"$(hostpath_pod hp-file-missing File "$TEST_DIR/nofile" /etc/afile 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/nofile"
	[ ! -e "$TEST_DIR/nofile" ] || fail "the missing file was created"
}

@test "hostPath File on a directory fails with exit 1" {
	mkdir "$TEST_DIR/adir"
	run_pod <<<"$(hostpath_pod hp-file-dir File "$TEST_DIR/adir" /etc/afile 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/adir"
}

@test "hostPath FileOrCreate creates a missing empty file the pod can write" {
	mkdir "$TEST_DIR/parent"
	run_pod <<<"$(hostpath_pod hp-file-create FileOrCreate "$TEST_DIR/parent/new.log" /log 'wc -c < /log; echo appended >> /log')"
	assert_status 0
	assert_stdout "[c] 0"
	[ -f "$TEST_DIR/parent/new.log" ] || fail "the file was not created"
	[ "$(cat "$TEST_DIR/parent/new.log")" = appended ] || fail "the pod's write is not in the host file"
	assert_no_leaks
}

@test "hostPath FileOrCreate does not create a missing parent directory (as the Kubernetes docs say)" {
	run_pod <<<"$(hostpath_pod hp-file-create-deep FileOrCreate "$TEST_DIR/no/parent/new.log" /log 'echo appended >> /log')"
	assert_refused_creating_nothing "$TEST_DIR/no/parent/new.log"
	[ ! -e "$TEST_DIR/no" ] || fail "a parent directory was created"
}

@test "hostPath Socket mounts a unix socket; a regular file fails the check" {
	/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TEST_DIR/sock"
	[ -S "$TEST_DIR/sock" ]
	run_pod <<<"$(hostpath_pod hp-socket Socket "$TEST_DIR/sock" /run/app.sock '[ -S /run/app.sock ] && echo is-socket')"
	assert_status 0
	assert_stdout "[c] is-socket"
	assert_no_leaks

	touch "$TEST_DIR/not-a-socket"
	run_pod <<<"$(hostpath_pod hp-socket-bad Socket "$TEST_DIR/not-a-socket" /run/app.sock 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/not-a-socket"
}

@test "hostPath CharDevice mounts /dev/null; a regular file fails the check" {
	run_pod <<<"$(hostpath_pod hp-char CharDevice /dev/null /mnt/null '[ -c /mnt/null ] && echo is-char; echo gone > /mnt/null && echo writable')"
	assert_status 0
	assert_stdout "[c] is-char
[c] writable"
	assert_no_leaks

	touch "$TEST_DIR/not-a-device"
	run_pod <<<"$(hostpath_pod hp-char-bad CharDevice "$TEST_DIR/not-a-device" /mnt/null 'echo ran')"
	assert_refused_creating_nothing "$TEST_DIR/not-a-device"
}

@test "hostPath BlockDevice on a character device fails the check and creates nothing" {
	run_pod <<<"$(hostpath_pod hp-block BlockDevice /dev/null /mnt/blk 'echo ran')"
	assert_refused_creating_nothing /dev/null
}

@test "a readOnly volumeMount refuses writes" {
	mkdir "$TEST_DIR/ro"
	echo keep >"$TEST_DIR/ro/f"
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: read-only
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/ro, type: Directory}
    - name: scratch
      emptyDir: {}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - {name: hp, mountPath: /ro, readOnly: true}
        - {name: scratch, mountPath: /scratch-ro, readOnly: true}
      command:
        - sh
        - -c
        - |
          cat /ro/f
          touch /ro/new 2>/dev/null && echo "created" || echo "create refused"
          echo changed > /ro/f 2>/dev/null && echo "overwritten" || echo "overwrite refused"
          touch /scratch-ro/new 2>/dev/null && echo "emptyDir writable" || echo "emptyDir refused"
          awk '$2 == "/ro" {split($4, o, ","); print "mount", o[1]}' /proc/mounts
EOF
	assert_status 0
	assert_stdout "[c] keep
[c] create refused
[c] overwrite refused
[c] emptyDir refused
[c] mount ro"
	[ ! -e "$TEST_DIR/ro/new" ] || fail "a file was created through the read-only mount"
	[ "$(cat "$TEST_DIR/ro/f")" = keep ] || fail "the file changed through the read-only mount"
	assert_no_leaks
}

@test "subPath mounts a subdirectory of the volume, created when missing" {
	mkdir -p "$TEST_DIR/vol/existing"
	echo in-existing >"$TEST_DIR/vol/existing/f"
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sub-path
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/vol, type: Directory}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - {name: hp, mountPath: /a, subPath: existing}
        - {name: hp, mountPath: /b, subPath: new/deeper}
      command:
        - sh
        - -c
        - |
          ls /a
          cat /a/f
          echo into-new > /b/g
          ls -A /b
EOF
	assert_status 0
	assert_stdout "[c] f
[c] in-existing
[c] g"
	[ "$(cat "$TEST_DIR/vol/new/deeper/g")" = into-new ] || fail "subPath new/deeper was not created in the volume"
	assert_no_leaks
}

@test "subPath within an emptyDir is shared with a container mounting the whole volume" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sub-path-empty
spec:
  restartPolicy: Never
  volumes:
    - name: shared
      emptyDir: {}
  containers:
    - name: writer
      image: @IMAGE@
      volumeMounts: [{name: shared, mountPath: /logs, subPath: app/logs}]
      command: ["sh", "-c", "echo line > /logs/l.tmp && mv /logs/l.tmp /logs/l"]
    - name: reader
      image: @IMAGE@
      volumeMounts: [{name: shared, mountPath: /all}]
      command:
        - sh
        - -c
        - |
          i=0
          while [ ! -e /all/app/logs/l ] && [ $i -lt 100 ]; do sleep 0.1; i=`expr $i + 1`; done
          cat /all/app/logs/l
EOF
	assert_status 0
	assert_line "[reader] line"
	assert_no_leaks
}

@test "a subPath that is a symlink out of the volume cannot reach outside it" {
	mkdir -p "$TEST_DIR/vol" "$TEST_DIR/outside"
	echo TOP-SECRET >"$TEST_DIR/outside/secret"
	ln -s ../outside "$TEST_DIR/vol/escape-rel"
	ln -s "$TEST_DIR/outside" "$TEST_DIR/vol/escape-abs"
	local link
	for link in escape-rel escape-abs; do
		run_pod <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: sub-path-escape
spec:
  restartPolicy: Never
  volumes:
    - name: hp
      hostPath: {path: @DIR@/vol, type: Directory}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts:
        - {name: hp, mountPath: /mnt, subPath: $link}
      command: ["sh", "-c", "cat /mnt/secret; echo pwned > /mnt/secret; echo pwned > /mnt/new; ls -A /mnt"]
EOF
		refute_stdout_contains TOP-SECRET
		[ "$(cat "$TEST_DIR/outside/secret")" = TOP-SECRET ] || fail "$link: the host file outside the volume was changed"
		[ ! -e "$TEST_DIR/outside/new" ] || fail "$link: a file was created outside the volume"
		assert_no_leaks
	done
}

@test "subPathExpr expands \$(POD_NAME) from the downward API" {
	mkdir "$TEST_DIR/logs"
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: expr-pod
spec:
  restartPolicy: Never
  volumes:
    - name: logs
      hostPath: {path: @DIR@/logs, type: Directory}
  containers:
    - name: c
      image: @IMAGE@
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
      volumeMounts:
        - name: logs
          mountPath: /logs
          subPathExpr: $(POD_NAME)
      command: ["sh", "-c", "echo per-pod > /logs/out.txt; ls /logs"]
EOF
	assert_status 0
	assert_stdout "[c] out.txt"
	[ "$(cat "$TEST_DIR/logs/expr-pod/out.txt")" = per-pod ] || fail "nothing in $TEST_DIR/logs/expr-pod"
	assert_no_leaks
}

@test "volumes are removed with the pod: an emptyDir's files do not outlive it" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ephemeral
spec:
  restartPolicy: Never
  volumes:
    - name: e
      emptyDir: {}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts: [{name: e, mountPath: /e}]
      command: ["sh", "-c", "echo peapod-ephemeral-marker > /e/marker"]
EOF
	assert_status 0
	run grep -rl peapod-ephemeral-marker "$PEAPOD_ROOT" "$PEAPOD_RUN"
	[ -z "$output" ] || fail "the emptyDir's file outlived the pod: $output"
	assert_no_leaks
}

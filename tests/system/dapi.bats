#!/usr/bin/env bats
# downwardAPI and projected volumes: the files kubelet's atomic writer lays
# out (..data, timestamped directory, visible symlinks), their contents and
# modes, labels and annotations in kubelet's format, resourceFieldRef with
# divisors, read-only tmpfs mounts, subPath, and the sources refused.

load helpers
load pods_helpers

@test "a downwardAPI volume holds the pod's metadata in kubelet's layout, read-only on a tmpfs" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dapi-meta
  namespace: team-a
  uid: 0b7e5b3c-1111-4222-8333-944455556666
  labels:
    zone: us-est-coast
    app: web
    a.b: dotted
  annotations:
    build: "two\nlines \"quoted\" \\ tab\there é"
    app.example.com/owner: ops
spec:
  restartPolicy: Never
  volumes:
    - name: podinfo
      downwardAPI:
        defaultMode: 0440
        items:
          - path: name
            fieldRef: {fieldPath: metadata.name}
          - path: namespace
            fieldRef: {fieldPath: metadata.namespace}
          - path: uid
            fieldRef: {apiVersion: v1, fieldPath: metadata.uid}
          - path: labels
            fieldRef: {fieldPath: metadata.labels}
          - path: annotations
            fieldRef: {fieldPath: metadata.annotations}
            mode: 0600
          - path: sub/dir/app
            fieldRef: {fieldPath: "metadata.labels['app']"}
  containers:
    - name: c
      image: @IMAGE@
      volumeMounts: [{name: podinfo, mountPath: /etc/podinfo}]
      command:
        - sh
        - -c
        - |
          cd /etc/podinfo
          echo "name=$(cat name) ns=$(cat namespace) uid=$(cat uid) app=$(cat sub/dir/app)"
          echo "--labels"; cat labels; echo; echo "--annotations"; cat annotations; echo; echo "--"
          for f in name namespace uid labels annotations sub; do echo "link $f -> $(readlink $f)"; done
          data=$(readlink ..data)
          case "$data" in ..[0-9][0-9][0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9]_[0-9][0-9].*) echo "data dir ok";; *) echo "data dir $data";; esac
          echo "entries $(ls -A | wc -l)"
          echo "mode name $(stat -L -c %a name) annotations $(stat -L -c %a annotations) app $(stat -L -c %a sub/dir/app)"
          awk '$2 == "/etc/podinfo" {print "mount " $3 " " substr($4, 1, 2)}' /proc/mounts
          touch /etc/podinfo/x 2>/dev/null && echo writable || echo read-only
EOF
	assert_status 0
	assert_line "[c] name=dapi-meta ns=team-a uid=0b7e5b3c-1111-4222-8333-944455556666 app=web"
	# FormatMap: key="value" lines, sorted, Go's %q, no final newline
	assert_order "[c] --labels" '[c] a.b="dotted"' '[c] app="web"' '[c] zone="us-est-coast"' "[c] --annotations"
	assert_line '[c] app.example.com/owner="ops"'
	assert_line '[c] build="two\nlines \"quoted\" \\ tab\there é"'
	assert_line "[c] link name -> ..data/name"
	assert_line "[c] link labels -> ..data/labels"
	assert_line "[c] link sub -> ..data/sub"
	assert_line "[c] data dir ok"
	# six visible names, ..data and the timestamped directory
	assert_line "[c] entries 8"
	assert_line "[c] mode name 440 annotations 600 app 440"
	assert_line "[c] mount tmpfs ro"
	assert_line "[c] read-only"
	assert_no_leaks
}

@test "resourceFieldRef files and env round up by the divisor, unset limits are the node's" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dapi-res
spec:
  restartPolicy: Never
  volumes:
    - name: res
      downwardAPI:
        items:
          - {path: cpu_limit_m, resourceFieldRef: {containerName: c, resource: limits.cpu, divisor: 1m}}
          - {path: cpu_limit, resourceFieldRef: {containerName: c, resource: limits.cpu}}
          - {path: cpu_request, resourceFieldRef: {containerName: c, resource: requests.cpu, divisor: "1"}}
          - {path: mem_limit_mi, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
          - {path: mem_request_ki, resourceFieldRef: {containerName: c, resource: requests.memory, divisor: 1Ki}}
          - {path: mem_limit_other, resourceFieldRef: {containerName: other, resource: limits.memory}}
          - {path: eph_limit_g, resourceFieldRef: {containerName: c, resource: limits.ephemeral-storage, divisor: 1G}}
  containers:
    - name: c
      image: @IMAGE@
      resources:
        limits: {cpu: 1500m, memory: 64Mi}
        requests: {cpu: 250m, memory: "1000"}
      env:
        - name: MEM_MI
          valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
        - name: CPU_M
          valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}
      volumeMounts: [{name: res, mountPath: /res}]
      command:
        - sh
        - -c
        - |
          cd /res
          for f in cpu_limit_m cpu_limit cpu_request mem_limit_mi mem_request_ki; do echo "$f=$(cat $f)"; done
          [ "$(cat mem_limit_other)" -gt 1048576 ] && echo "other unlimited: node memory"
          [ "$(cat eph_limit_g)" -ge 1 ] && echo "ephemeral: node capacity"
          echo "env MEM_MI=$MEM_MI CPU_M=$CPU_M"
    - name: other
      image: @IMAGE@
      command: ["true"]
EOF
	assert_status 0
	assert_line "[c] cpu_limit_m=1500"
	assert_line "[c] cpu_limit=2"
	assert_line "[c] cpu_request=1"
	assert_line "[c] mem_limit_mi=64"
	assert_line "[c] mem_request_ki=1"
	assert_line "[c] other unlimited: node memory"
	assert_line "[c] ephemeral: node capacity"
	assert_line "[c] env MEM_MI=64 CPU_M=250"
	assert_no_leaks
}

@test "a projected volume joins two downwardAPI sources; a subPath mounts one of its files" {
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: dapi-proj
  labels: {tier: backend}
spec:
  restartPolicy: Never
  volumes:
    - name: all
      projected:
        defaultMode: 0400
        sources:
          - downwardAPI:
              items:
                - {path: name, fieldRef: {fieldPath: metadata.name}}
          - downwardAPI:
              items:
                - {path: meta/labels, fieldRef: {fieldPath: metadata.labels}, mode: 0644}
                - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Ki}}
  containers:
    - name: c
      image: @IMAGE@
      resources: {limits: {memory: 32Mi}}
      volumeMounts:
        - {name: all, mountPath: /proj}
        - {name: all, mountPath: /etc/only-name, subPath: name}
      command:
        - sh
        - -c
        - |
          echo "name=$(cat /proj/name) labels=$(cat /proj/meta/labels) mem=$(cat /proj/mem)"
          echo "modes $(stat -L -c %a /proj/name) $(stat -L -c %a /proj/meta/labels)"
          echo "links $(readlink /proj/name) $(readlink /proj/meta)"
          echo "subpath=$(cat /etc/only-name)"
          [ -f /etc/only-name ] && [ ! -L /etc/only-name ] && echo "subpath is a file"
EOF
	assert_status 0
	assert_line '[c] name=dapi-proj labels=tier="backend" mem=32768'
	assert_line "[c] modes 400 644"
	assert_line "[c] links ..data/name ..data/meta"
	assert_line "[c] subpath=dapi-proj"
	assert_line "[c] subpath is a file"
	assert_no_leaks
}

# refused POD_LINES WANT: the pod is refused before anything is made, with
# WANT (FILE:LINE:COL: field: message) on stderr.
refused() {
	local f
	f=$(sh_pod refused Never "true" "$1" "      volumeMounts: [{name: v, mountPath: /v}]" | write_manifest)
	run_pod_file "$f"
	assert_status 2
	assert_stderr_contains "$f:$2"
	[ -z "$(pod_dirs)" ] || fail "pod directories were created: $(pod_dirs)"
	assert_no_leaks
}

@test "serviceAccountToken is refused with FILE:LINE:COL: there is no API server" {
	refused "  volumes:
    - name: v
      projected:
        sources:
          - serviceAccountToken: {path: token, expirationSeconds: 3600}" \
		"12:13: spec.volumes[0].projected.sources[0].serviceAccountToken: serviceAccountToken is not supported: peapod has no API server to issue tokens"
}

@test "bad downwardAPI items are refused with the API server's reasons" {
	refused "  volumes:
    - name: v
      downwardAPI:
        items:
          - {path: ../escape, fieldRef: {fieldPath: metadata.name}}" \
		"12:20: spec.volumes[0].downwardAPI.items[0].path: invalid value \"../escape\": must not contain '..'"
	refused "  volumes:
    - name: v
      downwardAPI:
        items:
          - {path: node, fieldRef: {fieldPath: spec.nodeName}}" \
		"12:48: spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: unsupported value \"spec.nodeName\""
	refused "  volumes:
    - name: v
      downwardAPI:
        items:
          - {path: m, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 3Mi}}" \
		"12:94: spec.volumes[0].downwardAPI.items[0].resourceFieldRef.divisor: invalid value \"3Mi\": only divisor's values 1, 1k"
	refused "  volumes:
    - name: v
      downwardAPI:
        items:
          - {path: m, resourceFieldRef: {containerName: nope, resource: limits.cpu}}" \
		"12:13: spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: container \"nope\" is not in the pod"
	refused "  volumes:
    - name: v
      downwardAPI:
        defaultMode: 01000
        items: []" \
		"11:22: spec.volumes[0].downwardAPI.defaultMode: invalid value 512: must be a number between 0 and 0777 (octal), both inclusive"
	refused "  volumes:
    - name: v
      projected:
        sources:
          - downwardAPI: {items: [{path: a, fieldRef: {fieldPath: metadata.name}}]}
          - downwardAPI: {items: [{path: ./a, fieldRef: {fieldPath: metadata.uid}}]}" \
		"13:35: spec.volumes[0].projected: conflicting duplicate paths: duplicate path a"
}

@test "a projection of a missing configMap waits naming the source; an optional one adds nothing" {
	apply_ok < <(sh_pod cm-proj Never "true" "  volumes:
    - name: v
      projected:
        sources:
          - downwardAPI: {items: [{path: a, fieldRef: {fieldPath: metadata.name}}]}
          - configMap: {name: app-config, items: [{key: nginx.conf, path: conf/nginx.conf}]}" \
		"      volumeMounts: [{name: v, mountPath: /v}]")
	run_peapod describe pod cm-proj
	assert_stdout_contains 'MountVolume.SetUp failed for volume "v" : spec.volumes[0].projected.sources[1].configMap: configmap "app-config" not found'
	run_peapod delete cm-proj
	assert_no_leaks
	f=$(sh_pod cm-proj Never "ls /v; cat /v/a" "  volumes:
    - name: v
      projected:
        sources:
          - downwardAPI: {items: [{path: a, fieldRef: {fieldPath: metadata.name}}]}
          - configMap: {name: app-config, optional: true}" \
		"      volumeMounts: [{name: v, mountPath: /v}]" | write_manifest)
	run_pod_file "$f"
	assert_status 0
	assert_stdout "[c] a
[c] cm-proj"
	assert_no_leaks
}

@test "fsGroup owns the files of a running pod's downwardAPI volume; delete leaves nothing" {
	apply_ok < <(sleeper_pod dapi-fsgroup "  securityContext: {runAsUser: 1000, fsGroup: 2000}
  volumes:
    - name: v
      downwardAPI:
        items:
          - {path: secret-ish, fieldRef: {fieldPath: metadata.name}, mode: 0400}" \
		"      volumeMounts: [{name: v, mountPath: /v}]")
	run_peapod exec dapi-fsgroup -- sh -c 'id -u; stat -L -c "%a %g" /v/secret-ish; cat /v/secret-ish; echo; ls -A /v | wc -l'
	assert_status 0
	assert_line "1000"
	assert_line "440 2000"
	assert_line "dapi-fsgroup"
	assert_line "3"
	# memory-backed, never attached on the host: nothing of it on disk
	[ -z "$(find "$PEAPOD_ROOT" "$PEAPOD_RUN" -name '..data' 2>/dev/null)" ] ||
		fail "the volume's files are on disk: $(find "$PEAPOD_ROOT" "$PEAPOD_RUN" -name '..data')"
	delete_ok dapi-fsgroup
	assert_no_leaks
}

@test "env fieldRef: the whole set kubelet resolves on one node" {
	run_pod <<'EOF2'
apiVersion: v1
kind: Pod
metadata:
  name: dapi-env
  namespace: ns-env
  labels: {app: web}
  annotations: {owner: "team a"}
spec:
  restartPolicy: Never
  nodeName: node-1
  serviceAccountName: builder
  containers:
    - name: c
      image: @IMAGE@
      env:
        - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
        - {name: OWNER, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['owner']"}}}
        - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
        - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
      command: ["sh", "-c", "echo \"$NAME $NS $APP [$OWNER] $NODE $SA pod=$POD_IP ips=$POD_IPS host=$HOST_IP\""]
EOF2
	assert_status 0
	# the suite's pods have no network (PEAPOD_NETWORK=none): loopback, as
	# `get pods -o wide` shows; the host is this node's 127.0.0.1
	assert_line "[c] dapi-env ns-env web [team a] node-1 builder pod=127.0.0.1 ips=127.0.0.1 host=127.0.0.1"
	assert_no_leaks
}

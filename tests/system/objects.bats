#!/usr/bin/env bats
# ConfigMaps and Secrets, and inputs as kubectl takes them: several
# documents in a file, JSON, Lists, directories (-R), several -f and stdin;
# the whole input validated before anything is made; delete -f of the same
# input; get, describe, delete and create of the objects.

load helpers
load pods_helpers

eval "$(declare -f teardown | sed '1s/^teardown/helpers_teardown/')"
teardown() {
	rm -rf "$PEAPOD_ROOT/objects"
	helpers_teardown
}

# app_pod NAME: a pod of one container that runs until SIGTERM.
app_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: @IMAGE@
      command: ["sh", "-c", "$UNTIL_TERM"]
EOF
}

config_and_secret() {
	cat <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-conf
  labels: {app: web}
data:
  nginx.conf: |
    server { listen 80; }
  mode: fast
binaryData:
  blob: AAEC/w==
---
apiVersion: v1
kind: Secret
metadata:
  name: db
type: kubernetes.io/basic-auth
stringData:
  password: hunter2-very-secret
data:
  username: YWRtaW4=
---
EOF
}

@test "one file: ConfigMap, Secret and Pod applied, listed, described; delete -f removes all of it" {
	local f
	f=$( (config_and_secret; app_pod web) | write_manifest)
	run_peapod apply -f "$f"
	assert_status 0
	assert_line "configmap/web-conf created"
	assert_line "secret/db created"
	assert_line "pod/web created"
	run_peapod get pods web
	assert_line_re 'web +1/1 +Running.*'

	run_peapod get configmaps
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +DATA\ +AGE$ ]] || fail "bad header: ${lines[0]}"
	assert_line_re '^web-conf +3 +[0-9]+s$'
	run_peapod get cm web-conf -o name
	assert_stdout "configmap/web-conf"
	run_peapod get secrets
	[[ "${lines[0]}" =~ ^NAME\ +TYPE\ +DATA\ +AGE$ ]] || fail "bad header: ${lines[0]}"
	assert_line_re '^db +kubernetes.io/basic-auth +2 +[0-9]+s$'

	# -o json: the API's form; values base64 where the API has them so.
	[ "$(pp get cm web-conf -o json | json_get 'd["data"]["nginx.conf"]')" = "server { listen 80; }" ]
	[ "$(pp get cm web-conf -o json | json_get 'd["binaryData"]["blob"]')" = "AAEC/w==" ]
	[ "$(pp get secret db -o json | json_get 'd["data"]["password"]')" = "$(printf hunter2-very-secret | base64)" ]
	run_peapod get secret db -o yaml
	assert_line "kind: Secret"
	assert_line "type: kubernetes.io/basic-auth"

	# describe: a Secret's values never shown, only their sizes.
	run_peapod describe secret db
	assert_status 0
	assert_line_re '^Type: +kubernetes.io/basic-auth$'
	assert_line "password:  19 bytes"
	assert_line "username:  5 bytes"
	refute_stdout_contains "hunter2"
	refute_stdout_contains "admin"
	run_peapod describe configmap web-conf
	assert_line "nginx.conf:"
	assert_line "server { listen 80; }"
	assert_line "blob: 4 bytes"
	assert_line_re '^Labels: +app=web$'

	# The store: secrets readable by root only.
	local sdir=$PEAPOD_ROOT/objects/default/secrets
	[ "$(stat -c %a "$sdir")" = 700 ] || fail "secrets dir mode $(stat -c %a "$sdir")"
	[ "$(stat -c %a "$sdir/db.json")" = 600 ] || fail "secret file mode $(stat -c %a "$sdir/db.json")"

	run_peapod delete -f "$f"
	assert_status 0
	assert_line 'pod "web" deleted'
	assert_line 'configmap "web-conf" deleted'
	assert_line 'secret "db" deleted'
	run_peapod get cm web-conf
	assert_status 1
	assert_stderr_contains 'configmaps "web-conf" not found'
	run_peapod get secrets db
	assert_stderr_contains 'secrets "db" not found'
	assert_no_leaks
}

@test "a directory of manifests: .yaml, .yml and .json in name order, subfolders with -R; delete -f DIR" {
	local d=$TEST_DIR/manifests
	mkdir -p "$d/sub"
	app_pod dir-pod | write_manifest >/dev/null
	mv "$TEST_DIR"/pod-*.yaml "$d/30-pod.yaml"
	sed -i "s|@IMAGE@|$IMAGE|" "$d/30-pod.yaml"
	printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-json"},\n\t"data": {"smile": "\\ud83d\\ude00", "n": "1"}}\n' >"$d/10-cm.json"
	cat >"$d/20-list.yml" <<'EOF'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: listed}
  stringData: {token: abc}
EOF
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: {a: b}\n' >"$d/sub/x.yaml"
	echo "not a manifest" >"$d/README"

	run_peapod apply -f "$d"
	assert_status 0
	[ "${lines[0]}" = "configmap/from-json created" ] || fail "order: $output"
	[ "${lines[1]}" = "secret/listed created" ] || fail "order: $output"
	[ "${lines[2]}" = "pod/dir-pod created" ] || fail "order: $output"
	refute_stdout_contains deep
	[ "$(pp get cm from-json -o json | json_get 'd["data"]["smile"]')" = "😀" ]

	# Again with -R: the objects unchanged or created; the pod, running,
	# is not made twice: the same manifest, unchanged.
	run_peapod apply -f "$d" -R
	assert_status 0
	assert_line "configmap/from-json unchanged"
	assert_line "secret/listed unchanged"
	assert_line "configmap/deep created"
	assert_line "pod/dir-pod unchanged"
	run_peapod delete -f "$d" -R
	assert_status 0
	assert_line 'pod "dir-pod" deleted'
	assert_line 'configmap "deep" deleted'
	assert_line 'secret "listed" deleted'
	run_peapod get configmaps
	assert_stderr_contains "No resources found in default namespace."
	assert_no_leaks
}

@test "an invalid document among valid ones: FILE:LINE:COLUMN and the field path, nothing created" {
	local f
	f=$( (config_and_secret; app_pod web; cat <<'EOF'
---
apiVersion: v1
kind: Secret
metadata:
  name: bad
data:
  ok: YQ==
  "bad key": YQ==
EOF
) | write_manifest)
	local before
	before=$(pod_dirs)
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains "$f:40:3: data[bad key]: invalid key \"bad key\""
	[ -z "$output" ] || fail "something was reported applied: $output"
	[ "$(pod_dirs)" = "$before" ] || fail "a pod was created"
	[ ! -e "$PEAPOD_ROOT/objects/default/configmaps/web-conf.json" ] || fail "the ConfigMap was created"
	run_peapod get cm web-conf
	assert_status 1

	# A bad base64 value, a missing key of a typed Secret, an unknown kind: each refused.
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: "no base64!"}\n' >"$TEST_DIR/b64.yaml"
	run_peapod apply -f "$TEST_DIR/b64.yaml"
	assert_status 2
	assert_stderr_contains "$TEST_DIR/b64.yaml:4:11: data[k]: illegal base64 data"
	printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n' >"$TEST_DIR/tls.yaml"
	run_peapod apply -f - <"$TEST_DIR/tls.yaml"
	assert_status 2
	assert_stderr_contains '<stdin>:1:1: data[tls.key]: Required value'
	assert_no_leaks
}

@test "immutable: a change refused as the API server does, the same data unchanged" {
	local f=$TEST_DIR/frozen.yaml
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: "1"}\n' >"$f"
	run_peapod apply -f "$f"
	assert_stdout "configmap/frozen created"
	run_peapod apply -f "$f"
	assert_stdout "configmap/frozen unchanged"
	sed -i 's/"1"/"2"/' "$f"
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains 'field is immutable when `immutable` is set'
	[ "$(pp get cm frozen -o json | json_get 'd["data"]["a"]')" = 1 ]
	# Nor may immutable be taken back.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\ndata: {a: "1"}\n' >"$f"
	run_peapod apply -f "$f"
	assert_status 2
	assert_stderr_contains 'field is immutable when `immutable` is set'
	# A mutable one changes: configured.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: free}\ndata: {a: "1"}\n' >"$f"
	pp apply -f "$f" >/dev/null
	sed -i 's/"1"/"2"/' "$f"
	run_peapod apply -f "$f"
	assert_stdout "configmap/free configured"
	# Nothing in one input is written when one object is refused.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {a: "3"}\n' >"$f"
	run_peapod apply -f "$f"
	assert_status 2
	run_peapod get cm other
	assert_status 1
}

@test "create configmap and secret: from literals, files, env files; tls and docker-registry" {
	printf 'server {}\n' >"$TEST_DIR/nginx.conf"
	printf '\x00\x01\xff' >"$TEST_DIR/bin.dat"
	printf '# comment\nA=1\n\n  B=two words\nC=\n' >"$TEST_DIR/app.env"
	run_peapod create configmap made --from-literal=k=v --from-file="$TEST_DIR/nginx.conf" \
		--from-file=data="$TEST_DIR/bin.dat" --from-env-file="$TEST_DIR/app.env"
	assert_status 0
	assert_stdout "configmap/made created"
	local j
	j=$(pp get cm made -o json)
	[ "$(json_get 'd["data"]["k"]' <<<"$j")" = v ]
	[ "$(json_get 'd["data"]["nginx.conf"]' <<<"$j")" = "server {}" ]
	[ "$(json_get 'd["binaryData"]["data"]' <<<"$j")" = "AAH/" ]
	[ "$(json_get 'd["data"]["B"]' <<<"$j")" = "two words" ]
	[ "$(json_get 'd["data"]["C"]' <<<"$j")" = "" ]
	run_peapod create configmap made --from-literal=k=v
	assert_status 1
	assert_stderr_contains 'configmaps "made" already exists'
	run_peapod create configmap twice --from-literal=k=1 --from-literal=k=2
	assert_status 2
	assert_stderr_contains "cannot add key k, another key by that name already exists"
	printf '1BAD=x\n' >"$TEST_DIR/bad.env"
	run_peapod create configmap badenv --from-env-file="$TEST_DIR/bad.env"
	assert_status 2
	assert_stderr_contains '"1BAD" is not a valid key name'

	run_peapod create secret generic pw --from-literal=password=s3cr3t -n other-ns
	assert_stdout "secret/pw created"
	run_peapod describe secret pw -n other-ns
	assert_line "password:  6 bytes"
	refute_stdout_contains s3cr3t
	[ "$(stat -c %a "$PEAPOD_ROOT/objects/other-ns/secrets/pw.json")" = 600 ]
	run_peapod get secrets -A
	assert_line_re 'NAMESPACE +NAME +TYPE +DATA +AGE'
	assert_line_re 'other-ns +pw +Opaque +1 +[0-9]+s'
	run_peapod get secrets
	assert_stderr_contains "No resources found in default namespace."

	printf 'CERT' >"$TEST_DIR/tls.crt"
	printf 'KEY' >"$TEST_DIR/tls.key"
	run_peapod create secret tls web-tls --cert="$TEST_DIR/tls.crt" --key="$TEST_DIR/tls.key"
	assert_stdout "secret/web-tls created"
	run_peapod create secret docker-registry regcred --docker-server=127.0.0.1:5000 \
		--docker-username=u --docker-password=p --docker-email=e@x
	assert_stdout "secret/regcred created"
	run_peapod get secrets
	assert_line_re '^regcred +kubernetes.io/dockerconfigjson +1 +[0-9]+s$'
	assert_line_re '^web-tls +kubernetes.io/tls +2 +[0-9]+s$'
	[ "$(pp get secret regcred -o json | json_get 'd["data"][".dockerconfigjson"]' | base64 -d |
		json_get 'd["auths"]["127.0.0.1:5000"]["auth"]')" = "$(printf u:p | base64)" ]

	run_peapod delete secret web-tls regcred
	assert_status 0
	assert_line 'secret "web-tls" deleted'
	assert_line 'secret "regcred" deleted'
	run_peapod delete configmap nothere
	assert_status 1
	assert_stderr_contains 'configmaps "nothere" not found'
}

@test "run -f of a file with a ConfigMap and a Pod applies the ConfigMap and runs the Pod; several -f and -f -" {
	local f
	f=$( (printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: run-conf}\ndata: {a: b}\n---\n'
		cat <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["echo", "ran"]
EOF
	) | write_manifest)
	run_pod_file "$f"
	assert_status 0
	assert_stderr_contains "configmap/run-conf created"
	assert_line "[c] ran"
	run_peapod get cm run-conf -o name
	assert_stdout "configmap/run-conf"

	# Two Pods: run takes one, at the second's position.
	local two
	two=$( (app_pod p1; echo ---; app_pod p2) | write_manifest)
	run_pod_file "$two"
	assert_status 2
	assert_stderr_contains "$two:12:1: a second Pod"

	# Several -f and standard input together.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n' >"$TEST_DIR/one.yaml"
	printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"two"}}' >"$TEST_DIR/two.json"
	run_peapod apply -f "$TEST_DIR/one.yaml" -f - -n multi <"$TEST_DIR/two.json"
	assert_status 0
	assert_line "configmap/one created"
	assert_line "configmap/two created"
	run_peapod get cm -n multi -o name
	assert_line "configmap/one"
	assert_line "configmap/two"
	assert_no_leaks
}

# logs_line NAME TEXT: waits (5 s at most) for TEXT as a line of NAME's logs.
logs_line() {
	local i
	for ((i = 0; i < 50; i++)); do
		pp logs "$1" 2>/dev/null | grep -qxF -- "$2" && return 0
		sleep 0.1
	done
	echo "logs of $1:" >&2
	pp logs "$1" >&2
	return 1
}

@test "env: configMapKeyRef, secretKeyRef (optional), envFrom with a prefix; invalid names skipped with kubelet's event" {
	cat >"$TEST_DIR/objs.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {mode: fast, k1: v1, 1bad: x, shared: from-cm}
binaryData: {bin: AAE=}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: pw-123, shared: from-secret}
EOF
	pp apply -f "$TEST_DIR/objs.yaml" >/dev/null
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: envpod}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "echo \"MODE=\$MODE PW=\$APP_password K1=\$k1 SHARED=\$shared OPT=\${OPT-unset} BIN=\${bin-unset} EXP=\$EXP\"; $UNTIL_TERM"]
    envFrom:
    - configMapRef: {name: conf}
    - secretRef: {name: creds}
    - secretRef: {name: creds}
      prefix: APP_
    - configMapRef: {name: absent, optional: true}
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: conf, key: mode}}
    - name: OPT
      valueFrom: {secretKeyRef: {name: absent, key: x, optional: true}}
    - name: EXP
      value: "\$(MODE)-\$(k1)"
EOF
	assert_status 0
	logs_line envpod "MODE=fast PW=pw-123 K1=v1 SHARED=from-secret OPT=unset BIN=unset EXP=fast-v1"
	# kubelet's event for the skipped key, on the pod, at the start
	run_peapod events --for pod/envpod
	assert_line_re "[0-9smhd]+ +Warning +InvalidEnvironmentVariableNames +Pod/envpod +Keys \[1bad\] from the EnvFrom configMap default/conf were skipped since they are considered invalid environment variable names\.$"
	# The secret's value is in no event.
	run_peapod describe pod envpod
	refute_stdout_contains "pw-123"
	pp delete envpod >/dev/null
	assert_no_leaks
}

@test "env: a missing ConfigMap: the container waits in CreateContainerConfigError with kubelet's message, and starts once it is applied" {
	# PEAPOD_TEST_TIME_SCALE=0.01: the retries' back-off is 100 ms doubling.
	export PEAPOD_TEST_TIME_SCALE=0.01
	apply_pod <<EOF
apiVersion: v1
kind: Pod
metadata: {name: waiter}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: @IMAGE@
    command: ["sh", "-c", "echo got=\$WANT; $UNTIL_TERM"]
    env:
    - name: WANT
      valueFrom: {configMapKeyRef: {name: later, key: v}}
EOF
	assert_status 0
	run_peapod get pods waiter
	assert_line_re 'waiter +0/1 +CreateContainerConfigError +0 +[0-9]+s'
	[ "$(inspect_get waiter 'd["status"]["phase"]')" = Pending ]
	[ "$(inspect_get waiter 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]')" = 'configmap "later" not found' ]
	run_peapod describe pod waiter
	assert_stdout_contains 'Error: configmap "later" not found'
	# A key missing from an object that exists: kubelet's message too.
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {other: x}\n' >"$TEST_DIR/cm.yaml"
	pp apply -f "$TEST_DIR/cm.yaml" >/dev/null
	waiting_message() {
		[ "$(inspect_get waiter 'd["status"]["containerStatuses"][0]["state"]["waiting"]["message"]')" = "$1" ]
	}
	eventually 10 waiting_message "couldn't find key v in ConfigMap default/later"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {v: hello}\n' >"$TEST_DIR/cm.yaml"
	pp apply -f "$TEST_DIR/cm.yaml" >/dev/null
	eventually 20 logs_line waiter got=hello
	run_peapod get pods waiter
	assert_line_re 'waiter +1/1 +Running +0 +[0-9]+s'
	pp delete waiter >/dev/null
	assert_no_leaks
}

@test "configMap and secret volumes: every key or the items, modes, binary data, a Secret on a tmpfs; optional adds nothing" {
	local f
	f=$( (config_and_secret; sh_pod vols Never 'cd /cm && ls; cat nginx.conf; od -An -tx1 blob; stat -L -c "%a" mode; readlink nginx.conf; cat /sec/user; echo; stat -L -c "%a" /sec/user; ls /sec; grep " /sec " /proc/mounts | cut -d" " -f3; ls /opt | wc -l' "  volumes:
    - name: cm
      configMap: {name: web-conf, defaultMode: 0640}
    - name: sec
      secret:
        secretName: db
        items: [{key: username, path: user, mode: 0400}]
    - name: opt
      configMap: {name: absent, optional: true}" "      volumeMounts:
        - {name: cm, mountPath: /cm}
        - {name: sec, mountPath: /sec}
        - {name: opt, mountPath: /opt}") | write_manifest)
	run_pod_file "$f"
	assert_status 0
	assert_stdout "[c] blob
[c] mode
[c] nginx.conf
[c] server { listen 80; }
[c]  00 01 02 ff
[c] 640
[c] ..data/nginx.conf
[c] admin
[c] 400
[c] user
[c] tmpfs
[c] 0"
	run_peapod delete -f "$f"
	assert_no_leaks

	# a missing object that is not optional, or a missing key: the pod
	# waits (ContainerCreating, FailedMount naming it): objlive.bats
}

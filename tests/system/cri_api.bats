#!/usr/bin/env bats
# Every RPC the CRI server serves, called with a client generated at test
# time from peapod's own src/cri/api.proto (tests/lib/cri-client.py: Debian's
# python3-grpcio and python3-grpc-tools), with its error cases; the stats
# RPCs against pods applied from the CLI (their ids computed here from the
# pods' uids); and every runtime.v1 method not served yet answering
# UNIMPLEMENTED. crictl stats and statsp where crictl is present.

load helpers
load pods_helpers
load registry_helpers
load cri_helpers

setup_file() {
	cri_client_tools || return 0
	token_registry || return 0
}

teardown_file() {
	stop_fixtures
}

setup() {
	cri_setup
	pull_env
}

teardown() {
	cri_teardown
}

sha() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------
# Runtime: Version, Status, UpdateRuntimeConfig

@test "cri api: Version, Status (plain and verbose), UpdateRuntimeConfig's pod CIDR in Status" {
	start_cri
	rpc_ok Version '{"version": "v1"}'
	check '
assert d["runtime_name"] == "peapod", d
assert d["runtime_api_version"] == "v1", d
assert d["runtime_version"][0].isdigit(), d'
	rpc_ok Status '{}'
	check '
conds = {c["type"]: c for c in d["status"]["conditions"]}
assert conds["RuntimeReady"]["status"] is True, conds
assert "NetworkReady" in conds, conds
assert d["info"] == {}, d'
	rpc_ok UpdateRuntimeConfig '{"runtime_config": {"network_config": {"pod_cidr": "10.88.0.0/16"}}}'
	[ "$output" = "{}" ] || fail "UpdateRuntimeConfig answered $output"
	rpc_ok UpdateRuntimeConfig '{}'
	rpc_ok Status '{"verbose": true}'
	python3 -c '
import json, sys
cfg = json.loads(json.loads(sys.argv[1])["info"]["config"])
assert cfg["podCIDR"] == "10.88.0.0/16", cfg
assert cfg["socket"] == sys.argv[2], cfg' "$output" "$SOCK" || fail "unexpected verbose status: $output"
	# malformed requests
	cri_call /runtime.v1.RuntimeService/Status hex:08
	assert_stdout "ERROR INVALID_ARGUMENT Status: the request is not a valid runtime.v1.StatusRequest message"
	cri_call /runtime.v1.RuntimeService/Version hex:0a05ab
	assert_stdout_contains "ERROR INVALID_ARGUMENT Version:"
	server_answers
}

# ---------------------------------------------------------------------------
# Images

@test "cri api: PullImage (bad refs, auth), ListImages (filter), ImageStatus (absent: no image, no error), RemoveImage twice, ImageFsInfo" {
	local before id
	before=$(store_state)
	start_cri
	rpc_err PullImage '{}' INVALID_ARGUMENT "no image given"
	rpc_err PullImage '{"image": {"image": "Bad Ref!"}}' INVALID_ARGUMENT
	rpc_err PullImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}}" PERMISSION_DENIED "unauthorized"
	rpc_err PullImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}, \"auth\": {\"username\": \"user\", \"password\": \"wrong\"}}" \
		PERMISSION_DENIED "unauthorized"
	rpc_err PullImage "{\"image\": {\"image\": \"$REG/public/app:v1\"}, \"auth\": {\"identity_token\": \"t\"}}" \
		INVALID_ARGUMENT "identity_token"
	rpc_err PullImage "{\"image\": {\"image\": \"$REG/public/app:v1\"}, \"auth\": {\"auth\": \"not base64!\"}}" \
		INVALID_ARGUMENT "auth.auth is not base64"
	# an image the registry does not have: NotFound-like, naming it
	rpc PullImage "{\"image\": {\"image\": \"$REG/public/nosuch:v1\"}}"
	[[ "$output" == "ERROR NOT_FOUND "*"$REG/public/nosuch"* ]] || fail "an unknown image: $output"
	[ "$(store_state)" = "$before" ] || fail "a failed pull kept something"
	rpc_ok PullImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}, \"auth\": {\"username\": \"user\", \"password\": \"secret\"}}"
	id=$(json_get 'd["image_ref"]' <<<"$output")
	[[ "$id" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "image_ref $id"
	local auth
	auth=$(printf %s user:secret | base64 -w0)
	rpc_ok PullImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}, \"auth\": {\"auth\": \"$auth\"}}"
	[ "$(json_get 'd["image_ref"]' <<<"$output")" = "$id" ] || fail "a second pull gave another id: $output"

	rpc_ok ListImages '{}'
	check "assert any(i['id'] == '$id' and i['repo_tags'] == ['$REG/team/app:v1'] for i in d['images']), d"
	rpc_ok ListImages "{\"filter\": {\"image\": {\"image\": \"$REG/team/app:v1\"}}}"
	check "assert [i['id'] for i in d['images']] == ['$id'], d"
	rpc_ok ListImages '{"filter": {"image": {"image": "nosuch:1"}}}'
	check 'assert d["images"] == [], d'

	rpc_ok ImageStatus "{\"image\": {\"image\": \"$id\"}, \"verbose\": true}"
	check "assert d['image']['id'] == '$id' and int(d['image']['size']) > 0, d"
	# absent: kubelet expects no image and no error
	rpc_ok ImageStatus '{"image": {"image": "nosuch:1"}}'
	check 'assert d.get("image") is None and d["info"] == {}, d'

	rpc_ok ImageFsInfo '{}'
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
fs = d["image_filesystems"][0]
assert fs["fs_id"]["mountpoint"] == sys.argv[2], fs
assert int(fs["used_bytes"]["value"]) > 0 and int(fs["inodes_used"]["value"]) > 0, fs
assert int(fs["timestamp"]) > 0, fs' "$output" "$PEAPOD_ROOT" || fail "unexpected ImageFsInfo: $output"

	rpc_ok RemoveImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}}"
	rpc_ok RemoveImage "{\"image\": {\"image\": \"$REG/team/app:v1\"}}"
	rpc_ok RemoveImage "{\"image\": {\"image\": \"$id\"}}"
	rpc_ok ImageStatus "{\"image\": {\"image\": \"$id\"}}"
	check 'assert d.get("image") is None, d'
	cri_call /runtime.v1.ImageService/ListImages hex:0aff
	assert_stdout_contains "ERROR INVALID_ARGUMENT ListImages:"
	[ "$(store_state)" = "$before" ] || fail "the store kept something: $(diff <(echo "$before") <(store_state))"
	server_answers
}

# ---------------------------------------------------------------------------
# Stats

# A pod of two containers: "burner" spins, "holder" keeps 32 MiB in
# /dev/shm (charged to its memory) and writes 1 MiB into its writable layer.
stats_pod() {
	cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: usage
  labels:
    app: stats
  annotations:
    note: kept
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: burner
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"]
    - name: holder
      image: @IMAGE@
      command: ["sh", "-c", "trap 'exit 0' TERM; head -c 33554432 /dev/zero >/dev/shm/fill && head -c 1048576 /dev/zero >/layer.bin && echo filled; while true; do sleep 0.1; done"]
EOF
}

start_stats_pod() {
	apply_ok < <(stats_pod)
	eventually 15 logs_have usage filled -c holder
	UID_=$(pod_uid usage)
	SID=$(sha "$UID_")
	BURNER=$(sha "$UID_/burner")
	HOLDER=$(sha "$UID_/holder")
}

# cpu_ns: usage_core_nano_seconds of the last ContainerStats response.
cpu_ns() {
	json_get 'int(d["stats"]["cpu"]["usage_core_nano_seconds"]["value"])' <<<"$output"
}

@test "cri api: ContainerStats of a CLI pod's containers: attributes, cpu growing, nano cores from the last sample, memory, writable layer" {
	start_stats_pod
	start_cri
	rpc_ok ContainerStats "{\"container_id\": \"$BURNER\"}"
	check "
s = d['stats']
a = s['attributes']
assert a['id'] == '$BURNER', a
assert a['metadata'] == {'name': 'burner', 'attempt': 0}, a
assert a['labels']['io.kubernetes.container.name'] == 'burner', a
assert a['labels']['io.kubernetes.pod.name'] == 'usage', a
assert a['labels']['io.kubernetes.pod.namespace'] == 'default', a
assert a['labels']['io.kubernetes.pod.uid'] == '$UID_', a
assert int(s['cpu']['timestamp']) > 0, s
assert int(s['cpu']['usage_nano_cores']['value']) == 0, s   # the first sample
assert s['writable_layer']['fs_id']['mountpoint'].endswith('/containers/burner/upper'), s"
	local c0 c1
	c0=$(cpu_ns)
	sleep 0.5
	# a unique prefix finds it too, as crictl's short ids
	rpc_ok ContainerStats "{\"container_id\": \"${BURNER:0:12}\"}"
	c1=$(cpu_ns)
	[ "$c1" -gt "$c0" ] || fail "the burner's cpu did not grow: $c0 then $c1"
	# a busy loop: well above 0.1 core since the last call (no share asserted)
	check "assert int(d['stats']['cpu']['usage_nano_cores']['value']) > 100000000, d"

	rpc_ok ContainerStats "{\"container_id\": \"$HOLDER\"}"
	check "
s = d['stats']
wl = s['writable_layer']
assert int(wl['used_bytes']['value']) >= 1048576, wl
assert int(wl['inodes_used']['value']) >= 2, wl
assert int(wl['timestamp']) > 0, wl"
	if [ "$(json_get '"memory" in d["stats"]' <<<"$output")" = true ]; then
		check "
m = d['stats']['memory']
ws, usage = int(m['working_set_bytes']['value']), int(m['usage_bytes']['value'])
assert 32 << 20 <= ws < 256 << 20, m     # the 32 MiB in /dev/shm, no more than plausible
assert usage >= ws, m
assert int(m['page_faults']['value']) > 0, m
assert m.get('available_bytes') is None, m   # no limit"
	fi
	delete_ok usage
	server_answers
	assert_no_leaks
}

@test "cri api: PodSandboxStats of a CLI pod: attributes from its metadata, cpu, memory, processes, network, its containers" {
	start_stats_pod
	start_cri
	rpc_ok PodSandboxStats "{\"pod_sandbox_id\": \"$SID\"}"
	check "
s = d['stats']
a = s['attributes']
assert a['id'] == '$SID', a
assert a['metadata'] == {'name': 'usage', 'namespace': 'default', 'uid': '$UID_', 'attempt': 0}, a
assert a['labels']['app'] == 'stats', a
assert a['labels']['io.kubernetes.pod.uid'] == '$UID_', a
assert a['annotations'] == {'note': 'kept'}, a
l = s['linux']
assert int(l['cpu']['usage_core_nano_seconds']['value']) > 0, l
assert int(l['process']['process_count']['value']) >= 3, l
assert int(l['network']['timestamp']) > 0, l
# PEAPOD_NETWORK=none: loopback only, which is not counted
assert l['network'].get('default_interface') is None and l['network']['interfaces'] == [], l
names = sorted(c['attributes']['metadata']['name'] for c in l['containers'])
assert names == ['burner', 'holder'], names
ids = {c['attributes']['metadata']['name']: c['attributes']['id'] for c in l['containers']}
assert ids == {'burner': '$BURNER', 'holder': '$HOLDER'}, ids"
	if [ "$(json_get '"memory" in d["stats"]["linux"]' <<<"$output")" = true ]; then
		check "
m = d['stats']['linux']['memory']
assert int(m['working_set_bytes']['value']) >= 32 << 20, m"
	fi
	delete_ok usage
	assert_no_leaks
}

@test "cri api: PodSandboxStats' network: the interfaces of the pod's namespace, eth0 the default one, loopback left out" {
	# A veth pair made in the pod's own network namespace (PEAPOD_NETWORK=none:
	# loopback only): eth0 and its peer (busybox's ip names it veth0); pings
	# to an address behind eth0 send ARP requests out of it into the peer.
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: netstats
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      securityContext: {capabilities: {add: [NET_ADMIN, NET_RAW]}}
      command: ["sh", "-c", "ip link add eth0 type veth peer name net1 && ip link set eth0 up && (ip link set net1 up 2>/dev/null || ip link set veth0 up) && ip addr add 10.9.9.1/24 dev eth0 && ping -c 3 -W 1 10.9.9.2 >/dev/null 2>&1; echo ready; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
EOF
	eventually 15 logs_have netstats ready
	local sid
	sid=$(sha "$(pod_uid netstats)")
	start_cri
	rpc_ok PodSandboxStats "{\"pod_sandbox_id\": \"$sid\"}"
	check "
n = d['stats']['linux']['network']
assert int(n['timestamp']) > 0, n
e = n['default_interface']
assert e['name'] == 'eth0', n
assert int(e['tx_bytes']['value']) >= 3 * 42, n   # three ARP requests at least
assert int(e['rx_errors']['value']) == 0 and int(e['tx_errors']['value']) == 0, n
peers = n['interfaces']
assert len(peers) == 1 and peers[0]['name'] in ('net1', 'veth0'), n
assert int(peers[0]['rx_bytes']['value']) >= 3 * 42, n"
	delete_ok netstats
	assert_no_leaks
}

@test "cri api: ListContainerStats and ListPodSandboxStats: filters by id, prefix, sandbox, labels; CLI pods left out of a plain listing" {
	start_stats_pod
	start_cri
	rpc_ok ListContainerStats "{\"filter\": {\"id\": \"$BURNER\"}}"
	check "assert [s['attributes']['id'] for s in d['stats']] == ['$BURNER'], d"
	rpc_ok ListContainerStats "{\"filter\": {\"id\": \"${HOLDER:0:10}\"}}"
	check "assert [s['attributes']['id'] for s in d['stats']] == ['$HOLDER'], d"
	rpc_ok ListContainerStats "{\"filter\": {\"pod_sandbox_id\": \"$SID\"}}"
	check "assert sorted(s['attributes']['id'] for s in d['stats']) == sorted(['$BURNER', '$HOLDER']), d"
	rpc_ok ListContainerStats "{\"filter\": {\"pod_sandbox_id\": \"$SID\", \"label_selector\": {\"io.kubernetes.container.name\": \"holder\"}}}"
	check "assert [s['attributes']['id'] for s in d['stats']] == ['$HOLDER'], d"
	rpc_ok ListContainerStats "{\"filter\": {\"pod_sandbox_id\": \"$SID\", \"label_selector\": {\"io.kubernetes.container.name\": \"nosuch\"}}}"
	check 'assert d["stats"] == [], d'
	# both: they must agree
	rpc_ok ListContainerStats "{\"filter\": {\"id\": \"$BURNER\", \"pod_sandbox_id\": \"$(sha other)\"}}"
	check 'assert d["stats"] == [], d'
	# an id that finds nothing: an empty list, as containerd answers
	rpc_ok ListContainerStats "{\"filter\": {\"id\": \"$(sha nosuch)\"}}"
	check 'assert d["stats"] == [], d'
	# a CLI pod is not kubelet's: not in a listing without an id
	rpc_ok ListContainerStats '{}'
	check 'assert d["stats"] == [], d'

	rpc_ok ListPodSandboxStats "{\"filter\": {\"id\": \"${SID:0:8}\"}}"
	check "assert [s['attributes']['id'] for s in d['stats']] == ['$SID'] and len(d['stats'][0]['linux']['containers']) == 2, d"
	rpc_ok ListPodSandboxStats "{\"filter\": {\"id\": \"$SID\", \"label_selector\": {\"app\": \"stats\"}}}"
	check "assert [s['attributes']['id'] for s in d['stats']] == ['$SID'], d"
	rpc_ok ListPodSandboxStats "{\"filter\": {\"id\": \"$SID\", \"label_selector\": {\"app\": \"other\"}}}"
	check 'assert d["stats"] == [], d'
	rpc_ok ListPodSandboxStats '{}'
	check 'assert d["stats"] == [], d'
	delete_ok usage
	assert_no_leaks
}

@test "cri api: stats errors: unknown ids NotFound, empty ids and malformed requests InvalidArgument" {
	start_cri
	rpc_err ContainerStats "{\"container_id\": \"$(sha nosuch)\"}" NOT_FOUND "not found"
	rpc_err PodSandboxStats "{\"pod_sandbox_id\": \"$(sha nosuch)\"}" NOT_FOUND "not found"
	rpc_err ContainerStats '{}' INVALID_ARGUMENT "container_id is required"
	rpc_err PodSandboxStats '{}' INVALID_ARGUMENT "pod_sandbox_id is required"
	local m
	for m in ContainerStats ListContainerStats PodSandboxStats ListPodSandboxStats; do
		cri_call /runtime.v1.RuntimeService/$m hex:0aff
		assert_stdout_contains "ERROR INVALID_ARGUMENT $m: the request is not a valid"
	done
	server_answers
}

@test "cri api: crictl stats and statsp on a CLI pod's ids" {
	[ -x "$CRICTL" ] || skip "crictl is missing at $CRICTL (set CRICTL to a cri-tools v1.26 crictl)"
	start_stats_pod
	start_cri
	crictl stats --seconds 1 "$BURNER"
	assert_status 0
	# (after the escapes that clear the screen)
	assert_stdout_contains "CONTAINER"
	grep -qE 'CONTAINER +NAME +CPU % +MEM +DISK +INODES$' <<<"$output" || fail "no header"
	assert_line_re '^[0-9a-f]{13} +burner +[0-9.]+ +.*'
	local cpu
	cpu=$(awk '$2 == "burner" {print int($3)}' <<<"$output")
	[ -n "$cpu" ] || fail "no burner row: $output"
	[ "$cpu" -ge 10 ] || fail "the burner shows ${cpu}% CPU"
	crictl stats --seconds 1 --pod "$SID" -o json
	assert_status 0
	python3 -c '
import json, sys
d = json.load(sys.stdin)
assert sorted(s["attributes"]["metadata"]["name"] for s in d["stats"]) == ["burner", "holder"], d' <<<"$output" ||
		fail "unexpected crictl stats --pod: $output"
	crictl statsp --seconds 1 "$SID"
	assert_status 0
	grep -qE 'POD +POD ID +CPU % +MEM$' <<<"$output" || fail "no header"

	assert_line_re '^usage +[0-9a-f]{13} +[0-9.]+ +.*'
	delete_ok usage
	assert_no_leaks
}

# ---------------------------------------------------------------------------
# What is not served

@test "cri api: every runtime.v1 method the proto does not declare answers UNIMPLEMENTED; every one it declares is served" {
	local repo all served m n=0
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	start_cri
	# every method of runtime.v1 (k8s.io/cri-api), as the server's table lists them
	all=$(sed -n 's|.*{RT("\([A-Za-z]*\)").*|/runtime.v1.RuntimeService/\1|p; s|.*{IMG("\([A-Za-z]*\)").*|/runtime.v1.ImageService/\1|p' \
		"$repo/src/cri/cri_methods.c")
	[ "$(wc -l <<<"$all")" -ge 40 ] || fail "too few methods in cri_methods.c: $all"
	run "$LIB/cri-client.py" --methods
	assert_status 0
	served=$output
	for m in $all; do
		cri_call "$m" ""
		if grep -qxF -- "$m" <<<"$served"; then
			[[ "$output" != "ERROR UNIMPLEMENTED"* ]] || fail "$m is in the proto but not served: $output"
		else
			assert_stdout "ERROR UNIMPLEMENTED $m is not implemented by peapod yet"
			n=$((n + 1))
		fi
	done
	# and nothing in the proto the table lacks
	for m in $served; do
		grep -qxF -- "$m" <<<"$all" || fail "$m is in the proto, not in cri_methods.c"
	done
	[ "$n" -gt 0 ] || fail "every method is served: nothing left UNIMPLEMENTED to check"
	server_answers
}

# ---------------------------------------------------------------------------
# Pure v1 and pure v2 layouts, emulated on this hybrid host in a private
# mount namespace as cgroup_ops.bats does (the pod's supervisor and the
# server both in it): without the unified mount only v1 hierarchies are
# left; with it bound over /sys/fs/cgroup, a pure cgroup2 host (whose cgroup2
# has no memory controller here: memory is bound to v1, so only CPU and
# processes are read there).

# layout_cmd v1|v2: the shell command that sets the layout up, then execs "$@".
layout_cmd() {
	if [ "$1" = v1 ]; then
		echo 'umount -l /sys/fs/cgroup/unified && exec "$@"'
	else
		echo 'mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "$@"'
	fi
}

check_stats_layout() {
	local layout=$1 sid
	[ -d /sys/fs/cgroup/unified ] && [ -d /sys/fs/cgroup/freezer ] ||
		skip "emulating layouts needs a hybrid host (v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified)"
	skip_unless_private_mounts
	POD_FILE=$(stats_pod | write_manifest)
	run unshare -m --propagation private sh -c "$(layout_cmd "$layout")" sh "$PEAPOD" apply -f "$POD_FILE"
	assert_status 0
	eventually 15 logs_have usage filled -c holder
	UID_=$(pod_uid usage)
	SID=$(sha "$UID_")
	BURNER=$(sha "$UID_/burner")
	# the server in the same layout (unshare and sh exec it: CRI_PID is its pid)
	mkdir -p "$TEST_DIR/manifests"
	unshare -m --propagation private sh -c "$(layout_cmd "$layout")" sh \
		"$PEAPOD" node --manifests "$TEST_DIR/manifests" --cri-socket "$SOCK" \
		2>>"$TEST_DIR/cri.err" &
	CRI_PID=$!
	eventually 10 test -S "$SOCK"
	rpc_ok ContainerStats "{\"container_id\": \"$BURNER\"}"
	local c0 c1
	c0=$(cpu_ns)
	sleep 0.5
	rpc_ok ContainerStats "{\"container_id\": \"$BURNER\"}"
	c1=$(cpu_ns)
	[ "$c1" -gt "$c0" ] || fail "$layout: the burner's cpu did not grow: $c0 then $c1"
	check "assert int(d['stats']['cpu']['usage_nano_cores']['value']) > 100000000, d"
	rpc_ok PodSandboxStats "{\"pod_sandbox_id\": \"$SID\"}"
	check "
l = d['stats']['linux']
assert int(l['cpu']['usage_core_nano_seconds']['value']) > 0, l
assert int(l['process']['process_count']['value']) >= 3, l
assert len(l['containers']) == 2, l"
	if [ "$layout" = v1 ]; then
		check "
m = d['stats']['linux']['memory']
assert int(m['working_set_bytes']['value']) >= 32 << 20, m
assert int(m['page_faults']['value']) > 0, m"
	fi
	stop_cri
	delete_ok usage
	assert_no_leaks
}

@test "cri api: stats on a pure v1 layout (emulated): cpuacct, v1 memory, pids" {
	check_stats_layout v1
}

@test "cri api: stats on a pure v2 layout (emulated): cpu.stat, cgroup.threads" {
	check_stats_layout v2
}

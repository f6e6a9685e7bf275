#!/usr/bin/env bats
# Pod networking through CNI (Debian's containernetworking-plugins): the
# default network (bridge peapod0, host-local), pod IPs in get/inspect,
# /etc/hosts and `hostname -i`, pod-to-pod and host-to-pod traffic, hostPort
# (portmap), hostNetwork, other networks by annotation or --network, a
# failed ADD, a killed supervisor and gc. After each case: no veth, lease,
# iptables rule or network record of the pod.
#
# Every peapod command of this file runs in a network namespace the file
# creates ($PEAPOD is a wrapper that nsenters it), so the bridge, veths,
# routes and iptables rules live and die there; no traffic leaves it.

load helpers
load pods_helpers

setup_file() {
	FILE_SKIP=$(private_mounts_missing)
	command -v nsenter >/dev/null && [ -x /usr/lib/cni/bridge ] ||
		FILE_SKIP="needs nsenter and containernetworking-plugins in /usr/lib/cni"
	export FILE_SKIP
	[ -z "$FILE_SKIP" ] || return 0
	export REAL_PEAPOD=$PEAPOD
	export NET_NS=pp-test-net-$$
	ip netns add "$NET_NS"
	ip -n "$NET_NS" link set lo up
	export NS_EXEC="nsenter --net=/run/netns/$NET_NS"
	export PEAPOD=$BATS_FILE_TMPDIR/peapod
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$NET_NS" "$REAL_PEAPOD" >"$PEAPOD"
	chmod +x "$PEAPOD"
	export PEAPOD_NETWORK=peapod
	export LEASES=$PEAPOD_RUN/cni/networks
}

teardown_file() {
	[ -n "${NET_NS:-}" ] && ip netns del "$NET_NS" 2>/dev/null
	return 0
}

setup() {
	TEST_DIR=$(mktemp -d "$SUITE_TMP/test.XXXXXX")
	[ -z "${FILE_SKIP:-}" ] || skip "$FILE_SKIP"
	BG_PID=
	OUT_PID=
	OUT_NS=
	export PEAPOD_CNI_CONF_DIR=$TEST_DIR/cni
}

# in_ns CMD...: CMD in the test's network namespace.
in_ns() {
	$NS_EXEC "$@"
}

# net_leaks: what of the pods' networks is left in the test namespace, one line each.
net_leaks() {
	in_ns ip -o link show type veth | sed 's/^/veth: /'
	in_ns ip -o link show type ifb | sed 's/^/ifb: /'
	find "$LEASES" -type f ! -name lock ! -name 'last_reserved_ip*' -printf 'lease: %p\n' 2>/dev/null
	find "$PEAPOD_RUN/pods" -name network.json -printf 'record: %p\n' 2>/dev/null
	# The pod's own rules and chains (the shared CNI-HOSTPORT-*, CNI-FORWARD
	# and CNI-ADMIN chains and their jumps stay, as with any CNI runtime).
	in_ns iptables-save | grep -E '^:CNI-DN-|^-A CNI-DN-|^-A CNI-HOSTPORT-DNAT .*dnat name|^-A CNI-FORWARD .* -[sd] ' |
		sed 's/^/rule: /'
	# The bridge's masquerade (ipMasq): the pod's chain and its jump.
	{ in_ns iptables-save -t nat; in_ns ip6tables-save -t nat; } |
		grep -E '^:CNI-[0-9a-f]{24} |^-A POSTROUTING .*-j CNI-[0-9a-f]{24}$' | sed 's/^/masq: /'
	return 0
}

assert_no_net_leaks() {
	local leaks i
	# The fast path leaves a pod's veth to the end of its network namespace,
	# which the kernel completes asynchronously after the last process left.
	for ((i = 0; i < 50; i++)); do
		[ -z "$(in_ns ip -o link show type veth)" ] && break
		sleep 0.1
	done
	leaks=$(net_leaks)
	if [ -n "$leaks" ]; then
		echo "FAIL: left of the pod's network:"
		echo "$leaks"
		return 1
	fi
}

teardown() {
	local p
	if [ -n "${FILE_SKIP:-}" ]; then
		rm -rf "$TEST_DIR"
		return 0
	fi
	for p in $(suite_supervisor_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	for ((p = 0; p < 50; p++)); do
		[ -z "$(suite_supervisor_pids)" ] && break
		sleep 0.1
	done
	outside_down
	# What a failed case left: gc undoes it in the namespace.
	"$PEAPOD" gc >/dev/null 2>&1 || true
	cleanup_leftovers
	rm -rf "$TEST_DIR"
}

# bridge_conflist FILE NAME BRIDGE RANGES [PLUGINS]: writes FILE.conflist
# for network NAME: the bridge plugin (BRIDGE, a gateway) with host-local
# leases under LEASES in RANGES (host-local's list of range sets), then
# PLUGINS (more plugin objects, each after a comma).
bridge_conflist() {
	mkdir -p "$PEAPOD_CNI_CONF_DIR"
	cat >"$PEAPOD_CNI_CONF_DIR/$1.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$2", "plugins": [
  {"type": "bridge", "bridge": "$3", "isGateway": true,
   "ipam": {"type": "host-local", "dataDir": "$LEASES", "ranges": $4}}${5:-}]}
EOF
}

web_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: @IMAGE@
      command: ["sh", "-c", "echo from-$1 > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
      ports:
        - containerPort: 8080
EOF
}

# listening POD PORT: a TCP socket of the pod listens on PORT.
listening() {
	pp exec "$1" -- netstat -ltn | grep -q ":$2 "
}

pod_ip() {
	inspect_get "$1" 'd["status"]["podIP"]'
}

# masq_chain NAME: the bridge plugin's masquerade chain of the pod
# (utils.FormatChainName: CNI- and 24 hex digits of sha512(network + id)).
masq_chain() {
	printf 'CNI-%s' "$(printf 'peapod%s' "$(pod_uid "$1")" | sha512sum | cut -c1-24)"
}

# masq_rules NAME: the pod's masquerade rules in iptables-save's words, its
# chain, address and id replaced by CHAIN, IP and ID.
masq_rules() {
	local chain uid ip
	chain=$(masq_chain "$1")
	uid=$(pod_uid "$1")
	ip=$(pod_ip "$1")
	in_ns iptables-save -t nat | grep -F -- "$chain" |
		sed -e "s/$chain/CHAIN/g" -e "s/$uid/ID/g" -e "s/${ip//./\\.}/IP/g" -e 's/\[[0-9:]*\]//'
}

# nat_table: the test host's nat table without counters and dates.
nat_table() {
	in_ns iptables-save -t nat | grep -v '^#' | sed 's/\[[0-9:]*\]//'
}

# outside_up: a host beyond the test host: a namespace OUT_NS joined by a
# veth pair (192.0.2.1/24 on the test host's side, 192.0.2.2/24 on its
# own), with no route back to the pods' subnet, so that a pod reaches it
# only masqueraded; an HTTP server there answers /cgi-bin/ip with the
# client address it sees. Everything made inside the test's namespaces.
outside_up() {
	OUT_NS=pp-test-out-$$
	ip netns add "$OUT_NS"
	in_ns ip link add pp-out0 type veth peer name pp-out1
	in_ns ip link set pp-out1 netns "$OUT_NS"
	in_ns ip addr add 192.0.2.1/24 dev pp-out0
	in_ns ip link set pp-out0 up
	ip -n "$OUT_NS" link set lo up
	ip -n "$OUT_NS" addr add 192.0.2.2/24 dev pp-out1
	ip -n "$OUT_NS" link set pp-out1 up
	mkdir -p "$TEST_DIR/www/cgi-bin"
	printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' \
		>"$TEST_DIR/www/cgi-bin/ip"
	chmod +x "$TEST_DIR/www/cgi-bin/ip"
	nsenter --net="/run/netns/$OUT_NS" busybox httpd -f -p 192.0.2.2:8080 -h "$TEST_DIR/www" &
	OUT_PID=$!
}

outside_down() {
	if [ -n "${OUT_PID:-}" ]; then
		kill -KILL "$OUT_PID" 2>/dev/null || true
		wait "$OUT_PID" 2>/dev/null || true
	fi
	OUT_PID=
	in_ns ip link del pp-out0 2>/dev/null || true
	[ -n "${OUT_NS:-}" ] && ip netns del "$OUT_NS" 2>/dev/null
	OUT_NS=
	return 0
}

# kill_supervisor_then_gc NAME: SIGKILL the pod's supervisor (its lease
# stays), then gc frees all of its network and everything else.
kill_supervisor_then_gc() {
	local ip sup
	ip=$(pod_ip "$1")
	sup=$(sup_pid "$1")
	kill -KILL "$sup"
	eventually 5 none_alive "$sup"
	[ -f "$LEASES/peapod/$ip" ] || fail "the lease is already gone?"
	run_peapod gc
	assert_status 0
	assert_no_net_leaks
	assert_no_leaks
}

@test "a pod gets an IP on the default network: get -o wide, inspect, /etc/hosts, hostname -i" {
	apply_ok < <(web_pod web)
	local ip
	ip=$(pod_ip web)
	[[ "$ip" =~ ^10\.89\.[0-9]+\.[0-9]+$ ]] || fail "podIP $ip is not on 10.89.0.0/16"
	[ "$(inspect_get web 'd["status"]["podIPs"][0]["ip"]')" = "$ip" ] || fail "podIPs"
	[ -n "$(inspect_get web 'd["status"]["hostIP"]')" ] || fail "no hostIP"
	run_peapod get pods web -o wide
	local re="^web .* ${ip//./\\.} "
	[[ "${lines[1]}" =~ $re ]] || fail "no IP column with $ip: ${lines[1]}"
	run_peapod exec web -- hostname -i
	assert_status 0
	assert_stdout "$ip"
	run_peapod exec web -- cat /etc/hosts
	assert_line "$(printf '%s\tweb' "$ip")"
	# The default conflist was written on first use, and the bridge exists.
	[ -f "$PEAPOD_CNI_CONF_DIR/10-peapod.conflist" ] || fail "no default conflist"
	in_ns ip link show peapod0 >/dev/null || fail "no bridge peapod0"
	# The pod's lease, its veth on the bridge, its record.
	[ -f "$LEASES/peapod/$ip" ] || fail "no host-local lease for $ip"
	[ "$(in_ns ip -o link show master peapod0 | wc -l)" -eq 1 ] || fail "no veth on peapod0"
	# inspect runs CHECK (here the fast path's): fine, then not once the pod's veth is gone.
	check=$(inspect_get web 'd["peapod"]["networkCheck"]')
	[ "$check" = ok ] || fail "CHECK did not pass: $check"
	in_ns ip link del "$(in_ns ip -o link show master peapod0 | awk -F'[:@ ]+' '{print $2}')"

	check=$(inspect_get web 'd["peapod"]["networkCheck"]')
	[[ "$check" == *"no eth0 in the pod"* ]] || fail "CHECK passed without the veth: $check"
	pp delete web >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

@test "two pods reach each other over HTTP by pod IP, and the host reaches them" {
	apply_ok < <(web_pod alpha)
	apply_ok < <(web_pod beta)
	local a b
	a=$(pod_ip alpha)
	b=$(pod_ip beta)
	[ "$a" != "$b" ] || fail "both pods have $a"
	run_peapod exec alpha -- timeout 10 wget -q -O - "http://$b:8080/"
	assert_status 0
	assert_stdout "from-beta"
	run_peapod exec beta -- timeout 10 wget -q -O - "http://$a:8080/"
	assert_status 0
	assert_stdout "from-alpha"
	# The plugins' CHECK, with the plugins' path.
	PEAPOD_NET_FASTPATH=0 apply_ok < <(web_pod gamma)
	[ "$(inspect_get gamma 'd["peapod"]["networkCheck"]')" = ok ] || fail "CNI CHECK did not pass"
	in_ns ip link del "$(in_ns ip -o link show master peapod0 | awk -F'[:@ ]+' '$0 ~ /veth/ {v = $2} END {print v}')"
	[[ "$(inspect_get gamma 'd["peapod"]["networkCheck"]')" == *"CNI bridge CHECK"* ]] ||
		fail "CNI CHECK passed without the veth"
	pp delete gamma >/dev/null
	# The (test) host reaches a pod by its IP through the bridge.
	run in_ns timeout 10 busybox wget -q -O - "http://$a:8080/"
	assert_status 0
	assert_stdout "from-alpha"
	pp delete alpha beta >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

@test "port-forward reaches a pod with a pod IP through its own loopback" {
	apply_ok < <(web_pod alpha)
	[ -n "$(pod_ip alpha)" ]
	eventually 20 listening alpha 8080
	# (made first: the background job opens it only once it runs)
	: >"$TEST_DIR/out"
	env --default-signal=INT,TERM "$PEAPOD" port-forward alpha :8080 >"$TEST_DIR/out" 2>"$TEST_DIR/err" 3>&- &
	BG_PID=$!
	local port= i
	for ((i = 0; i < 100; i++)); do
		port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "$TEST_DIR/out")
		[ -z "$port" ] || break
		sleep 0.1
	done
	[ -n "$port" ] || { dump_bg; fail "no Forwarding line"; }
	run in_ns timeout 10 busybox wget -q -O - "http://127.0.0.1:$port/"
	assert_status 0
	assert_stdout "from-alpha"
	kill -INT "$BG_PID"
	wait_bg 10
	assert_status 0
	pp delete alpha >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

@test "hostPort: the host's port reaches the pod (portmap); its rules go with the pod" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hp
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: @IMAGE@
      command: ["sh", "-c", "echo via-hostport > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
      ports:
        - containerPort: 8080
          hostPort: 18080
EOF
	local host
	host=$(inspect_get hp 'd["status"]["hostIP"]')
	in_ns iptables-save -t nat | grep -q 'dport 18080' || fail "no portmap rule for 18080"
	run in_ns timeout 10 busybox wget -q -O - "http://$host:18080/"
	assert_status 0
	assert_stdout "via-hostport"
	pp delete hp >/dev/null
	in_ns iptables-save -t nat | grep -q 'dport 18080' && fail "the portmap rule stayed"
	assert_no_net_leaks
	assert_no_leaks
}

@test "hostNetwork: the pod sees the host's interfaces and /etc/hosts; no CNI" {
	in_ns ip link add pp-host-dummy type bridge
	run_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: hn
spec:
  hostNetwork: true
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "cat /proc/net/dev; echo ---; cat /etc/hosts"]
EOF
	in_ns ip link del pp-host-dummy
	assert_status 0
	assert_stdout_contains "pp-host-dummy"
	refute_stdout_contains "eth0"
	# The host's /etc/hosts, as kubelet gives a hostNetwork pod.
	local hosts
	hosts=$(awk '/^\[c\] ---$/ {f = 1; next} f' <<<"$output" | sed 's/^\[c\] //')
	[ "$hosts" = "$(cat /etc/hosts)" ] || fail "not the host's /etc/hosts: $hosts"
	[ -z "$(find "$LEASES" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null)" ] ||
		fail "a lease for a hostNetwork pod"
	assert_no_net_leaks
	assert_no_leaks
}

@test "--network none and the peapod.io/network annotation pick the pod's network" {
	bridge_conflist 20-other other pp-other0 '[[{"subnet": "10.90.7.0/24"}]]'
	run_pod --network none <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: lo-only
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: @IMAGE@
      command: ["sh", "-c", "ls /sys/class/net"]
EOF
	assert_status 0
	assert_stdout "[c] lo"
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: other
  annotations:
    peapod.io/network: other
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
	local ip
	ip=$(pod_ip other)
	[[ "$ip" =~ ^10\.90\.7\.[0-9]+$ ]] || fail "podIP $ip is not on network other"
	[ -f "$LEASES/other/$ip" ] || fail "no lease in network other"
	# No default conflist was needed.
	[ ! -e "$PEAPOD_CNI_CONF_DIR/10-peapod.conflist" ] || fail "the default network was written"
	pp delete other >/dev/null
	in_ns ip link del pp-other0
	assert_no_net_leaks
	assert_no_leaks
}

@test "a network that is not configured, or a bandwidth out of range, fails the apply and leaves nothing" {
	apply_pod --network nosuchnet < <(web_pod lost)
	[ "$status" -ne 0 ] || fail "apply succeeded"
	assert_stderr_contains 'network "nosuchnet"'
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: badbw
  annotations:
    kubernetes.io/ingress-bandwidth: "10"
spec:
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
	[ "$status" -ne 0 ] || fail "apply with a 10 bit/s limit succeeded"
	assert_stderr_contains 'kubernetes.io/ingress-bandwidth]: 10 is out of range'
	assert_no_net_leaks
	assert_no_leaks
}

@test "an ADD that fails half-way (after bridge and portmap) is undone: no veth, lease, rule or record" {
	mkdir -p "$PEAPOD_CNI_CONF_DIR"
	cat >"$PEAPOD_CNI_CONF_DIR/10-peapod.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "peapod", "plugins": [
  {"type": "bridge", "bridge": "peapod0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "dataDir": "$LEASES",
            "ranges": [[{"subnet": "10.89.0.0/16"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_sysctl": "1"}}]}
EOF
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: half
spec:
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
      ports:
        - containerPort: 80
          hostPort: 18081
EOF
	[ "$status" -ne 0 ] || fail "apply succeeded"
	assert_stderr_contains "CNI tuning ADD"
	assert_no_net_leaks
	assert_no_leaks
}

@test "a supervisor killed with SIGKILL: gc undoes the pod's network (lease, portmap rules)" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  containers:
    - name: web
      image: @IMAGE@
      command: ["sleep", "1000"]
      ports:
        - containerPort: 8080
          hostPort: 18082
EOF
	kill_supervisor_then_gc crash
}

# tbf_stat DEV FIELD: a counter of the tbf on DEV (in the test namespace) as
# the kernel reports it (tc -s): overlimits (how often it held a packet back
# for want of tokens), Sent (bytes), backlog (bytes queued).
tbf_stat() {
	in_ns tc -s qdisc show dev "$1" | awk -v f="$2" '
		/^qdisc / { tbf = ($2 == "tbf") }
		tbf { gsub(/[,()]/, " "); for (i = 1; i < NF; i++) if ($i == f) { v = $(i + 1); sub(/b$/, "", v); print v; exit } }'
}

# tbf_burst DEV: the tbf's bucket in bytes, as the kernel holds it (tc -d
# prints "burst 27917286b", or "256Mb" for whole MiB).
tbf_burst() {
	in_ns tc -d qdisc show dev "$1" | awk '
		$2 == "tbf" { for (i = 1; i < NF; i++) if ($i == "burst") {
			v = $(i + 1); sub(/\/.*/, "", v); sub(/b$/, "", v); m = 1
			if (v ~ /K$/) m = 1024; else if (v ~ /M$/) m = 1048576; else if (v ~ /G$/) m = 1073741824
			sub(/[KMG]$/, "", v); printf "%d\n", v * m; exit } }'
}

# tbf_held DEV: the tbf has held packets back (overlimits > 0).
tbf_held() {
	[ "$(tbf_stat "$1" overlimits)" -gt 0 ] 2>/dev/null
}

@test "bandwidth annotations: tbf limits through the bandwidth plugin, as kubelet sets them; measured" {
	apply_ok <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: bw
  annotations:
    kubernetes.io/ingress-bandwidth: 1M
    kubernetes.io/egress-bandwidth: 50M
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: sink
      image: @IMAGE@
      command: ["nc", "-l", "-p", "9000", "-e", "dd", "of=/dev/null"]
EOF
	local ip veth burst
	ip=$(pod_ip bw)
	veth=$(in_ns ip -o link show master peapod0 | awk -F'[:@ ]+' '{print $2}')
	# Ingress (to the pod): tbf on the host's end of the veth; egress: tbf on an ifb.
	in_ns tc qdisc show dev "$veth" | grep -q 'tbf .*rate 1Mbit' || fail "no 1Mbit tbf on $veth"
	in_ns tc qdisc show | grep -E 'dev bwp.* rate 50Mbit' >/dev/null || fail "no 50Mbit tbf on an ifb"
	# kubelet's burst is MaxInt32 bits; the plugin's conversion to the
	# kernel's ticks makes the bucket what tc -d reports (27917286 bytes
	# here). Once a sender faster than the rate (1 Mbit/s: any sender,
	# however loaded the machine) has sent more than the bucket, the tbf
	# holds its packets back, which the kernel counts in the qdisc's
	# overlimits. The sender has the bucket and 16 MiB more to send, so it
	# stays held back; what is awaited is the kernel's count, neither a
	# timer nor the sender's life (TCP still sends what it has taken in
	# after its process has exited).
	burst=$(tbf_burst "$veth")
	[ "${burst:-0}" -gt 0 ] || fail "no burst in: $(in_ns tc -d qdisc show dev "$veth")"
	eventually 10 listening bw 9000
	[ "$(tbf_stat "$veth" overlimits)" = 0 ] || fail "overlimits before any traffic"
	# (BG_PID: timeout, which passes a SIGTERM on to nc)
	head -c $((burst + (16 << 20))) /dev/zero |
		timeout 300 $NS_EXEC busybox nc "$ip" 9000 2>"$TEST_DIR/sender.err" &
	BG_PID=$!
	local start end
	start=$(date +%s%N)
	eventually 120 tbf_held "$veth" ||
		fail "the tbf never held the pod's traffic back (overlimits $(tbf_stat "$veth" overlimits), sent $(tbf_stat "$veth" Sent) of a bucket of $burst bytes; the sender $(kill -0 "$BG_PID" 2>/dev/null && echo runs || echo ended): $(tr '\n' ' ' <"$TEST_DIR/sender.err"))"
	end=$(date +%s%N)
	echo "# ingress limit 1 Mbit/s: held back after $(((end - start) / 1000000)) ms, $(tbf_stat "$veth" Sent) bytes sent (bucket $burst; overlimits $(tbf_stat "$veth" overlimits))" >&3
	# Held back: not everything passed (16 MiB at 1 Mbit/s take minutes).
	[ "$(tbf_stat "$veth" Sent)" -lt $((burst + (16 << 20))) ] || fail "everything passed the tbf"
	kill "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	pp delete bw >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

# record_of NAME: the pod's network record.
record_of() {
	cat "$PEAPOD_RUN/pods/$(pod_uid "$1")/network.json"
}

@test "the built-in fast path and the CNI plugins are equivalent: one bridge, one lease pool, same lease files" {
	apply_ok < <(web_pod fast)
	PEAPOD_NET_FASTPATH=0 apply_ok < <(web_pod slow)
	[ "$(record_of fast | json_get 'd["fastPath"]')" = true ] || fail "the default network did not take the fast path"
	[ "$(record_of slow | json_get 'd["fastPath"]')" = false ] || fail "PEAPOD_NET_FASTPATH=0 took the fast path"
	local f s
	f=$(pod_ip fast)
	s=$(pod_ip slow)
	[ "$f" != "$s" ] || fail "both pods have $f"
	# Both leases as host-local writes them: "<containerID>\r\n<ifname>".
	[ "$(cat "$LEASES/peapod/$f")" = "$(printf '%s\r\neth0' "$(pod_uid fast)")" ] || fail "fast lease"
	[ "$(cat "$LEASES/peapod/$s")" = "$(printf '%s\r\neth0' "$(pod_uid slow)")" ] || fail "CNI lease"
	[ "$(in_ns ip -o link show master peapod0 | wc -l)" -eq 2 ] || fail "not both veths on peapod0"
	# Same addresses and routes in both pods, and traffic both ways.
	run_peapod exec fast -- ip route
	assert_line "default via 10.89.0.1 dev eth0 "
	run_peapod exec slow -- ip route
	assert_line "default via 10.89.0.1 dev eth0 "
	run_peapod exec fast -- timeout 10 wget -q -O - "http://$s:8080/"
	assert_stdout "from-slow"
	run_peapod exec slow -- timeout 10 wget -q -O - "http://$f:8080/"
	assert_stdout "from-fast"
	run in_ns timeout 10 busybox wget -q -O - "http://$f:8080/"
	assert_stdout "from-fast"
	[ "$(inspect_get fast 'd["peapod"]["networkCheck"]')" = ok ] || fail "fast path CHECK"
	pp delete fast slow >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

@test "fast path: a supervisor killed with SIGKILL; gc releases the lease, the veth went with the namespace" {
	apply_ok < <(web_pod fastcrash)
	[ "$(record_of fastcrash | json_get 'd["fastPath"]')" = true ] || fail "not the fast path"
	kill_supervisor_then_gc fastcrash
}

@test "egress: pods reach a host beyond the test host, masqueraded (ipMasq), by the fast path and the plugins alike" {
	local before
	before=$(nat_table)
	outside_up
	apply_ok < <(sleeper_pod fastout)
	PEAPOD_NET_FASTPATH=0 apply_ok < <(sleeper_pod slowout)
	[ "$(record_of fastout | json_get 'd["fastPath"]')" = true ] || fail "not the fast path"
	[ "$(record_of slowout | json_get 'd["fastPath"]')" = false ] || fail "the fast path"
	# Without the masquerade the outside host could not answer (no route
	# back to 10.89.0.0/16); with it, it sees the test host's address.
	local p
	for p in fastout slowout; do
		run_peapod exec "$p" -- timeout 10 wget -q -O - http://192.0.2.2:8080/cgi-bin/ip
		assert_status 0
		assert_stdout "192.0.2.1"
	done
	# The plugin named its chain as peapod names it, and the fast path
	# wrote the same rules (chain, address and id aside).
	in_ns iptables-save -t nat | grep -q "^:$(masq_chain slowout) " || fail "no chain $(masq_chain slowout) of the plugin"
	in_ns iptables-save -t nat | grep -q "^:$(masq_chain fastout) " || fail "no chain $(masq_chain fastout) of the fast path"
	[ "$(masq_rules slowout | wc -l)" -eq 4 ] || fail "the plugin's rules: $(masq_rules slowout)"
	diff <(masq_rules slowout) <(masq_rules fastout) || fail "the fast path's masquerade differs from the plugin's"
	pp delete fastout slowout >/dev/null
	outside_down
	assert_no_net_leaks
	diff <(echo "$before") <(nat_table) || fail "the nat table changed"
	assert_no_leaks
}

@test "egress: the masquerade chain goes after a SIGKILLed supervisor and gc, plugins and fast path" {
	local before
	before=$(nat_table)
	apply_ok < <(sleeper_pod fastkill)
	PEAPOD_NET_FASTPATH=0 apply_ok < <(sleeper_pod slowkill)
	local p sups=
	for p in fastkill slowkill; do
		in_ns iptables-save -t nat | grep -q "^-A POSTROUTING .*-j $(masq_chain $p)$" || fail "no jump to the chain of $p"
		sups="$sups $(sup_pid $p)"
	done
	# shellcheck disable=SC2086 # pids
	kill -KILL $sups
	# shellcheck disable=SC2086
	eventually 5 none_alive $sups
	# The plugin's DEL without the pod's namespace leaves its chain: peapod removes it.
	run_peapod gc
	assert_status 0
	assert_no_net_leaks
	diff <(echo "$before") <(nat_table) || fail "the nat table changed"
	assert_no_leaks
}

@test "sysctls of the pod's eth0 are written once the network is set up (as containerd), by the fast path and the plugins" {
	local p
	for p in fastsys slowsys; do
		[ $p = slowsys ] && export PEAPOD_NET_FASTPATH=0
		apply_ok <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $p
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls:
      - {name: net.ipv4.conf.eth0.arp_ignore, value: "2"}
      - {name: net/ipv4/conf/eth0/accept_local, value: "1"}
      - {name: net.ipv4.ip_local_port_range, value: "40000 41000"}
      - {name: kernel.shm_rmid_forced, value: "1"}
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
		unset PEAPOD_NET_FASTPATH
		run_peapod exec $p -- cat /proc/sys/net/ipv4/conf/eth0/arp_ignore /proc/sys/net/ipv4/conf/eth0/accept_local /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced
		assert_status 0
		assert_line "2"
		assert_line_re '^40000\s+41000$'
		[ "${lines[1]}" = 1 ] && [ "${lines[3]}" = 1 ] || fail "accept_local, shm_rmid_forced: $output"
	done
	[ "$(record_of fastsys | json_get 'd["fastPath"]')" = true ] || fail "not the fast path"
	[ "$(in_ns cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 0 ] || fail "the test host's arp_ignore changed"
	pp delete fastsys slowsys >/dev/null
	# Without a network there is no eth0: the pod fails, saying which sysctl.
	apply_pod <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nosys
  annotations: {peapod.io/network: none}
spec:
  securityContext:
    sysctls: [{name: net.ipv4.conf.eth0.arp_ignore, value: "2"}]
  containers:
    - name: c
      image: @IMAGE@
      command: ["sleep", "1000"]
EOF
	[ "$status" -ne 0 ] || fail "a sysctl of a missing eth0 was accepted"
	assert_stderr_contains 'sysctl net.ipv4.conf.eth0.arp_ignore=2'
	assert_no_net_leaks
	assert_no_leaks
}

@test "IPv6: a dual-stack conflist gives podIPs IPv4 first, then IPv6; /etc/hosts has the IPv4 one" {
	bridge_conflist 30-dual dual pp-dual0 '[[{"subnet": "fd00:89::/64"}], [{"subnet": "10.91.0.0/24"}]]'
	apply_ok --network dual < <(web_pod dual)
	local v4 v6
	v4=$(inspect_get dual 'd["status"]["podIPs"][0]["ip"]')
	v6=$(inspect_get dual 'd["status"]["podIPs"][1]["ip"]')
	[[ "$v4" =~ ^10\.91\.0\.[0-9]+$ ]] || fail "podIPs[0] $v4"
	[[ "$v6" == fd00:89::* ]] || fail "podIPs[1] $v6"
	[ "$(pod_ip dual)" = "$v4" ] || fail "podIP is not the IPv4 address"
	run_peapod exec dual -- ip -6 addr show dev eth0
	assert_stdout_contains "$v6/64"
	run_peapod exec dual -- hostname -i
	assert_stdout "$v4"
	pp delete dual >/dev/null
	in_ns ip link del pp-dual0
	assert_no_net_leaks
	assert_no_leaks
}

@test "a plugin that hangs is killed after PEAPOD_CNI_TIMEOUT_MS; the ADD is undone" {
	mkdir -p "$TEST_DIR/plugins"
	printf '#!/bin/sh\nexec sleep 1000\n' >"$TEST_DIR/plugins/hang"
	chmod +x "$TEST_DIR/plugins/hang"
	bridge_conflist 40-hang hang peapod0 '[[{"subnet": "10.89.0.0/16"}]]' ', {"type": "hang"}'
	PEAPOD_CNI_PATH=$TEST_DIR/plugins:/usr/lib/cni PEAPOD_CNI_TIMEOUT_MS=300 apply_pod --network hang < <(web_pod hung)
	[ "$status" -ne 0 ] || fail "apply succeeded"
	assert_stderr_contains "CNI hang ADD: no answer in 300 ms, killed"
	pgrep -f "$TEST_DIR/plugins/hang" && fail "the plugin still runs"
	assert_no_net_leaks
	assert_no_leaks
}

@test "hostUsers: false: pods in user namespaces get their IPs (fast path and CNI) and reach each other" {
	skip_unless_userns
	apply_ok < <(web_pod ua | sed 's/^spec:$/spec:\n  hostUsers: false/')
	PEAPOD_NET_FASTPATH=0 apply_ok < <(web_pod ub | sed 's/^spec:$/spec:\n  hostUsers: false/')
	local a b
	a=$(pod_ip ua)
	b=$(pod_ip ub)
	[[ "$a" =~ ^10\.89\. ]] && [[ "$b" =~ ^10\.89\. ]] || fail "pod IPs $a $b"
	# Its network namespace is its user namespace's: root there sees eth0.
	run_peapod exec ua -- sh -c 'cat /proc/self/uid_map; ls /sys/class/net'
	assert_status 0
	assert_line eth0
	[[ "${lines[0]}" =~ ^\ +0\ +[1-9][0-9]*\ +65536$ ]] || fail "uid_map: ${lines[0]}"
	run_peapod exec ua -- timeout 10 wget -q -O - "http://$b:8080/"
	assert_status 0
	assert_stdout "from-ub"
	run in_ns timeout 10 busybox wget -q -O - "http://$a:8080/"
	assert_status 0
	assert_stdout "from-ua"
	pp delete ua ub >/dev/null
	assert_no_net_leaks
	assert_no_leaks
}

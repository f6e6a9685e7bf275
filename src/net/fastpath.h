/* The built-in fast path for the default network: what the bridge and
 * host-local plugins do for it, in-process over netlink (kernel-notes.md,
 * Networking: a CNI bridge ADD/DEL costs ~13/~21 ms of Go start-up and a
 * synchronous veth deletion; this costs ~1 ms, plus ~1.6 ms of
 * iptables-restore for the masquerade):
 *   - the bridge peapod0 with the gateway address (created when missing);
 *   - one veth pair created with its peer "eth0" directly in the pod's
 *     namespace (IFLA_NET_NS_FD), the host end on the bridge, hairpin on;
 *   - in the pod: the address, the link up, the default route;
 *   - the lease as host-local keeps it (<dataDir>/peapod/<ip> holding
 *     "<containerID>\r\n<ifname>", last_reserved_ip.0, under the flock of
 *     <dataDir>/peapod/lock), so both paths share one pool of addresses;
 *   - the bridge plugin's masquerade chain and jump (ipMasq, ipmasq.h).
 * Leaving releases the lease (podnet.c removes the masquerade); the veth
 * goes with the pod's namespace when the infra process dies
 * (asynchronously, nobody waits for it).
 * Taken only for the default configuration and a pod without hostPort or
 * bandwidth limits (those need portmap and bandwidth); PEAPOD_NET_FASTPATH=0
 * turns it off. */
#ifndef PEAPOD_FASTPATH_H
#define PEAPOD_FASTPATH_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "util/error.h"

bool pp_fastpath_enabled(void);

/* ADD: *result gets a CNI 1.0.0 result like the bridge plugin's. On failure
 * nothing is left (lease released, veth deleted). */
int pp_fastpath_add(const char *container_id, pid_t infra_pid, struct json_object **result,
		    struct pp_error **err);

/* DEL: releases container_id's lease (found by its content, as host-local's
 * ReleaseByID, so that a supervisor killed between the lease and its record
 * still has it released); the veth is left to the end of the pod's network
 * namespace. Idempotent. */
int pp_fastpath_del(const char *container_id, struct pp_error **err);

/* CHECK: the lease is ours and the pod's end of the veth exists. */
int pp_fastpath_check(const char *container_id, const char *ip, pid_t infra_pid,
		      struct pp_error **err);

#endif

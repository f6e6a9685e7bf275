/* src/net: owns the pod network: which network and conflist, exec'ing
 * CNI plugins, the default network's fast path over netlink, masquerading,
 * and each pod's network record (for DEL after a crash). Must not start
 * processes in the pod other than plugins, know the supervisor, print or
 * exit.
 *
 * A pod's network: joining it when the infra process holds the pod's network
 * namespace, leaving it at teardown, and after a crash from the record kept
 * in the pod's state directory:
 *
 *   <state dir>/network.json   {network, containerID, ifName, args, config,
 *                               runtimeConfig, result}
 *
 * written before the first plugin runs (so that a supervisor killed during
 * ADD still has its DEL) and with the result after. Leaving removes it. */
#ifndef PEAPOD_PODNET_H
#define PEAPOD_PODNET_H

#include <sys/types.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

#define PP_NET_RECORD "network.json"
#define PP_NET_IFNAME "eth0"

struct pp_pod_net_req {
	const struct pp_pod *pod;
	const char *uid;
	const char *state_dir;
	pid_t infra_pid; /* holds the pod's network namespace */
};

/* Joins the pod's network (none for hostNetwork or network "none": *ips is
 * then empty). *ips: the pod's addresses, IPv4 first, NULL-terminated. On
 * failure nothing is left: no interface, lease, rule or record. */
int pp_pod_net_attach(const struct pp_pod_net_req *req, char ***ips, struct pp_error **err);

/* Leaves the network recorded in state_dir (nothing recorded: nothing to do).
 * infra_pid > 0: the namespace still exists, held by that process, and the
 * plugins remove the pod's interface in it; 0: the namespace is gone (the
 * pod's processes died with its supervisor, or a reboot) and only what lives
 * outside it goes (leases, rules). Idempotent. */
int pp_pod_net_detach(const char *state_dir, pid_t infra_pid, struct pp_error **err);

/* CHECK of the recorded network (the pod's namespace held by infra_pid). */
int pp_pod_net_check(const char *state_dir, pid_t infra_pid, struct pp_error **err);

/* The host's address for status.hostIP (kubelet's node IP): the first IPv4
 * address of an interface that is up and not loopback, 127.0.0.1 when
 * there is none. A new string. */
char *pp_net_host_ip(void);

/* kubelet's bandwidth annotations (exposed for tests). */
#define PP_NET_INGRESS_ANNOTATION "kubernetes.io/ingress-bandwidth"
#define PP_NET_EGRESS_ANNOTATION "kubernetes.io/egress-bandwidth"

#endif

/* A pod's sysctls. Each is written in the pod's own namespace: the IPC ones
 * (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) when the infra process
 * is made (infra.h: by the supervisor in its namespaces, or by the infra
 * process itself in a user namespace), the net.* ones by the supervisor once the pod's network is
 * set up, as containerd does it (network namespace, CNI ADD, then the
 * sandbox container whose OCI spec carries the sysctls): so a sysctl of the
 * pod's interface (net.ipv4.conf.eth0.*) finds eth0. */
#ifndef PEAPOD_SYSCTL_H
#define PEAPOD_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

/* Whether the sysctl belongs to the network namespace (net.*). */
bool pp_sysctl_is_net(const char *name);

/* Writes one sysctl in the namespaces of the calling process: dots are
 * separators unless the name uses slashes, and then a dot is part of a
 * component (an interface "eth0.100"). -1 with errno set on failure. No
 * allocation: the infra process calls it. */
int pp_sysctl_write(const struct pp_kv *kv);

/* Writes the net.* sysctls of kvs in the network namespace of the process
 * behind pidfd (the pod's infra process). This process must be
 * single-threaded: it enters that namespace and comes straight back. */
int pp_sysctl_write_net(int pidfd, const struct pp_kv *kvs, size_t n, struct pp_error **err);

#endif

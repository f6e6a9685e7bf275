/* kubectl port-forward: listens on the host (loopback by default) and
 * carries each connection to a port of the pod's loopback, connecting from
 * inside the pod's network namespace as the CRI's port-forward does, so it
 * works for pods without a pod IP (PEAPOD_NETWORK=none) too. One thread:
 * an epoll loop over the listeners and every connection's two sockets. */
#ifndef PEAPOD_OPS_PORTFORWARD_H
#define PEAPOD_OPS_PORTFORWARD_H

#include <stddef.h>

#include "util/error.h"

struct pp_port_pair {
	int local;  /* 0: a free port, chosen once for every address */
	int remote; /* in the pod */
};

/* "[LOCAL:]REMOTE" (":REMOTE": a free local port), ports 1-65535; an error
 * quotes spec. */
int pp_port_pair_parse(const char *spec, struct pp_port_pair *p, struct pp_error **err);

struct pp_port_forward_opts {
	const char *ns, *name;
	/* where to listen: IPv4 or IPv6 addresses, or "localhost" (127.0.0.1,
	 * and ::1 where the host has IPv6); none: localhost */
	const char *const *addresses;
	size_t n_addresses;
	const struct pp_port_pair *ports;
	size_t n_ports;
	/* each listener once it listens: "127.0.0.1", "[::1]" and the ports */
	void (*on_listen)(void *ctx, const char *addr, int local, int remote);
	/* each connection accepted, and what went wrong with one (the others
	 * go on); may be NULL */
	void (*on_connection)(void *ctx, int local);
	void (*on_conn_error)(void *ctx, int local, const struct pp_error *e);
	void *ctx;
	int stop_fd; /* readable: close everything and return (a signalfd) */
};

/* Returns 0 once stop_fd is readable, everything closed; -1 and err when
 * the pod cannot be reached, no listener could be made, or the pod's
 * supervisor exited (the pod is gone). */
int pp_pod_port_forward(const struct pp_port_forward_opts *o, struct pp_error **err);

#endif

/* tcpSocket and httpGet probes: the connection is made by a short-lived
 * child that enters the pod's network namespace, so the caller (the
 * supervisor) keeps its own. The child's exit status is the result (0
 * success); what went wrong goes to msg_fd as one line, kubelet's words. */
#ifndef PEAPOD_NET_PROBE_H
#define PEAPOD_NET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec/pod_spec.h"
#include "util/error.h"

struct pp_net_probe {
	int netns_pidfd;  /* a process in the pod's network namespace, -1: ours */
	const char *host; /* an address or a name */
	int port;
	bool http; /* false: tcpSocket, connect only */
	const char *path;
	const struct pp_kv *headers;
	size_t n_headers;
	int timeout_s; /* the child also gives up by itself after this */
};

/* Starts the child; *pid and *pidfd (CLOEXEC, the caller's) receive it. */
int pp_net_probe_start(const struct pp_net_probe *p, int msg_fd, pid_t *pid, int *pidfd,
		       struct pp_error **err);

/* The status code of an HTTP/1.x status line at the start of buf
 * ("HTTP/1.1 200 OK"), or -1 when buf does not start with one. */
int pp_http_status_code(const char *buf, size_t len);

/* What an HTTP probe makes of a status code: 200-399 succeed. */
bool pp_http_status_ok(int code);

#endif

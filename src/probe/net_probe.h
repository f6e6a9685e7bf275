/* src/probe: owns the probe clients: tcpSocket, httpGet (HTTP and HTTPS),
 * gRPC health, the HTTP response reader and TLS. Must not schedule probes or
 * decide what a result does to a container (src/supervisor does), know the
 * pod instance, print or exit.
 *
 * tcpSocket and httpGet (HTTP and HTTPS) probes: the connection is made by a short-lived
 * child that enters the pod's network namespace, so the caller (the
 * supervisor) keeps its own. The child's exit status is the result (0
 * success); what went wrong goes to msg_fd as one line, kubelet's words. */
#ifndef PEAPOD_NET_PROBE_H
#define PEAPOD_NET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "manifest/pod_spec.h"
#include "util/error.h"

struct pp_net_probe {
	int netns_pidfd;  /* a process in the pod's network namespace, -1: ours */
	const char *host; /* an address or a name */
	int port;
	bool http;  /* false: tcpSocket, connect only */
	bool https; /* http over TLS (the certificate not verified) */
	const char *path;
	const struct pp_kv *headers;
	size_t n_headers;
	int timeout_s; /* the child also gives up by itself after this */
};

/* Starts the child; *pid and *pidfd (CLOEXEC, the caller's) receive it. */
int pp_net_probe_start(const struct pp_net_probe *p, int msg_fd, pid_t *pid, int *pidfd,
		       struct pp_error **err);

#define PP_NET_PROBE_MSG_MAX 1024
#define PP_HTTP_RESPONSE_MAX 4096

/* The pieces, for a caller that makes the connection itself (the
 * supervisor, without a child): */
/* The request an httpGet probe sends (malloc'ed; NULL: out of memory). */
char *pp_http_probe_request(const struct pp_net_probe *p, size_t *len);
/* What the first bytes of the response make of the probe: 0 success; -1
 * failure with kubelet's message in msg. */
int pp_http_probe_check(const struct pp_net_probe *p, const char *buf, size_t len, char *msg,
			size_t size);
/* kubelet's messages for a failed connect and a failed request (an errno,
 * or what went wrong: `Get "URL": text`). */
void pp_tcp_probe_connect_failed(const struct pp_net_probe *p, int e, char *msg, size_t size);
void pp_http_probe_send_failed(const struct pp_net_probe *p, int e, char *msg, size_t size);
void pp_http_probe_failed(const struct pp_net_probe *p, const char *text, char *msg, size_t size);
/* strerror(e) in Go's wording ("connection refused"). */
const char *pp_net_probe_errstr(int e);

/* ---- a whole response (http_response.c) ---- */
enum { PP_HTTP_FAILED = -1, PP_HTTP_OK = 0, PP_HTTP_WARNING = 1, PP_HTTP_REDIRECT = 2 };
#define PP_HTTP_MAX_REDIRECTS 10

/* Where a redirect leads (on the same host); path malloc'ed. */
struct pp_http_target {
	bool https;
	int port;
	char *path;
};

/* Whether the response is still to be read on (while the connection
 * lasts): its status line is incomplete, or it is a redirect (3xx), whose
 * Location and body are needed. */
bool pp_http_response_incomplete(const char *buf, size_t len);

/* The verdict on the response read (redirects: how many were followed):
 * PP_HTTP_OK; PP_HTTP_FAILED, kubelet's message in msg; PP_HTTP_WARNING, a
 * success with kubelet's warning in msg (a redirect not followed);
 * PP_HTTP_REDIRECT, to be followed to *next (its path to be freed). */
int pp_http_probe_verdict(const struct pp_net_probe *p, const char *buf, size_t len, int redirects,
			  struct pp_http_target *next, char *msg, size_t size);

/* Location loc seen from probe p: *t and its host in host (size bytes);
 * 0, or -1 when loc is malformed. */
int pp_http_redirect_target(const struct pp_net_probe *p, const char *loc, struct pp_http_target *t,
			    char *host, size_t size);

/* The status code of an HTTP/1.x status line at the start of buf
 * ("HTTP/1.1 200 OK"), or -1 when buf does not start with one. */
int pp_http_status_code(const char *buf, size_t len);

/* What an HTTP probe makes of a status code: 200-399 succeed. */
bool pp_http_status_ok(int code);

#endif

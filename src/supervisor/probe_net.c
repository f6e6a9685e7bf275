/* The socket transport of the probes (sup_probe_socket): tcpSocket,
 * httpGet (to an address) and grpc as connections of the supervisor
 * itself, in its event loop, with the probe clients of src/probe doing the
 * protocol. A socket belongs to the network namespace it is created in:
 * the (single-threaded) supervisor enters the pod's, creates it and
 * returns to its own (pod_socket, the one place that switches); the
 * connection then runs in the loop like any other fd. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/net_probe.h"
#include "probe/tls.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/netns.h"

/* The supervisor's visits to pods' network namespaces: its own namespace's
 * fd is opened at the first and kept. */
static struct pp_netns_visit netns_visit = PP_NETNS_VISIT_INIT;

/* Where the network namespace is switched, and only here: a socket is
 * created in the pod's (when it has its own) and the supervisor returns
 * to its own at once. */
static int pod_socket(const struct pp_sandbox *sb, int family, struct pp_error **err)
{
	bool enter = sb->infra_pidfd >= 0 && (sb->join_ns & CLONE_NEWNET);
	if (enter && pp_netns_enter(&netns_visit, sb->infra_pidfd, err) < 0)
		return -1;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e = errno;
	pp_netns_leave(&netns_visit);
	if (fd < 0)
		return pp_error_set(err, e, "socket: %s", pp_net_probe_errstr(e));
	return fd;
}

static struct probe_conn *conn_of(struct sup *s, size_t i, enum probe_kind k)
{
	return &s->run[i].probes[k].u.conn;
}

/* The connection failed: kubelet's message for the probe's kind. */
static int connect_failed(const struct probe_conn *p, const struct pp_net_probe *np, int e,
			  struct pp_error **err)
{
	char dial[PP_NET_PROBE_MSG_MAX];
	pp_tcp_probe_connect_failed(np, e, dial, sizeof(dial));
	if (p->grpc)
		return pp_error_set(err, e, "failed to connect service \"%s:%d\": %s", np->host,
				    np->port, dial);
	return pp_error_set(err, e, "%s", dial);
}

/* The run is over with err's message. */
static void failed(struct sup *s, size_t i, enum probe_kind k, const struct pp_error *err)
{
	sup_probe_finish(s, i, k, false, err->msg);
}

/* A redirect being followed: where the request goes now. */
static void redirected(const struct probe_conn *p, struct pp_net_probe *np)
{
	if (p->redirect.path == NULL)
		return;
	np->path = p->redirect.path;
	np->port = p->redirect.port;
	np->https = p->redirect.https;
}

/* The connection's socket, request and response let go; not where a
 * redirect led. */
static void conn_close(struct sup *s, struct probe_conn *p)
{
	if (p->sock >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->sock, NULL);
		cleanup_closep(&p->sock);
	}
	free(p->req);
	free(p->resp);
	p->req = p->resp = NULL;
	pp_grpc_probe_free(p->grpc);
	p->grpc = NULL;
	pp_tls_free(p->tls);
	p->tls = NULL;
	p->handshaken = false;
	p->events = 0;
	p->req_len = p->req_off = p->resp_len = 0;
	p->reading = false;
}

static void conn_cancel(struct sup *s, struct probe_run *r)
{
	struct probe_conn *p = &r->u.conn;
	conn_close(s, p);
	free(p->redirect.path);
	p->redirect = (struct pp_http_target){0};
	p->redirects = 0;
}

/* Connects probe k of container i (to where a redirect led, if one did):
 * 0 connecting, PROBE_DECLINED when its host is not an address, -1 (err). */
static int conn_open(struct sup *s, size_t i, enum probe_kind k, struct pp_error **err)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_conn *p = conn_of(s, i, k);
	cleanup_error struct pp_error *why = NULL;
	struct pp_net_probe np;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t alen;
	if (sup_net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &why) < 0)
		return PROBE_DECLINED; /* the helper says why */
	redirected(p, &np);
	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, np.host, &addr.in.sin_addr) == 1) {
		addr.in.sin_family = AF_INET;
		addr.in.sin_port = htons((uint16_t)np.port);
		alen = sizeof(addr.in);
	} else if (inet_pton(AF_INET6, np.host, &addr.in6.sin6_addr) == 1) {
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_port = htons((uint16_t)np.port);
		alen = sizeof(addr.in6);
	} else {
		return PROBE_DECLINED;
	}
	if (np.http && (p->req = pp_http_probe_request(&np, &p->req_len)) == NULL)
		return pp_error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	if (spec->handler.kind == PP_HANDLER_GRPC &&
	    (p->grpc = pp_grpc_probe_new(np.host, np.port, spec->handler.grpc_service,
					 spec->timeout_seconds)) == NULL)
		return pp_error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	p->sock = pod_socket(s->pod->sandbox, addr.sa.sa_family, err);
	if (p->sock < 0)
		return -1;
	if (connect(p->sock, &addr.sa, alen) < 0 && errno != EINPROGRESS)
		return connect_failed(p, &np, errno, err);
	p->tag = sup_probe_tag(s, i, k);
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = p->tag};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, p->sock, &ev) < 0)
		return pp_error_set(err, errno, "%s", strerror(errno));
	p->events = EPOLLOUT;
	return 0;
}

static int conn_start(struct sup *s, size_t i, enum probe_kind k, struct pp_error **err)
{
	*conn_of(s, i, k) = (struct probe_conn){.sock = -1};
	return conn_open(s, i, k, err);
}

/* Sends what the grpc exchange has to send; 0, or -1 with errno. */
static int grpc_flush(struct probe_conn *p)
{
	const uint8_t *out;
	size_t len, sent = 0;
	pp_grpc_probe_output(p->grpc, &out, &len);
	while (sent < len) {
		ssize_t w = send(p->sock, out + sent, len - sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break; /* the rest when there is room */
		if (w <= 0) {
			if (w == 0)
				errno = EPIPE;
			return -1;
		}
		sent += (size_t)w;
	}
	pp_grpc_probe_sent(p->grpc, sent);
	return 0;
}

/* The grpc exchange moves on: sends what it can, feeds it what arrived,
 * and, once it has an answer, ends the probe; else waits for the socket
 * (writable only while there is something left to send). */
static void grpc_pump(struct sup *s, size_t i, enum probe_kind k, struct probe_conn *p)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	uint8_t buf[4096];
	for (;;) {
		if (grpc_flush(p) < 0) {
			snprintf(msg, sizeof(msg),
				 "error: health rpc probe failed: rpc error: code = Unavailable "
				 "desc = write: %s",
				 pp_net_probe_errstr(errno));
			sup_probe_finish(s, i, k, false, msg);
			return;
		}
		ssize_t r = recv(p->sock, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		pp_grpc_probe_input(p->grpc, buf, r > 0 ? (size_t)r : 0);
		if (r <= 0 ||
		    pp_grpc_probe_result(p->grpc, msg, sizeof(msg)) != PP_GRPC_PROBE_PENDING)
			break;
	}
	int r = pp_grpc_probe_result(p->grpc, msg, sizeof(msg));
	if (r != PP_GRPC_PROBE_PENDING) {
		sup_probe_finish(s, i, k, r == 0, msg);
		return;
	}
	const uint8_t *out;
	size_t len;
	pp_grpc_probe_output(p->grpc, &out, &len);
	uint32_t events = EPOLLIN | (len > 0 ? EPOLLOUT : 0);
	if (events == p->events)
		return;
	struct epoll_event ev = {.events = events, .data.u64 = p->tag};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->sock, &ev) < 0) {
		sup_probe_finish(s, i, k, false, strerror(errno));
		return;
	}
	p->events = events;
}

/* The connection waits for events (and nothing else): 0, or -1 with errno. */
static int want(struct sup *s, struct probe_conn *p, uint32_t events)
{
	if (events == p->events)
		return 0;
	struct epoll_event ev = {.events = events, .data.u64 = p->tag};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->sock, &ev) < 0)
		return -1;
	p->events = events;
	return 0;
}

/* What an I/O call's r (a PP_TLS_* when negative) means for the probe:
 * false, go on; true, it waits for the socket (or failed and is over). */
static bool tls_wait(struct sup *s, size_t i, enum probe_kind k, struct probe_conn *p,
		     const struct pp_net_probe *np, int r)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	if (r >= 0)
		return false;
	if (r == PP_TLS_ERROR) {
		pp_http_probe_failed(np, pp_tls_error(p->tls), msg, sizeof(msg));
		sup_probe_finish(s, i, k, false, msg);
	} else if (want(s, p, r == PP_TLS_WANT_READ ? EPOLLIN : EPOLLOUT) < 0) {
		sup_probe_finish(s, i, k, false, strerror(errno));
	}
	return true;
}

/* The connection is made (or failed): tcpSocket is done, httpGet sends its
 * request (HTTPS: after the TLS handshake), grpc starts its exchange. */
static void net_connected(struct sup *s, size_t i, enum probe_kind k, struct probe_conn *p,
			  const struct pp_net_probe *np)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	cleanup_error struct pp_error *err = NULL;
	int e = 0;
	socklen_t len = sizeof(e);
	if (getsockopt(p->sock, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e != 0) {
		connect_failed(p, np, e, &err);
		failed(s, i, k, err);
		return;
	}
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (getpeername(p->sock, (struct sockaddr *)&peer, &plen) < 0)
		return; /* still connecting: a spurious wakeup */
	if (p->grpc) {
		p->reading = true;
		grpc_pump(s, i, k, p);
		return;
	}
	if (!np->http) {
		sup_probe_finish(s, i, k, true, "");
		return;
	}
	if (np->https && !p->tls && pp_tls_new(p->sock, np->host, &p->tls, &err) < 0) {
		pp_http_probe_failed(np, err->msg, msg, sizeof(msg));
		sup_probe_finish(s, i, k, false, msg);
		return;
	}
	if (p->tls && !p->handshaken) {
		int r = pp_tls_handshake(p->tls);
		if (tls_wait(s, i, k, p, np, r))
			return;
		p->handshaken = true;
	}
	while (p->req_off < p->req_len) {
		ssize_t w =
		    p->tls
			? pp_tls_write(p->tls, p->req + p->req_off, p->req_len - p->req_off)
			: send(p->sock, p->req + p->req_off, p->req_len - p->req_off, MSG_NOSIGNAL);
		if (w < 0 && !p->tls && errno == EINTR)
			continue;
		if (w < 0 && !p->tls && (errno == EAGAIN || errno == EWOULDBLOCK))
			w = PP_TLS_WANT_WRITE; /* the rest when there is room */
		else if (w <= 0 && !p->tls) {
			pp_http_probe_send_failed(np, w < 0 ? errno : EPIPE, msg, sizeof(msg));
			sup_probe_finish(s, i, k, false, msg);
			return;
		}
		if (tls_wait(s, i, k, p, np, w < 0 ? (int)w : 0))
			return;
		p->req_off += (size_t)w;
	}
	p->resp = malloc(PP_HTTP_RESPONSE_MAX);
	if (p->resp == NULL || want(s, p, EPOLLIN) < 0) {
		sup_probe_finish(s, i, k, false, strerror(p->resp == NULL ? ENOMEM : errno));
		return;
	}
	p->reading = true;
}

/* A redirect on the same host: the next request on a new connection,
 * within the same timeout (the deadline is the run's, not the
 * connection's). */
static void follow(struct sup *s, size_t i, enum probe_kind k, struct probe_conn *p,
		   struct pp_http_target *next)
{
	cleanup_error struct pp_error *err = NULL;
	conn_close(s, p);
	free(p->redirect.path);
	p->redirect = *next;
	p->redirects++;
	int r = conn_open(s, i, k, &err);
	if (r == PROBE_DECLINED)
		sup_probe_finish(s, i, k, false, "cannot follow the redirect");
	else if (r < 0)
		failed(s, i, k, err);
}

/* The connection is ready: it moves on as far as it can. */
static void conn_event(struct sup *s, size_t i, enum probe_kind k)
{
	struct probe_conn *p = conn_of(s, i, k);
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	cleanup_error struct pp_error *err = NULL;
	struct pp_net_probe np;
	if (p->sock < 0 || spec == NULL ||
	    sup_net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &err) < 0)
		return; /* an event of a connection that is gone */
	redirected(p, &np);
	if (!p->reading) {
		net_connected(s, i, k, p, &np);
		return;
	}
	if (p->grpc) {
		grpc_pump(s, i, k, p);
		return;
	}
	/* The status line: until a newline, the end, or a full buffer. */
	while (p->resp_len < PP_HTTP_RESPONSE_MAX &&
	       pp_http_response_incomplete(p->resp, p->resp_len)) {
		char *at = p->resp + p->resp_len;
		size_t room = PP_HTTP_RESPONSE_MAX - p->resp_len;
		ssize_t r = p->tls ? pp_tls_read(p->tls, at, room) : recv(p->sock, at, room, 0);
		if (r < 0 && !p->tls && errno == EINTR)
			continue;
		if (r < 0 && !p->tls && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* more to come */
		if (r < 0 && p->tls && tls_wait(s, i, k, p, &np, (int)r))
			return; /* more to come, or the TLS session failed */
		if (r <= 0)
			break;
		p->resp_len += (size_t)r;
	}
	char msg[PP_NET_PROBE_MSG_MAX] = "";
	struct pp_http_target next = {0};
	int v =
	    pp_http_probe_verdict(&np, p->resp, p->resp_len, p->redirects, &next, msg, sizeof(msg));
	if (v == PP_HTTP_REDIRECT) {
		follow(s, i, k, p, &next);
		return;
	}
	if (v == PP_HTTP_WARNING)
		sup_probe_warning(s, i, k, msg);
	sup_probe_finish(s, i, k, v != PP_HTTP_FAILED, v == PP_HTTP_FAILED ? msg : "");
}

const struct probe_transport sup_probe_socket = {
    .start = conn_start,
    .on_event = conn_event,
    .cancel = conn_cancel,
};

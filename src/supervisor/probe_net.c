/* tcpSocket, httpGet (to an address) and grpc probes as connections of the
 * supervisor itself, in its event loop.
 * A socket belongs to the network namespace it is created in: the
 * (single-threaded) supervisor enters the pod's, creates it and returns to
 * its own; the connection then runs in the loop like any other fd. */
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

static int own_netns = -1; /* the supervisor's network namespace, once needed */

static int pod_socket(const struct pp_sandbox *sb, int family, char *msg, size_t size)
{
	bool enter = sb->infra_pidfd >= 0 && (sb->join_ns & CLONE_NEWNET);
	if (enter && own_netns < 0) {
		own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own_netns < 0) {
			snprintf(msg, size, "cannot open the supervisor's network namespace: %s",
				 pp_net_probe_errstr(errno));
			return -1;
		}
	}
	if (enter && setns(sb->infra_pidfd, CLONE_NEWNET) < 0) {
		snprintf(msg, size, "cannot enter the pod's network namespace: %s",
			 pp_net_probe_errstr(errno));
		return -1;
	}
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int e = errno;
	if (enter && setns(own_netns, CLONE_NEWNET) < 0) {
		/* Going on in the pod's namespace would be wrong for everything
		 * else the supervisor does: stop here. */
		fprintf(stderr, "peapod-sup: cannot return to its network namespace: %s\n",
			strerror(errno));
		abort();
	}
	if (fd < 0)
		snprintf(msg, size, "socket: %s", pp_net_probe_errstr(e));
	return fd;
}

static void net_finish(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg)
{
	sup_probe_cancel(s, &s->run[i].probes[k]);
	sup_probe_result(s, i, k, ok, msg);
}

/* The connection failed: kubelet's message for the probe's kind. */
static void connect_failed(struct sup *s, size_t i, enum probe_kind k,
			   const struct pp_net_probe *np, int e)
{
	char msg[PP_NET_PROBE_MSG_MAX + 128], dial[PP_NET_PROBE_MSG_MAX];
	pp_tcp_probe_connect_failed(np, e, dial, sizeof(dial));
	if (s->run[i].probes[k].grpc)
		snprintf(msg, sizeof(msg), "failed to connect service \"%s:%d\": %s", np->host,
			 np->port, dial);
	else
		snprintf(msg, sizeof(msg), "%s", dial);
	net_finish(s, i, k, false, msg);
}

/* A redirect being followed: where the request goes now. */
static void redirected(const struct probe_run *p, struct pp_net_probe *np)
{
	if (p->redirect.path == NULL)
		return;
	np->path = p->redirect.path;
	np->port = p->redirect.port;
	np->https = p->redirect.https;
}

/* Starts probe k of container i as a connection of the supervisor when its
 * host is an address; false: it is not (a name), a child does it. */
bool sup_probe_socket_start(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	cleanup_error struct pp_error *err = NULL;
	struct pp_net_probe np;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t alen;
	char msg[PP_NET_PROBE_MSG_MAX];
	if (i * N_PROBES + k > 0xffff ||
	    sup_net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &err) < 0)
		return false; /* the child path says why (or has room for the index) */
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
		return false;
	}
	if (np.http && (p->req = pp_http_probe_request(&np, &p->req_len)) == NULL) {
		sup_probe_result(s, i, k, false, strerror(ENOMEM));
		return true;
	}
	if (spec->handler.kind == PP_HANDLER_GRPC &&
	    (p->grpc = pp_grpc_probe_new(np.host, np.port, spec->handler.grpc_service,
					 spec->timeout_seconds)) == NULL) {
		sup_probe_result(s, i, k, false, strerror(ENOMEM));
		return true;
	}
	p->sock = pod_socket(s->pod->sandbox, addr.sa.sa_family, msg, sizeof(msg));
	if (p->sock < 0) {
		net_finish(s, i, k, false, msg);
		return true;
	}
	if (connect(p->sock, &addr.sa, alen) < 0 && errno != EINPROGRESS) {
		connect_failed(s, i, k, &np, errno);
		return true;
	}
	p->gen++;
	if (p->redirects == 0) /* the timeout covers the redirects followed */
		p->deadline = now + spec->timeout_seconds * NSEC_PER_SEC;
	size_t index = (i * N_PROBES + k) | (size_t)(p->gen & 0xffff) << 16;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = TAG(TAG_PROBE_NET, index)};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, p->sock, &ev) < 0)
		net_finish(s, i, k, false, strerror(errno));
	else
		p->events = EPOLLOUT;
	return true;
}

/* Sends what the grpc exchange has to send; 0, or -1 with errno. */
static int grpc_flush(struct probe_run *p)
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
static void grpc_pump(struct sup *s, size_t i, enum probe_kind k, struct probe_run *p, size_t index)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	uint8_t buf[4096];
	for (;;) {
		if (grpc_flush(p) < 0) {
			snprintf(msg, sizeof(msg),
				 "error: health rpc probe failed: rpc error: code = Unavailable "
				 "desc = write: %s",
				 pp_net_probe_errstr(errno));
			net_finish(s, i, k, false, msg);
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
		net_finish(s, i, k, r == 0, msg);
		return;
	}
	const uint8_t *out;
	size_t len;
	pp_grpc_probe_output(p->grpc, &out, &len);
	uint32_t events = EPOLLIN | (len > 0 ? EPOLLOUT : 0);
	if (events == p->events)
		return;
	struct epoll_event ev = {.events = events, .data.u64 = TAG(TAG_PROBE_NET, index)};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->sock, &ev) < 0) {
		net_finish(s, i, k, false, strerror(errno));
		return;
	}
	p->events = events;
}

/* The connection waits for events (and nothing else): 0, or -1 with errno. */
static int want(struct sup *s, struct probe_run *p, size_t index, uint32_t events)
{
	if (events == p->events)
		return 0;
	struct epoll_event ev = {.events = events, .data.u64 = TAG(TAG_PROBE_NET, index)};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->sock, &ev) < 0)
		return -1;
	p->events = events;
	return 0;
}

/* What an I/O call's r (a PP_TLS_* when negative) means for the probe:
 * false, go on; true, it waits for the socket (or failed and is over). */
static bool tls_wait(struct sup *s, size_t i, enum probe_kind k, struct probe_run *p,
		     const struct pp_net_probe *np, size_t index, int r)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	if (r >= 0)
		return false;
	if (r == PP_TLS_ERROR) {
		pp_http_probe_failed(np, pp_tls_error(p->tls), msg, sizeof(msg));
		net_finish(s, i, k, false, msg);
	} else if (want(s, p, index, r == PP_TLS_WANT_READ ? EPOLLIN : EPOLLOUT) < 0) {
		net_finish(s, i, k, false, strerror(errno));
	}
	return true;
}

/* The connection is made (or failed): tcpSocket is done, httpGet sends its
 * request (HTTPS: after the TLS handshake), grpc starts its exchange. */
static void net_connected(struct sup *s, size_t i, enum probe_kind k, struct probe_run *p,
			  const struct pp_net_probe *np, size_t index)
{
	char msg[PP_NET_PROBE_MSG_MAX];
	int e = 0;
	socklen_t len = sizeof(e);
	if (getsockopt(p->sock, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e != 0) {
		connect_failed(s, i, k, np, e);
		return;
	}
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (getpeername(p->sock, (struct sockaddr *)&peer, &plen) < 0)
		return; /* still connecting: a spurious wakeup */
	if (p->grpc) {
		p->reading = true;
		grpc_pump(s, i, k, p, index);
		return;
	}
	if (!np->http) {
		net_finish(s, i, k, true, "");
		return;
	}
	cleanup_error struct pp_error *err = NULL;
	if (np->https && !p->tls && pp_tls_new(p->sock, np->host, &p->tls, &err) < 0) {
		pp_http_probe_failed(np, err->msg, msg, sizeof(msg));
		net_finish(s, i, k, false, msg);
		return;
	}
	if (p->tls && !p->handshaken) {
		int r = pp_tls_handshake(p->tls);
		if (tls_wait(s, i, k, p, np, index, r))
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
			net_finish(s, i, k, false, msg);
			return;
		}
		if (tls_wait(s, i, k, p, np, index, w < 0 ? (int)w : 0))
			return;
		p->req_off += (size_t)w;
	}
	p->resp = malloc(PP_HTTP_RESPONSE_MAX);
	if (p->resp == NULL || want(s, p, index, EPOLLIN) < 0) {
		net_finish(s, i, k, false, strerror(p->resp == NULL ? ENOMEM : errno));
		return;
	}
	p->reading = true;
}

/* A redirect on the same host: the next request on a new connection,
 * within the same timeout. */
static void follow(struct sup *s, size_t i, enum probe_kind k, struct probe_run *p,
		   struct pp_http_target *next)
{
	int64_t deadline = p->deadline;
	int n = p->redirects + 1;
	sup_probe_cancel(s, p);
	p->redirect = *next;
	p->redirects = n;
	p->deadline = deadline;
	if (!sup_probe_socket_start(s, i, k, sup_now_ns()))
		net_finish(s, i, k, false, "cannot follow the redirect");
}

void sup_probe_net(struct sup *s, size_t index)
{
	size_t slot = index & 0xffff;
	size_t i = slot / N_PROBES;
	enum probe_kind k = (enum probe_kind)(slot % N_PROBES);
	if (i >= s->pod->n_containers)
		return;
	struct probe_run *p = &s->run[i].probes[k];
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	cleanup_error struct pp_error *err = NULL;
	struct pp_net_probe np;
	if (p->sock < 0 || (p->gen & 0xffff) != index >> 16 || spec == NULL ||
	    sup_net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &err) < 0)
		return; /* an event of a connection that is gone */
	redirected(p, &np);
	if (!p->reading) {
		net_connected(s, i, k, p, &np, index);
		return;
	}
	if (p->grpc) {
		grpc_pump(s, i, k, p, index);
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
		if (r < 0 && p->tls && tls_wait(s, i, k, p, &np, index, (int)r))
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
	net_finish(s, i, k, v != PP_HTTP_FAILED, v == PP_HTTP_FAILED ? msg : "");
}

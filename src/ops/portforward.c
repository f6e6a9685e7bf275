/* What `peapod port-forward` does: listeners on the host, and for each
 * connection accepted a socket made inside the pod's network namespace
 * (a socket keeps the namespace it was made in), connected to the pod's
 * loopback; one epoll loop relays both ways, half-closes included. */
#include "ops/portforward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ops/reach.h"
#include "util/cleanup.h"
#include "util/netns.h"

#define PF_BUF_SIZE (64 * 1024)
#define PF_BACKLOG 128
#define PF_MAX_EVENTS 64
/* Connecting to the pod's loopback either works or is refused at once;
 * only a full accept queue makes it wait, this long at most. */
#define PF_CONNECT_TIMEOUT_S 5

enum pf_kind { PF_LISTENER, PF_END, PF_STOP, PF_CTL };

struct pf_tag {
	enum pf_kind kind;
};

struct pf_listener {
	struct pf_tag tag;
	int fd;
	int local, remote;
	struct pf_listener *next;
};

struct pf_conn;

/* One socket of a connection: side 0 the host's client, 1 the pod's. */
struct pf_end {
	struct pf_tag tag;
	struct pf_conn *conn;
	int side;
};

/* What was read from one side and not yet written to the other. */
struct pf_buf {
	char *data;
	size_t off, len;
	bool eof; /* the reading side shut its writing: passed on once flushed */
};

struct pf_conn {
	int fd[2];
	struct pf_end end[2];
	struct pf_buf buf[2]; /* buf[i]: read from fd[i], written to fd[1 - i] */
	uint32_t events[2];   /* what fd[i] is registered for */
	/* fd[i] hung up while buf[i] was full: out of the epoll set (a hang-up
	 * is reported as long as it lasts) until buf[i] is flushed */
	bool parked[2];
	int local;
	struct pf_conn *prev, *next;
};

struct pf_loop {
	const struct pp_port_forward_opts *o;
	int ep;
	int netns;
	struct pf_listener *listeners;
	struct pf_conn *conns;
	struct pp_netns_visit visit;
};

int pp_port_pair_parse(const char *spec, struct pp_port_pair *p, struct pp_error **err)
{
	const char *colon = strchr(spec, ':');
	const char *remote = colon ? colon + 1 : spec;
	char *end;
	long r, l = 0;
	errno = 0;
	r = strtol(remote, &end, 10);
	bool ok =
	    *remote >= '0' && *remote <= '9' && *end == '\0' && errno == 0 && r > 0 && r <= 65535;
	if (ok && colon != NULL && colon != spec) {
		l = strtol(spec, &end, 10);
		ok = *spec >= '0' && *spec <= '9' && end == colon && l > 0 && l <= 65535;
	}
	if (!ok)
		return pp_error_set(err, 0, "port %s: want [LOCAL:]REMOTE, ports from 1 to 65535",
				    spec);
	*p = (struct pp_port_pair){.local = (int)l, .remote = (int)r};
	return 0;
}

/* ---- listeners ---------------------------------------------------------- */

union pf_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static bool parse_addr(const char *text, int port, union pf_addr *a, socklen_t *len)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, &a->in.sin_addr) == 1) {
		a->in.sin_family = AF_INET;
		a->in.sin_port = htons((uint16_t)port);
		*len = sizeof(a->in);
		return true;
	}
	if (inet_pton(AF_INET6, text, &a->in6.sin6_addr) == 1) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons((uint16_t)port);
		*len = sizeof(a->in6);
		return true;
	}
	return false;
}

static int bound_port(int fd)
{
	union pf_addr a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, &a.sa, &len) < 0)
		return -1;
	return ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
}

/* One listener on text:*port; *port, when 0, becomes the port chosen. */
static int listen_on(struct pf_loop *l, const char *text, const struct pp_port_pair *p, int *port,
		     struct pp_error **err)
{
	union pf_addr a;
	socklen_t len;
	if (!parse_addr(text, *port, &a, &len))
		return pp_error_set(err, EINVAL, "address %s: not an IPv4 or IPv6 address", text);
	cleanup_close int fd =
	    socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pp_error_set(err, errno, "listen on %s", text);
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a.sa.sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a.sa, len) < 0 || listen(fd, PF_BACKLOG) < 0)
		return pp_error_set(err, errno, "listen on %s port %d", text, *port);
	*port = bound_port(fd);
	struct pf_listener *ln = xmalloc(sizeof(*ln));
	*ln = (struct pf_listener){.tag = {PF_LISTENER},
				   .fd = fd,
				   .local = *port,
				   .remote = p->remote,
				   .next = l->listeners};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ln};
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(ln);
		return pp_error_set(err, errno, "epoll");
	}
	steal_fd(&fd);
	l->listeners = ln;
	if (l->o->on_listen != NULL) {
		cleanup_free char *shown =
		    a.sa.sa_family == AF_INET6 ? xasprintf("[%s]", text) : xstrdup(text);
		l->o->on_listen(l->o->ctx, shown, ln->local, ln->remote);
	}
	return 0;
}

/* Every address for one port pair: "localhost" is 127.0.0.1 and, where
 * the host has IPv6 loopback, ::1 (kubectl's default); the first listener
 * picks the free port the others then take. */
static int listen_pair(struct pf_loop *l, const struct pp_port_pair *p, struct pp_error **err)
{
	static const char *const localhost[] = {"localhost"};
	const char *const *addrs = l->o->n_addresses ? l->o->addresses : localhost;
	size_t n = l->o->n_addresses ? l->o->n_addresses : 1;
	int port = p->local;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(addrs[i], "localhost") != 0) {
			if (listen_on(l, addrs[i], p, &port, err) < 0)
				return -1;
			continue;
		}
		if (listen_on(l, "127.0.0.1", p, &port, err) < 0)
			return -1;
		cleanup_error struct pp_error *e6 = NULL;
		/* No IPv6 (EAFNOSUPPORT, EADDRNOTAVAIL): IPv4 alone, as kubectl. */
		if (listen_on(l, "::1", p, &port, &e6) < 0 && e6->status != EAFNOSUPPORT &&
		    e6->status != EADDRNOTAVAIL) {
			*err = steal_ptr(&e6);
			return -1;
		}
	}
	return 0;
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct pf_loop *l, struct pf_conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]); /* also leaves the epoll set */
		free(c->buf[i].data);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_error(struct pf_loop *l, struct pf_conn *c, int e, const char *what)
{
	if (l->o->on_conn_error != NULL) {
		cleanup_error struct pp_error *err = NULL;
		pp_error_set(&err, e, "%s (port %d)", what, c->local);
		l->o->on_conn_error(l->o->ctx, c->local, err);
	}
	conn_close(l, c);
}

/* A socket of the pod's network namespace, connected to its loopback:
 * 127.0.0.1, else ::1 (a server listening on IPv6 only). */
static int connect_in_pod(struct pf_loop *l, int port, struct pp_error **err)
{
	static const char *const targets[] = {"127.0.0.1", "::1"};
	int e = ECONNREFUSED;
	for (size_t i = 0; i < 2; i++) {
		union pf_addr a;
		socklen_t len;
		parse_addr(targets[i], port, &a, &len);
		if (pp_netns_enter(&l->visit, l->netns, err) < 0)
			return -1;
		int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		e = errno;
		pp_netns_leave(&l->visit);
		if (fd < 0)
			return pp_error_set(err, e, "socket in the pod's network namespace");
		const struct timeval tv = {.tv_sec = PF_CONNECT_TIMEOUT_S};
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, &a.sa, len) == 0) {
			int fl = fcntl(fd, F_GETFL);
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
			return fd;
		}
		e = errno;
		close(fd);
		if (e != ECONNREFUSED && e != EADDRNOTAVAIL && e != EAFNOSUPPORT &&
		    e != ENETUNREACH)
			break;
	}
	return pp_error_set(err, e, "connect to port %d in the pod", port);
}

/* What fd[i] waits for: input while its buffer is free and it did not end,
 * output while the other side's buffer holds data for it. */
static int conn_rearm(struct pf_loop *l, struct pf_conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->parked[i] && c->buf[i].len == 0) {
			/* flushed: what is left to read, and the end, come now */
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->end[i]};
			if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd[i], &ev) < 0)
				return -1;
			c->parked[i] = false;
			c->events[i] = EPOLLIN;
		}
		if (c->parked[i])
			continue;
		uint32_t want = 0;
		if (!c->buf[i].eof && c->buf[i].len == 0)
			want |= EPOLLIN;
		if (c->buf[1 - i].len > 0)
			want |= EPOLLOUT;
		if (want == c->events[i])
			continue;
		struct epoll_event ev = {.events = want, .data.ptr = &c->end[i]};
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd[i], &ev) < 0)
			return -1;
		c->events[i] = want;
	}
	return 0;
}

static void accept_one(struct pf_loop *l, struct pf_listener *ln)
{
	int client = accept4(ln->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (client < 0)
		return; /* gone meanwhile, or out of fds: the listener stays */
	if (l->o->on_connection != NULL)
		l->o->on_connection(l->o->ctx, ln->local);
	struct pf_conn *c = xmalloc(sizeof(*c));
	c->fd[0] = client;
	c->fd[1] = -1;
	c->local = ln->local;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	cleanup_error struct pp_error *err = NULL;
	c->fd[1] = connect_in_pod(l, ln->remote, &err);
	if (c->fd[1] < 0) {
		if (l->o->on_conn_error != NULL)
			l->o->on_conn_error(l->o->ctx, ln->local, err);
		conn_close(l, c);
		return;
	}
	for (int i = 0; i < 2; i++) {
		c->end[i] = (struct pf_end){.tag = {PF_END}, .conn = c, .side = i};
		c->buf[i].data = xmalloc(PF_BUF_SIZE);
		c->events[i] = EPOLLIN;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->end[i]};
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd[i], &ev) < 0) {
			conn_error(l, c, errno, "epoll");
			return;
		}
	}
}

/* Reads side i into its buffer; 0 or -1 (errno) when the connection breaks. */
static int conn_read(struct pf_conn *c, int i)
{
	ssize_t n = recv(c->fd[i], c->buf[i].data, PF_BUF_SIZE, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		c->buf[i].eof = true;
	c->buf[i].off = 0;
	c->buf[i].len = (size_t)n;
	return 0;
}

/* Writes buffer i to the other side; passes its end on once flushed. */
static int conn_flush(struct pf_conn *c, int i)
{
	struct pf_buf *b = &c->buf[i];
	while (b->len > 0) {
		ssize_t n = send(c->fd[1 - i], b->data + b->off, b->len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		b->off += (size_t)n;
		b->len -= (size_t)n;
	}
	if (b->eof)
		(void)shutdown(c->fd[1 - i], SHUT_WR);
	return 0;
}

static void conn_event(struct pf_loop *l, struct pf_end *e, uint32_t events)
{
	struct pf_conn *c = e->conn;
	int i = e->side;
	bool failed = (events & EPOLLERR) != 0;
	bool can_read = c->buf[i].len == 0 && !c->buf[i].eof;
	if (!failed && can_read && (events & (EPOLLIN | EPOLLHUP)))
		failed = conn_read(c, i) < 0 || conn_flush(c, i) < 0;
	if (!failed && (events & EPOLLOUT))
		failed = conn_flush(c, 1 - i) < 0;
	if (!failed && (events & EPOLLHUP) && c->buf[i].len > 0 && !c->parked[i]) {
		failed = epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd[i], NULL) < 0;
		c->parked[i] = true;
	}
	bool done = c->buf[0].eof && c->buf[1].eof && c->buf[0].len == 0 && c->buf[1].len == 0;
	if (failed || done) {
		/* A reset by either end is how connections often end: not an error. */
		conn_close(l, c);
		return;
	}
	if (conn_rearm(l, c) < 0)
		conn_error(l, c, errno, "epoll");
}

/* ---- the loop ----------------------------------------------------------- */

static int add_watch(struct pf_loop *l, int fd, struct pf_tag *tag, struct pp_error **err)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return pp_error_set(err, errno, "epoll");
	return 0;
}

static int run_loop(struct pf_loop *l, const struct pp_container_reach *r, struct pp_error **err)
{
	static struct pf_tag stop_tag = {PF_STOP}, ctl_tag = {PF_CTL};
	if (add_watch(l, l->o->stop_fd, &stop_tag, err) < 0 ||
	    add_watch(l, r->ctl, &ctl_tag, err) < 0)
		return -1;
	struct epoll_event evs[PF_MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(l->ep, evs, PF_MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "epoll_wait");
		for (int k = 0; k < n; k++) {
			struct pf_tag *t = evs[k].data.ptr;
			if (t->kind == PF_STOP)
				return 0;
			if (t->kind == PF_CTL)
				return pp_error_set(err, 0, "lost connection to pod %s: it is gone",
						    l->o->name);
		}
		for (int k = 0; k < n; k++) {
			struct pf_tag *t = evs[k].data.ptr;
			if (t->kind == PF_LISTENER)
				accept_one(l, (struct pf_listener *)t);
		}
		/* A connection closed by one event may have another one queued
		 * in evs: connections are handled one pass later, fresh. */
		for (int k = 0; k < n; k++) {
			struct pf_tag *t = evs[k].data.ptr;
			if (t->kind != PF_END)
				continue;
			for (struct pf_conn *c = l->conns; c; c = c->next)
				if (t == &c->end[0].tag || t == &c->end[1].tag) {
					conn_event(l, (struct pf_end *)t, evs[k].events);
					break;
				}
		}
	}
}

static void loop_free(struct pf_loop *l)
{
	while (l->conns)
		conn_close(l, l->conns);
	while (l->listeners) {
		struct pf_listener *next = l->listeners->next;
		close(l->listeners->fd);
		free(l->listeners);
		l->listeners = next;
	}
	pp_netns_visit_end(&l->visit);
	cleanup_closep(&l->netns);
	cleanup_closep(&l->ep);
}

int pp_pod_port_forward(const struct pp_port_forward_opts *o, struct pp_error **err)
{
	struct pp_container_reach r;
	if (pp_pod_reach(o->ns, o->name, &r, err) < 0)
		return -1;
	struct pf_loop l = {.o = o, .ep = -1, .visit = PP_NETNS_VISIT_INIT};
	l.netns = pp_container_reach_open(&r, "ns/net", O_RDONLY, err);
	int ret = l.netns < 0 ? -1 : 0;
	if (ret == 0) {
		l.ep = epoll_create1(EPOLL_CLOEXEC);
		if (l.ep < 0)
			ret = pp_error_set(err, errno, "epoll");
	}
	for (size_t i = 0; ret == 0 && i < o->n_ports; i++)
		ret = listen_pair(&l, &o->ports[i], err);
	if (ret == 0)
		ret = run_loop(&l, &r, err);
	loop_free(&l);
	pp_container_reach_free(&r);
	return ret;
}

/* The CRI's streaming endpoint (cri_internal.h): a TCP listener on
 * 127.0.0.1, the tokens Exec, Attach and PortForward hand out, the
 * connections whose request head is being read, and the children serving
 * the upgraded ones. Single-threaded: the server's loop drives it through
 * cri_stream_event; a child is reaped through its pidfd in the same epoll
 * set. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "cri/cri_internal.h"
#include "cri/stream_http.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/proc.h"
#include "util/settings.h"

#define TOKEN_BYTES 16
#define TOKEN_LEN (TOKEN_BYTES * 2)
/* Connections whose request head is not read yet: at most this many (the
 * oldest goes for a new one), each for at most this long. */
#define MAX_PENDING 64
#define PENDING_MAX_MS 10000
#define LISTEN_BACKLOG 64

static const char *const kind_names[] = {[CRI_STREAM_EXEC] = "exec",
					 [CRI_STREAM_ATTACH] = "attach",
					 [CRI_STREAM_PORTFORWARD] = "portforward"};
/* What kubelet's streaming server speaks, preferred first. */
static const char *const remotecommand_protocols[] = {"v4.channel.k8s.io", "v3.channel.k8s.io",
						      "v2.channel.k8s.io", NULL};
static const char *const portforward_protocols[] = {"portforward.k8s.io", NULL};

enum sub { SUB_LISTEN = 1, SUB_PENDING, SUB_SESSION };

struct token {
	char id[TOKEN_LEN + 1];
	int64_t expires_ms;
	struct cri_stream_req req;
	struct token *next;
};

struct pending {
	int kind; /* CRI_WATCH_STREAM */
	enum sub sub;
	int fd;
	int64_t since_ms;
	size_t len;
	char buf[PP_HTTP_MAX_HEAD];
	struct pending *next;
};

struct session {
	int kind;
	enum sub sub;
	int pidfd;
	pid_t pid;
	struct session *next;
};

struct cri_stream {
	int kind;
	enum sub sub;
	int listen_fd;
	int epfd; /* the server's */
	struct pp_cri_service *svc;
	int port;
	struct token *tokens;
	size_t n_tokens;
	struct pending *pending;
	size_t n_pending;
	struct session *sessions;
};

void cri_stream_req_free(struct cri_stream_req *r)
{
	free(r->ns);
	free(r->name);
	free(r->uid);
	free(r->container);
	for (char **c = r->cmd; c && *c; c++)
		free(*c);
	free(r->cmd);
	*r = (struct cri_stream_req){0};
}

static int64_t token_ttl_ms(void)
{
	return (int64_t)(CRI_STREAM_TOKEN_TTL_MS * pp_settings()->test_time_scale);
}

int cri_stream_open(struct pp_cri_service *svc, int epfd, struct pp_error **err)
{
	struct cri_stream *st = xmalloc(sizeof(*st));
	*st = (struct cri_stream){
	    .kind = CRI_WATCH_STREAM, .sub = SUB_LISTEN, .listen_fd = -1, .epfd = epfd, .svc = svc};
	int port = pp_settings()->cri_stream_port;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int one = 1;
	st->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (st->listen_fd < 0 ||
	    setsockopt(st->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(st->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(st->listen_fd, LISTEN_BACKLOG) < 0 ||
	    getsockname(st->listen_fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;
		cri_stream_free(st, false);
		return pp_error_set(err, e, "CRI streaming server: cannot listen on 127.0.0.1:%d%s",
				    port, port ? " (PEAPOD_CRI_STREAM_PORT)" : "");
	}
	st->port = ntohs(a.sin_port);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = st};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, st->listen_fd, &ev) < 0) {
		int e = errno;
		cri_stream_free(st, false);
		return pp_error_set(err, e, "CRI streaming server: epoll");
	}
	svc->stream = st;
	return 0;
}

/* Forgets the tokens past their time. */
static void tokens_expire(struct cri_stream *st, int64_t now)
{
	for (struct token **p = &st->tokens; *p;) {
		struct token *t = *p;
		if (t->expires_ms > now) {
			p = &t->next;
			continue;
		}
		*p = t->next;
		cri_stream_req_free(&t->req);
		free(t);
		st->n_tokens--;
	}
}

int cri_stream_token(struct pp_cri_service *svc, struct cri_stream_req *req, char **url,
		     struct pp_error **err)
{
	struct cri_stream *st = svc->stream;
	int64_t now = pp_monotonic_ms();
	uint8_t raw[TOKEN_BYTES];
	if (st == NULL) {
		cri_stream_req_free(req);
		return pp_error_set(err, ENOTSUP, "the streaming server is not running");
	}
	tokens_expire(st, now);
	if (st->n_tokens >= CRI_STREAM_MAX_TOKENS) {
		cri_stream_req_free(req);
		return pp_error_set(err, EAGAIN, "%d streams are waiting for their client already",
				    CRI_STREAM_MAX_TOKENS);
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		cri_stream_req_free(req);
		return pp_error_set(err, errno, "getrandom");
	}
	struct token *t = xmalloc(sizeof(*t));
	for (size_t i = 0; i < TOKEN_BYTES; i++)
		snprintf(t->id + 2 * i, 3, "%02x", raw[i]);
	t->expires_ms = now + token_ttl_ms();
	t->req = *req;
	*req = (struct cri_stream_req){0};
	t->next = st->tokens;
	st->tokens = t;
	st->n_tokens++;
	*url = xasprintf("http://127.0.0.1:%d/%s/%s", st->port, kind_names[t->req.kind], t->id);
	return 0;
}

/* The token "/KIND/TOKEN" names, taken from the table (single use): NULL
 * when there is none, it expired or is for another kind. */
static struct token *token_take(struct cri_stream *st, const char *path)
{
	tokens_expire(st, pp_monotonic_ms());
	size_t plen = strcspn(path, "?");
	for (struct token **p = &st->tokens; *p; p = &(*p)->next) {
		struct token *t = *p;
		cleanup_free char *want = xasprintf("/%s/%s", kind_names[t->req.kind], t->id);
		if (strlen(want) != plen || strncmp(want, path, plen) != 0)
			continue;
		*p = t->next;
		st->n_tokens--;
		return t;
	}
	return NULL;
}

static void pending_close(struct cri_stream *st, struct pending *c)
{
	for (struct pending **p = &st->pending; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	st->n_pending--;
}

/* An answer that ends the connection (best effort: a few hundred bytes to
 * a socket whose buffer is empty). */
static void refuse(int fd, int code, const char *reason, const char *extra, const char *body)
{
	cleanup_free char *msg =
	    xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
		      "charset=utf-8\r\n%sContent-Length: %zu\r\n"
		      "Connection: close\r\n\r\n%s\n",
		      code, reason, extra ? extra : "", strlen(body) + 1, body);
	(void)!send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void accept_all(struct cri_stream *st)
{
	for (;;) {
		int fd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (st->n_pending >= MAX_PENDING) {
			struct pending *oldest = st->pending;
			while (oldest->next)
				oldest = oldest->next;
			pending_close(st, oldest);
		}
		struct pending *c = xmalloc(sizeof(*c));
		c->kind = CRI_WATCH_STREAM;
		c->sub = SUB_PENDING;
		c->fd = fd;
		c->since_ms = pp_monotonic_ms();
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = st->pending;
		st->pending = c;
		st->n_pending++;
	}
}

/* The connection's child: serves it and exits; it dies with the server. */
static void session_child(struct cri_stream *st, struct pending *c, struct token *t,
			  const char *protocol, size_t head_len, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN); /* the peer's end is seen as EPIPE; exec resets it */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	int fd = c->fd;
	c->fd = -1;
	if (st->svc->server)
		cri_server_close_in_child(st->svc->server);
	else
		cri_stream_close_in_child(st);
	int fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	_exit(cri_stream_session(fd, &t->req, protocol, (const uint8_t *)c->buf + head_len,
				 c->len - head_len));
}

static void session_start(struct cri_stream *st, struct pending *c, struct token *t,
			  const char *protocol, size_t head_len)
{
	pid_t parent = getpid();
	int pidfd = -1;
	pid_t pid = pp_clone3(CLONE_PIDFD, &pidfd);
	if (pid == 0)
		session_child(st, c, t, protocol, head_len, parent);
	if (pid < 0) {
		refuse(c->fd, 500, "Internal Server Error", NULL,
		       "cannot fork the stream's process");
		return;
	}
	struct session *s = xmalloc(sizeof(*s));
	*s = (struct session){
	    .kind = CRI_WATCH_STREAM, .sub = SUB_SESSION, .pidfd = pidfd, .pid = pid};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		pp_pidfd_kill_and_reap(pidfd);
		close(pidfd);
		free(s);
		return;
	}
	s->next = st->sessions;
	st->sessions = s;
}

/* A whole request head: its token checked and taken, the protocol agreed,
 * then a child serves the connection. */
static void pending_request(struct cri_stream *st, struct pending *c, size_t head_len,
			    struct pp_http_request *req)
{
	struct token *t = token_take(st, req->path);
	if (t == NULL) {
		refuse(c->fd, 404, "Not Found", NULL, "unknown or expired stream token");
		return;
	}
	const char *const *ours =
	    t->req.kind == CRI_STREAM_PORTFORWARD ? portforward_protocols : remotecommand_protocols;
	const char *protocol = pp_http_negotiate(req, ours);
	if (!pp_http_wants_spdy(req)) {
		refuse(c->fd, 400, "Bad Request", NULL,
		       "the stream is served over SPDY/3.1 only (Upgrade: SPDY/3.1)");
	} else if (protocol == NULL) {
		cleanup_free char *accepted =
		    xasprintf("X-Accepted-Stream-Protocol-Versions: %s\r\n",
			      t->req.kind == CRI_STREAM_PORTFORWARD
				  ? "portforward.k8s.io"
				  : "v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io");
		refuse(c->fd, 403, "Forbidden", accepted,
		       "no X-Stream-Protocol-Version the server speaks was offered");
	} else {
		session_start(st, c, t, protocol, head_len);
	}
	cri_stream_req_free(&t->req);
	free(t);
}

static void pending_event(struct cri_stream *st, struct pending *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pending_close(st, c);
		return;
	}
	c->len += (size_t)n;
	struct pp_http_request req;
	cleanup_error struct pp_error *err = NULL;
	int r = pp_http_request_parse(c->buf, c->len, &req, &err);
	if (r < 0)
		refuse(c->fd, 400, "Bad Request", NULL, err->msg);
	else if (r > 0)
		pending_request(st, c, (size_t)r, &req);
	pp_http_request_free(&req);
	if (r != 0)
		pending_close(st, c);
}

static void session_event(struct cri_stream *st, struct session *s)
{
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	for (struct session **p = &st->sessions; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, s->pidfd, NULL);
	close(s->pidfd);
	free(s);
}

/* Connections that never sent a whole head go after PENDING_MAX_MS. */
static void pending_sweep(struct cri_stream *st)
{
	int64_t now = pp_monotonic_ms();
	for (struct pending *c = st->pending, *next; c; c = next) {
		next = c->next;
		if (now - c->since_ms > PENDING_MAX_MS)
			pending_close(st, c);
	}
}

void cri_stream_event(struct pp_cri_service *svc, void *watched, uint32_t events)
{
	struct cri_stream *st = svc->stream;
	const struct pending *any = watched; /* every kind has the same first members */
	(void)events;
	switch (any->sub) {
	case SUB_LISTEN:
		pending_sweep(st);
		accept_all(st);
		break;
	case SUB_PENDING:
		pending_event(st, watched);
		break;
	case SUB_SESSION:
		session_event(st, watched);
		break;
	default:
		break;
	}
}

void cri_stream_close_in_child(struct cri_stream *st)
{
	if (st == NULL)
		return;
	if (st->listen_fd >= 0)
		close(st->listen_fd);
	for (struct pending *c = st->pending; c; c = c->next)
		if (c->fd >= 0)
			close(c->fd);
	for (struct session *s = st->sessions; s; s = s->next)
		close(s->pidfd);
}

void cri_stream_free(struct cri_stream *st, bool kill)
{
	if (st == NULL)
		return;
	while (st->sessions) {
		struct session *s = st->sessions;
		st->sessions = s->next;
		if (kill)
			pp_pidfd_kill_and_reap(s->pidfd);
		close(s->pidfd);
		free(s);
	}
	while (st->pending) {
		struct pending *c = st->pending;
		st->pending = c->next;
		close(c->fd);
		free(c);
	}
	tokens_expire(st, INT64_MAX);
	if (st->listen_fd >= 0)
		close(st->listen_fd);
	if (st->svc)
		st->svc->stream = NULL;
	free(st);
}

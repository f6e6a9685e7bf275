/* Liveness, readiness and startup probes, as kubelet runs them: each probe
 * of a running container is due every periodSeconds (the first one
 * initialDelaySeconds after the start); the startup probe goes first and
 * the others wait for it; successThreshold successes in a row make the
 * result success, failureThreshold failures in a row failure. A probe is a
 * child process (exec: the command in the container; tcpSocket and
 * httpGet to a name: a helper in the pod's network namespace), its pidfd in
 * the loop's epoll, or, for tcpSocket and httpGet to an address (the pod's
 * IP by default) and grpc, a non-blocking connection of the supervisor
 * itself, made in the pod's network namespace, in the loop's epoll. The timeout is a
 * deadline of the loop's timer, so the loop never blocks on one. */
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

#include "runtime/exec.h"
#include "runtime/net_probe.h"
#include "runtime/tls.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"

#define PROBE_MSG_MAX 1024

static const char *const probe_names[N_PROBES] = {"Startup", "Liveness", "Readiness"};

static const struct pp_probe *probe_spec(const struct sup *s, size_t i, enum probe_kind k)
{
	const struct pp_container *c = s->pod->containers[i].spec;
	const struct pp_probe *p = k == PROBE_STARTUP	 ? &c->startup
				   : k == PROBE_LIVENESS ? &c->liveness
							 : &c->readiness;
	return p->set ? p : NULL;
}

void sup_probes_init(struct sup *s)
{
	for (size_t i = 0; i < s->pod->n_containers; i++)
		for (size_t k = 0; k < N_PROBES; k++)
			s->run[i].probes[k] = PROBE_RUN_INIT;
}

static bool running(const struct probe_run *p)
{
	return p->pidfd >= 0 || p->sock >= 0;
}

static void cancel(struct sup *s, struct probe_run *p)
{
	if (p->pidfd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
		pp_pidfd_kill_and_reap(p->pidfd);
		cleanup_closep(&p->pidfd);
	}
	cleanup_closep(&p->msg_fd);
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
	free(p->redirect.path);
	p->redirect = (struct pp_http_target){0};
	p->redirects = 0;
	p->events = 0;
	p->req_len = p->req_off = p->resp_len = 0;
	p->reading = false;
	p->deadline = 0;
}

static void schedule(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	if (spec == NULL)
		return;
	int64_t first = s->run[i].probes_since + spec->initial_delay_seconds * NSEC_PER_SEC;
	p->next_at = first > now ? first : now;
}

void sup_probes_reset(struct sup *s, size_t i)
{
	struct ctr_run *r = &s->run[i];
	int64_t now = sup_now_ns();
	sup_probes_stop(s, i);
	r->probes_since = now;
	r->started = probe_spec(s, i, PROBE_STARTUP) == NULL;
	r->ready = probe_spec(s, i, PROBE_READINESS) == NULL;
	if (!r->started) {
		schedule(s, i, PROBE_STARTUP, now);
		return;
	}
	schedule(s, i, PROBE_LIVENESS, now);
	schedule(s, i, PROBE_READINESS, now);
}

void sup_probes_stop(struct sup *s, size_t i)
{
	struct ctr_run *r = &s->run[i];
	for (size_t k = 0; k < N_PROBES; k++) {
		uint32_t gen = r->probes[k].gen; /* still tells stale events apart */
		cancel(s, &r->probes[k]);
		r->probes[k] = PROBE_RUN_INIT;
		r->probes[k].gen = gen;
	}
	r->kill_at = 0;
}

static void earliest(int64_t *next, int64_t t)
{
	if (t && (*next == 0 || t < *next))
		*next = t;
}

int64_t sup_probes_next(const struct sup *s)
{
	int64_t next = 0;
	if (s->stopping != STOP_NONE)
		return 0;
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		const struct ctr_run *r = &s->run[i];
		earliest(&next, r->kill_at);
		for (size_t k = 0; k < N_PROBES; k++)
			earliest(&next, running(&r->probes[k]) ? r->probes[k].deadline
							       : r->probes[k].next_at);
	}
	return next;
}

/* A liveness or startup probe failed for good: the container is stopped as
 * a delete would, and restarts (or not) per restartPolicy when it exits. */
static void kill_container(struct sup *s, size_t i, enum probe_kind k)
{
	const struct pp_probe *spec = probe_spec(s, i, k);
	const char *name = s->pod->containers[i].spec->name;
	int64_t grace = spec->termination_grace_period_seconds >= 0
			    ? spec->termination_grace_period_seconds
			    : s->pod->spec->termination_grace_period_seconds;
	sup_event(s, PP_EVENT_INFO, name, "Killing",
		  "Container %s failed %s probe, will be restarted", name,
		  k == PROBE_STARTUP ? "startup" : "liveness");
	sup_probes_stop(s, i);
	sup_stop_container(s, i, grace == 0);
	if (grace > 0)
		s->run[i].kill_at = sup_now_ns() + grace * NSEC_PER_SEC;
}

static void on_success(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	struct ctr_run *r = &s->run[i];
	if (k == PROBE_STARTUP && !r->started) {
		r->started = true;
		r->probes[k].next_at = 0;
		s->dirty = true;
		schedule(s, i, PROBE_LIVENESS, now);
		schedule(s, i, PROBE_READINESS, now);
	} else if (k == PROBE_READINESS && !r->ready) {
		r->ready = true;
		s->dirty = true;
	}
}

static void on_result(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg)
{
	const struct pp_probe *spec = probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	const char *name = s->pod->containers[i].spec->name;
	int64_t now = sup_now_ns();
	p->next_at = now + spec->period_seconds * NSEC_PER_SEC;
	if (ok) {
		p->failures = 0;
		if (++p->successes >= spec->success_threshold) {
			p->successes = spec->success_threshold;
			on_success(s, i, k, now);
		}
		return;
	}
	p->successes = 0;
	sup_event(s, PP_EVENT_WARNING, name, "Unhealthy", "%s probe failed: %s", probe_names[k],
		  msg);
	if (++p->failures < spec->failure_threshold)
		return;
	p->failures = spec->failure_threshold;
	if (k == PROBE_READINESS) {
		if (s->run[i].ready)
			s->dirty = true;
		s->run[i].ready = false;
	} else {
		kill_container(s, i, k);
	}
}

/* ---- running one ---- */

static int start_exec(struct sup *s, size_t i, const struct pp_handler *h, int out_fd, pid_t *pid,
		      int *pidfd, struct pp_error **err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	cleanup_strv char **env = NULL;
	int *cg = NULL;
	size_t n_cg = 0;
	if (pp_pod_container_env(s->pod, c, &env, err) < 0 ||
	    pp_cgroup_procs_fds(c->cgroup, &cg, &n_cg, err) < 0)
		return -1;
	struct pp_process_identity id;
	pp_pod_container_identity(s->pod, c, &id);
	struct pp_exec_config cfg = {
	    .container_pidfd = c->pidfd,
	    .argv = h->exec_command,
	    .envp = env,
	    .cwd = id.cwd,
	    .user = id.user,
	    .has_uid = id.has_uid,
	    .has_gid = id.has_gid,
	    .uid = id.uid,
	    .gid = id.gid,
	    .extra_gids = id.extra_gids,
	    .n_extra_gids = id.n_extra_gids,
	    .security = &c->security,
	    .cgroup_procs_fds = cg,
	    .n_cgroup_procs_fds = n_cg,
	    .set_oom_score_adj = true,
	    .oom_score_adj = c->oom_score_adj,
	    .stdin_fd = -1,
	    .stdout_fd = out_fd,
	    .stderr_fd = out_fd,
	};
	struct pp_exec_process proc;
	int r = pp_exec_start(&cfg, &proc, err);
	pp_cgroup_procs_fds_close(cg, n_cg);
	if (r < 0)
		return -1;
	*pid = proc.pid;
	*pidfd = proc.pidfd;
	return 0;
}

/* A named port is one of the container's ports. */
static int probe_port(const struct pp_container *c, const struct pp_handler *h)
{
	if (h->port_name == NULL)
		return h->port;
	for (size_t k = 0; k < c->n_ports; k++)
		if (c->ports[k].name && strcmp(c->ports[k].name, h->port_name) == 0)
			return c->ports[k].container_port;
	return -1;
}

/* What a tcpSocket or httpGet handler connects to. */
static int net_params(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
		      struct pp_net_probe *np, struct pp_error **err)
{
	const struct pp_sandbox *sb = s->pod->sandbox;
	int port = h->kind == PP_HANDLER_GRPC ? h->port : probe_port(s->pod->containers[i].spec, h);
	if (port <= 0)
		return pp_error_set(err, 0, "port \"%s\" is not one of the container's ports",
				    h->port_name);
	*np = (struct pp_net_probe){
	    .netns_pidfd = sb->infra_pidfd,
	    /* grpc has no host: always the pod's IP */
	    .host = h->kind != PP_HANDLER_GRPC && h->http_host && h->http_host[0] ? h->http_host
		    : sb->pod_ip						  ? sb->pod_ip
										  : "127.0.0.1",
	    .port = port,
	    .http = h->kind == PP_HANDLER_HTTP_GET,
	    .https = h->kind == PP_HANDLER_HTTP_GET && h->http_scheme &&
		     strcmp(h->http_scheme, "HTTPS") == 0,
	    .path = h->http_path,
	    .headers = h->http_headers,
	    .n_headers = h->n_http_headers,
	    .timeout_s = timeout_s,
	};
	return 0;
}

static int start_net(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s, int out_fd,
		     pid_t *pid, int *pidfd, struct pp_error **err)
{
	struct pp_net_probe np;
	if (net_params(s, i, h, timeout_s, &np, err) < 0)
		return -1;
	return pp_net_probe_start(&np, out_fd, pid, pidfd, err);
}

int sup_handler_start(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
		      int out_fd, pid_t *pid, int *pidfd, struct pp_error **err)
{
	if (h->kind == PP_HANDLER_EXEC)
		return start_exec(s, i, h, out_fd, pid, pidfd, err);
	return start_net(s, i, h, timeout_s, out_fd, pid, pidfd, err);
}

/* ---- tcpSocket and httpGet in the supervisor ----
 * A socket belongs to the network namespace it is created in: the
 * (single-threaded) supervisor enters the pod's, creates it and returns to
 * its own; the connection then runs in the loop like any other fd. */

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
	cancel(s, &s->run[i].probes[k]);
	on_result(s, i, k, ok, msg);
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
static bool start_socket(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = probe_spec(s, i, k);
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
	    net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &err) < 0)
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
		on_result(s, i, k, false, strerror(ENOMEM));
		return true;
	}
	if (spec->handler.kind == PP_HANDLER_GRPC &&
	    (p->grpc = pp_grpc_probe_new(np.host, np.port, spec->handler.grpc_service,
					 spec->timeout_seconds)) == NULL) {
		on_result(s, i, k, false, strerror(ENOMEM));
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

/* kubelet's event for a success with a warning (a redirect not followed). */
static void probe_warning(struct sup *s, size_t i, enum probe_kind k, const char *msg)
{
	const char *name = s->pod->containers[i].spec->name;
	sup_event(s, PP_EVENT_WARNING, name, "ProbeWarning", "%s probe warning: %s", probe_names[k],
		  msg);
}

/* A redirect on the same host: the next request on a new connection,
 * within the same timeout. */
static void follow(struct sup *s, size_t i, enum probe_kind k, struct probe_run *p,
		   struct pp_http_target *next)
{
	int64_t deadline = p->deadline;
	int n = p->redirects + 1;
	cancel(s, p);
	p->redirect = *next;
	p->redirects = n;
	p->deadline = deadline;
	if (!start_socket(s, i, k, sup_now_ns()))
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
	const struct pp_probe *spec = probe_spec(s, i, k);
	cleanup_error struct pp_error *err = NULL;
	struct pp_net_probe np;
	if (p->sock < 0 || (p->gen & 0xffff) != index >> 16 || spec == NULL ||
	    net_params(s, i, &spec->handler, spec->timeout_seconds, &np, &err) < 0)
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
		probe_warning(s, i, k, msg);
	net_finish(s, i, k, v != PP_HTTP_FAILED, v == PP_HTTP_FAILED ? msg : "");
}

/* ---- starting one ---- */

static void run_probe(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	cleanup_error struct pp_error *err = NULL;
	int fds[2];
	p->next_at = 0;
	if (spec->handler.kind != PP_HANDLER_EXEC && start_socket(s, i, k, now))
		return;
	if (spec->handler.kind == PP_HANDLER_GRPC) { /* only ever in the supervisor */
		on_result(s, i, k, false, "the pod has no address to connect to");
		return;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		on_result(s, i, k, false, strerror(errno));
		return;
	}
	int r = sup_handler_start(s, i, &spec->handler, spec->timeout_seconds, fds[1], &p->pid,
				  &p->pidfd, &err);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		on_result(s, i, k, false, err->msg);
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	p->msg_fd = fds[0];
	p->deadline = now + spec->timeout_seconds * NSEC_PER_SEC;
	if (sup_watch(s, p->pidfd, TAG(TAG_PROBE, i * N_PROBES + k)) < 0) {
		cancel(s, p);
		on_result(s, i, k, false, strerror(errno));
	}
}

void sup_probes_timer(struct sup *s, int64_t now)
{
	if (s->stopping != STOP_NONE)
		return;
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		struct ctr_run *r = &s->run[i];
		if (r->kill_at && now >= r->kill_at) {
			r->kill_at = 0;
			sup_stop_container(s, i, true);
		}
		if (s->pod->containers[i].state != PP_CTR_RUNNING)
			continue;
		for (size_t k = 0; k < N_PROBES; k++) {
			struct probe_run *p = &r->probes[k];
			if (running(p) && now >= p->deadline) {
				const struct pp_probe *spec = probe_spec(s, i, (enum probe_kind)k);
				cancel(s, p);
				char msg[64];
				if (spec->handler.kind == PP_HANDLER_GRPC)
					snprintf(msg, sizeof(msg),
						 "timeout: health rpc did not complete within %ds",
						 spec->timeout_seconds);
				else
					snprintf(msg, sizeof(msg), "timed out after %ds",
						 spec->timeout_seconds);
				on_result(s, i, (enum probe_kind)k, false, msg);
			} else if (!running(p) && p->next_at && now >= p->next_at) {
				run_probe(s, i, (enum probe_kind)k, now);
			}
		}
	}
}

/* What the probe printed, on one line, for the event. */
void sup_read_msg(int fd, char *buf, size_t size)
{
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	size_t len = n > 0 ? (size_t)n : 0;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	for (size_t k = 0; k < len; k++)
		if (buf[k] == '\n' || buf[k] == '\r')
			buf[k] = ' ';
}

void sup_probe_done(struct sup *s, size_t slot)
{
	size_t i = slot / N_PROBES;
	enum probe_kind k = (enum probe_kind)(slot % N_PROBES);
	struct probe_run *p = &s->run[i].probes[k];
	if (i >= s->pod->n_containers || p->pidfd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
	struct pp_exec_process proc = {.pid = p->pid, .pidfd = p->pidfd, .pty_master = -1};
	p->pidfd = -1;
	int status = pp_exec_wait(&proc);
	char msg[PROBE_MSG_MAX];
	sup_read_msg(p->msg_fd, msg, sizeof(msg));
	cleanup_closep(&p->msg_fd);
	p->deadline = 0;
	enum pp_handler_kind kind = probe_spec(s, i, k)->handler.kind;
	if (status != 0 && msg[0] == '\0' && kind == PP_HANDLER_EXEC)
		snprintf(msg, sizeof(msg), "command exited with code %d", status);
	if (status == 0 && msg[0] && kind == PP_HANDLER_HTTP_GET)
		probe_warning(s, i, k, msg); /* the helper child followed no redirect */
	on_result(s, i, k, status == 0, msg);
}

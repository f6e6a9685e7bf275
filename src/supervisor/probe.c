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
#include "probe/net_probe.h"
#include "probe/tls.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"

#define PROBE_MSG_MAX 1024

static const char *const probe_names[N_PROBES] = {"Startup", "Liveness", "Readiness"};

const struct pp_probe *sup_probe_spec(const struct sup *s, size_t i, enum probe_kind k)
{
	const struct pp_container *c = s->pod->containers[i].spec;
	const struct pp_probe *p = k == PROBE_STARTUP	 ? &c->startup
				   : k == PROBE_LIVENESS ? &c->liveness
							 : &c->readiness;
	return p->set ? p : NULL;
}

void sup_probes_init(struct sup *s)
{
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		for (size_t k = 0; k < N_PROBES; k++)
			s->run[i].probes[k] = PROBE_RUN_INIT;
		s->run[i].exec = EXEC_CACHE_INIT;
	}
}

static bool running(const struct probe_run *p)
{
	return p->pidfd >= 0 || p->sock >= 0;
}

void sup_probe_cancel(struct sup *s, struct probe_run *p)
{
	if (p->status_fd >= 0) {
		/* the launcher's child: killed here, reaped by the launcher */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->status_fd, NULL);
		cleanup_closep(&p->status_fd);
		if (p->pidfd >= 0)
			pp_pidfd_send_signal(p->pidfd, SIGKILL);
		cleanup_closep(&p->pidfd);
	}
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
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
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
	r->started = sup_probe_spec(s, i, PROBE_STARTUP) == NULL;
	r->ready = sup_probe_spec(s, i, PROBE_READINESS) == NULL;
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
		sup_probe_cancel(s, &r->probes[k]);
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
	if (s->stopping != STOP_NONE || s->frozen)
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
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
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

void sup_probe_result(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
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

void sup_exec_cache_clear(struct sup *s, size_t i)
{
	struct exec_cache *x = &s->run[i].exec;
	sup_launcher_stop(x);
	pp_exec_target_close(&x->target);
	strv_free(x->env);
	*x = EXEC_CACHE_INIT;
}

/* What an exec into container i takes (its namespaces, root and
 * environment), found out at its first exec and kept while it runs: a
 * probe every second would otherwise look them all up every time. */
static int exec_cache(struct sup *s, size_t i, struct pp_error **err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	struct exec_cache *x = &s->run[i].exec;
	if (x->set)
		return 0;
	if (pp_exec_target_open(c->pidfd, &x->target, err) < 0 ||
	    pp_pod_container_env(s->pod, c, &x->env, err) < 0) {
		sup_exec_cache_clear(s, i);
		return -1;
	}
	x->set = true;
	return 0;
}

int sup_exec_config(struct sup *s, size_t i, char *const *argv, struct pp_exec_config *cfg,
		    struct pp_error **err)
{
	struct pp_pod_container *c = &s->pod->containers[i];
	const struct exec_cache *x = &s->run[i].exec;
	if (exec_cache(s, i, err) < 0)
		return -1;
	*cfg = (struct pp_exec_config){
	    .container_pidfd = c->pidfd,
	    .target = &x->target,
	    .argv = argv,
	    .envp = x->env,
	    .identity = c->identity,
	    .set_oom_score_adj = true,
	    .oom_score_adj = c->oom_score_adj,
	    .stdin_fd = -1,
	    .stdout_fd = -1,
	    .stderr_fd = -1,
	};
	return 0;
}

int sup_exec_start(struct sup *s, size_t i, struct pp_exec_config *cfg,
		   struct pp_exec_process *proc, struct pp_error **err)
{
	int *cg = NULL;
	size_t n_cg = 0;
	if (pp_cgroup_procs_fds(s->pod->containers[i].cgroup, &cg, &n_cg, err) < 0)
		return -1;
	cfg->cgroup_procs_fds = cg;
	cfg->n_cgroup_procs_fds = n_cg;
	int r = pp_exec_start(cfg, proc, err);
	pp_cgroup_procs_fds_close(cg, n_cg);
	cfg->cgroup_procs_fds = NULL;
	cfg->n_cgroup_procs_fds = 0;
	return r;
}

static int start_exec(struct sup *s, size_t i, const struct pp_handler *h, int out_fd, pid_t *pid,
		      int *pidfd, struct pp_error **err)
{
	struct pp_exec_config cfg;
	if (sup_exec_config(s, i, h->exec_command, &cfg, err) < 0)
		return -1;
	cfg.stdout_fd = out_fd;
	cfg.stderr_fd = out_fd;
	struct pp_exec_process proc;
	if (sup_exec_start(s, i, &cfg, &proc, err) < 0)
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
int sup_net_params(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
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
	if (sup_net_params(s, i, h, timeout_s, &np, err) < 0)
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

/* kubelet's event for a success with a warning (a redirect not followed). */
void sup_probe_warning(struct sup *s, size_t i, enum probe_kind k, const char *msg)
{
	const char *name = s->pod->containers[i].spec->name;
	sup_event(s, PP_EVENT_WARNING, name, "ProbeWarning", "%s probe warning: %s", probe_names[k],
		  msg);
}

/* ---- starting one ---- */

static void run_probe(struct sup *s, size_t i, enum probe_kind k, int64_t now)
{
	const struct pp_probe *spec = sup_probe_spec(s, i, k);
	struct probe_run *p = &s->run[i].probes[k];
	cleanup_error struct pp_error *err = NULL;
	int fds[2];
	p->next_at = 0;
	if (spec->handler.kind != PP_HANDLER_EXEC && sup_probe_socket_start(s, i, k, now))
		return;
	if (spec->handler.kind == PP_HANDLER_GRPC) { /* only ever in the supervisor */
		sup_probe_result(s, i, k, false, "the pod has no address to connect to");
		return;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		sup_probe_result(s, i, k, false, strerror(errno));
		return;
	}
	int r = 1;
	if (spec->handler.kind == PP_HANDLER_EXEC)
		r = sup_launcher_run(s, i, spec->handler.exec_command, fds[1], &p->pid, &p->pidfd,
				     &p->status_fd, &err);
	if (r > 0)
		r = sup_handler_start(s, i, &spec->handler, spec->timeout_seconds, fds[1], &p->pid,
				      &p->pidfd, &err);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		sup_probe_result(s, i, k, false, err->msg);
		return;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	p->msg_fd = fds[0];
	p->deadline = now + spec->timeout_seconds * NSEC_PER_SEC;
	if (sup_watch(s, p->status_fd >= 0 ? p->status_fd : p->pidfd,
		      TAG(TAG_PROBE, i * N_PROBES + k)) < 0) {
		sup_probe_cancel(s, p);
		sup_probe_result(s, i, k, false, strerror(errno));
	}
}

void sup_probes_shift(struct sup *s, int64_t d)
{
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		struct ctr_run *r = &s->run[i];
		if (r->kill_at)
			r->kill_at += d;
		for (size_t k = 0; k < N_PROBES; k++) {
			if (r->probes[k].deadline)
				r->probes[k].deadline += d;
			if (r->probes[k].next_at)
				r->probes[k].next_at += d;
		}
	}
}

void sup_probes_timer(struct sup *s, int64_t now)
{
	/* A frozen container cannot answer: no probe runs or times out. */
	if (s->stopping != STOP_NONE || s->frozen)
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
				const struct pp_probe *spec =
				    sup_probe_spec(s, i, (enum probe_kind)k);
				sup_probe_cancel(s, p);
				char msg[64];
				if (spec->handler.kind == PP_HANDLER_GRPC)
					snprintf(msg, sizeof(msg),
						 "timeout: health rpc did not complete within %ds",
						 spec->timeout_seconds);
				else
					snprintf(msg, sizeof(msg), "timed out after %ds",
						 spec->timeout_seconds);
				sup_probe_result(s, i, (enum probe_kind)k, false, msg);
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
	if (i >= s->pod->n_containers || (p->pidfd < 0 && p->status_fd < 0))
		return;
	int status;
	if (p->status_fd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->status_fd, NULL);
		status = sup_launcher_status(p->status_fd);
		cleanup_closep(&p->status_fd);
		cleanup_closep(&p->pidfd);
	} else {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
		struct pp_exec_process proc = {.pid = p->pid, .pidfd = p->pidfd, .pty_master = -1};
		p->pidfd = -1;
		status = pp_exec_wait(&proc);
	}
	char msg[PROBE_MSG_MAX];
	sup_read_msg(p->msg_fd, msg, sizeof(msg));
	cleanup_closep(&p->msg_fd);
	p->deadline = 0;
	enum pp_handler_kind kind = sup_probe_spec(s, i, k)->handler.kind;
	if (status < 0 && msg[0] == '\0')
		snprintf(msg, sizeof(msg), "the probe's process was lost");
	else if (status != 0 && msg[0] == '\0' && kind == PP_HANDLER_EXEC)
		snprintf(msg, sizeof(msg), "command exited with code %d", status);
	if (status == 0 && msg[0] && kind == PP_HANDLER_HTTP_GET)
		sup_probe_warning(s, i, k, msg); /* the helper child followed no redirect */
	sup_probe_result(s, i, k, status == 0, msg);
}

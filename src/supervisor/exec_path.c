/* Every process the supervisor starts in or for a container, one way: the
 * exec probes, the hooks and the launcher exec into the running instance
 * with what exec_cache found out at its first exec; httpGet and tcpSocket
 * handlers to a name run as a helper child in the pod's network namespace.
 * A handler's child (struct sup_child) is watched through one fd in the
 * loop's epoll: its pidfd, or the status pipe of the launcher that forked
 * it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "probe/net_probe.h"
#include "runtime/exec.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"

void sup_exec_cache_clear(struct sup *s, size_t i)
{
	struct exec_cache *x = &s->run[i].exec;
	sup_launcher_stop(x);
	pp_exec_target_close(&x->target);
	strv_free(x->env);
	free(x->reply);
	*x = EXEC_CACHE_INIT;
}

char **sup_exec_env(struct sup *s, size_t i, struct pp_error **err)
{
	struct exec_cache *x = &s->run[i].exec;
	if (x->env == NULL &&
	    pp_pod_container_env(s->pod, &s->pod->containers[i], &x->env, err) < 0)
		return NULL;
	return x->env;
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
	if (pp_exec_target_open(c->pidfd, &x->target, err) < 0 || sup_exec_env(s, i, err) == NULL) {
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

/* Starts handler h (exec, httpGet, tcpSocket) of container i as a child
 * process writing its message to out_fd; *pid and *pidfd receive it. */
static int handler_start(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
			 int out_fd, pid_t *pid, int *pidfd, struct pp_error **err)
{
	if (h->kind == PP_HANDLER_EXEC)
		return start_exec(s, i, h, out_fd, pid, pidfd, err);
	return start_net(s, i, h, timeout_s, out_fd, pid, pidfd, err);
}

int sup_child_start(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
		    bool via_launcher, struct sup_child *c, struct pp_error **err)
{
	int fds[2];
	*c = SUP_CHILD_INIT;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "%s", strerror(errno));
	int r = 1;
	if (via_launcher && h->kind == PP_HANDLER_EXEC)
		r = sup_launcher_run(s, i, h->exec_command, fds[1], &c->pid, &c->pidfd,
				     &c->status_fd, err);
	if (r > 0)
		r = handler_start(s, i, h, timeout_s, fds[1], &c->pid, &c->pidfd, err);
	close(fds[1]);
	if (r < 0) {
		close(fds[0]);
		return -1;
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	c->msg_fd = fds[0];
	return 0;
}

int sup_child_fd(const struct sup_child *c)
{
	return c->status_fd >= 0 ? c->status_fd : c->pidfd;
}

/* What the child printed, on one line, for the event. */
static void read_msg(int fd, char *buf, size_t size)
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

int sup_child_finish(struct sup *s, struct sup_child *c, char *msg, size_t size)
{
	int status;
	if (c->status_fd >= 0) {
		/* the launcher's child: the launcher reaped it */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->status_fd, NULL);
		status = sup_launcher_status(c->status_fd);
		cleanup_closep(&c->status_fd);
		cleanup_closep(&c->pidfd);
	} else {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		struct pp_exec_process proc = {.pid = c->pid, .pidfd = c->pidfd, .pty_master = -1};
		c->pidfd = -1;
		status = pp_exec_wait(&proc);
	}
	read_msg(c->msg_fd, msg, size);
	cleanup_closep(&c->msg_fd);
	return status;
}

void sup_child_cancel(struct sup *s, struct sup_child *c)
{
	if (c->status_fd >= 0) {
		/* the launcher's child: killed here, reaped by the launcher */
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->status_fd, NULL);
		cleanup_closep(&c->status_fd);
		if (c->pidfd >= 0)
			pp_pidfd_send_signal(c->pidfd, SIGKILL);
		cleanup_closep(&c->pidfd);
	}
	if (c->pidfd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		pp_pidfd_kill_and_reap(c->pidfd);
		cleanup_closep(&c->pidfd);
	}
	cleanup_closep(&c->msg_fd);
}

/* The control socket, supervisor side: stop requests and what exec needs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/podnet.h"
#include "security/seccomp.h"
#include "supervisor/control.h"
#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/trace.h"

static void reply(int fd, const char *text, const int *fds, size_t n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PP_CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n_fds > 0) {
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	/* A client that went away meanwhile is not our problem. */
	(void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void reply_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	cleanup_free char *text = xasprintf("error %s", msg);
	reply(fd, text, NULL, 0);
}

void sup_ctl_reply(struct sup *s, size_t k, const char *msg)
{
	if (msg == NULL)
		reply(s->clients[k], "ok", NULL, 0);
	else
		reply_error(s->clients[k], "%s", msg);
}

void sup_ctl_accept(struct sup *s)
{
	for (;;) {
		int fd = accept4(s->callbacks->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		size_t k = 0;
		while (k < MAX_CLIENTS && s->clients[k] >= 0)
			k++;
		if (k == MAX_CLIENTS || sup_watch_client(s, fd, k) < 0) {
			reply_error(fd, "the supervisor is busy: too many connections");
			close(fd);
			continue;
		}
		s->clients[k] = fd;
	}
}

static void client_close(struct sup *s, size_t k)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->clients[k], NULL);
	/* The peer sees the end now, not once every copy is closed: a child
	 * forked without exec (the teardown's peapod-rm) holds one until it
	 * closes its fds. */
	shutdown(s->clients[k], SHUT_RDWR);
	cleanup_closep(&s->clients[k]);
	s->awaits[k] = s->awaits_remove[k] = false;
}

void sup_ctl_add_awaiting(struct sup *s, int fd)
{
	size_t k = 0;
	while (k < MAX_CLIENTS && s->clients[k] >= 0)
		k++;
	if (k == MAX_CLIENTS || sup_watch_client(s, fd, k) < 0) {
		close(fd);
		return;
	}
	s->clients[k] = fd;
	s->awaits[k] = s->awaits_remove[k] = true;
}

/* Whether fd's next request, not read yet, is an await: then it is read
 * and its client's flags set. */
static void take_pending_await(struct sup *s, size_t k)
{
	char buf[sizeof("await remove")];
	ssize_t n = recv(s->clients[k], buf, sizeof(buf) - 1, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		return;
	buf[n] = '\0';
	bool await = strcmp(buf, "await") == 0, remove = strcmp(buf, "await remove") == 0;
	if ((await || remove) && recv(s->clients[k], buf, sizeof(buf) - 1, MSG_DONTWAIT) == n) {
		pp_trace("sup await unread");
		s->awaits[k] = true;
		s->awaits_remove[k] = remove;
	}
}

bool sup_ctl_notify_finished(struct sup *s)
{
	bool remove = false;
	cleanup_free char *msg = NULL;
	/* An await sent before the end counts, read or not (a pod that ends
	 * at once may end before the loop reads it). */
	if (s->callbacks->ctl_fd >= 0)
		sup_ctl_accept(s);
	for (size_t k = 0; k < MAX_CLIENTS; k++) {
		if (s->clients[k] >= 0 && !s->awaits[k])
			take_pending_await(s, k);
		if (s->clients[k] < 0 || !s->awaits[k])
			continue;
		if (msg == NULL) {
			cleanup_free char *outcome = sup_outcome_json(s);
			msg = xasprintf("finished %s", outcome);
		}
		/* One that went away meanwhile asks for nothing any more. */
		if (send(s->clients[k], msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 &&
		    s->awaits_remove[k])
			remove = true;
	}
	return remove;
}

void sup_ctl_close_all(struct sup *s)
{
	for (size_t k = 0; k < MAX_CLIENTS; k++)
		if (s->clients[k] >= 0)
			client_close(s, k);
}

static void do_stop(struct sup *s, int fd, long long grace)
{
	if (!s->stop_requested) {
		pp_trace("sup stop");
		s->stop_requested = true;
		clock_gettime(CLOCK_REALTIME, &s->deletion_time);
		s->dirty = true;
	}
	if (grace < 0)
		grace = s->pod->spec->termination_grace_period_seconds;
	if (s->stopping == STOP_NONE)
		sup_begin_stop(s, grace);
	else if (grace == 0)
		sup_kill_all(s);
	reply(fd, "ok", NULL, 0);
}

/* What exec needs of container name: its identity, environment and fds.
 * Client k sets its process up from then on, until it closes the
 * connection (freeze.c: a pause waits for it). */
static void exec_reply(struct sup *s, size_t k, const char *name)
{
	int fd = s->clients[k];
	struct pp_pod_instance *pod = s->pod;
	struct pp_pod_container *c = NULL;
	for (size_t i = 0; i < pp_pod_n_all(pod) && c == NULL; i++)
		if (pp_pod_slot_used(pod, i) && strcmp(pod->containers[i].spec->name, name) == 0)
			c = &pod->containers[i];
	if (c == NULL) {
		reply_error(fd, "container %s is not valid for pod %s", name, pod->spec->name);
		return;
	}
	if (c->state != PP_CTR_RUNNING || c->pidfd < 0 || s->finished) {
		reply_error(fd, "container %s is not running", name);
		return;
	}
	const char *refusal = sup_exec_refusal(s);
	if (refusal != NULL) {
		reply_error(fd, "pod %s %s: unpause it to exec into container %s", pod->spec->name,
			    refusal, name);
		return;
	}
	cleanup_error struct pp_error *err = NULL;
	size_t i = (size_t)(c - pod->containers);
	struct exec_cache *x = &s->run[i].exec;
	char **env = NULL;
	int *cg = NULL;
	size_t n_cg = 0;
	if (pp_cgroup_procs_fds(c->cgroup, &cg, &n_cg, &err) < 0) {
		reply_error(fd, "container %s: %s", name, err->msg);
		return;
	}
	/* The same text at every exec into this instance: encoded once (the
	 * reply is most of what the supervisor does before it answers). */
	if (x->reply != NULL && x->reply_cgroups != n_cg) {
		free(x->reply);
		x->reply = NULL;
	}
	if (x->reply == NULL && (env = sup_exec_env(s, i, &err)) == NULL) {
		reply_error(fd, "container %s: %s", name, err->msg);
		pp_cgroup_procs_fds_close(cg, n_cg);
		return;
	}
	/* exec compiles the filter where the pod's were: it finds them cached. */
	const struct pp_ctl_exec_reply r = {
	    .env = env,
	    .identity = c->identity,
	    .oom_score_adj = c->oom_score_adj,
	    .seccomp_cache = pp_seccomp_cache_dir(),
	    .container_pidfd = c->pidfd,
	    .cgroup_procs_fds = cg,
	    .n_cgroup_procs_fds = n_cg,
	};
	int fds[PP_CTL_MAX_FDS];
	size_t n_fds = 0;
	if (x->reply == NULL && pp_ctl_exec_reply_encode(&r, &x->reply, fds, &n_fds, &err) < 0) {
		reply_error(fd, "container %s: %s", name, err->msg);
	} else {
		x->reply_cgroups = n_cg;
		fds[0] = c->pidfd;
		if (n_cg > 0)
			memcpy(fds + 1, cg, n_cg * sizeof(int));
		n_fds = 1 + n_cg;
		reply(fd, x->reply, fds, n_fds);
		s->exec_setup[k] = true;
	}
	pp_cgroup_procs_fds_close(cg, n_cg);
}

static void do_exec(struct sup *s, size_t k, const char *msg, size_t len)
{
	int fd = s->clients[k];
	cleanup_error struct pp_error *err = NULL;
	struct pp_ctl_exec_request req;
	if (pp_ctl_exec_request_decode(msg, len, &req, &err) < 0) {
		reply_error(fd, "%s", err->msg);
		return;
	}
	exec_reply(s, k, req.container);
	pp_ctl_exec_request_free(&req);
}

/* attach -i: the write end of the container's stdin. With stdinOnce the
 * first attach takes it for good: when it lets go, the container reads EOF. */
static void do_attach(struct sup *s, int fd, const char *name)
{
	struct pp_pod_container *c = NULL;
	for (size_t i = 0; i < pp_pod_n_all(s->pod) && c == NULL; i++)
		if (pp_pod_slot_used(s->pod, i) &&
		    strcmp(s->pod->containers[i].spec->name, name) == 0)
			c = &s->pod->containers[i];
	if (c == NULL) {
		reply_error(fd, "container %s is not valid for pod %s", name, s->pod->spec->name);
		return;
	}
	if (!c->spec->stdin_open) {
		reply_error(fd, "container %s does not take stdin (stdin: true)", name);
		return;
	}
	if (c->state != PP_CTR_RUNNING || c->in_fd < 0) {
		reply_error(fd, "container %s is not running%s", name,
			    c->spec->stdin_once ? " or its stdin (stdinOnce) was taken" : "");
		return;
	}
	reply(fd, c->spec->tty ? "ok tty" : "ok", &c->in_fd, 1);
	if (c->spec->stdin_once)
		cleanup_closep(&c->in_fd);
}

/* inspect: CNI CHECK of the pod's network, in the namespace the infra
 * process holds (the supervisor has its pidfd: the pid is the infra's). */
static void do_netcheck(struct sup *s, int fd)
{
	const struct pp_sandbox *sb = s->pod->sandbox;
	cleanup_error struct pp_error *err = NULL;
	if (sb == NULL || sb->pod_ips == NULL || sb->pod_ips[0] == NULL)
		reply(fd, "none", NULL, 0);
	else if (pp_pod_net_check(s->pod->state_dir, sb->infra_pid, &err) < 0)
		reply_error(fd, "%s", err->msg);
	else
		reply(fd, "ok", NULL, 0);
}

/* A policy the decoder checked, by name. */
static enum pp_pull_policy pull_policy(const char *name)
{
	if (name == NULL)
		return PP_PULL_DEFAULT;
	if (strcmp(name, "Always") == 0)
		return PP_PULL_ALWAYS;
	return strcmp(name, "Never") == 0 ? PP_PULL_NEVER : PP_PULL_IF_NOT_PRESENT;
}

/* peapod debug: an ephemeral container added to the running pod. */
static void do_debug(struct sup *s, int fd, const char *msg, size_t len)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_ctl_debug_request req;
	if (pp_ctl_debug_request_decode(msg, len, &req, &err) < 0) {
		reply_error(fd, "%s", err->msg);
		return;
	}
	const struct pp_ephemeral_request er = {.name = req.name,
						.image = req.image,
						.command = req.command,
						.target = req.target,
						.pull_policy = pull_policy(req.pull_policy),
						.stdin_open = req.stdin_open,
						.tty = req.tty};
	if (sup_add_ephemeral(s, &er, &err) < 0)
		reply_error(fd, "%s", err->msg);
	else
		reply(fd, "ok", NULL, 0);
	pp_ctl_debug_request_free(&req);
}

/* "image <container> <image>": apply's new image for a container. */
static void do_image(struct sup *s, int fd, char *args)
{
	cleanup_error struct pp_error *err = NULL;
	char *sp = strchr(args, ' ');
	if (sp == NULL || sp[1] == '\0') {
		reply_error(fd, "usage: image <container> <image>");
		return;
	}
	*sp = '\0';
	if (sup_change_image(s, args, sp + 1, &err) < 0) {
		reply_error(fd, "%s", err->msg);
		return;
	}
	/* pulls_kick: the new image's look-up or pull begins now */
	sup_pulls_kick(s);
	sup_write_status(s);
	reply(fd, "ok", NULL, 0);
}

/* "deadline <seconds>": apply's new activeDeadlineSeconds. */
static void do_deadline(struct sup *s, int fd, long long seconds)
{
	cleanup_error struct pp_error *err = NULL;
	if (sup_set_deadline(s, seconds, &err) < 0) {
		reply_error(fd, "%s", err->msg);
		return;
	}
	sup_write_status(s);
	reply(fd, "ok", NULL, 0);
}

static void do_cri_create(struct sup *s, int fd, const char *msg, size_t len)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_ctl_cri_create req;
	if (pp_ctl_cri_create_decode(msg, len, &req, &err) < 0) {
		reply_error(fd, "%s", err->msg);
		return;
	}
	struct pp_container *spec = req.spec;
	req.spec = NULL;
	int r = sup_cri_create(s, spec, req.log_path, &err);
	pp_ctl_cri_create_free(&req);
	/* the status first: a StartContainer right after the answer finds
	 * the container there */
	sup_write_status(s);
	if (r < 0)
		reply_error(fd, "%s", err->msg);
	else
		reply(fd, "ok", NULL, 0);
}

static void do_cri_update(struct sup *s, int fd, const char *msg, size_t len)
{
	cleanup_error struct pp_error *err = NULL;
	cleanup_free char *name = NULL;
	struct pp_container *with = NULL;
	int r = pp_ctl_cri_update_decode(msg, len, &name, &with, &err) < 0 ||
			sup_cri_update_resources(s, name, with, &err) < 0
		    ? -1
		    : 0;
	sup_write_status(s);
	if (r < 0)
		reply_error(fd, "%s", err->msg);
	else
		reply(fd, "ok", NULL, 0);
}

/* "cri-start|cri-remove|cri-reopen <name>", "cri-stop <timeout> <name>". */
static bool do_cri_simple(struct sup *s, int fd, const char *buf)
{
	cleanup_error struct pp_error *err = NULL;
	long long t = 0;
	int off = 0;
	int r;
	if (strncmp(buf, "cri-start ", 10) == 0)
		r = sup_cri_start(s, buf + 10, &err);
	else if (strncmp(buf, "cri-remove ", 11) == 0)
		r = sup_cri_remove(s, buf + 11, &err);
	else if (strncmp(buf, "cri-reopen ", 11) == 0)
		r = sup_cri_reopen_log(s, buf + 11, &err);
	else if (sscanf(buf, "cri-stop %lld %n", &t, &off) == 1 && off > 0)
		r = sup_cri_stop(s, buf + off, t, &err);
	else
		return false;
	sup_write_status(s); /* before the answer: what it did is seen */
	if (r < 0)
		reply_error(fd, "%s", err->msg);
	else
		reply(fd, "ok", NULL, 0);
	return true;
}

void sup_ctl_request(struct sup *s, size_t k)
{
	int fd = s->clients[k];
	/* a debug request carries a command line, a CRI container its config */
	static char buf[PP_CTL_MAX_MSG + 1];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(s, k);
		sup_pause_client_gone(s, k);
		return;
	}
	buf[n] = '\0';
	long long grace;
	if (sscanf(buf, "stop %lld", &grace) == 1)
		do_stop(s, fd, grace);
	else if (pp_ctl_is_exec_request(buf, (size_t)n))
		do_exec(s, k, buf, (size_t)n);
	else if (pp_ctl_is_debug_request(buf, (size_t)n))
		do_debug(s, fd, buf, (size_t)n);
	else if (strncmp(buf, "attach ", 7) == 0)
		do_attach(s, fd, buf + 7);
	else if (strncmp(buf, "image ", 6) == 0)
		do_image(s, fd, buf + 6);
	else if (sscanf(buf, "deadline %lld", &grace) == 1)
		do_deadline(s, fd, grace);
	else if (strncmp(buf, PP_CTL_CRI_CREATE " ", strlen(PP_CTL_CRI_CREATE) + 1) == 0)
		do_cri_create(s, fd, buf, (size_t)n);
	else if (strncmp(buf, PP_CTL_CRI_UPDATE " ", strlen(PP_CTL_CRI_UPDATE) + 1) == 0)
		do_cri_update(s, fd, buf, (size_t)n);
	else if (strncmp(buf, "cri-", 4) == 0 && do_cri_simple(s, fd, buf))
		;
	else if (strcmp(buf, "netcheck") == 0)
		do_netcheck(s, fd);
	else if (strcmp(buf, "await") == 0 || strcmp(buf, "await remove") == 0) {
		s->awaits[k] = true;
		s->awaits_remove[k] = strcmp(buf, "await remove") == 0;
	} else if (strcmp(buf, "freeze") == 0)
		sup_pause_request(s, k);
	else if (strcmp(buf, "thaw") == 0)
		sup_unpause_request(s, k);
	else
		reply_error(fd, "unknown request \"%.40s\"", buf);
}

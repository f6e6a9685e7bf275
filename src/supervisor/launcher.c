/* Exec probes through the container's peapod-exec (src/progs): made once
 * per running container at its first exec probe, the way any exec into the
 * container is made (runtime/exec.c), but exec'ing peapod-exec, which stays
 * in our PID namespace and forks each probe into the container's. A probe
 * is then one fork and one exec in the kernel, without joining namespaces,
 * switching user or installing the seccomp filter again. It lives in the
 * container's cgroup (its children are born there) until the container
 * exits. Where it cannot be made (not built for this architecture, a
 * seccomp profile that refuses what it needs) or breaks, the probes exec
 * the usual way. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/proc.h"

#define LAUNCHER_NAME "peapod-exec"
/* Its request buffer (src/progs/peapod-exec.c REQ_MAX); larger: the usual way. */
#define LAUNCHER_REQ_MAX (64 * 1024)
/* It answers once it has forked: a wait this long means it is stuck. */
#define LAUNCHER_ANSWER_MS 1000

void sup_launcher_stop(struct exec_cache *x)
{
	cleanup_closep(&x->launcher_sock); /* it exits on EOF */
	if (x->launcher_pidfd >= 0) {
		pp_pidfd_kill_and_reap(x->launcher_pidfd);
		cleanup_closep(&x->launcher_pidfd);
	}
	x->launcher_pid = 0;
}

static int launcher_start(struct sup *s, size_t i, struct pp_error **err)
{
	struct exec_cache *x = &s->run[i].exec;
	cleanup_close int program = pp_open_program(LAUNCHER_NAME);
	if (program < 0)
		return pp_error_set(err, errno, "%s", LAUNCHER_NAME);
	static char *const argv[] = {(char *)LAUNCHER_NAME, NULL};
	struct pp_exec_config cfg;
	if (sup_exec_config(s, i, argv, &cfg, err) < 0)
		return -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return pp_error_set(err, errno, "socketpair");
	cleanup_close int ours = sv[0];
	cleanup_close int theirs = sv[1];
	cfg.envp = NULL;
	cfg.run_program = true;
	cfg.program_fd = program;
	cfg.children_in_pidns = true;
	cfg.stdout_fd = theirs;
	struct pp_exec_process proc;
	if (sup_exec_start(s, i, &cfg, &proc, err) < 0)
		return -1;
	x->launcher_sock = steal_fd(&ours);
	x->launcher_pid = proc.pid;
	x->launcher_pidfd = proc.pidfd;
	return 0;
}

/* argv then envp, each list of NUL-ended strings ended by an empty one. */
static char *request(char *const *argv, char *const *envp, size_t *len)
{
	size_t n = 2;
	for (char *const *a = argv; *a; a++)
		n += strlen(*a) + 1;
	for (char *const *e = envp; e && *e; e++)
		n += strlen(*e) + 1;
	if (n > LAUNCHER_REQ_MAX)
		return NULL;
	char *buf = xmalloc(n), *p = buf;
	for (char *const *a = argv; *a; a++)
		p = stpcpy(p, *a) + 1;
	*p++ = '\0';
	for (char *const *e = envp; e && *e; e++)
		p = stpcpy(p, *e) + 1;
	*p++ = '\0';
	*len = n;
	return buf;
}

/* Sends the request with out_fd and the status pipe's write end; receives
 * the child's pid and pidfd. 0, or -1 with errno (the launcher's or ours). */
static int exchange(int sock, const char *req, size_t len, int out_fd, int status_wr, pid_t *pid,
		    int *pidfd)
{
	struct iovec iov = {.iov_base = (void *)req, .iov_len = len};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(c), (int[]){out_fd, status_wr}, 2 * sizeof(int));
	if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		return -1;
	struct pollfd pf = {.fd = sock, .events = POLLIN};
	int r;
	while ((r = poll(&pf, 1, LAUNCHER_ANSWER_MS)) < 0 && errno == EINTR)
		;
	if (r <= 0) {
		errno = r == 0 ? ETIMEDOUT : errno;
		return -1;
	}
	char text[32];
	iov = (struct iovec){.iov_base = text, .iov_len = sizeof(text) - 1};
	memset(&u, 0, sizeof(u));
	m = (struct msghdr){.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n <= 0) {
		errno = n == 0 ? EPIPE : errno;
		return -1;
	}
	text[n] = '\0';
	int fd = -1;
	c = CMSG_FIRSTHDR(&m);
	if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	long v = strtol(text, NULL, 10);
	if (v <= 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		errno = v < 0 ? (int)-v : EPROTO;
		return -1;
	}
	*pid = (pid_t)v;
	*pidfd = fd;
	return 0;
}

int sup_launcher_run(struct sup *s, size_t i, char *const *argv, int out_fd, pid_t *pid, int *pidfd,
		     int *status_fd, struct pp_error **err)
{
	struct exec_cache *x = &s->run[i].exec;
	if (x->launcher_failed)
		return 1;
	if (x->launcher_sock < 0) {
		struct pp_error *why = NULL;
		if (launcher_start(s, i, &why) < 0) {
			/* the usual way from now on: it exits 127 or fails to
			 * set up in the same container as a command would */
			pp_error_free(&why);
			x->launcher_failed = true;
			return 1;
		}
	}
	size_t len = 0;
	cleanup_free char *req = request(argv, x->env, &len);
	if (req == NULL)
		return 1;
	int st[2];
	if (pipe2(st, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	int r = exchange(x->launcher_sock, req, len, out_fd, st[1], pid, pidfd);
	int e = errno;
	close(st[1]);
	if (r < 0) {
		close(st[0]);
		if (e == EAGAIN) /* as many probes running as it keeps */
			return 1;
		/* Broken or refusing: the usual way from now on. */
		sup_launcher_stop(x);
		x->launcher_failed = true;
		return 1;
	}
	fcntl(st[0], F_SETFL, O_NONBLOCK);
	*status_fd = st[0];
	return 0;
}

int sup_launcher_status(int status_fd)
{
	char text[32];
	ssize_t n = read(status_fd, text, sizeof(text) - 1);
	if (n < 2 || text[0] != 'S')
		return -1;
	text[n] = '\0';
	int w = (int)strtol(text + 1, NULL, 10);
	if (WIFEXITED(w))
		return WEXITSTATUS(w);
	return WIFSIGNALED(w) ? 128 + WTERMSIG(w) : -1;
}

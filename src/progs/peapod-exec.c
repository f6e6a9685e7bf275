/* peapod-exec: starts a container's exec probes. The supervisor makes one
 * per running container that has an exec probe, the way it makes any exec
 * into that container (runtime/exec.c: its cgroups, namespaces, root, user,
 * capabilities, no_new_privs and seccomp filter), except that it stays in
 * the supervisor's PID namespace with its children born in the
 * container's, and that it execs this program instead of a command. Each
 * probe is then one fork and one exec: the children inherit all of that
 * instead of setting it up again (the seccomp filter alone cost half of an
 * exec probe's CPU: the kernel converts and compiles it for every process
 * that installs it). The container does not see this process: it is not in
 * its PID namespace.
 *
 * fd 1 is a SOCK_SEQPACKET socket to the supervisor. A request is one
 * message: the argv strings then the envp strings, each list ended by an
 * empty string, with two fds: the probe's output (its stdout and stderr)
 * and a status pipe. The answer: the child's pid in decimal with its
 * pidfd, or a negative errno. Once the child is reaped, "S<wait status>" goes to its
 * status pipe, which is then closed. EOF on the socket (the supervisor
 * closed it or died): exit. A child that cannot exec writes why to its
 * stderr and exits 127.
 *
 * Every system call here is one the default seccomp profile allows. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "progs/nolibc.h"

PROG_ENTRY;

#define SOCK_FD 1
#define REQ_MAX (64 * 1024)
#define ARGS_MAX 2048
#define RUNNING_MAX 64
#define PATH_BUF 4096
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char req[REQ_MAX];
static char *child_argv[ARGS_MAX], *child_envp[ARGS_MAX];
static struct {
	long pid;
	int status_fd; /* -1: free */
} running[RUNNING_MAX];

static unsigned long len_of(const char *s)
{
	unsigned long n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

static void put(int fd, const char *s)
{
	sys4(SYS_write, fd, (long)s, (long)len_of(s), 0);
}

/* Decimal of v (may be negative) into buf (>= 24 bytes); returns buf. */
static char *decimal(long v, char *buf)
{
	char tmp[24];
	int n = 0, neg = v < 0;
	unsigned long u = neg ? (unsigned long)(-(v + 1)) + 1 : (unsigned long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	int k = 0;
	if (neg)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

/* Splits the list of NUL-ended strings at *p (ended by an empty one) into
 * out; returns 0, or -1 when it runs past end or out. */
static int split(char **p, const char *end, char **out)
{
	int n = 0;
	for (;;) {
		if (*p >= end)
			return -1;
		if (**p == '\0') {
			(*p)++;
			out[n] = 0;
			return 0;
		}
		if (n == ARGS_MAX - 1)
			return -1;
		out[n++] = *p;
		while (*p < end && **p != '\0')
			(*p)++;
		if (*p >= end)
			return -1;
		(*p)++;
	}
}

static const char *path_of(char **envp)
{
	for (int i = 0; envp[i] != 0; i++) {
		const char *e = envp[i];
		if (e[0] == 'P' && e[1] == 'A' && e[2] == 'T' && e[3] == 'H' && e[4] == '=')
			return e + 5;
	}
	return DEFAULT_PATH;
}

static void exec_failed(const char *what, const char *why)
{
	put(2, "exec: \"");
	put(2, what);
	put(2, why);
	put(2, "\n");
	sys4(SYS_exit_group, 127, 0, 0, 0);
}

static const char *reason(long e)
{
	switch (e) {
	case -ENOENT:
		return "\": no such file or directory";
	case -EACCES:
		return "\": permission denied";
	case -ENOEXEC:
		return "\": exec format error";
	case -ENOTDIR:
		return "\": not a directory";
	default:
		return "\": cannot execute";
	}
}

/* The child: stdio, then the command, found in $PATH as runtime/child.c
 * does. Never returns. */
static void __attribute__((noreturn)) child(int out_fd)
{
	unsigned long none = 0;
	sys4(SYS_dup2, out_fd, 1, 0, 0);
	sys4(SYS_dup2, out_fd, 2, 0, 0);
	long in = sys4(SYS_openat, AT_FDCWD, (long)"/dev/null", O_RDONLY, 0);
	if (in > 0) {
		sys4(SYS_dup2, in, 0, 0, 0);
		sys4(SYS_close, in, 0, 0, 0);
	}
	/* Everything else of ours is close-on-exec; closed now all the same. */
	sys4(SYS_close_range, 3, ~0UL, 0, 0);
	sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, KERNEL_SIGSET_SIZE);
	/* Dies with us (we die with the supervisor), as an exec'd probe did
	 * with the supervisor. */
	sys4(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0);
	const char *file = child_argv[0];
	int slash = 0;
	for (const char *c = file; *c; c++)
		slash |= *c == '/';
	if (slash) {
		long e = sys4(SYS_execve, (long)file, (long)child_argv, (long)child_envp, 0);
		exec_failed(file, reason(e));
	}
	static char full[PATH_BUF];
	const char *dirs = path_of(child_envp);
	long denied = 0;
	for (;;) {
		unsigned long k = 0;
		const char *d = dirs;
		while (*d != '\0' && *d != ':')
			d++;
		if (d == dirs)
			full[k++] = '.';
		for (const char *c = dirs; c < d && k < PATH_BUF - 2; c++)
			full[k++] = *c;
		full[k++] = '/';
		for (const char *c = file; *c != '\0' && k < PATH_BUF - 1; c++)
			full[k++] = *c;
		full[k] = '\0';
		long e = sys4(SYS_execve, (long)full, (long)child_argv, (long)child_envp, 0);
		if (e == -EACCES)
			denied = e;
		else if (e != -ENOENT && e != -ENOTDIR)
			exec_failed(full, reason(e));
		if (*d == '\0')
			break;
		dirs = d + 1;
	}
	if (denied)
		exec_failed(file, reason(denied));
	exec_failed(file, "\": executable file not found in $PATH");
	__builtin_unreachable();
}

static void answer(const char *text, int fd)
{
	struct iovec iov = {.iov_base = (void *)text, .iov_len = len_of(text)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(c) = fd;
	}
	sys4(SYS_sendmsg, SOCK_FD, (long)&m, MSG_NOSIGNAL, 0);
}

/* One request: returns -1 on EOF (or a broken socket), else 0. */
static int serve(void)
{
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(req)};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	long n = sys4(SYS_recvmsg, SOCK_FD, (long)&m, MSG_CMSG_CLOEXEC, 0);
	if (n == -EINTR || n == -EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	int fds[2] = {-1, -1};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c != 0 && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		unsigned long k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (unsigned long i = 0; i < k && i < 2; i++)
			fds[i] = ((int *)CMSG_DATA(c))[i];
	}
	char *p = req, num[24];
	const char *end = req + n;
	int slot = -1;
	for (int i = 0; i < RUNNING_MAX && slot < 0; i++)
		if (running[i].status_fd < 0)
			slot = i;
	long err = 0;
	if (fds[0] < 0 || fds[1] < 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    split(&p, end, child_argv) < 0 || split(&p, end, child_envp) < 0 || child_argv[0] == 0)
		err = EINVAL;
	else if (slot < 0)
		err = EAGAIN;
	int pidfd = -1;
	long pid = err ? -1 : sys6(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (long)&pidfd, 0, 0, 0);
	if (pid == 0)
		child(fds[0]);
	if (!err && pid < 0)
		err = -pid;
	sys4(SYS_close, fds[0], 0, 0, 0);
	if (err) {
		sys4(SYS_close, fds[1], 0, 0, 0);
		answer(decimal(-err, num), -1);
		return 0;
	}
	running[slot].pid = pid;
	running[slot].status_fd = fds[1];
	answer(decimal(pid, num), pidfd);
	sys4(SYS_close, pidfd, 0, 0, 0);
	return 0;
}

/* Reaps every exited child; its status to its pipe. */
static void reap(void)
{
	int status;
	long pid;
	char text[32];
	while ((pid = sys4(SYS_wait4, -1, (long)&status, WNOHANG, 0)) > 0) {
		for (int i = 0; i < RUNNING_MAX; i++) {
			if (running[i].status_fd < 0 || running[i].pid != pid)
				continue;
			text[0] = 'S';
			decimal(status, text + 1);
			put(running[i].status_fd, text);
			sys4(SYS_close, running[i].status_fd, 0, 0, 0);
			running[i].status_fd = -1;
		}
	}
}

void prog_main(long *sp)
{
	(void)sp;
	for (int i = 0; i < RUNNING_MAX; i++)
		running[i].status_fd = -1;
	sys4(SYS_prctl, PR_SET_NAME, (long)"peapod-exec", 0, 0);
	/* Our memory and fds are nobody's business but the supervisor's. */
	sys4(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0);
	/* fd 0 was this program (exec'ed through it); nothing to read there. */
	sys4(SYS_close, 0, 0, 0, 0);
	/* SIGCHLD through the signalfd; SIGPIPE never: a status pipe whose
	 * reader is gone (a probe that timed out) is only an EPIPE. */
	unsigned long chld = SIG_BIT(SIGCHLD), blocked = chld | SIG_BIT(SIGPIPE);
	sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&blocked, 0, KERNEL_SIGSET_SIZE);
	long sfd =
	    sys4(SYS_signalfd4, -1, (long)&chld, KERNEL_SIGSET_SIZE, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		sys4(SYS_exit_group, 1, 0, 0, 0);
	for (;;) {
		struct pollfd pf[2] = {{.fd = SOCK_FD, .events = POLLIN},
				       {.fd = (int)sfd, .events = POLLIN}};
		long r = sys4(SYS_poll, (long)pf, 2, -1, 0);
		if (r < 0 && r != -EINTR)
			sys4(SYS_exit_group, 1, 0, 0, 0);
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (sys4(SYS_read, sfd, (long)&si, sizeof(si), 0) == (long)sizeof(si))
				;
			reap();
		}
		if ((pf[0].revents & POLLIN) && serve() < 0)
			sys4(SYS_exit_group, 0, 0, 0, 0);
		else if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			sys4(SYS_exit_group, 0, 0, 0, 0);
	}
}

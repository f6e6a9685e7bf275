#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/trace.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

pid_t pp_clone3(uint64_t flags, int *pidfd)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

int pp_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

void pp_pidfd_kill_and_reap(int pidfd)
{
	siginfo_t info;
	pp_pidfd_send_signal(pidfd, SIGKILL);
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 && errno == EINTR)
		;
}

void pp_close_fds_except(int keep)
{
	pp_close_fds_except_n(&keep, 1);
}

void pp_close_fds_except_n(const int *keep, size_t n)
{
	pp_trace_forget();
	unsigned from = 3;
	/* Ascending order, one close_range per gap. */
	for (int last = 2;;) {
		int next = -1;
		for (size_t i = 0; i < n; i++)
			if (keep[i] > last && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if ((unsigned)next > from)
			syscall(SYS_close_range, from, (unsigned)next - 1, 0U);
		from = (unsigned)next + 1;
		last = next;
	}
	syscall(SYS_close_range, from, ~0U, 0U);
}

void pp_stdio_to_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

void pp_reset_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL/SIGSTOP and RT gaps */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

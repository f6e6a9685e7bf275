#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/trace.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

pid_t pp_clone3(uint64_t flags, int *pidfd)
{
	return pp_clone3_into(flags, pidfd, -1);
}

/* clone3's arguments: flags, the pidfd's place, SIGCHLD at exit, and the
 * cgroup2 directory to be born in (-1: ours). */
static void clone_args_init(struct clone_args *args, uint64_t flags, int *pidfd, int cgroup_fd)
{
	memset(args, 0, sizeof(*args));
	args->flags = flags;
	args->pidfd = (uint64_t)(uintptr_t)pidfd;
	args->exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		args->flags |= CLONE_INTO_CGROUP;
		args->cgroup = (uint64_t)cgroup_fd;
	}
}

pid_t pp_clone3_into(uint64_t flags, int *pidfd, int cgroup_fd)
{
	struct clone_args args;
	clone_args_init(&args, flags, pidfd, cgroup_fd);
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

#if defined(__x86_64__)
/* clone3 onto a stack of the child's own, as glibc's clone3.S: the child
 * starts on that stack (the kernel points rsp at its top), calls fn(arg)
 * and exits with what it returns; it never comes back here. syscall
 * clobbers rcx and r11 only; r8 and r10 carry fn and arg across it. The
 * top of an mmap'ed stack is 16-byte aligned, as call wants. */
static pid_t clone3_on_stack(struct clone_args *args, int (*fn)(void *), void *arg)
{
	long ret;
	register long r10 __asm__("r10") = (long)(uintptr_t)fn;
	register long r8 __asm__("r8") = (long)(uintptr_t)arg;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t" /* the child: no frame above */
			 "mov %%r8, %%rdi\n\t"
			 "call *%%r10\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[exit], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r10),
			   "r"(r8), [exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (pid_t)ret;
}
#endif

bool pp_clone3_vm_supported(void)
{
#if defined(__x86_64__)
	return true;
#else
	return false;
#endif
}

pid_t pp_clone3_vm(uint64_t flags, int *pidfd, int cgroup_fd, void *stack, size_t stack_size,
		   int (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
	struct clone_args args;
	clone_args_init(&args, flags | CLONE_VM, pidfd, cgroup_fd);
	args.stack = (uint64_t)(uintptr_t)stack;
	args.stack_size = stack_size;
	return clone3_on_stack(&args, fn, arg);
#else
	(void)flags, (void)pidfd, (void)cgroup_fd, (void)stack, (void)stack_size, (void)fn,
	    (void)arg;
	errno = ENOSYS;
	return -1;
#endif
}

int pp_open_program(const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	cleanup_free char *path = xasprintf("%s/%s", exe, name);
	return open(path, O_PATH | O_CLOEXEC);
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

void pp_close_detached(int fd)
{
	int gate[2];
	if (fd < 0)
		return;
	if (pipe2(gate, O_CLOEXEC) < 0) {
		close(fd);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, "peapod-close", 0, 0, 0);
		int keep[] = {fd, gate[0]};
		pp_stdio_to_devnull();
		pp_close_fds_except_n(keep, 2);
		/* EOF once the parent has closed its copy: ours is the last. */
		char c;
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		close(fd);
		_exit(0);
	}
	/* Not the last reference while the child lives (without a child, it
	 * is, and this close waits). */
	close(fd);
	close(gate[0]);
	close(gate[1]);
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

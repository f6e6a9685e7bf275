/* peapod-infra: the program the pod's infra process runs once it is set up
 * (sandbox/infra.c creates the namespaces, writes the hostname, sysctls and
 * cgroups, drops every capability, enters an empty root, then execs this
 * through an fd). It only waits: it reaps every child it inherits (it is
 * PID 1 of the pod when the PID namespace is shared) and exits on SIGTERM
 * or SIGINT, as Kubernetes' pause does.
 *
 * Why a program of its own: a copy of the supervisor kept ~450 kB of PSS
 * per pod (its pages shared with the supervisor, libc and every library);
 * this one, without libc or start-up code, keeps two or three pages. It is
 * built -nostdlib -static for x86-64 (Makefile, nolibc.h); elsewhere the
 * infra process keeps running the same loop in peapod itself. */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "progs/nolibc.h"

PROG_ENTRY;

void prog_main(long *sp)
{
	unsigned long set = SIG_BIT(SIGCHLD) | SIG_BIT(SIGTERM) | SIG_BIT(SIGINT);
	/* Not dumpable (also from exec, as the binary is not readable to it):
	 * the pod's processes cannot open our /proc/PID/exe, mem or fds. */
	sys4(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0);
	/* The name ps shows (an exec through an fd would name it after it). */
	sys4(SYS_prctl, PR_SET_NAME, (long)"peapod-infra", 0, 0);
	/* Blocked already by the parent (none is lost); blocked here again so
	 * this program does not depend on it. */
	sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, sizeof(set));
	for (;;) {
		long sig = sys4(SYS_rt_sigtimedwait, (long)&set, 0, 0, sizeof(set));
		if (sig == SIGTERM || sig == SIGINT)
			sys4(SYS_exit_group, 0, 0, 0, 0);
		while (sys4(SYS_wait4, -1, 0, WNOHANG, 0) > 0)
			;
	}
}

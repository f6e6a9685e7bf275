#include "sandbox/infra.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util/cleanup.h"
#include "util/proc.h"

/* Brings up "lo" in the current network namespace. */
static int loopback_up(void)
{
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr = {0};
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* pause.c's loop: sleep until a signal; reap every exited child (there may
 * be many orphans when this is PID 1); leave on SIGINT/SIGTERM. */
static void __attribute__((noreturn)) infra_loop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			_exit(0);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

/* The child's setup; returns an error text or NULL. */
static const char *infra_setup(const struct pp_infra_config *cfg)
{
	for (size_t i = 0; i < cfg->n_cgroup_procs_fds; i++)
		if (write(cfg->cgroup_procs_fds[i], "0", 1) != 1)
			return "join the pod cgroup";
	if ((cfg->clone_flags & CLONE_NEWUTS) && cfg->hostname &&
	    sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return "set the hostname";
	if ((cfg->clone_flags & CLONE_NEWNET) && loopback_up() < 0)
		return "bring up the loopback interface";
	/* Its own session: a Ctrl-C on the terminal of `peapod run` goes to
	 * peapod, which stops the pod in order, not straight to this process. */
	setsid();
	/* The name ps shows: every process peapod leaves running says what it is. */
	prctl(PR_SET_NAME, PP_INFRA_NAME, 0, 0, 0);
	/* Dies with its parent (the pod's supervisor): a pod without a
	 * supervisor is cleaned up as a whole. PDEATHSIG is per parent thread:
	 * the supervisor is single-threaded. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	return NULL;
}

int pp_infra_start(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, struct pp_error **err)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	/* Signals the loop waits for are blocked before the clone so none is
	 * lost between the clone and sigwaitinfo. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	int fd = -1;
	pid_t child = pp_clone3((uint64_t)cfg->clone_flags | CLONE_PIDFD, &fd);
	if (child == 0) {
		close(ready[0]);
		const char *fail = infra_setup(cfg);
		if (fail) {
			dprintf(ready[1], "%d %s", errno, fail);
			_exit(1);
		}
		pp_close_fds_except(ready[1]);
		pp_stdio_to_devnull();
		close(ready[1]);
		infra_loop();
	}
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ready[1]);
	if (child < 0) {
		close(ready[0]);
		return pp_error_set(err, saved, "start the infra process");
	}
	char msg[256] = "";
	ssize_t n = read(ready[0], msg, sizeof(msg) - 1);
	close(ready[0]);
	if (n > 0) {
		int e = atoi(msg);
		const char *text = strchr(msg, ' ');
		pp_infra_stop(fd);
		close(fd);
		return pp_error_set(err, e, "infra process: %s", text ? text + 1 : msg);
	}
	*pid = child;
	*pidfd = fd;
	return 0;
}

void pp_infra_stop(int pidfd)
{
	if (pidfd < 0)
		return;
	pp_pidfd_kill_and_reap(pidfd);
}

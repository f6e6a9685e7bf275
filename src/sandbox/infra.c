#include "sandbox/infra.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "sandbox/sysctl.h"
#include "security/caps.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/proc.h"
#include "util/trace.h"

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

/* Runs peapod-infra, with argv[0] its name and our environment (which tells
 * whose it is, as the supervisor's does); returns only if it cannot. */
static void exec_infra_program(int fd)
{
	char *const argv[] = {(char *)PP_INFRA_NAME, NULL};
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}

/* The infra process's root: an empty read-only tmpfs, made by the parent
 * (in the user namespace of a hostUsers: false pod, the infra process may
 * not mount in the host's mount namespace, and a mount namespace of its own
 * would pin a copy of every host mount for the pod's life). */
static int make_empty_root(void)
{
	cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	return fsmount(fs, FSMOUNT_CLOEXEC,
		       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			   MOUNT_ATTR_NOEXEC);
}

/* Once set up, the infra process (a copy of the supervisor until it execs
 * peapod-infra, in the host's mount namespace, PID 1 of the pod when its PID
 * namespace is shared) keeps nothing a container could use: it is not dumpable (its /proc/1/exe,
 * root, mem and fds stay closed to the containers, CVE-2019-5736), its
 * root is an empty read-only tmpfs (root_fd, detached) instead of the
 * host's, and it drops every capability (a container granted SYS_PTRACE
 * that attaches to it gains nothing). Failure here is fatal: the
 * supervisor sees InfraDied. */
static int infra_confine(int root_fd)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
	if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0 || close(root_fd) < 0)
		return -1;
	if (pp_caps_apply_bounding(0, NULL) < 0 || pp_caps_apply_sets(0, NULL) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* The pod's namespaces set up from inside them (hostname, loopback, the IPC
 * sysctls), by whichever process is in them; returns an error text or NULL.
 * The IPC sysctls show the namespace of the process that opens them. The
 * net.* ones wait for the pod's network (sysctl.h). */
static const char *namespaces_setup(const struct pp_infra_config *cfg)
{
	if ((cfg->clone_flags & CLONE_NEWUTS) && cfg->hostname &&
	    sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return "set the hostname";
	if ((cfg->clone_flags & CLONE_NEWNET) && loopback_up() < 0)
		return "bring up the loopback interface";
	for (size_t i = 0; i < cfg->n_sysctls; i++)
		if (!pp_sysctl_is_net(cfg->sysctls[i].key) && pp_sysctl_write(&cfg->sysctls[i]) < 0)
			return "set a sysctl";
	return NULL;
}

static const char *infra_identity(int parent_pidfd);

/* The child's setup; returns an error text or NULL. */
#define PP_INFRA_MAX_CGROUP_FDS 16

static const char *infra_setup(const struct pp_infra_config *cfg)
{
	/* What the OOM killer thinks of it (before confinement hides /proc).
	 * In a user namespace the parent writes it: our /proc files belong to
	 * the host's root while we are not dumpable (inherited). */
	if (cfg->set_oom_score_adj && cfg->id_count == 0) {
		char adj[16];
		int n = snprintf(adj, sizeof(adj), "%d", cfg->oom_score_adj);
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		bool ok = fd >= 0 && write(fd, adj, (size_t)n) == n;
		if (fd >= 0)
			close(fd);
		if (!ok)
			return "set oom_score_adj";
	}
	const char *fail = namespaces_setup(cfg);
	if (fail != NULL)
		return fail;
	return infra_identity(-1);
}

/* What the infra process is, set by itself in either way: its own session
 * (a Ctrl-C on the terminal of `peapod run` goes to peapod, which stops the
 * pod in order, not straight to this process), its name, its death with
 * its parent. */
static const char *infra_identity(int parent_pidfd)
{
	setsid();
	/* The name ps shows: every process peapod leaves running says what it is. */
	prctl(PR_SET_NAME, PP_INFRA_NAME, 0, 0, 0);
	/* Dies with its parent (the pod's supervisor): a pod without a
	 * supervisor is cleaned up as a whole. PDEATHSIG is per parent thread:
	 * the supervisor is single-threaded. A parent that does not wait for
	 * us may be gone already: its pidfd says so (getppid cannot, as PID 1
	 * of a pod's PID namespace sees 0 either way). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct pollfd gone = {.fd = parent_pidfd, .events = POLLIN};
	if (parent_pidfd >= 0 && poll(&gone, 1, 0) != 0)
		_exit(1);
	return NULL;
}

static int write_map(pid_t pid, const char *file, uint32_t base, uint32_t count,
		     struct pp_error **err)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int n = snprintf(map, sizeof(map), "0 %u %u\n", base, count);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	/* One write: the kernel takes a map whole, once. */
	if (fd < 0 || write(fd, map, (size_t)n) != n)
		return pp_error_set(err, errno, "write %s", path);
	return 0;
}

int pp_userns_write_maps(pid_t pid, uint32_t base, uint32_t count, struct pp_error **err)
{
	if (write_map(pid, "uid_map", base, count, err) < 0 ||
	    write_map(pid, "gid_map", base, count, err) < 0)
		return pp_error_wrap(err, "user namespace id map");
	return 0;
}

static int write_oom_score_adj(pid_t pid, int value, struct pp_error **err)
{
	char path[64], text[16];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	int n = snprintf(text, sizeof(text), "%d", value);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		return pp_error_set(err, errno, "infra process: set oom_score_adj");
	return 0;
}

/* The pod's namespaces set up by the caller from inside them, through the
 * new process's pidfd, and straight back (it is single-threaded, as
 * util/netns.h's visits): nothing waits for the infra process to be
 * scheduled, it only has to exist. */
static int setup_from_parent(const struct pp_infra_config *cfg, pid_t child, int pidfd,
			     struct pp_error **err)
{
	static const struct {
		int flag;
		const char *path;
	} kinds[] = {{CLONE_NEWNET, "/proc/self/ns/net"},
		     {CLONE_NEWUTS, "/proc/self/ns/uts"},
		     {CLONE_NEWIPC, "/proc/self/ns/ipc"}};
	enum { N_KINDS = sizeof(kinds) / sizeof(kinds[0]) };
	if (cfg->set_oom_score_adj && write_oom_score_adj(child, cfg->oom_score_adj, err) < 0)
		return -1;
	int ns = cfg->clone_flags & (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
	if (ns == 0)
		return 0;
	int home[N_KINDS] = {-1, -1, -1};
	int r = 0;
	for (size_t k = 0; k < N_KINDS && r == 0; k++)
		if ((ns & kinds[k].flag) &&
		    (home[k] = open(kinds[k].path, O_RDONLY | O_CLOEXEC)) < 0)
			r = pp_error_set(err, errno, "open %s", kinds[k].path);
	if (r == 0 && setns(pidfd, ns) < 0)
		r = pp_error_set(err, errno, "enter the pod's namespaces");
	else if (r == 0) {
		const char *fail = namespaces_setup(cfg);
		if (fail != NULL)
			r = pp_error_set(err, errno, "%s", fail);
		/* Everything else this process does would happen in the pod's
		 * namespaces: failing to come back is fatal. */
		for (size_t k = 0; k < N_KINDS; k++)
			if (home[k] >= 0 && setns(home[k], kinds[k].flag) < 0)
				abort();
	}
	for (size_t k = 0; k < N_KINDS; k++)
		if (home[k] >= 0)
			close(home[k]);
	return r;
}

/* In the child: waits for the parent's byte on fd; a parent that gave up
 * closed it (EOF): the child goes. */
static void await_parent(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(1);
}

/* In a new user namespace, the child waits for its maps (until then its ids
 * are unmapped and /proc/sys, sethostname's checks... see nobody), then
 * becomes its root. */
static const char *become_userns_root(int go)
{
	await_parent(go);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return "become root of the user namespace";
	return NULL;
}

/* The namespaces a child cloned by pp_infra_clone makes itself. */
#define CHILD_MADE_NS (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* The early child, once it made its namespaces and said so: it waits for
 * the parent to have made the pod's other cgroups (a byte on proceed),
 * then opens them itself, to move itself in ("0": only a process moving
 * itself into "tasks" takes no thread-group lock, whose RCU grace period
 * took 5 ms here beside another pod's teardown). */
static void await_cgroups(const struct pp_infra_config *cfg, int proceed, int **fds, size_t *n)
{
	await_parent(proceed);
	close(proceed);
	*fds = NULL;
	*n = 0;
	if (cfg->cgroup != NULL && pp_cgroup_infra_procs_fds(cfg->cgroup, fds, n, NULL) < 0)
		_exit(1);
}

/* pp_infra_start, or with ready_out (pp_infra_clone) the clone alone: the
 * child makes CHILD_MADE_NS itself and reports on *ready_out, then joins
 * the pod's other cgroups once told on *proceed_out. */
static int start(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, int *userns_fd,
		 int *ready_out, int *proceed_out, struct pp_error **err)
{
	int ready[2], go[2] = {-1, -1}, proceed[2] = {-1, -1};
	bool early = ready_out != NULL;
	uint64_t flags =
	    (uint64_t)(early ? cfg->clone_flags & ~CHILD_MADE_NS : cfg->clone_flags) | CLONE_PIDFD;
	*userns_fd = -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	if (early && pipe2(proceed, O_CLOEXEC) < 0) {
		int e = errno;
		close(ready[0]);
		close(ready[1]);
		return pp_error_set(err, e, "pipe");
	}
	cleanup_close int proceed_rd = proceed[0];
	cleanup_close int proceed_wr = proceed[1];
	/* early: made by the child, off the caller's path */
	cleanup_close int root_fd = early ? -1 : make_empty_root();
	cleanup_close int program = early ? -1 : pp_open_program(PP_INFRA_NAME);
	if (root_fd < 0 && !early) {
		int e = errno;
		close(ready[0]);
		close(ready[1]);
		return pp_error_set(err, e, "the infra process's empty root");
	}
	/* Born in the user namespace, the other namespaces of the same clone
	 * are owned by it: root in the pod may configure them, as with
	 * containerd. */
	if (cfg->id_count > 0) {
		flags |= CLONE_NEWUSER;
		if (pipe2(go, O_CLOEXEC) < 0) {
			int e = errno;
			close(ready[0]);
			close(ready[1]);
			return pp_error_set(err, e, "pipe");
		}
	}
	/* Signals the loop waits for are blocked before the clone so none is
	 * lost between the clone and sigwaitinfo. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	/* Without a user namespace the caller sets the namespaces up itself
	 * (setup_from_parent) and does not wait for the child; with one, the
	 * child waits for its maps and reports its set-up. */
	bool in_parent = cfg->id_count == 0;
	cleanup_close int parent_pidfd = in_parent ? (int)syscall(SYS_pidfd_open, getpid(), 0) : -1;
	int fd = -1;
	/* Born in the pod's cgroup2 cgroup, it moves itself into the v1 ones
	 * (no migration of a thread group, so no RCU grace period to wait). */
	pid_t child = pp_clone3_into(
	    flags, &fd, pp_cgroup_clone_dir(cfg->cgroup_procs_fds, cfg->n_cgroup_procs_fds));
	if (child == 0) {
		close(ready[0]);
		const int *cg_fds = cfg->cgroup_procs_fds;
		size_t n_cg = cfg->n_cgroup_procs_fds;
		if (early) {
			close(steal_fd(&proceed_wr));
			/* On this CPU, while the parent makes the pod's cgroups:
			 * the namespaces, set up from inside as infra_setup does. */
			const char *fail = unshare(cfg->clone_flags & CHILD_MADE_NS) < 0
					       ? "make the pod's namespaces"
					       : namespaces_setup(cfg);
			if (fail != NULL)
				pp_child_report_errno(ready[1], errno, fail);
			pp_child_report_ready(ready[1]);
			close(ready[1]);
			ready[1] = -1;
			root_fd = make_empty_root();
			program = pp_open_program(PP_INFRA_NAME);
			if (root_fd < 0)
				_exit(1);
			int *opened = NULL;
			await_cgroups(cfg, steal_fd(&proceed_rd), &opened, &n_cg);
			cg_fds = opened;
		}
		const char *fail = NULL;
		if (go[0] >= 0) {
			close(go[1]);
			fail = become_userns_root(go[0]);
		}
		if (fail == NULL)
			fail = in_parent ? infra_identity(parent_pidfd) : infra_setup(cfg);
		if (fail)
			pp_child_report_errno(ready[1], errno, fail);
		int keep[PP_INFRA_MAX_CGROUP_FDS + 3] = {root_fd, program, ready[1]};
		size_t n_keep = 3;
		for (size_t i = 0; i < n_cg && n_keep < PP_INFRA_MAX_CGROUP_FDS + 3; i++)
			keep[n_keep++] = cg_fds[i];
		pp_close_fds_except_n(keep, n_keep);
		pp_stdio_to_devnull();
		/* Ready as soon as the namespaces are: the containers join them
		 * while this process moves into the pod's v1 cgroups. */
		if (ready[1] >= 0)
			close(ready[1]);
		if (pp_cgroup_join_self(cg_fds, n_cg, true, NULL) < 0)
			_exit(1); /* the supervisor sees it die: InfraDied */
		int keep_now[] = {root_fd, program};
		pp_close_fds_except_n(keep_now, program >= 0 ? 2 : 1);
		if (infra_confine(root_fd) < 0)
			_exit(1);
		if (program >= 0)
			exec_infra_program(program);
		infra_loop();
	}
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ready[1]);
	/* The read end is the child's only. */
	if (go[0] >= 0)
		close(go[0]);
	cleanup_close int go_wr = go[1];
	if (child < 0) {
		close(ready[0]);
		return pp_error_set(err, saved, "start the infra process");
	}
	if (go_wr >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)child);
		cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || pp_userns_write_maps(child, cfg->id_base, cfg->id_count, err) < 0 ||
		    (cfg->set_oom_score_adj &&
		     write_oom_score_adj(child, cfg->oom_score_adj, err) < 0) ||
		    write(go_wr, "1", 1) != 1) {
			if (ns < 0)
				pp_error_set(err, errno, "open %s", path);
			close(ready[0]);
			pp_infra_stop(fd);
			close(fd);
			return -1;
		}
		*userns_fd = steal_fd(&ns);
	}
	pp_trace("sandbox infra cloned");
	if (early) {
		*ready_out = ready[0];
		*proceed_out = steal_fd(&proceed_wr);
		*pid = child;
		*pidfd = fd;
		return 0;
	}
	int r = in_parent ? setup_from_parent(cfg, child, fd, err)
			  : pp_child_report_read(ready[0], false, err);
	close(ready[0]);
	if (r < 0) {
		pp_infra_stop(fd);
		close(fd);
		cleanup_closep(userns_fd);
		return pp_error_wrap(err, "infra process");
	}
	*pid = child;
	*pidfd = fd;
	return 0;
}

int pp_infra_start(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, int *userns_fd,
		   struct pp_error **err)
{
	return start(cfg, pid, pidfd, userns_fd, NULL, NULL, err);
}

int pp_infra_clone(const struct pp_infra_config *cfg, pid_t *pid, int *pidfd, int *ready_fd,
		   int *proceed_fd, struct pp_error **err)
{
	int userns_fd;
	*ready_fd = *proceed_fd = -1;
	if (cfg->id_count > 0)
		return pp_error_set(err, EINVAL,
				    "infra process: early clone with a user namespace");
	return start(cfg, pid, pidfd, &userns_fd, ready_fd, proceed_fd, err);
}

int pp_infra_cgroups_made(int *proceed_fd, struct pp_error **err)
{
	cleanup_close int fd = steal_fd(proceed_fd);
	if (fd < 0)
		return 0;
	/* a dead child: EPIPE, or SIGPIPE where not ignored (the supervisor ignores it) */
	if (write(fd, "1", 1) != 1)
		return pp_error_set(err, errno, "infra process: tell it its cgroups are made");
	return 0;
}

int pp_infra_setup(const struct pp_infra_config *cfg, pid_t pid, int pidfd, int *ready_fd,
		   struct pp_error **err)
{
	cleanup_close int ready = steal_fd(ready_fd);
	/* its namespaces made and set up by itself; its oom_score_adj, known
	 * since (the pod's cgroups planned it), from here */
	if (pp_child_report_read(ready, true, err) < 0 ||
	    (cfg->set_oom_score_adj && write_oom_score_adj(pid, cfg->oom_score_adj, err) < 0))
		return pp_error_wrap(err, "infra process");
	pp_trace("sandbox infra ready");
	return 0;
}

void pp_infra_stop(int pidfd)
{
	if (pidfd < 0)
		return;
	pp_pidfd_kill_and_reap(pidfd);
}

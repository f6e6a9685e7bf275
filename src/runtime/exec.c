/* A new process in a running container (kubectl exec, probes, hooks), as
 * runc exec / nsenter do it. The caller only ever changes its own
 * pid_for_children, for the time of the clone; everything else (cgroups,
 * namespaces, root, user, terminal) happens in the child, so the caller's
 * namespaces, root and cwd stay as they were. */
#include "runtime/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "runtime/container.h"
#include "runtime/runtime.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/proc.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The namespaces the child joins with one setns on the container's pidfd,
 * and their names under /proc/PID/ns. */
static const struct {
	int flag;
	const char *name;
} joined_ns[] = {
    {CLONE_NEWUSER, "user"}, /* hostUsers: false; the kernel joins it first */
    {CLONE_NEWNS, "mnt"},    {CLONE_NEWNET, "net"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},
};

/* What the parent found out before the clone. */
struct exec_plan {
	const struct pp_exec_target *target;	/* namespaces and root */
	const struct pp_seccomp_filter *filter; /* the container's, compiled before the clone */
	int cgroup_dir; /* the cgroup2 directory the child is born in, or -1 */
};

/* ---- child side ---- */

/* The setup sequence, in the child (already in the container's PID
 * namespace). Returns only on failure. */
static int child_setup(const struct pp_exec_config *cfg, const struct exec_plan *plan, int ptysock,
		       int syncfd, struct pp_error **err)
{
	const struct pp_identity *id = &cfg->identity;
	const char *cwd = id->cwd != NULL && id->cwd[0] != '\0' ? id->cwd : "/";
	struct pp_exec_user user = {0};
	cleanup_close int slave = -1;

	/* 1. cgroups first, as the container's own process did. */
	if (pp_cgroup_join_self(cfg->cgroup_procs_fds, cfg->n_cgroup_procs_fds,
				plan->cgroup_dir >= 0, err) < 0)
		return -1;
	/*    the container's oom_score_adj; one below the caller's own needs
	 *    CAP_SYS_RESOURCE: without it the caller's (higher) value stays. */
	if (cfg->set_oom_score_adj && pp_child_set_oom_score_adj(cfg->oom_score_adj, err) < 0) {
		if ((*err)->status != EACCES && (*err)->status != EPERM)
			return -1;
		pp_error_free(err);
	}
	/* 2. the namespaces, all at once through the pidfd. Joining the mount
	 *    namespace makes "/" and the cwd the container's root. Namespaces
	 *    the container shares with us (hostNetwork...) are left alone. A
	 *    user namespace (hostUsers: false) is joined first, by the kernel:
	 *    from there on we act as the pod's root, never the host's, in the
	 *    container's namespaces (which it owns). */
	/*    children_in_pidns: where our children are born, first, while we
	 *    are still the host's root (the container's PID namespace is owned
	 *    by the host's user namespace, also with hostUsers: false). */
	if (cfg->children_in_pidns && plan->target->join_pid &&
	    setns(cfg->container_pidfd, CLONE_NEWPID) < 0)
		return pp_error_set(err, errno,
				    errno == ESRCH ? "the container is not running"
						   : "join the container's PID namespace");
	if (plan->target->setns_flags != 0 &&
	    setns(cfg->container_pidfd, plan->target->setns_flags) < 0)
		return pp_error_set(err, errno,
				    errno == ESRCH ? "the container is not running"
						   : "join the container's namespaces");
	if ((plan->target->setns_flags & CLONE_NEWUSER) && pp_child_become_userns_root(err) < 0)
		return -1;
	/*    The namespace's root is the container's when it pivoted; a
	 *    container set up inside a chroot (MS_MOVE + chroot) has its root
	 *    below it: take the root its process has. */
	if (fchdir(plan->target->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return pp_error_set(err, errno, "enter the container's root");
	/* 3. the user, from the container's own passwd and group. */
	if (pp_user_resolve(id, PP_PASSWD_PATH, PP_GROUP_PATH, &user, err) < 0)
		return -1;
	/* 4. the terminal, while still root (chown of the slave). */
	if (cfg->tty) {
		slave = pp_child_open_pty(user.uid, cfg->rows, cfg->cols, ptysock, err);
		if (slave < 0) {
			pp_exec_user_free(&user);
			return -1;
		}
	}
	/* 5. the working directory, resolved inside the root now (no magic
	 *    link through one of our fds, CVE-2024-21626), entered after the
	 *    user switch, with the user's own permissions. */
	cleanup_close int cwdfd =
	    pp_path_open_in_root(plan->target->root_fd, cwd, O_PATH | O_DIRECTORY, 0, false, err);
	if (cwdfd < 0) {
		int status = (*err)->status;
		pp_exec_user_free(&user);
		pp_error_free(err);
		return pp_error_set(err, status, "chdir to working directory %s", cwd);
	}
	/* 6. user and groups, and the container's capabilities around the switch. */
	int r = pp_child_security_before_user(&id->security, plan->filter, err);
	if (r == 0 && pp_user_switch(&user, err) < 0)
		r = pp_error_wrap(err, "user");
	pp_exec_user_free(&user);
	if (r < 0 || pp_child_security_after_user(&id->security, err) < 0)
		return -1;
	if (fchdir(cwdfd) < 0)
		return pp_error_set(err, errno, "chdir to working directory %s", cwd);
	/* 7. stdio; every other fd but the sync pipe is closed. */
	if (cfg->tty)
		r = pp_child_setup_stdio(slave, slave, slave, syncfd, err);
	else
		r = pp_child_setup_stdio(cfg->run_program ? cfg->program_fd : cfg->stdin_fd,
					 cfg->stdout_fd, cfg->stderr_fd, syncfd, err);
	if (r < 0)
		return -1;
	/* Dies with its caller, like the container's own process (and for the
	 * same reason); set again last, as a change of credentials clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return pp_error_set(err, errno, "prctl PR_SET_PDEATHSIG");
	/* 8. no_new_privs and the container's seccomp filter, last. */
	if (pp_child_security_last(&id->security, plan->filter, err) < 0)
		return -1;
	/* 9. exec: the sync pipe closes, the parent reads EOF. */
	if (cfg->run_program) {
		static char *const no_env[] = {NULL};
		syscall(SYS_execveat, 0, "", cfg->argv, cfg->envp ? cfg->envp : no_env,
			AT_EMPTY_PATH);
		return pp_error_set(err, errno, "exec: \"%s\"", cfg->argv[0]);
	}
	if (pp_child_exec(cfg->argv, cfg->envp, err) == PP_CHILD_EXEC_NOT_FOUND)
		(*err)->status = ENOENT;
	return -1;
}

struct child_args {
	const struct pp_exec_config *cfg;
	const struct exec_plan *plan;
	int syncfd, ptysock;
	int sync_rd; /* the parent's end of the sync pipe (our copy is closed) */
};

/* Dies with its caller from its first instruction, not only from step 7
 * (set again there: the user switch clears it). A child born into a
 * frozen cgroup runs nothing until the cgroup is thawed, and its caller
 * may have been killed meanwhile (exec's CLI by ^C or SIGTERM): the
 * signal came before it could ask for one. Such a caller left the sync
 * pipe without a reader (ours closed first): then nothing more is done,
 * no command runs for a caller that is gone. */
static void die_with_caller(const struct child_args *a)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(a->sync_rd);
	struct pollfd p = {.fd = a->syncfd, .events = POLLOUT};
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
		_exit(1);
}

static int child_main(void *p)
{
	const struct child_args *a = p;
	struct pp_error *err = NULL;
	die_with_caller(a);
	/* Not dumpable until exec: processes of the container (without
	 * CAP_SYS_PTRACE) cannot open our /proc/PID/exe, the binary of the
	 * supervisor or CLI, to overwrite it, nor our mem or fds
	 * (CVE-2019-5736). exec makes the new program dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The caller's handlers and blocked signals are not the process's. */
	pp_reset_signals();
	/* A session of its own, out of the caller's (and, with a tty, the
	 * session of its terminal). */
	setsid();
	child_setup(a->cfg, a->plan, a->ptysock, a->syncfd, &err);
	/* The heap may be the caller's (CLONE_VM): the error is freed before
	 * the exit, its text sent from the stack. */
	char msg[1024];
	struct pp_error e = {.status = err ? err->status : 0, .msg = msg};
	snprintf(msg, sizeof(msg), "%s", err ? err->msg : "unknown error");
	pp_error_free(&err);
	pp_child_report_error(a->syncfd, &e);
}

/* ---- parent side ---- */

/* The pid of the pidfd's process in our PID namespace, from its fdinfo. */
static pid_t pidfd_pid(int pidfd, struct pp_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (f == NULL)
		return pp_error_set(err, errno, "container pidfd %d", pidfd);
	cleanup_free char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		int pid;
		if (sscanf(line, "Pid: %d", &pid) == 1) {
			if (pid <= 0) /* -1: exited and reaped; 0: not in our PID namespace */
				return pp_error_set(err, ESRCH, "the container is not running");
			return pid;
		}
	}
	return pp_error_set(err, EBADF, "container pidfd %d: not a pidfd", pidfd);
}

static int ns_differs(const char *own, pid_t pid, const char *name, bool *differs,
		      struct pp_error **err)
{
	char theirs[64];
	struct stat a, b;
	snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, name);
	if (stat(theirs, &b) < 0) { /* ENOENT: a zombie has no namespaces */
		if (errno == ENOENT || errno == ESRCH)
			return pp_error_set(err, ESRCH, "the container is not running");
		return pp_error_set(err, errno, "the container's %s namespace", name);
	}
	if (stat(own, &a) < 0)
		return pp_error_set(err, errno, "%s", own);
	*differs = a.st_dev != b.st_dev || a.st_ino != b.st_ino;
	return 0;
}

void pp_exec_target_close(struct pp_exec_target *plan)
{
	cleanup_closep(&plan->root_fd);
}

/* Which of the container's namespaces differ from ours, and its root. */
int pp_exec_target_open(int pidfd, struct pp_exec_target *plan, struct pp_error **err)
{
	char own[64];
	bool differs;
	*plan = (struct pp_exec_target){.root_fd = -1};
	pid_t pid = pidfd_pid(pidfd, err);
	if (pid < 0)
		return -1;
	for (size_t i = 0; i < sizeof(joined_ns) / sizeof(joined_ns[0]); i++) {
		snprintf(own, sizeof(own), "/proc/self/ns/%s", joined_ns[i].name);
		if (ns_differs(own, pid, joined_ns[i].name, &differs, err) < 0)
			return -1;
		if (differs)
			plan->setns_flags |= joined_ns[i].flag;
	}
	if (ns_differs("/proc/self/ns/pid_for_children", pid, "pid", &differs, err) < 0)
		return -1;
	plan->join_pid = differs;
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	plan->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (plan->root_fd < 0)
		return pp_error_set(err, errno == ENOENT ? ESRCH : errno, "the container's root");
	/* The pid was still the container's when we looked: the pidfd's
	 * process is alive, so its pid cannot have been reused. */
	if (pp_pidfd_send_signal(pidfd, 0) < 0) {
		int e = errno;
		pp_exec_target_close(plan);
		return pp_error_set(err, e, "the container is not running");
	}
	return 0;
}

/* The signals blocked across the clone: those the caller blocked, and those
 * it handles, whose handler must not run in a child that shares its memory
 * before child_main resets them. A signal at its default disposition (or
 * ignored) runs no code of ours in either process, so it stays deliverable:
 * a fatal one (SIGTERM, ^C's SIGINT) ends the caller even while the kernel
 * holds it in the vfork wait, which a child born into a frozen cgroup (a
 * paused pod, or a freeze from outside peapod) would otherwise make endless
 * and unkillable but by SIGKILL. */
static void clone_sigmask(sigset_t *set)
{
	sigprocmask(SIG_SETMASK, NULL, set);
	struct sigaction sa;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 &&
		    ((sa.sa_flags & SA_SIGINFO) ||
		     (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)))
			sigaddset(set, sig);
}

/* The child's own stack (it shares our memory), made once: the caller is
 * suspended until the child execs or exits, so one child uses it at a time. */
#define CHILD_STACK_SIZE (256 * 1024)

static void *child_stack(void)
{
	static void *stack;
	if (stack == NULL) {
		void *p = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		stack = p;
	}
	return stack; /* the lowest address: stacks grow down here */
}

/* The child, into the container's PID namespace: setns(NEWPID) only sets
 * where our next child is born (pid_for_children, of this thread alone),
 * and we set ours back right after. Unless it joins a user namespace, it
 * shares our memory until it execs (CLONE_VM | CLONE_VFORK, as posix_spawn
 * does): no page tables to copy and no copy-on-write faults on either side,
 * which an exec probe every second per container would otherwise pay each
 * time. We are suspended meanwhile, so the child may use the heap and stdio
 * (the callers are single-threaded) as long as it frees what it takes. The
 * kernel lets no process that shares its memory into a user namespace
 * (hostUsers: false): that child is a copy (clone3). The signals the
 * caller handles stay blocked across the clone so that none of its
 * handlers runs in the child (clone_sigmask).
 * Returns the pid, or -1 on error. */
static pid_t clone_into_pidns(int container_pidfd, bool join_pid, bool share_vm,
			      struct child_args *args, int *pidfd, struct pp_error **err)
{
	cleanup_close int own_pidns = -1;
	sigset_t mask, old;
	if (join_pid) {
		own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (own_pidns < 0)
			return pp_error_set(err, errno, "open own PID namespace");
		if (setns(container_pidfd, CLONE_NEWPID) < 0)
			return pp_error_set(err, errno,
					    errno == ESRCH ? "the container is not running"
							   : "join the container's PID namespace");
	}
	void *stack = share_vm ? child_stack() : NULL;
	if (share_vm && stack == NULL)
		return pp_error_set(err, errno, "exec: the child's stack");
	clone_sigmask(&mask);
	sigprocmask(SIG_SETMASK, &mask, &old);
	/* The child inherits it: not dumpable from its first instruction in
	 * the container's PID namespace (see child_main). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* signals are reset in child_main; with clone, CLONE_PIDFD puts the
	 * pidfd where parent_tid points */
	pid_t pid;
	if (!share_vm)
		pid = pp_clone3_into(CLONE_PIDFD, pidfd, args->plan->cgroup_dir);
	else if (pp_clone3_vm_supported())
		pid = pp_clone3_vm(CLONE_VFORK | CLONE_PIDFD, pidfd, args->plan->cgroup_dir, stack,
				   CHILD_STACK_SIZE, child_main, args);
	else
		pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE,
			    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, args, pidfd);
	if (pid == 0)
		_exit(child_main(args)); /* the copy; child_main does not return */
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
		saved = errno;
		if (pid > 0) {
			pp_pidfd_kill_and_reap(*pidfd);
			close(*pidfd);
		}
		pid = -1;
	}
	if (pid < 0)
		return pp_error_set(err, saved, "clone3");
	return pid;
}

static int validate(const struct pp_exec_config *cfg, struct pp_error **err)
{
	if (cfg->argv == NULL || cfg->argv[0] == NULL || cfg->argv[0][0] == '\0')
		return pp_error_set(err, EINVAL, "exec: no command");
	if (cfg->container_pidfd < 0)
		return pp_error_set(err, EINVAL, "exec: no container pidfd");
	return 0;
}

int pp_exec_start(const struct pp_exec_config *cfg, struct pp_exec_process *out,
		  struct pp_error **err)
{
	/* found out here unless the caller keeps it */
	struct pp_exec_target own = {.root_fd = -1};
	struct exec_plan plan = {.target = cfg->target ? cfg->target : &own};
	int sync[2], sock[2] = {-1, -1};
	if (validate(cfg, err) < 0)
		return -1;
	/* Compiled here, before the clone (cached for the default profile). */
	struct pp_seccomp_filter filter __attribute__((cleanup(pp_seccomp_filter_free)));
	if (pp_security_prepare(&cfg->identity.security, &filter, err) < 0)
		return pp_error_wrap(err, "exec");
	if (cfg->target == NULL && pp_exec_target_open(cfg->container_pidfd, &own, err) < 0)
		return -1;
	plan.filter = &filter;
	/* clone3 makes the child in the cgroup2 cgroup; only where clone3
	 * cannot give a child that shares our memory a stack of its own does
	 * clone make it, and it moves itself through cgroup.procs. */
	bool share_vm = !(plan.target->setns_flags & CLONE_NEWUSER);
	plan.cgroup_dir = share_vm && !pp_clone3_vm_supported()
			      ? -1
			      : pp_cgroup_clone_dir(cfg->cgroup_procs_fds, cfg->n_cgroup_procs_fds);
	if (pipe2(sync, O_CLOEXEC) < 0) {
		pp_exec_target_close(&own);
		return pp_error_set(err, errno, "exec: pipe");
	}
	cleanup_close int sync_rd = sync[0];
	cleanup_close int sync_wr = sync[1];
	if (cfg->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
		pp_exec_target_close(&own);
		return pp_error_set(err, errno, "exec: socketpair");
	}
	cleanup_close int sock_parent = sock[0];
	cleanup_close int sock_child = sock[1];
	int pidfd = -1;
	struct child_args args = {.cfg = cfg,
				  .plan = &plan,
				  .syncfd = sync_wr,
				  .ptysock = sock_child,
				  .sync_rd = sync_rd};
	pid_t pid =
	    clone_into_pidns(cfg->container_pidfd, plan.target->join_pid && !cfg->children_in_pidns,
			     share_vm, &args, &pidfd, err);
	pp_exec_target_close(&own);
	if (pid < 0)
		return pp_error_wrap(err, "exec");
	/* Ours closed, the write end lives only in the child now. */
	close(steal_fd(&sync_wr));
	close(steal_fd(&sock_child));
	int master = -1;
	if (pp_child_report_read(sync_rd, false, err) < 0 ||
	    (cfg->tty && (master = pp_receive_pty_master(sock_parent, err)) < 0)) {
		pp_pidfd_kill_and_reap(pidfd);
		close(pidfd);
		return -1;
	}
	out->pid = pid;
	out->pidfd = pidfd;
	out->pty_master = master;
	return 0;
}

int pp_exec_wait(struct pp_exec_process *p)
{
	siginfo_t info;
	int r;
	memset(&info, 0, sizeof(info));
	while ((r = waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &info, WEXITED)) < 0 &&
	       errno == EINTR)
		;
	int saved = errno;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	if (r < 0) {
		errno = saved;
		return -1;
	}
	return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

/* Starting one container: the parent side (clone3 into the right PID
 * namespace, wait on the sync pipe) and the child's setup sequence. */
#include "cgroup/cgroup.h"
#include "runtime/container.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/child_report.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fdpass.h"
#include "util/path.h"
#include "util/proc.h"
#include "util/trace.h"

#define POD_NAMESPACES (CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* ---- child side ---- */

static int join_pod_namespaces(const struct pp_container_config *cfg, struct pp_error **err)
{
	int ns = cfg->join_ns & POD_NAMESPACES;
	if (ns == 0)
		return 0;
	/* With a pidfd, one setns joins several namespaces at once (5.8+). */
	if (setns(cfg->ns_pidfd, ns) < 0)
		return pp_error_set(err, errno, "join the pod namespaces");
	return 0;
}

/* kubelet and runc create a missing workingDir; as root, before the user
 * switch, inside the root. Returns an O_PATH fd of it: the process enters
 * it with fchdir, so no later lookup of the path (through a symlink or a
 * /proc/self/fd magic link, CVE-2024-21626) can land elsewhere. */
static int open_cwd(const struct pp_container_config *cfg, int rootfd, const char *cwd,
		    struct pp_error **err)
{
	int fd = pp_path_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY, PP_DIR_MODE, false, err);
	if (fd < 0)
		return pp_error_wrap(err, "working directory %s", cwd);
	/* In a user namespace the image's files show as the pod's root's
	 * (idmapped): one of the host's root is one we just made. It is the
	 * pod's root's, as runc would have made it there. */
	struct stat st;
	if (cfg->userns && fstat(fd, &st) == 0 && st.st_uid == 0 &&
	    fchownat(fd, "", cfg->id_base, cfg->id_base, AT_EMPTY_PATH) < 0) {
		int e = errno;
		close(fd);
		return pp_error_set(err, e, "working directory %s: owner", cwd);
	}
	return fd;
}

/* Sends our mount namespace to the parent (pp_container_process.mntns_fd).
 * Not fatal: without it the container's exit unmounts as it always did. */
static void hand_mount_ns(int sock)
{
	cleanup_close int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (ns >= 0)
		(void)pp_fd_send(sock, PP_FD_TAG_MOUNT_NS, ns);
}

/* The setup sequence, in the child. Returns only on failure. */
static int child_setup(const struct pp_container_config *cfg,
		       const struct pp_seccomp_filter *filter, int syncfd, int handsock,
		       struct pp_error **err)
{
	const struct pp_identity *id = &cfg->identity;
	const char *cwd = id->cwd != NULL && id->cwd[0] != '\0' ? id->cwd : "/";
	const struct pp_security *sec = &id->security;
	struct pp_exec_user user;

	/* 1. cgroups first, so that all of the setup is accounted there. */
	pp_trace("ctr %s child", cfg->name);
	if (pp_cgroup_join_self(cfg->cgroup_procs_fds, cfg->n_cgroup_procs_fds, true, err) < 0)
		return -1;
	pp_trace("ctr %s cgroups joined", cfg->name);
	if (pp_fault("ctr cgroups", err) < 0)
		return -1;
	/*    and what the OOM killer thinks of it, inherited by all it starts. */
	if (cfg->set_oom_score_adj && pp_child_set_oom_score_adj(cfg->oom_score_adj, err) < 0)
		return -1;
	/* 2. the pod's namespaces, before any mount: mqueue and sysfs show the
	 *    IPC and net namespaces of whoever mounts them. */
	if (join_pod_namespaces(cfg, err) < 0)
		return -1;
	pp_trace("ctr %s namespaces joined", cfg->name);
	if (pp_fault("ctr namespaces", err) < 0)
		return -1;
	/* 3-6. propagating volumes cloned, a mount namespace of its own,
	 *      private propagation, overlay root, /proc /dev /sys, volumes,
	 *      masked and read-only paths. */
	cleanup_close int rootfd = pp_rootfs_prepare(cfg, err);
	if (rootfd < 0)
		return -1;
	pp_trace("ctr %s rootfs mounted", cfg->name);
	if (pp_fault("ctr rootfs", err) < 0)
		return -1;
	/* 7. from here on, "/" is the container's root. */
	if (pp_rootfs_pivot(rootfd, err) < 0)
		return -1;
	pp_trace("ctr %s pivoted", cfg->name);
	cleanup_close int cwdfd = open_cwd(cfg, rootfd, cwd, err);
	if (cwdfd < 0)
		return -1;
	if (sec->read_only_rootfs && pp_rootfs_make_read_only(rootfd, err) < 0)
		return -1;
	/*    hostUsers: false: the pod's user namespace, now that every mount
	 *    is made (by the host's root), then a copy of the mount namespace
	 *    owned by it, as runc gives: root in the pod may mount there
	 *    (privileged), while the mounts made so far are locked together,
	 *    their flags (read-only, nosuid...) and masks for good. */
	if (cfg->userns && pp_child_enter_userns(cfg->userns_fd, err) < 0)
		return -1;
	if (cfg->userns && unshare(CLONE_NEWNS) < 0)
		return pp_error_set(err, errno, "a mount namespace of the pod's user namespace");
	/*    the mount namespace, final now, handed to the parent: held
	 *    there, our exit does not wait for the teardown of every mount. */
	hand_mount_ns(handsock);
	/* 8. user and groups, from the container's own passwd and group;
	 *    capabilities around the switch. */
	if (pp_user_resolve(id, PP_PASSWD_PATH, PP_GROUP_PATH, &user, err) < 0)
		return -1;
	/*    tty: the terminal, while still root (the slave is chowned to the user). */
	cleanup_close int slave = -1;
	if (cfg->tty && (slave = pp_child_open_pty(user.uid, 0, 0, handsock, err)) < 0) {
		pp_exec_user_free(&user);
		return -1;
	}
	int r = pp_child_security_before_user(sec, filter, err);
	if (r == 0 && pp_user_switch(&user, err) < 0)
		r = pp_error_wrap(err, "user");
	pp_exec_user_free(&user);
	if (r < 0 || pp_child_security_after_user(sec, err) < 0)
		return -1;
	pp_trace("ctr %s user and security", cfg->name);
	if (pp_fault("ctr security", err) < 0)
		return -1;
	/* 9. working directory, checked with the user's own permissions. */
	if (fchdir(cwdfd) < 0)
		return pp_error_set(err, errno, "chdir to working directory %s", cwd);
	/* 10. stdio; every other fd but the sync pipe is closed (the trace's too). */
	pp_trace_off();
	if (cfg->tty)
		r = pp_child_setup_stdio(slave, slave, slave, syncfd, err);
	else
		r = pp_child_setup_stdio(cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd, syncfd,
					 err);
	if (r < 0)
		return -1;
	/* The container dies with the process that started it (the pod's
	 * supervisor), which then is no longer there to stop it in order:
	 * cleanup of such a pod kills through the cgroup anyway. Set after
	 * the user switch, as a change of credentials clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return pp_error_set(err, errno, "prctl PR_SET_PDEATHSIG");
	/* 11. no_new_privs and seccomp, the last steps. */
	if (pp_child_security_last(sec, filter, err) < 0)
		return -1;
	/* 12. exec: the sync pipe closes, the parent reads EOF. */
	return pp_child_exec(cfg->argv, cfg->envp, err);
}

static __attribute__((noreturn)) void child_main(const struct pp_container_config *cfg,
						 const struct pp_seccomp_filter *filter, int syncfd,
						 int handsock)
{
	struct pp_error *err = NULL;
	/* Until exec this process is peapod's binary in the container's PID
	 * namespace: not dumpable, a process there without CAP_SYS_PTRACE
	 * cannot open our /proc/PID/exe, mem or fd (CVE-2019-5736). exec
	 * makes the container's program dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The caller's handlers must never run in the child, and the container
	 * must not inherit its blocked signals (the supervisor blocks SIGCHLD &
	 * co. for its signalfd). */
	pp_reset_signals();
	/* A session of its own: a Ctrl-C on the terminal of `peapod run` reaches
	 * peapod, which stops the pod in order, not the container directly. */
	setsid();
	child_setup(cfg, filter, syncfd, handsock, &err);
	pp_child_report_error(syncfd, err);
}

/* ---- parent side ---- */

static int validate(const struct pp_container_config *cfg, struct pp_error **err)
{
	if (cfg->argv == NULL || cfg->argv[0] == NULL || cfg->argv[0][0] == '\0')
		return pp_error_set(err, EINVAL, "no command");
	if (cfg->rootfs_dir == NULL || cfg->n_lower_dirs == 0)
		return pp_error_set(err, EINVAL, "no root filesystem");
	if (cfg->upper_dir != NULL && cfg->work_dir == NULL)
		return pp_error_set(err, EINVAL, "upper dir without a work dir");
	if ((cfg->join_ns & ~(POD_NAMESPACES | CLONE_NEWPID)) != 0)
		return pp_error_set(err, EINVAL, "join_ns: unsupported namespaces %#x",
				    cfg->join_ns);
	if (cfg->join_ns != 0 && cfg->ns_pidfd < 0)
		return pp_error_set(err, EINVAL, "join_ns without ns_pidfd");
	if (cfg->userns && cfg->userns_fd < 0)
		return pp_error_set(err, EINVAL, "userns without userns_fd");
	if (cfg->join_target_pid_ns && cfg->target_pidfd < 0)
		return pp_error_set(err, EINVAL, "join_target_pid_ns without target_pidfd");
	return 0;
}

static void kill_and_reap(pid_t pid, int pidfd)
{
	pp_pidfd_send_signal(pidfd, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* clone3 with CLONE_PIDFD: the pidfd comes with the child, no PID reuse
 * race. Returns 0 in the child, the pid in the parent, -1 on error. */
static pid_t clone_child(const struct pp_container_config *cfg, int *pidfd, struct pp_error **err)
{
	/* Born in our mount namespace: it takes its own (CLONE_NEWNS) once
	 * it has cloned what must be cloned here (pp_rootfs_prepare). */
	uint64_t flags = CLONE_PIDFD;
	cleanup_close int own_pidns = -1;
	int pidns_of = cfg->join_target_pid_ns	       ? cfg->target_pidfd
		       : (cfg->join_ns & CLONE_NEWPID) ? cfg->ns_pidfd
						       : -1;
	if (pidns_of >= 0) {
		/* setns(CLONE_NEWPID) only sets where our next child is born
		 * (pid_for_children); keep ours to go back to after the clone. */
		own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (own_pidns < 0)
			return pp_error_set(err, errno, "open own PID namespace");
		if (setns(pidns_of, CLONE_NEWPID) < 0)
			return pp_error_set(err, errno, "join the %s PID namespace",
					    cfg->join_target_pid_ns ? "target's" : "pod");
	} else if (cfg->new_pid_ns) {
		flags |= CLONE_NEWPID;
	}
	/* The child inherits it: not dumpable from its first instruction in
	 * the container's PID namespace (see child_main). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Born in its cgroup2 cgroup (no migration to wait for); it moves
	 * itself into the v1 ones first thing (child_setup). */
	pid_t pid = pp_clone3_into(
	    flags, pidfd, pp_cgroup_clone_dir(cfg->cgroup_procs_fds, cfg->n_cgroup_procs_fds));
	if (pid == 0)
		return 0;
	int saved = errno;
	if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
		saved = errno;
		if (pid > 0)
			kill_and_reap(pid, *pidfd);
		pid = -1;
	}
	if (pid < 0)
		return pp_error_set(err, saved, "clone3");
	return pid;
}

int pp_container_spawn(const struct pp_container_config *cfg, struct pp_container_spawn *sp,
		       struct pp_error **err)
{
	const char *name = cfg->name != NULL ? cfg->name : "";
	int sync[2];
	*sp = (struct pp_container_spawn){.pid = -1, .pidfd = -1, .sync_fd = -1, .hand_sock = -1};
	if (validate(cfg, err) < 0)
		return pp_error_wrap(err, "container \"%s\"", name);
	/* Compiled here, once, not in the child. */
	struct pp_seccomp_filter filter;
	if (pp_security_prepare(&cfg->identity.security, &filter, err) < 0)
		return pp_error_wrap(err, "container \"%s\"", name);
	if (pipe2(sync, O_CLOEXEC) < 0) {
		pp_seccomp_filter_free(&filter);
		return pp_error_set(err, errno, "container \"%s\": pipe", name);
	}
	cleanup_close int sync_rd = sync[0];
	cleanup_close int sync_wr = sync[1];
	int sock[2] = {-1, -1};
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) {
		pp_seccomp_filter_free(&filter);
		return pp_error_set(err, errno, "container \"%s\": socketpair", name);
	}
	cleanup_close int sock_parent = sock[0];
	cleanup_close int sock_child = sock[1];
	int pidfd = -1;
	pp_trace("ctr %s clone", name);
	pid_t pid = clone_child(cfg, &pidfd, err);
	if (pid == 0)
		child_main(cfg, &filter, sync_wr, sock_child); /* never returns */
	pp_seccomp_filter_free(&filter);
	if (pid < 0)
		return pp_error_wrap(err, "container \"%s\"", name);
	/* Ours closed, the write ends live only in the child now. */
	close(steal_fd(&sync_wr));
	cleanup_closep(&sock_child);
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	sp->tty = cfg->tty;
	sp->pid = pid;
	sp->pidfd = pidfd;
	sp->sync_fd = steal_fd(&sync_rd);
	sp->hand_sock = steal_fd(&sock_parent);
	return 0;
}

int pp_container_spawn_finish(struct pp_container_spawn *sp, struct pp_container_process *out,
			      struct pp_error **err)
{
	cleanup_close int sync_rd = steal_fd(&sp->sync_fd);
	cleanup_close int hand_sock = steal_fd(&sp->hand_sock);
	cleanup_close int master = -1, mntns = -1;
	if (pp_child_report_read(sync_rd, false, err) < 0) {
		kill_and_reap(sp->pid, sp->pidfd);
		cleanup_closep(&sp->pidfd);
		return pp_error_wrap(err, "container \"%s\"", sp->name);
	}
	/* Queued on the socket before the exec: the mount namespace, then
	 * with a tty the master. */
	char tag;
	for (int fd; (fd = pp_fd_recv(hand_sock, &tag, MSG_DONTWAIT)) >= 0;) {
		int *slot = tag == PP_FD_TAG_MOUNT_NS ? &mntns
			    : tag == PP_FD_TAG_PTY    ? &master
						      : NULL;
		if (slot == NULL || *slot >= 0)
			close(fd);
		else
			*slot = fd;
	}
	if (sp->tty && master < 0) {
		pp_error_set(err, EPROTO, "tty: no pty master from the child");
		kill_and_reap(sp->pid, sp->pidfd);
		cleanup_closep(&sp->pidfd);
		return pp_error_wrap(err, "container \"%s\"", sp->name);
	}
	out->pid = sp->pid;
	out->pidfd = steal_fd(&sp->pidfd);
	out->pty_master = steal_fd(&master);
	out->mntns_fd = steal_fd(&mntns);
	return 0;
}

int pp_container_start(const struct pp_container_config *cfg, struct pp_container_process *out,
		       struct pp_error **err)
{
	struct pp_container_spawn sp;
	if (pp_container_spawn(cfg, &sp, err) < 0)
		return -1;
	return pp_container_spawn_finish(&sp, out, err);
}

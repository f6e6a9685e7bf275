/* Running a new process in a running container (kubectl exec, exec probes,
 * exec hooks): it enters every namespace of the container's main process
 * (mount, PID, network, IPC, UTS, and later user/cgroup), its cgroup, its
 * root, working directory, environment and user, exactly like the main
 * process. Knows nothing of pods: the caller gives the container's pidfd and
 * what it recorded when the container started. */
#ifndef PEAPOD_EXEC_H
#define PEAPOD_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/container.h"
#include "util/error.h"

/* Exit status of the exec'd process when it could not be started, as
 * runc/docker report it: 127 the executable was not found, 126 otherwise. */
#define PP_EXEC_NOT_FOUND 127
#define PP_EXEC_CANNOT_RUN 126

/* What entering a container takes, found out from its main process: the
 * namespaces that are not the caller's and its root. Valid while the
 * process lives; a caller that execs often (probes) keeps one per
 * container instance instead of looking again each time. */
struct pp_exec_target {
	int setns_flags; /* namespaces of the container that are not ours */
	bool join_pid;	 /* the container's PID namespace is not our pid_for_children */
	int root_fd;	 /* the container process's root (/proc/PID/root), owned */
};

int pp_exec_target_open(int container_pidfd, struct pp_exec_target *t, struct pp_error **err);
/* Idempotent. */
void pp_exec_target_close(struct pp_exec_target *t);

struct pp_exec_config {
	int container_pidfd; /* the container's main process */
	/* from pp_exec_target_open of that process, or NULL: found out here */
	const struct pp_exec_target *target;
	char *const *argv; /* argv[0] without '/' is looked up in envp's PATH */
	char *const *envp;
	/* what the container's own process got: the same user (resolved
	 * against the container's own /etc/passwd and /etc/group), working
	 * directory, capabilities, no_new_privs and seccomp filter */
	struct pp_identity identity;
	/* the container's cgroups, from pp_cgroup_procs_fds, joined first */
	const int *cgroup_procs_fds;
	size_t n_cgroup_procs_fds;
	/* the container's oom_score_adj (as kubelet's exec gets it: the
	 * container's, not the caller's), written when set */
	bool set_oom_score_adj;
	int oom_score_adj;
	/* stdio of the process (-1 = /dev/null); ignored with tty */
	int stdin_fd, stdout_fd, stderr_fd;
	/* a terminal: a pty from the container's own /dev/pts, the process
	 * its session leader with the pty as controlling terminal and stdio */
	bool tty;
	unsigned short rows, cols; /* initial window size with tty, 0 = leave */
	/* A launcher of processes in the container (supervisor/launcher.c)
	 * instead of a command: with run_program, program_fd (an O_PATH fd
	 * of a program outside the container) is exec'ed with argv and envp,
	 * and given as its stdin; with children_in_pidns the process stays in
	 * the caller's PID namespace and only its children are born in the
	 * container's. */
	bool run_program;
	int program_fd;
	bool children_in_pidns;
};

struct pp_exec_process {
	pid_t pid;	/* a child of the caller */
	int pidfd;	/* owned by the caller */
	int pty_master; /* with tty, owned by the caller; else -1 */
};

/* Starts the process; returns once it has exec'd. Not finding the executable
 * or failing to set up is an error (err->status: ENOENT for a missing
 * executable), with nothing left running. The caller's own namespaces,
 * root and cwd are untouched (the work happens in the child), so the
 * supervisor can use it for probes. Like the container's own process, it is
 * in a session of its own and dies with the thread that started it
 * (PR_SET_PDEATHSIG). */
int pp_exec_start(const struct pp_exec_config *cfg, struct pp_exec_process *out,
		  struct pp_error **err);

/* Waits for it; returns its exit status (128+N when killed by signal N), or
 * -1 with errno when it cannot be waited for. Closes p->pidfd (not
 * p->pty_master, which may still hold output to read). */
int pp_exec_wait(struct pp_exec_process *p);

#endif

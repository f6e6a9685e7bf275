/* What the children of pp_container_start and pp_exec_start share: cgroup
 * joining, stdio and exec with the PATH lookup. Their set-up errors go to
 * the parent through util/child_report.h. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

int pp_child_set_oom_score_adj(int value, struct pp_error **err)
{
	cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", value);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return pp_error_set(err, errno, "set oom_score_adj to %d", value);
	return 0;
}

int pp_child_setup_stdio(int stdin_fd, int stdout_fd, int stderr_fd, int keep_fd,
			 struct pp_error **err)
{
	const int src[3] = {stdin_fd, stdout_fd, stderr_fd};
	int tmp[3];
	/* Every source first moves above 2, as one may be another's target
	 * (stdout_fd == 2, say). */
	for (int i = 0; i < 3; i++) {
		tmp[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 3)
				     : open("/dev/null", O_RDWR | O_CLOEXEC);
		if (tmp[i] < 0)
			return pp_error_set(err, errno, "stdio: fd %d", src[i]);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(tmp[i], i) < 0)
			return pp_error_set(err, errno, "stdio: dup2 onto %d", i);
		close(tmp[i]);
	}
	/* Every other fd of the caller's is closed now, not at exec: until
	 * exec, a path through /proc/self/fd (an argv[0] of
	 * "/proc/self/fd/N", CVE-2024-21626) would reach whatever is open.
	 * keep_fd (the sync pipe, CLOEXEC) stays: its EOF at exec tells the
	 * parent we exec'd. */
	if (keep_fd < 3) {
		if (close_range(3, ~0U, 0) < 0)
			return pp_error_set(err, errno, "close_range");
		return 0;
	}
	if ((keep_fd > 3 && close_range(3, (unsigned)keep_fd - 1, 0) < 0) ||
	    close_range((unsigned)keep_fd + 1, ~0U, 0) < 0)
		return pp_error_set(err, errno, "close_range");
	return 0;
}

#define PP_CHILD_PATH_ENV_MAX 8192

static const char *env_path(char *const *envp)
{
	for (char *const *e = envp; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return *e + 5;
	return PP_DEFAULT_PATH;
}

int pp_child_exec(char *const *argv, char *const *envp, struct pp_error **err)
{
	static char *const no_env[] = {NULL};
	const char *file = argv[0];
	if (envp == NULL)
		envp = no_env;
	if (strchr(file, '/') != NULL) {
		execve(file, argv, envp);
		return pp_error_set(err, errno, "exec: \"%s\"", file);
	}
	/* On the stack, not the heap: an exec'ing child may share its
	 * caller's memory (CLONE_VM), where a successful execve would leave
	 * whatever it allocated. */
	char path[PP_CHILD_PATH_ENV_MAX], full[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", env_path(envp)) >= (int)sizeof(path))
		return pp_error_set(err, E2BIG, "exec: $PATH is too long");
	int denied = 0;
	for (char *p = path, *dir; (dir = strsep(&p, ":")) != NULL;) {
		if (snprintf(full, sizeof(full), "%s/%s", *dir != '\0' ? dir : ".", file) >=
		    (int)sizeof(full))
			continue; /* no such file can exist */
		execve(full, argv, envp);
		if (errno == EACCES)
			denied = EACCES;
		else if (errno != ENOENT && errno != ENOTDIR)
			return pp_error_set(err, errno, "exec: \"%s\"", full);
	}
	if (denied != 0)
		return pp_error_set(err, denied, "exec: \"%s\"", file);
	pp_error_set(err, 0, "exec: \"%s\": executable file not found in $PATH", file);
	return PP_CHILD_EXEC_NOT_FOUND;
}

int pp_child_become_userns_root(struct pp_error **err)
{
	/* Our ids are the host's root, unmapped there (nobody) until we
	 * take the namespace's own root: files we create, ptys we open... */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return pp_error_set(err, errno, "become root of the pod's user namespace");
	return 0;
}

int pp_child_enter_userns(int userns_fd, struct pp_error **err)
{
	if (setns(userns_fd, CLONE_NEWUSER) < 0)
		return pp_error_set(err, errno, "join the pod's user namespace");
	return pp_child_become_userns_root(err);
}

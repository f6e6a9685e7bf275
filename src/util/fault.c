#include "util/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/settings.h"

static const struct {
	const char *name;
	int err;
} errnos[] = {
    {"EIO", EIO},
    {"ENOSPC", ENOSPC},
    {"EMFILE", EMFILE},
    {"ENFILE", ENFILE},
    {"ENOMEM", ENOMEM},
    {"EACCES", EACCES},
    {"EPERM", EPERM},
    {"EAGAIN", EAGAIN},
    {"EBUSY", EBUSY},
    {"EEXIST", EEXIST},
    {"ENOENT", ENOENT},
    {"EINTR", EINTR},
    {"EDQUOT", EDQUOT},
    {"EROFS", EROFS},
    {"EINVAL", EINVAL},
    {"ETIMEDOUT", ETIMEDOUT},
    {"ECONNRESET", ECONNRESET},
};

int pp_fault_errno(const char *name)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(errnos[i].name, name) == 0)
			return errnos[i].err;
	char *end = NULL;
	long v = strtol(name, &end, 10);
	return *name != '\0' && *end == '\0' && v > 0 && v < 4096 ? (int)v : 0;
}

/* The steps file and the directory of the once-file stay open from the
 * first step on: a container's child process reaches its steps after its
 * pivot_root, where the paths are gone, with the fds it inherited
 * (O_CLOEXEC: not into the container's program). A process that closed
 * its fds since (the supervisor at its start) may have those numbers for
 * other files now: an fd is used only while it is still what was opened. */
struct kept_fd {
	int fd;
	dev_t dev;
	ino_t ino;
};
static struct kept_fd steps = {.fd = -1}, once_dir = {.fd = -1};

static int kept(struct kept_fd *k, const char *path, int flags)
{
	struct stat st;
	if (k->fd >= 0 && fstat(k->fd, &st) == 0 && st.st_dev == k->dev && st.st_ino == k->ino)
		return k->fd;
	k->fd = open(path, flags | O_CLOEXEC, 0600);
	if (k->fd < 0 || fstat(k->fd, &st) < 0)
		return k->fd = -1;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	return k->fd;
}

static void note_step(const char *path, const char *step)
{
	int fd = kept(&steps, path, O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0)
		return;
	char line[128];
	size_t n = strlen(step);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, step, n);
	line[n++] = '\n';
	(void)!write(fd, line, n);
}

/* The directory of the once-file, kept open (as above); *base: its name. */
static int once_dirfd(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return kept(&once_dir, ".", O_RDONLY | O_DIRECTORY);
	if (slash == path)
		return kept(&once_dir, "/", O_RDONLY | O_DIRECTORY);
	char dir[4096];
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return kept(&once_dir, dir, O_RDONLY | O_DIRECTORY);
}

/* Whether this is the first time (the once-file made now, holding the
 * pid of the process the fault fires in: a test can tell it from one a
 * verb started after). */
static bool first_time(int dfd, const char *base)
{
	if (dfd < 0)
		return false;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	(void)dprintf(fd, "%d\n", (int)getpid());
	close(fd);
	return true;
}

int pp_fault(const char *step, struct pp_error **err)
{
	const struct pp_settings *s = pp_settings();
	if (s->fault_steps == NULL && s->fault == NULL)
		return 0;
	int saved = errno;
	if (s->fault_steps != NULL)
		note_step(s->fault_steps, step);
	/* opened at every step: the one that fires may come after a pivot_root */
	const char *once_base = NULL;
	int once_fd = s->fault_once != NULL ? once_dirfd(s->fault_once, &once_base) : -1;
	const char *colon = s->fault != NULL ? strrchr(s->fault, ':') : NULL;
	size_t n = strlen(step);
	if (colon == NULL || (size_t)(colon - s->fault) != n || strncmp(s->fault, step, n) != 0) {
		errno = saved;
		return 0;
	}
	if (s->fault_once != NULL && !first_time(once_fd, once_base)) {
		errno = saved;
		return 0;
	}
	if (strcmp(colon + 1, "kill") == 0)
		kill(getpid(), SIGKILL);
	int e = pp_fault_errno(colon + 1);
	return pp_error_set(err, e ? e : EIO, "injected fault at %s", step);
}

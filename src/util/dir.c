#include "util/dir.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

int pp_dir_open(struct pp_dir *d, const char *path, int flags, struct pp_error **err)
{
	pp_dir_close(d);
	d->name = path;
	d->dir = opendir(path);
	if (d->dir != NULL || (errno == ENOENT && (flags & PP_DIR_MISSING_OK)))
		return 0;
	return pp_error_set(err, errno, "opendir %s", path);
}

int pp_dir_open_fd(struct pp_dir *d, int fd, const char *name, struct pp_error **err)
{
	pp_dir_close(d);
	d->name = name;
	d->dir = fdopendir(fd);
	if (d->dir != NULL)
		return 0;
	int saved = errno;
	close(fd);
	return pp_error_set(err, saved, "opendir %s", name);
}

static bool is_dot_or_dotdot(const char *n)
{
	return n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'));
}

int pp_dir_next(struct pp_dir *d, struct dirent **de, struct pp_error **err)
{
	if (d->dir == NULL)
		return 0;
	for (;;) {
		/* readdir says "end" and "error" both with NULL; only errno tells. */
		errno = 0;
		*de = readdir(d->dir);
		if (*de == NULL)
			return errno == 0 ? 0 : pp_error_set(err, errno, "readdir %s", d->name);
		if (!is_dot_or_dotdot((*de)->d_name))
			return 1;
	}
}

int pp_dir_fd(const struct pp_dir *d)
{
	return d->dir != NULL ? dirfd(d->dir) : -1;
}

void pp_dir_close(struct pp_dir *d)
{
	if (d->dir != NULL) {
		int saved = errno;
		closedir(d->dir);
		d->dir = NULL;
		errno = saved;
	}
}

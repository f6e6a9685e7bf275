/* Reading a directory: one loop shape for every listing, "." and ".." never
 * seen, open and read errors through pp_error. A directory that may not
 * exist yet (PP_DIR_MISSING_OK) reads as empty.
 *
 *	cleanup_dir struct pp_dir d = PP_DIR_INIT;
 *	struct dirent *de;
 *	int r;
 *	if (pp_dir_open(&d, path, 0, err) < 0)
 *		return -1;
 *	while ((r = pp_dir_next(&d, &de, err)) > 0)
 *		...;
 *	return r;
 */
#ifndef PEAPOD_DIR_H
#define PEAPOD_DIR_H

#include <dirent.h>

#include "util/error.h"

struct pp_dir {
	DIR *dir;	  /* NULL: closed, or missing and allowed to be */
	const char *name; /* for messages; the caller's, kept while open */
};

#define PP_DIR_INIT                                                                                \
	{                                                                                          \
		.dir = NULL, .name = NULL                                                          \
	}

enum {
	PP_DIR_MISSING_OK = 1 << 0, /* ENOENT: success, no entries */
};

/* 0 when open (or missing and allowed), -1 on error. */
int pp_dir_open(struct pp_dir *d, const char *path, int flags, struct pp_error **err);

/* The same over a directory fd, which d takes (closed on failure too);
 * name names it in messages. */
int pp_dir_open_fd(struct pp_dir *d, int fd, const char *name, struct pp_error **err);

/* 1 and the next entry in *de, 0 at the end, -1 when reading fails. */
int pp_dir_next(struct pp_dir *d, struct dirent **de, struct pp_error **err);

/* The directory's fd, for the *at() calls on its entries. */
int pp_dir_fd(const struct pp_dir *d);

/* Idempotent. */
void pp_dir_close(struct pp_dir *d);

#define cleanup_dir __attribute__((cleanup(pp_dir_close)))

#endif

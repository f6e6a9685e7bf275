/* What ops/cp.c shares with the tree copy it drives (ops/cp_tree.c). */
#ifndef PEAPOD_OPS_CP_INTERNAL_H
#define PEAPOD_OPS_CP_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct cp_tree {
	/* chown what is created to uid:gid (a container's root as the host
	 * sees it); false: it stays the caller's */
	bool set_owner;
	uid_t uid;
	gid_t gid;
	/* set-user-ID and set-group-ID bits of files dropped: what comes out of
	 * a container never becomes a set-id program of the caller's */
	bool drop_setid;
	/* an entry that is not copied (a socket, a device) and why */
	void (*on_skip)(void *ctx, const char *path, const char *why);
	void *ctx;
};

/* Copies entry sname of the directory sdir, never following it if it is a
 * symlink, to dname in ddir: a directory recursively (merged into an
 * existing directory), a regular file, a symlink (its target as it is) or a
 * fifo, replacing an existing non-directory; modes and times kept. Every
 * name is opened relative to its parent's fd with O_NOFOLLOW, so nothing in
 * the source tree or the destination leads out of them. rel names the
 * source in messages. "." as sname and dname copies a directory's content
 * into another. */
int cp_tree_copy(const struct cp_tree *t, int sdir, const char *sname, int ddir, const char *dname,
		 const char *rel, struct pp_error **err);

#endif

/* Small filesystem helpers for host-side paths peapod owns (state and store
 * directories). Paths from images or manifests go through util/path.h. */
#ifndef PEAPOD_FS_H
#define PEAPOD_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

/* mkdir -p with mode for the created components. */
int pp_mkdir_p(const char *path, mode_t mode, struct pp_error **err);

/* pp_mkdir_p of a directory under which trees come and go (the pods'
 * records, data and logs; the images' layers), marked when it is made as
 * the top of a hierarchy (chattr +T, FS_TOPDIR_FL): ext4 then puts each
 * directory made in it (a pod's, a layer's) in a block group with few
 * directories and free room, and what is made below that stays there. The
 * reason: on ext4 without a journal an inode allocation passes over every
 * inode its group freed in the last 1-5 minutes (fs/ext4/ialloc.c,
 * recently_deleted), so a group that other work churns (/tmp, /var/lib), or
 * that a stream of pods churns, costs 0.3-1 ms a file where a fresh group
 * costs ~15 us. Where the flag is not supported (tmpfs, xfs, btrfs) nothing
 * changes. An existing directory is left as it is. */
int pp_mkdir_apart(const char *path, mode_t mode, struct pp_error **err);

/* rm -rf without following symlinks or crossing into other mounts (a mount
 * point below path makes it fail with EBUSY rather than empty the mount).
 * A missing path is success: removal is idempotent. */
int pp_rm_rf(const char *path, struct pp_error **err);

/* Removal that does not keep the caller waiting: renames dir to trash (a
 * path on the same filesystem, its parent made 0700 when missing), then a
 * short-lived child ("peapod-rm", stdio on /dev/null, no other fd) removes
 * it. On ext4 every directory unlinked costs ~1 ms; a pod's layers, record
 * and logs are a dozen or more. Where the rename fails, dir is removed
 * before returning. A missing dir is success. What a crash leaves in the
 * trash, pp_empty_trash removes. */
int pp_discard_dir(const char *dir, const char *trash, struct pp_error **err);

/* The same for several directories (at most PP_DISCARD_MAX), with one
 * child for all of them. */
#define PP_DISCARD_MAX 4
int pp_discard_dirs(const char *const *dirs, const char *const *trashes, size_t n,
		    struct pp_error **err);

/* pp_discard_dir, after fds are let go of: the last references to what
 * must go before dir (a container's mount namespace, whose overlay uses
 * dir), closed by the child before it removes dir, and so not in the
 * caller's time. The caller's copies are closed (each set to -1); -1 in
 * fds is skipped. Beyond PP_DISCARD_MAX_FDS they are closed before
 * returning. */
#define PP_DISCARD_MAX_FDS 256
int pp_discard_dir_after(const char *dir, const char *trash, int *fds, size_t n_fds,
			 struct pp_error **err);

/* The trash's name in each of peapod's roots (run dir, store, logs). */
#define PP_TRASH_NAME "trash"

/* Removes every entry of trash_root; *removed counts them. */
int pp_empty_trash(const char *trash_root, int *removed, struct pp_error **err);

/* Writes data to path atomically (temp file + fsync-less rename). */
int pp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct pp_error **err);

/* Reads a whole file (at most max bytes, else EFBIG). *out is NUL-terminated. */
int pp_read_file(const char *path, size_t max, char **out, size_t *len, struct pp_error **err);

/* Reads a whole fd the same way. */
int pp_read_fd(int fd, size_t max, char **out, size_t *len, struct pp_error **err);

#endif

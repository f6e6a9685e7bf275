/* Small filesystem helpers for host-side paths peapod owns (state and store
 * directories). Paths from images or manifests go through util/path.h. */
#ifndef PEAPOD_FS_H
#define PEAPOD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

/* mkdir -p with mode for the created components. */
int pp_mkdir_p(const char *path, mode_t mode, struct pp_error **err);

/* pp_mkdir_p of a directory under which trees come and go (the block
 * groups of pp_mkdir_grouped, the names, the images' layers), marked when
 * it is made as the top of a hierarchy (chattr +T, FS_TOPDIR_FL): ext4 then
 * puts each directory made in it in a block group with few directories and
 * free room, and what is made below that stays there. The reason: on ext4
 * without a journal an inode allocation passes over every inode its group
 * freed in the last 1-5 minutes (fs/ext4/ialloc.c, recently_deleted), so a
 * group that other work churns (/tmp, /var/lib), or that a stream of pods
 * churns, costs 0.3-1 ms a file where a quiet group costs ~15 us. Where
 * the flag is not supported (tmpfs, xfs, btrfs) nothing changes. An
 * existing directory is left as it is. */
int pp_mkdir_apart(const char *path, mode_t mode, struct pp_error **err);

/* mkdir of a directory that comes and goes with a pod (its record, its
 * data, its logs), its inode and everything later made below it in one of
 * PP_GROUPS block groups of peapod's own: made in groups_root/<k> (k from
 * the name; groups_root made apart, so each <k> has its group), then
 * renamed into place. A pod's files then share their group neither with
 * what other work churns (/tmp) nor with every other pod: each allocation
 * walks only what the pods of its group freed in the last minutes. A group
 * of each pod's own (its directory made apart) would do that too, but
 * costs a read of that group's bitmaps from disk (~0.15 ms) for each of the
 * first ~2000 pods. exclusive: fail with EEXIST if path exists (mkdir);
 * else an existing directory is success (mkdir -p). Where the group cannot
 * be used, path is made in place. */
#define PP_GROUPS_NAME "groups"
#define PP_GROUPS 16
int pp_mkdir_grouped(const char *path, const char *groups_root, mode_t mode, bool exclusive,
		     struct pp_error **err);

/* What a crash between pp_mkdir_grouped's mkdir and rename left in
 * groups_root: each entry older than min_age_s removed (gc; a maker holds
 * its entry for a mkdir and a rename), counted in *removed. */
#define PP_GROUPS_SWEEP_AGE_S 60
int pp_sweep_groups(const char *groups_root, int min_age_s, int *removed, struct pp_error **err);

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
/* The same for several directories (at most PP_DISCARD_MAX). */
int pp_discard_dirs_after(const char *const *dirs, const char *const *trashes, size_t n, int *fds,
			  size_t n_fds, struct pp_error **err);

/* The trash's name in each of peapod's roots (run dir, store, logs). */
#define PP_TRASH_NAME "trash"

/* Removes every entry of trash_root; *removed counts them. */
int pp_empty_trash(const char *trash_root, int *removed, struct pp_error **err);

/* Writes data to path atomically (temp file + fsync-less rename). */
int pp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct pp_error **err);

/* The same for a file rewritten often that does not outlive a reboot (a
 * pod's status.json): readers still see the old or the new file whole, but
 * a replace does not make the filesystem write the new one back at once
 * (ext4's auto_da_alloc, a disk write for each status change), so a crash
 * may leave it empty. */
int pp_write_file_volatile(const char *path, const void *data, size_t len, mode_t mode,
			   struct pp_error **err);

/* Reads a whole file (at most max bytes, else EFBIG). *out is NUL-terminated. */
int pp_read_file(const char *path, size_t max, char **out, size_t *len, struct pp_error **err);

/* Reads a whole fd the same way. */
int pp_read_fd(int fd, size_t max, char **out, size_t *len, struct pp_error **err);

#endif

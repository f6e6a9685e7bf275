/* The paths of /proc and /sys a container must not read or write, hidden
 * the way runc hides them: a directory under an empty read-only tmpfs, a
 * file under /dev/null; and those it may read but not write, bound
 * read-only over themselves. Every path is resolved inside the root; a
 * missing one is skipped. containerd's lists, or the CRI request's. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

/* containerd's defaults (pod-semantics.md). */
static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

static const char *const read_only_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* O_PATH fd of path inside the root; -1 with errno ENOENT when missing. */
static int open_existing(int rootfd, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

static int mask_one(int rootfd, int devnull, const char *path, struct pp_error **err)
{
	cleanup_close int fd = open_existing(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "mask %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return pp_error_set(err, errno, "mask %s", path);
	cleanup_close int tree = -1;
	if (S_ISDIR(st.st_mode))
		tree = pp_fs_new("tmpfs", NULL,
				 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				     MOUNT_ATTR_NOEXEC,
				 err);
	else if ((tree = open_tree(devnull, "",
				   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)) < 0)
		pp_error_set(err, errno, "clone /dev/null");
	if (tree < 0)
		return pp_error_wrap(err, "mask %s", path);
	if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "mask %s", path);
	return 0;
}

static int read_only_one(int rootfd, const char *path, struct pp_error **err)
{
	cleanup_close int fd = open_existing(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : pp_error_set(err, errno, "read-only %s", path);
	cleanup_close int tree =
	    open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return pp_error_set(err, errno, "read-only %s: clone", path);
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
					    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
		return pp_error_set(err, errno, "read-only %s", path);
	if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "read-only %s", path);
	return 0;
}

int pp_rootfs_mask_paths(int rootfd, const struct pp_security *sec, struct pp_error **err)
{
	if (sec != NULL && (sec->privileged || sec->unmasked_proc))
		return 0;
	bool given = sec != NULL && sec->has_paths;
	if (given && sec->masked_paths == NULL && sec->readonly_paths == NULL)
		return 0;
	cleanup_close int devnull = open_existing(rootfd, "/dev/null");
	if (devnull < 0)
		return pp_error_set(err, errno, "mask paths: /dev/null");
	if (given) {
		for (char *const *p = sec->masked_paths; p && *p; p++)
			if (mask_one(rootfd, devnull, *p, err) < 0)
				return -1;
		for (char *const *p = sec->readonly_paths; p && *p; p++)
			if (read_only_one(rootfd, *p, err) < 0)
				return -1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++)
		if (mask_one(rootfd, devnull, masked_paths[i], err) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(read_only_paths) / sizeof(read_only_paths[0]); i++)
		if (read_only_one(rootfd, read_only_paths[i], err) < 0)
			return -1;
	return 0;
}

int pp_rootfs_make_read_only(int rootfd, struct pp_error **err)
{
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
		return pp_error_set(err, errno, "read-only root filesystem");
	return 0;
}

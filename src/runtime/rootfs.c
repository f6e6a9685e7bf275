/* The container's root filesystem, built in the child's own mount namespace
 * with the new mount API: every filesystem is created detached (fsopen +
 * fsmount, or open_tree for binds) and attached with move_mount onto a target
 * that was resolved inside the root (util/path.h), so that no symlink in the
 * image can send a mount to the host. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"
#include "util/copy_tree.h"
#include "util/mem.h"
#include "util/path.h"
#include "util/trace.h"

struct dev_node {
	const char *name;
	unsigned major, minor;
};

/* The device nodes runc creates in every container. */
static const struct dev_node dev_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

struct dev_link {
	const char *name, *target;
};

static const struct dev_link dev_links[] = {
    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},	 {"core", "/proc/kcore"},
};

/* Applies "key=value,flag,..." to an fs context. */
static int fs_configure(int fsfd, const char *options, struct pp_error **err)
{
	if (options == NULL)
		return 0;
	cleanup_free char *copy = xstrdup(options);
	char *save = NULL;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *value = strchr(opt, '=');
		int r;
		if (value != NULL) {
			*value++ = '\0';
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, value, 0);
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
		}
		if (r < 0)
			return pp_error_set(err, errno, "option %s", opt);
	}
	return 0;
}

int pp_fs_new(const char *fstype, const char *options, unsigned attrs, struct pp_error **err)
{
	cleanup_close int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return pp_error_set(err, errno, "fsopen %s", fstype);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", fstype, 0) < 0)
		return pp_error_set(err, errno, "source");
	if (fs_configure(fsfd, options, err) < 0)
		return -1;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pp_error_set(err, errno, "create %s", fstype);
	int mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mntfd < 0)
		return pp_error_set(err, errno, "fsmount %s", fstype);
	return mntfd;
}

int pp_rootfs_attach(int rootfd, const char *target, int mntfd, bool as_file, struct pp_error **err)
{
	cleanup_close int tfd =
	    pp_path_open_in_root(rootfd, target, O_PATH, PP_DIR_MODE, as_file, err);
	if (tfd < 0)
		return -1;
	if (move_mount(mntfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "move_mount");
	return 0;
}

static int mount_new_fs(int rootfd, const char *target, const char *fstype, const char *options,
			unsigned attrs, struct pp_error **err)
{
	cleanup_close int mntfd = pp_fs_new(fstype, options, attrs, err);
	if (mntfd < 0 || pp_rootfs_attach(rootfd, target, mntfd, false, err) < 0)
		return pp_error_wrap(err, "mount %s", target);
	return 0;
}

/* hostUsers: false: an image layer is overmounted, in our own mount
 * namespace only, by an idmapped clone of itself, so that its files owned
 * by the host's 0 show as the pod's root (id_base) and the other way round:
 * one copy of an image serves pods of every range, never chowned. Overlay
 * cannot be idmapped itself, but takes idmapped layers (5.19+). */
static int idmap_layer(const char *dir, int userns_fd, struct pp_error **err)
{
	cleanup_close int tree = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return pp_error_set(err, errno, "clone image layer %s", dir);
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
		return pp_error_set(err, errno,
				    "idmap image layer %s (hostUsers: false needs idmapped "
				    "mounts, which this filesystem or kernel does not give)",
				    dir);
	if (move_mount(tree, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "overmount image layer %s", dir);
	return 0;
}

/* The overlay root, attached at rootfs_dir. Returns the fd of its root. */
static int mount_overlay(const struct pp_container_config *cfg, struct pp_error **err)
{
	for (size_t i = 0; cfg->userns && i < cfg->n_lower_dirs; i++)
		if (idmap_layer(cfg->lower_dirs[i], cfg->userns_fd, err) < 0)
			return -1;
	cleanup_close int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return pp_error_set(err, errno, "fsopen overlay");
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return pp_error_set(err, errno, "overlay source");
	/* "lowerdir+" (6.8+) appends one layer at a time, topmost first: no
	 * ':' escaping and no page-size limit on the option string. */
	for (size_t i = 0; i < cfg->n_lower_dirs; i++)
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", cfg->lower_dirs[i], 0) < 0)
			return pp_error_set(err, errno, "overlay lower dir %s", cfg->lower_dirs[i]);
	if (cfg->upper_dir != NULL) {
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", cfg->upper_dir, 0) < 0)
			return pp_error_set(err, errno, "overlay upper dir %s", cfg->upper_dir);
		/* A volatile overlay leaves work/incompat/volatile/dirty behind when it
		 * goes, and the kernel refuses the next mount on that work dir
		 * (it cannot know the upper was synced). The layer goes with
		 * its container, so a work dir used again (a reused layer, a
		 * test's fixture) holds no crash's leftovers: the mark goes. */
		cleanup_free char *mark = xasprintf("%s/work/incompat/volatile", cfg->work_dir);
		cleanup_free char *dirty = xasprintf("%s/dirty", mark);
		(void)unlink(dirty);
		(void)rmdir(mark);
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", cfg->work_dir, 0) < 0)
			return pp_error_set(err, errno, "overlay work dir %s", cfg->work_dir);
		/* "volatile" (5.10+): no sync of the upper file system when the
		 * overlay goes. The last process of the container's mount
		 * namespace unmounts it in its exit, before its parent learns of
		 * it, and that sync (an ext4 journal commit, 2-30 ms here:
		 * bench/RESULTS.md, "The floor") was in every container's exit:
		 * the end of `peapod run`, each delete. The writable layer lives
		 * as long as the container (a restart or a new pod makes a fresh
		 * one, pod.c fresh_layer), so its durability across a host crash
		 * buys nothing (fsync in the layer returns without a flush;
		 * volumes are mounts of their own, not touched). Refused by an
		 * older kernel: mounted without. */
		if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0 && errno != EINVAL)
			return pp_error_set(err, errno, "overlay volatile");
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pp_error_set(err, errno, "overlay");
	cleanup_close int mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mntfd < 0)
		return pp_error_set(err, errno, "fsmount overlay");
	/* pivot_root wants the new root to be a mount in our namespace. */
	if (move_mount(mntfd, "", AT_FDCWD, cfg->rootfs_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "attach overlay at %s", cfg->rootfs_dir);
	return steal_fd(&mntfd);
}

/* Where mknod is not allowed (EPERM: no CAP_MKNOD, as in a user
 * namespace), the host's node is bind-mounted onto an empty file instead. */
static int bind_host_node(int devfd, const char *name, const char *host, struct pp_error **err)
{
	cleanup_close int tree = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return pp_error_set(err, errno, "bind %s", host);
	cleanup_close int fd = openat(devfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return pp_error_set(err, errno, "create %s", host);
	if (move_mount(tree, "", devfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return pp_error_set(err, errno, "bind %s", host);
	return 0;
}

static int bind_host_dev(int devfd, const char *name, struct pp_error **err)
{
	cleanup_free char *host = xasprintf("/dev/%s", name);
	return bind_host_node(devfd, name, host, err);
}

/* The directories of rel (a path under /dev) made in the fresh tmpfs,
 * nothing followed: a new directory fd for its last component's parent
 * in *dirfd (devfd itself when it has none) and the name in *base. */
static int dev_parents(int devfd, char *rel, int *dirfd, const char **base, struct pp_error **err)
{
	int dir = fcntl(devfd, F_DUPFD_CLOEXEC, 3);
	if (dir < 0)
		return pp_error_set(err, errno, "dup /dev");
	char *p = rel, *slash;
	while ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (mkdirat(dir, p, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(dir);
			return pp_error_set(err, e, "mkdir /dev/%s", rel);
		}
		int next = openat(dir, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(dir);
		if (next < 0)
			return pp_error_set(err, e, "open /dev/%s", rel);
		*slash = '/';
		dir = next;
		p = slash + 1;
	}
	*dirfd = dir;
	*base = p;
	return 0;
}

/* The CRI's devices, after the default nodes (one of them replaced). */
static int add_devices(const struct pp_container_config *cfg, int devfd, struct pp_error **err)
{
	for (size_t i = 0; i < cfg->n_devices; i++) {
		const struct pp_device_spec *d = &cfg->devices[i];
		cleanup_free char *rel = xstrdup(d->path + strlen("/dev/"));
		int dirfd = -1;
		const char *base = NULL;
		if (dev_parents(devfd, rel, &dirfd, &base, err) < 0)
			return pp_error_wrap(err, "device %s", d->path);
		cleanup_close int dir = dirfd;
		if (unlinkat(dir, base, 0) < 0 && errno != ENOENT)
			return pp_error_set(err, errno, "device %s: replace it", d->path);
		if (mknodat(dir, base, d->mode, d->rdev) < 0) {
			if (errno != EPERM)
				return pp_error_set(err, errno, "mknod %s", d->path);
			if (bind_host_node(dir, base, d->host_path, err) < 0)
				return pp_error_wrap(err, "device %s", d->path);
			continue;
		}
		if (fchmodat(dir, base, d->mode & 07777, 0) < 0)
			return pp_error_set(err, errno, "chmod %s", d->path);
		/* in a user namespace, its root's (as the rest of /dev) */
		if (cfg->userns && fchownat(dir, base, cfg->id_base, cfg->id_base, 0) < 0)
			return pp_error_set(err, errno, "chown %s", d->path);
	}
	return 0;
}

/* Device nodes and links in the fresh /dev tmpfs: the nodes made with no
 * umask (which would turn their 0666 into 0644), the caller's put back. */
static int make_dev_nodes(int devfd, struct pp_error **err)
{
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		const struct dev_node *d = &dev_nodes[i];
		dev_t dev = makedev(d->major, d->minor);
		if (mknodat(devfd, d->name, S_IFCHR | PP_DEV_NODE_MODE, dev) < 0) {
			if (errno != EPERM)
				return pp_error_set(err, errno, "mknod /dev/%s", d->name);
			if (bind_host_dev(devfd, d->name, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int populate_dev(const struct pp_container_config *cfg, int devfd, struct pp_error **err)
{
	mode_t mask = umask(0);
	int r = make_dev_nodes(devfd, err);
	umask(mask);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0)
			return pp_error_set(err, errno, "symlink /dev/%s", dev_links[i].name);
	return add_devices(cfg, devfd, err);
}

static int mount_dev(const struct pp_container_config *cfg, int rootfd, struct pp_error **err)
{
	/* In a user namespace /dev belongs to its root, as if mounted there. */
	cleanup_free char *options =
	    cfg->userns
		? xasprintf("%s,uid=%u,gid=%u", PP_DEV_TMPFS_OPTIONS, cfg->id_base, cfg->id_base)
		: xstrdup(PP_DEV_TMPFS_OPTIONS);
	cleanup_close int devfd =
	    pp_fs_new("tmpfs", options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME, err);
	if (devfd < 0 || pp_rootfs_attach(rootfd, "/dev", devfd, false, err) < 0)
		return pp_error_wrap(err, "mount /dev");
	/* The fsmount fd stays the root of the now attached tmpfs. */
	return populate_dev(cfg, devfd, err);
}

static bool same_target(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

static bool has_mount_at(const struct pp_container_config *cfg, const char *target)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].target != NULL && same_target(cfg->mounts[i].target, target))
			return true;
	return false;
}

/* sysfs shows the network devices of the netns of whoever mounts it, so it
 * is mounted after joining the pod's netns. Should the kernel refuse (EPERM,
 * a netns owned by another user ns), fall back to the host's, read-only. */
static int mount_sys(int rootfd, bool writable, struct pp_error **err)
{
	/* Read-only unless privileged, as runc mounts it. */
	const unsigned attrs = (writable ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID |
			       MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV;
	cleanup_close int mntfd = pp_fs_new("sysfs", NULL, attrs, err);
	if (mntfd < 0 && (*err)->status == EPERM) {
		pp_error_free(err);
		mntfd =
		    open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		struct mount_attr ma = {.attr_set = attrs};
		if (mntfd < 0 ||
		    mount_setattr(mntfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
			pp_error_set(err, errno, "bind /sys");
	}
	if (mntfd < 0 || pp_rootfs_attach(rootfd, "/sys", mntfd, false, err) < 0)
		return pp_error_wrap(err, "mount /sys");
	return 0;
}

/* Step 5: the filesystems every container gets, as runc mounts them. */
static int mount_standard(const struct pp_container_config *cfg, int rootfd, struct pp_error **err)
{
	const unsigned nosuid_noexec_nodev =
	    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV;
	if (mount_new_fs(rootfd, "/proc", "proc", NULL, nosuid_noexec_nodev, err) < 0)
		return -1;
	if (mount_dev(cfg, rootfd, err) < 0)
		return -1;
	/* devpts takes its gid= in the mounter's ids: the host's. */
	cleanup_free char *pts =
	    cfg->userns
		? xasprintf("%s,gid=%u", PP_DEVPTS_OPTIONS_NO_GID, cfg->id_base + PP_DEVPTS_GID)
		: xasprintf("%s,gid=%u", PP_DEVPTS_OPTIONS_NO_GID, PP_DEVPTS_GID);
	if (mount_new_fs(rootfd, "/dev/pts", "devpts", pts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
			 err) < 0)
		return -1;
	/* mqueue belongs to the IPC namespace of the mounter: the pod's, by now. */
	if (mount_new_fs(rootfd, "/dev/mqueue", "mqueue", NULL, nosuid_noexec_nodev, err) < 0)
		return -1;
	/* The pod usually passes its own /dev/shm, shared by its containers. */
	if (!has_mount_at(cfg, "/dev/shm") &&
	    mount_new_fs(rootfd, "/dev/shm", "tmpfs", PP_SHM_TMPFS_OPTIONS, nosuid_noexec_nodev,
			 err) < 0)
		return -1;
	return mount_sys(rootfd, cfg->identity.security.privileged, err);
}

/* Clones path inside the tree of dirfd: a symlink or ".." in a subPath that
 * would leave its volume is refused, not clamped (kubelet refuses it too). */
static int clone_subpath(int dirfd, const char *subpath, struct pp_error **err)
{
	cleanup_close int subfd = pp_path_open_beneath(dirfd, subpath, O_PATH, err);
	if (subfd < 0)
		return pp_error_wrap(err, "subPath");
	int tree = open_tree(subfd, "",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0)
		return pp_error_set(err, errno, "clone subPath %s", subpath);
	return tree;
}

int pp_rootfs_mount_source(const struct pp_mount_spec *m, struct pp_error **err)
{
	const unsigned clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE;
	int tree;
	switch (m->kind) {
	case PP_MOUNT_TMPFS:
		return pp_fs_new("tmpfs", m->tmpfs_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
				 err);
	case PP_MOUNT_BIND: {
		if (m->source_subpath == NULL) {
			tree = open_tree(AT_FDCWD, m->source, clone);
			return tree < 0 ? pp_error_set(err, errno, "clone %s", m->source) : tree;
		}
		cleanup_close int srcfd = open(m->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (srcfd < 0)
			return pp_error_set(err, errno, "open %s", m->source);
		return clone_subpath(srcfd, m->source_subpath, err);
	}
	case PP_MOUNT_FD:
		if (m->source_subpath != NULL)
			return clone_subpath(m->source_fd, m->source_subpath, err);
		/* A detached tree (fsmount/open_tree of the caller) may be cloned
		 * from any mount namespace; a plain path fd of the caller's could not. */
		tree = open_tree(m->source_fd, "", clone | AT_EMPTY_PATH);
		return tree < 0 ? pp_error_set(err, errno, "clone source fd %d", m->source_fd)
				: tree;
	default:
		return pp_error_set(err, EINVAL, "unknown mount kind %d", (int)m->kind);
	}
}

/* seed_from_root: the image's content at the target, copied into the
 * (new, empty) source directory before the bind mount hides it. The copy
 * reads the overlay root, so layers idmapped for a user namespace give
 * the volume the ids the container sees. */
static int seed_from_root(int rootfd, const struct pp_mount_spec *m, struct pp_error **err)
{
	struct pp_error *probe = NULL;
	cleanup_close int src =
	    pp_path_open_in_root(rootfd, m->target, O_RDONLY | O_DIRECTORY, 0, false, &probe);
	if (src < 0) {
		/* nothing there (or not a directory): an empty volume */
		bool absent = probe && (probe->status == ENOENT || probe->status == ENOTDIR);
		if (absent) {
			pp_error_free(&probe);
			return 0;
		}
		if (err != NULL)
			*err = probe;
		else
			pp_error_free(&probe);
		return pp_error_wrap(err, "image volume %s", m->target);
	}
	cleanup_close int dst = open(m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return pp_error_set(err, errno, "image volume %s: open %s", m->target, m->source);
	if (pp_copy_tree_at(src, dst, m->target, err) < 0)
		return pp_error_wrap(err, "image volume %s: seed from the image", m->target);
	return 0;
}

/* Step 6, one entry. read_only is set on the detached tree, so the mount is
 * never visible writable, and recursively, so submounts are read-only too.
 * *cloned: the source already cloned (a propagating mount), taken over;
 * else -1. Propagation is set on every tree: a shared source (a pod's
 * emptyDir that some container mounts with propagation) gives shared clones. */
static int mount_one(int rootfd, const struct pp_mount_spec *m, int *cloned, const char *guard_root,
		     struct pp_error **err)
{
	const char *target = m->target != NULL ? m->target : "(null)";
	if (m->target == NULL)
		return pp_error_set(err, EINVAL, "mount without a target");
	if (m->seed_from_root && m->kind == PP_MOUNT_BIND && seed_from_root(rootfd, m, err) < 0)
		return -1;
	cleanup_close int tree = *cloned >= 0 ? steal_fd(cloned) : pp_rootfs_mount_source(m, err);
	if (tree < 0)
		return pp_error_wrap(err, "mount %s", target);
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};
	if (m->read_only &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
		return pp_error_set(err, errno, "mount %s: read-only", target);
	if (pp_mount_set_propagation(tree, m->propagation, err) < 0)
		return pp_error_wrap(err, "mount %s", target);
	struct stat st;
	if (fstat(tree, &st) < 0)
		return pp_error_set(err, errno, "mount %s: stat source", target);
	bool as_file = m->target_is_file || !S_ISDIR(st.st_mode);
	if (guard_root != NULL) {
		cleanup_close int tfd =
		    pp_path_open_in_root(rootfd, target, O_PATH, PP_DIR_MODE, as_file, err);
		if (tfd < 0 || pp_mount_refuse_shared_parent(tfd, guard_root, err) < 0)
			return pp_error_wrap(err, "mount %s", target);
	}
	if (pp_rootfs_attach(rootfd, target, tree, as_file, err) < 0)
		return pp_error_wrap(err, "mount %s", target);
	return 0;
}

static bool has_shared_mount(const struct pp_container_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].propagation == PP_MOUNT_RSHARED)
			return true;
	return false;
}

/* In a chroot "/" is not a mount point (EINVAL) and the mount that holds it
 * is out of reach: make every mount we can see private instead. The one
 * holding the chroot keeps the propagation its creator chose (`unshare
 * --mount`, as chroot builders use, makes it private). */
static int make_visible_mounts_private(struct pp_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return pp_error_set(err, errno, "make / private: read mountinfo");
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char target[PATH_MAX];
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." (octal escapes are rare
		 * in mount points; such a mount just stays as it is). */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", target) == 1)
			mount(NULL, target, NULL, MS_REC | MS_PRIVATE, NULL);
	}
	free(line);
	return 0;
}

static int prepare_root(const struct pp_container_config *cfg, int *cloned, struct pp_error **err)
{
	/* Our copy of the host's mount tree must not propagate anything back
	 * to the host (or to other containers): make all of it private. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		if (errno != EINVAL)
			return pp_error_set(err, errno, "make / private");
		if (make_visible_mounts_private(err) < 0)
			return -1;
	}
	pp_trace("ctr %s mount ns", cfg->name);
	cleanup_close int rootfd = mount_overlay(cfg, err);
	if (rootfd < 0)
		return pp_error_wrap(err, "mount overlay root at %s", cfg->rootfs_dir);
	pp_trace("ctr %s overlay mounted", cfg->name);
	if (mount_standard(cfg, rootfd, err) < 0)
		return -1;
	/* With an rshared mount, no other may go inside it (propagation.c). */
	const char *guard_root = has_shared_mount(cfg) ? cfg->rootfs_dir : NULL;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (mount_one(rootfd, &cfg->mounts[i], &cloned[i], guard_root, err) < 0)
			return -1;
	/* Last, so that no volume can be mounted over a mask. */
	if (pp_rootfs_mask_paths(rootfd, &cfg->identity.security, err) < 0)
		return -1;
	return steal_fd(&rootfd);
}

int pp_rootfs_prepare(const struct pp_container_config *cfg, struct pp_error **err)
{
	/* Still in the caller's mount namespace: the sources of propagating
	 * mounts and the caller's detached trees, cloned (propagation.c).
	 * Then a mount namespace of our own, a copy of the caller's. */
	int *cloned = xmalloc(sizeof(int) * (cfg->n_mounts + 1));
	int r = pp_rootfs_clone_early(cfg, cloned, err);
	if (r == 0 && unshare(CLONE_NEWNS) < 0)
		r = pp_error_set(err, errno, "a mount namespace of its own");
	if (r == 0)
		r = prepare_root(cfg, cloned, err);
	for (size_t i = 0; i < cfg->n_mounts; i++)
		cleanup_closep(&cloned[i]);
	free(cloned);
	return r;
}

int pp_rootfs_pivot(int rootfd, struct pp_error **err)
{
	if (fchdir(rootfd) < 0)
		return pp_error_set(err, errno, "pivot_root: chdir to the new root");
	/* pivot_root(".", ".") stacks the old root on top of the new one at "/";
	 * unmounting "." then takes the old root away (lazily, as host mounts
	 * may be busy), so no put_old directory is needed (runc's trick). */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		/* EINVAL: our root is not a mount point (peapod runs in a
		 * chroot). Then, as runc --no-pivot: move the new root over "/"
		 * and chroot into it. The host's tree stays below it, out of
		 * reach of the container's processes. */
		if (errno != EINVAL)
			return pp_error_set(err, errno, "pivot_root");
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return pp_error_set(err, errno, "move the new root to /");
		if (chroot(".") < 0)
			return pp_error_set(err, errno, "chroot into the new root");
		if (chdir("/") < 0)
			return pp_error_set(err, errno, "chdir /");
		return 0;
	}
	if (umount2(".", MNT_DETACH) < 0)
		return pp_error_set(err, errno, "pivot_root: unmount the old root");
	if (chdir("/") < 0)
		return pp_error_set(err, errno, "pivot_root: chdir /");
	return 0;
}

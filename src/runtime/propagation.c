/* mountPropagation of a container's mounts, as runc applies what kubelet
 * asks for (None: rprivate, HostToContainer: rslave, Bidirectional:
 * rshared). Propagation follows peer groups, and a clone keeps the group of
 * its source: the sources of propagating mounts are cloned by the child
 * while it is still in the caller's (the host's) mount namespace, so that
 * their clones are peers of the host's mounts; then each clone gets its own
 * propagation. The caller's detached trees (PP_MOUNT_FD) are cloned there
 * too, as the kernel lets only the namespace a detached tree was cloned in
 * clone it again; and so are, in the caller's volumes namespace
 * (in_volumes_ns), the shared mounts a pod's containers share (a pod's
 * emptyDir mounted with propagation: src/pod/volumes.c). The container's
 * root and the rest of its tree stay private: nothing else it mounts
 * reaches the host. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"
#include "util/mntns.h"
#include "util/path.h"

/* The mount point and the optional fields ("shared:N master:M ...", with a
 * leading space) of the mount whose id is id, from /proc/self/mountinfo. */
static int lookup_mount(uint64_t id, char **mountpoint, char **optional, struct pp_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return pp_error_set(err, errno, "read /proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long mid;
		char mp[PATH_MAX];
		int off = 0;
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ..." */
		if (sscanf(line, "%llu %*s %*s %*s %4095s %*s%n", &mid, mp, &off) != 2 ||
		    off == 0 || mid != id)
			continue;
		const char *rest = line + off;
		const char *dash = strstr(rest, " - ");
		*optional = xasprintf("%.*s", (int)(dash ? dash - rest : (long)strlen(rest)), rest);
		*mountpoint = xstrdup(mp);
		found = true;
		break;
	}
	free(line);
	if (!found)
		return pp_error_set(err, ENOENT, "mount id %llu is not in /proc/self/mountinfo",
				    (unsigned long long)id);
	return 0;
}

/* containerd's CRI checks (ensureShared, ensureSharedOrSlave): rslave needs a
 * source on a shared or slave mount, rshared one on a shared mount;
 * anything else could not propagate and is refused with its words. */
static int check_bind_source(const struct pp_mount_spec *m, struct pp_error **err)
{
	cleanup_close int fd = open(m->source, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", m->source);
	if (m->source_subpath != NULL) {
		int sub = pp_path_open_beneath(fd, m->source_subpath, O_PATH, err);
		if (sub < 0)
			return pp_error_wrap(err, "subPath");
		close(fd);
		fd = sub;
	}
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return pp_error_set(err, errno, "statx %s", m->source);
	if (!(stx.stx_mask & STATX_MNT_ID))
		return pp_error_set(err, ENOTSUP, "statx %s: no mount id", m->source);
	cleanup_free char *mountpoint = NULL, *optional = NULL;
	if (lookup_mount(stx.stx_mnt_id, &mountpoint, &optional, err) < 0)
		return -1;
	bool shared = strstr(optional, " shared:") != NULL;
	bool slave = strstr(optional, " master:") != NULL;
	cleanup_free char *path = m->source_subpath
				      ? xasprintf("%s/%s", m->source, m->source_subpath)
				      : xstrdup(m->source);
	if (m->propagation == PP_MOUNT_RSHARED && !shared)
		return pp_error_set(err, 0,
				    "path \"%s\" is mounted on \"%s\" but it is not a shared mount",
				    path, mountpoint);
	if (!shared && !slave)
		return pp_error_set(
		    err, 0,
		    "path \"%s\" is mounted on \"%s\" but it is not a shared or slave mount", path,
		    mountpoint);
	return 0;
}

/* The sources of in_volumes_ns mounts, cloned in cfg->volumes_ns_fd (only
 * there may a mount of that namespace be cloned), then back. */
static int clone_in_volumes_ns(const struct pp_container_config *cfg, int *trees,
			       struct pp_error **err)
{
	cleanup_mntns_visit struct pp_mntns_visit v = PP_MNTNS_VISIT_INIT;
	if (pp_mntns_enter(&v, cfg->volumes_ns_fd, err) < 0)
		return pp_error_wrap(err, "the pod's volumes namespace");
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct pp_mount_spec *m = &cfg->mounts[i];
		if (!m->in_volumes_ns)
			continue;
		trees[i] = pp_rootfs_mount_source(m, err);
		if (trees[i] < 0)
			return pp_error_wrap(err, "mount %s",
					     m->target != NULL ? m->target : "(null)");
	}
	return 0;
}

int pp_rootfs_clone_early(const struct pp_container_config *cfg, int *trees, struct pp_error **err)
{
	bool volumes_ns = false;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		trees[i] = -1;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct pp_mount_spec *m = &cfg->mounts[i];
		volumes_ns |= m->in_volumes_ns;
		if (m->in_volumes_ns ||
		    (m->propagation == PP_MOUNT_RPRIVATE && m->kind != PP_MOUNT_FD))
			continue;
		const char *target = m->target != NULL ? m->target : "(null)";
		/* A PP_MOUNT_FD source is the caller's detached tree. */
		if (m->kind == PP_MOUNT_BIND && check_bind_source(m, err) < 0)
			return pp_error_wrap(err, "mount %s", target);
		trees[i] = pp_rootfs_mount_source(m, err);
		if (trees[i] < 0)
			return pp_error_wrap(err, "mount %s", target);
	}
	if (volumes_ns && cfg->volumes_ns_fd < 0)
		return pp_error_set(err, EINVAL, "mounts from a volumes namespace, but none given");
	return volumes_ns ? clone_in_volumes_ns(cfg, trees, err) : 0;
}

int pp_mount_set_propagation(int tree, enum pp_mount_propagation_mode mode, struct pp_error **err)
{
	struct mount_attr ma = {.propagation = mode == PP_MOUNT_RSHARED	 ? MS_SHARED
					       : mode == PP_MOUNT_RSLAVE ? MS_SLAVE
									 : MS_PRIVATE};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
		return pp_error_set(err, errno, "set mount propagation %s",
				    mode == PP_MOUNT_RSHARED  ? "rshared"
				    : mode == PP_MOUNT_RSLAVE ? "rslave"
							      : "rprivate");
	return 0;
}

int pp_mount_refuse_shared_parent(int tfd, const char *root, struct pp_error **err)
{
	struct statx stx;
	if (statx(tfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
		return pp_error_set(err, errno, "statx");
	if (!(stx.stx_mask & STATX_MNT_ID))
		return pp_error_set(err, ENOTSUP, "statx: no mount id");
	cleanup_free char *mountpoint = NULL, *optional = NULL;
	if (lookup_mount(stx.stx_mnt_id, &mountpoint, &optional, err) < 0)
		return -1;
	if (strstr(optional, " shared:") == NULL)
		return 0;
	size_t n = strlen(root);
	const char *inside =
	    strncmp(mountpoint, root, n) == 0 && mountpoint[n] == '/' ? mountpoint + n : mountpoint;
	return pp_error_set(err, 0,
			    "it is inside the Bidirectional mount %s, where a mount would "
			    "propagate out of the container (to the host) and outlive it",
			    inside);
}

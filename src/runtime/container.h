/* src/runtime: owns one container process: start (the setup sequence
 * below), exec into a running one, its root filesystem, user and security
 * steps, its terminal. Must not include src/manifest, src/pod or anything
 * above it (it takes plain structs), print or exit (a child reports its
 * error through the sync pipe).
 *
 * One container: a process in its own mount namespace (and, unless shared, its
 * own PID namespace), joining the pod's namespaces, with an overlay root,
 * /proc /dev /sys mounted as runc does, the given mounts resolved safely
 * inside the root, then pivot_root, user, working directory and exec.
 * This layer knows nothing of YAML or pods: it takes plain structs. */
#ifndef PEAPOD_CONTAINER_H
#define PEAPOD_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/identity.h"
#include "util/error.h"

enum pp_mount_kind {
	PP_MOUNT_BIND,	/* source: a host path, bind-mounted (recursively) */
	PP_MOUNT_FD,	/* source_fd: a detached mount (fsmount/open_tree(OPEN_TREE_CLONE)),
			 * cloned in, so the same fd serves every container */
	PP_MOUNT_TMPFS, /* a new tmpfs with tmpfs_options */
};

/* A mount's propagation, as kubelet's CRI asks runc for it. */
enum pp_mount_propagation_mode {
	PP_MOUNT_RPRIVATE = 0, /* mountPropagation None: cut off from its source */
	/* HostToContainer: rslave, mounts made later under the source (on the
	 * host, or in a container with RSHARED) reach the container. The
	 * source must be on a shared or slave mount (BIND: checked). */
	PP_MOUNT_RSLAVE,
	/* Bidirectional: rshared, in the peer group of the source's mount, so
	 * that mounts made in the container reach the host and the other
	 * containers too. The source must be on a shared mount (BIND: checked). */
	PP_MOUNT_RSHARED,
};

struct pp_mount_spec {
	enum pp_mount_kind kind;
	const char *source; /* PP_MOUNT_BIND */
	int source_fd;	    /* PP_MOUNT_FD */
	/* optional path inside the source, resolved inside it (subPath): a
	 * symlink or ".." that would leave the source is an error, and so is a
	 * missing path. NULL = the source itself. */
	const char *source_subpath;
	const char *target; /* absolute path in the container, resolved inside its root */
	bool read_only;
	bool target_is_file;	   /* mount point created as an empty file when missing */
	const char *tmpfs_options; /* PP_MOUNT_TMPFS, e.g. "size=65536k,mode=1777" */
	/* PP_MOUNT_BIND of an image's Volumes entry: before the mount, what the
	 * container's root holds at target (a directory, resolved inside the
	 * root) is copied into source, owners, modes and times kept, as
	 * containerd's CRI seeds an image volume; nothing when the root has no
	 * directory there. */
	bool seed_from_root;
	enum pp_mount_propagation_mode propagation;
	/* PP_MOUNT_FD: source_fd is the root of a mount in the mount
	 * namespace cfg->volumes_ns_fd, cloned (recursively) from inside it */
	bool in_volumes_ns;
};

/* A host device node made in the container's /dev (the CRI's devices):
 * a node of the same type and number, or where mknod is not allowed the
 * host's node bind-mounted onto an empty file. */
struct pp_device_spec {
	const char *host_path; /* for the bind, and messages */
	const char *path;      /* "/dev/..." in the container */
	mode_t mode;	       /* S_IFCHR or S_IFBLK | permission bits */
	dev_t rdev;
};

struct pp_container_config {
	const char *name; /* used in error messages */

	/* Root filesystem: overlay of lower_dirs (topmost first) and upper_dir. */
	const char *const *lower_dirs;
	size_t n_lower_dirs;
	const char *upper_dir;	/* must exist, empty on first start */
	const char *work_dir;	/* must exist, same filesystem as upper_dir */
	const char *rootfs_dir; /* an empty directory used as the mount point */

	/* Namespaces: the container joins those of ns_pidfd (the infra process)
	 * listed in join_ns (CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS|CLONE_NEWPID).
	 * Without CLONE_NEWPID in join_ns, new_pid_ns gives the container its own
	 * PID namespace (its process is PID 1 there); false = the caller's. */
	int ns_pidfd;
	int join_ns;
	bool new_pid_ns;
	/* join_target_pid_ns: the PID namespace of target_pidfd's process
	 * instead (an ephemeral container's --target, CRI's
	 * NamespaceMode_TARGET: it sees that container's processes) */
	bool join_target_pid_ns;
	int target_pidfd;
	/* userns: the process enters the user namespace userns_fd (the pod's,
	 * owning its other namespaces) once its root is set up: the mounts are
	 * made by the host's root, the image layers idmapped into the
	 * namespace (the filesystem must support idmapped mounts), /dev owned
	 * by the namespace's root, id_base. The writable layer (upper_dir) and
	 * volumes are the caller's to own. */
	bool userns;
	int userns_fd;
	uint32_t id_base;

	/* A mount namespace some mounts take their source from
	 * (pp_mount_spec.in_volumes_ns), or -1. */
	int volumes_ns_fd;

	/* Device nodes added to /dev after the default ones. */
	const struct pp_device_spec *devices;
	size_t n_devices;

	/* Extra mounts after /proc, /dev, /dev/pts, /dev/mqueue, /sys; applied in order. */
	const struct pp_mount_spec *mounts;
	size_t n_mounts;

	/* The process. argv[0] without '/' is looked up in the PATH of envp
	 * inside the container. */
	char *const *argv;
	char *const *envp;
	struct pp_identity identity;

	int stdin_fd, stdout_fd, stderr_fd; /* dup'ed onto 0, 1, 2 in the child; -1 = /dev/null */
	/* tty: true: a pty of the container's devpts on 0, 1 and 2 instead (the
	 * std*_fd are not used), its controlling terminal; the master comes back
	 * in pp_container_process.pty_master. */
	bool tty;

	/* the container's cgroups, from pp_cgroup_procs_fds: the process is
	 * born in the cgroup2 one and moves itself into the others first */
	const int *cgroup_procs_fds;
	size_t n_cgroup_procs_fds;

	/* Written to /proc/self/oom_score_adj in the child when set. The caller
	 * picks a value the kernel accepts (not below its own without
	 * CAP_SYS_RESOURCE). */
	bool set_oom_score_adj;
	int oom_score_adj;
};

struct pp_container_process {
	pid_t pid;	/* in the caller's PID namespace */
	int pidfd;	/* owned by the caller */
	int pty_master; /* with tty, owned by the caller; else -1 */
	/* The container's mount namespace, sent by the child before its exec
	 * (owned by the caller; -1 if it could not): held, it keeps the
	 * container's mounts past its exit, so that the exit is not slowed
	 * by their teardown (umount of each, an RCU grace period). Whoever
	 * closes it last pays that: pp_discard_dir_after's child, off the path. */
	int mntns_fd;
};

/* Starts the container and returns once its process has exec'd. Any failure
 * during setup (bad mount, missing executable, bad user or working dir) is
 * returned here as an error naming the container and the step, and the
 * half-made process is gone: setup happens in the child's own mount
 * namespace, so nothing it mounted survives it. The child is a child of the
 * caller (wait for it through pidfd). The caller becomes non-dumpable
 * (PR_SET_DUMPABLE 0), so that the child is from its first instruction. */
int pp_container_start(const struct pp_container_config *cfg, struct pp_container_process *out,
		       struct pp_error **err);

/* The same in two halves, so that several containers set up at once (their
 * first cgroup v1 moves then share one RCU grace period, ~15 ms here, instead
 * of paying one each): spawn clones the child and returns; finish waits for
 * it to exec (or reports its setup error, the child killed and reaped). The
 * config may be freed after spawn (the child has its own copy). */
struct pp_container_spawn {
	char name[64];
	pid_t pid;
	int pidfd, sync_fd;
	int hand_sock; /* where the child sends its mount namespace (and pty master) */
	bool tty;
};
int pp_container_spawn(const struct pp_container_config *cfg, struct pp_container_spawn *sp,
		       struct pp_error **err);
int pp_container_spawn_finish(struct pp_container_spawn *sp, struct pp_container_process *out,
			      struct pp_error **err);

#endif

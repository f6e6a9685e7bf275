/* Internal to src/runtime: the steps of the container setup sequence that
 * live in their own files, and the defaults they use (all in one place). */
#ifndef PEAPOD_RUNTIME_INTERNAL_H
#define PEAPOD_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/container.h"
#include "security/seccomp.h"
#include "util/error.h"

/* Defaults, as runc sets them up for a Kubernetes container. */
#define PP_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PP_DEV_TMPFS_OPTIONS "mode=755,size=65536k"
#define PP_SHM_TMPFS_OPTIONS "mode=1777,size=65536k"
#define PP_DEVPTS_OPTIONS_NO_GID "newinstance,ptmxmode=0666,mode=0620"
#define PP_DEVPTS_GID 5	 /* tty */
#define PP_DIR_MODE 0755 /* mount points and working directories we create */
#define PP_DEV_NODE_MODE 0666
#define PP_PASSWD_PATH "/etc/passwd"
#define PP_GROUP_PATH "/etc/group"

/* rootfs.c */

/* Steps 3-6: clones the mount sources that must be cloned in the caller's
 * mount namespace, enters a mount namespace of its own, makes / recursively
 * private, mounts the overlay root at cfg->rootfs_dir, /proc /dev /sys and
 * cfg->mounts inside it. Returns an fd of the new root. */
int pp_rootfs_prepare(const struct pp_container_config *cfg, struct pp_error **err);

/* A new filesystem as a detached mount (fsopen, "key=value,flag" options,
 * fsmount with MOUNT_ATTR_* attrs). Returns its fd. */
int pp_fs_new(const char *fstype, const char *options, unsigned attrs, struct pp_error **err);

/* Attaches the detached mount mntfd at target, resolved (and created when
 * missing) inside the root. */
int pp_rootfs_attach(int rootfd, const char *target, int mntfd, bool as_file,
		     struct pp_error **err);

/* The source of one cfg->mounts entry, as a detached tree (a clone of a
 * bind source keeps its peer group). */
int pp_rootfs_mount_source(const struct pp_mount_spec *m, struct pp_error **err);

/* propagation.c: in the caller's mount namespace, clones into trees[i]
 * the source of every mount of cfg with propagation (once its host mount is
 * checked to allow it: containerd's words when not) or of kind
 * PP_MOUNT_FD; -1 for the others. */
int pp_rootfs_clone_early(const struct pp_container_config *cfg, int *trees, struct pp_error **err);

/* Refuses a mount at tfd (resolved inside the root mounted at root) when
 * the mount holding it is shared: inside an rshared (Bidirectional) mount,
 * a mount of ours would propagate to the host and outlive the container,
 * stacked anew at each restart (runc lets it; we do not). */
int pp_mount_refuse_shared_parent(int tfd, const char *root, struct pp_error **err);

/* Sets mode on the detached tree, recursively (rprivate, rslave, rshared). */
int pp_mount_set_propagation(int tree, enum pp_mount_propagation_mode mode, struct pp_error **err);

/* masked_paths.c: unless privileged or procMount Unmasked, the paths runc
 * masks (an empty read-only tmpfs over directories, /dev/null over files)
 * and those it makes read-only, resolved inside the root; missing ones are
 * skipped. */
int pp_rootfs_mask_paths(int rootfd, const struct pp_security *sec, struct pp_error **err);

/* readOnlyRootFilesystem: the root mount itself read-only (volumes and
 * /dev, /proc... keep their own flags). */
int pp_rootfs_make_read_only(int rootfd, struct pp_error **err);

/* Step 7: makes rootfd the root of the mount namespace and drops the old one. */
int pp_rootfs_pivot(int rootfd, struct pp_error **err);

/* user.c */

struct pp_exec_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, primary gid first */
	size_t n_groups;
};

/* Resolves id's user, has_uid/has_gid and extra_gids against the given
 * passwd and group files (those of the container), as runc does. */
int pp_user_resolve(const struct pp_identity *id, const char *passwd_path, const char *group_path,
		    struct pp_exec_user *out, struct pp_error **err);

void pp_exec_user_free(struct pp_exec_user *u);

/* setgroups, setresgid, setresuid. */
int pp_user_switch(const struct pp_exec_user *u, struct pp_error **err);

/* security.c: capabilities, no_new_privs and seccomp, shared by the
 * children of pp_container_start and pp_exec_start. */

/* In the parent, before the clone: compiles the seccomp filter sec asks
 * for (none when privileged or Unconfined: f->len 0). */
int pp_security_prepare(const struct pp_security *sec, struct pp_seccomp_filter *f,
			struct pp_error **err);

/* In the child, still root, before the user switch: the bounding set, KEEPCAPS, and the filter when
 * it cannot wait for no_new_privs (installing one without it needs CAP_SYS_ADMIN). */
int pp_child_security_before_user(const struct pp_security *sec, const struct pp_seccomp_filter *f,
				  struct pp_error **err);

/* After the user switch: the capability sets. */
int pp_child_security_after_user(const struct pp_security *sec, struct pp_error **err);

/* The very last step before exec: no_new_privs, then the filter. */
int pp_child_security_last(const struct pp_security *sec, const struct pp_seccomp_filter *f,
			   struct pp_error **err);

/* child.c: the pieces the children of pp_container_start and pp_exec_start
 * share. Their set-up errors reach the parent through a sync pipe
 * (util/child_report.h): EOF means the child exec'd. */

/* Enters the user namespace userns_fd (its maps written) and becomes its
 * root: full capabilities there, none left on the host. */
int pp_child_enter_userns(int userns_fd, struct pp_error **err);
/* The second half, for a process that joined it another way. */
int pp_child_become_userns_root(struct pp_error **err);

/* Writes the calling process's /proc/self/oom_score_adj. */
int pp_child_set_oom_score_adj(int value, struct pp_error **err);

/* Puts the fds on 0, 1, 2 (-1 = /dev/null, opened in the current root) and
 * closes every other fd but keep_fd (-1: none). */
int pp_child_setup_stdio(int stdin_fd, int stdout_fd, int stderr_fd, int keep_fd,
			 struct pp_error **err);

/* execve, looking argv[0] up in envp's PATH (else PP_DEFAULT_PATH) when it
 * has no '/'. Returns only on failure, with runc's messages: -1, or
 * PP_CHILD_EXEC_NOT_FOUND when argv[0] is in no PATH directory (err->status
 * 0, "exec: \"x\": executable file not found in $PATH"). */
#define PP_CHILD_EXEC_NOT_FOUND (-2)
int pp_child_exec(char *const *argv, char *const *envp, struct pp_error **err);

/* pty.c */

/* In the child, in the container's mount namespace: a pty of its devpts
 * with the slave as controlling terminal (the caller is a session leader),
 * owned by uid, of the given size (0 x 0 = left as is); the master goes to
 * the parent over sock. Returns the slave. */
int pp_child_open_pty(uid_t uid, unsigned short rows, unsigned short cols, int sock,
		      struct pp_error **err);

/* The tags of what a child sends its parent (util/fdpass.h). */
#define PP_FD_TAG_PTY 't'
#define PP_FD_TAG_MOUNT_NS 'm'

/* In the parent once the child has exec'd: the master it sent over sock. */
int pp_receive_pty_master(int sock, struct pp_error **err);

#endif

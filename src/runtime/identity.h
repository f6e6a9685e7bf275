/* Who a process in a container runs as and what it may do: its user,
 * groups, working directory, capabilities, no_new_privs, seccomp filter and
 * LSM labels. The pod layer works it out once per container (from the
 * image and the securityContext); the container's own process, every
 * exec into it (kubectl exec, exec probes and hooks) and the exec request
 * the supervisor answers all carry this same struct. */
#ifndef PEAPOD_IDENTITY_H
#define PEAPOD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "security/caps.h"

enum pp_seccomp_mode {
	PP_SECCOMP_RUNTIME_DEFAULT = 0, /* the profile containerd ships */
	PP_SECCOMP_UNCONFINED,
	PP_SECCOMP_LOCALHOST, /* an OCI JSON profile file: seccomp_profile */
};

/* What the container's processes (and every process exec'd into it) may do.
 * The zero value is the runtime default: containerd's 14 capabilities
 * (bounding = permitted = effective, inheritable and ambient empty), masked
 * and read-only /proc paths, /sys read-only, the default seccomp profile. */
struct pp_security {
	/* All capabilities, no masked or read-only paths, /sys writable, no
	 * seccomp, every device (read by the device code). */
	bool privileged;
	bool has_caps; /* false: the default set */
	pp_caps_t caps;
	bool no_new_privs; /* allowPrivilegeEscalation: false */
	enum pp_seccomp_mode seccomp;
	const char *seccomp_profile; /* PP_SECCOMP_LOCALHOST: path on the host */
	bool unmasked_proc;	     /* procMount: Unmasked */
	/* has_paths: these masked and read-only paths instead of the
	 * defaults (the CRI's lists; NULL-terminated, NULL = none) */
	bool has_paths;
	char *const *masked_paths;
	char *const *readonly_paths;
	bool read_only_rootfs;
	/* Set at exec when not NULL (the host must have the LSM): an AppArmor
	 * profile name, an SELinux process label "user:role:type:level". */
	const char *apparmor_profile;
	const char *selinux_label;
};

/* The capabilities sec grants (privileged: all of them; NULL: the default). */
pp_caps_t pp_security_caps(const struct pp_security *sec);

/* How many of supplementalGroups and fsGroup a process gets (the struct
 * holds them by value, so that it can be copied whole). */
#define PP_MAX_EXTRA_GIDS 64

/* The zero value is root, in "/", with the runtime default security. The
 * strings are borrowed: they live as long as what filled the struct. */
struct pp_identity {
	const char *cwd; /* NULL or "" = "/" */
	/* NULL/"" = root; else "name", "uid", "uid:gid", "name:group",
	 * resolved against the container's /etc/passwd and /etc/group. */
	const char *user;
	bool has_uid, has_gid; /* securityContext runAsUser/runAsGroup override user */
	uid_t uid;
	gid_t gid;
	gid_t extra_gids[PP_MAX_EXTRA_GIDS]; /* added to the user's groups */
	size_t n_extra_gids;
	struct pp_security security;
};

#endif

/* What this kernel and machine offer peapod, found at run time (for
 * `peapod version`): each probe asks the kernel without changing anything. */
#ifndef PEAPOD_OPS_FEATURES_H
#define PEAPOD_OPS_FEATURES_H

#include <stdbool.h>

struct pp_features {
	const char *cgroup_layout;    /* "v1", "hybrid", "v2", or "unknown" */
	char kernel[65];	      /* uname's release */
	bool idmapped_mounts;	      /* mount_setattr (5.12+; idmapped overlay layers: 5.19+) */
	bool seccomp, seccomp_notify; /* seccomp filters; SECCOMP_RET_USER_NOTIF */
	bool user_namespaces;	      /* user.max_user_namespaces > 0 */
	bool pidfd;		      /* pidfd_open */
	bool clone3_into_cgroup;      /* clone3 and a cgroup2 hierarchy (5.7+) */
	bool overlayfs;		      /* "overlay" in /proc/filesystems */
	bool isal;		      /* libisal2 loads (fast gunzip) */
};

void pp_features_probe(struct pp_features *f);

/* The image store's record format (image records' "version"). */
int pp_store_format_version(void);

#endif

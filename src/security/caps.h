/* Linux capabilities: names as Kubernetes writes them, the default set a
 * container gets (containerd's), and the steps that give a process exactly
 * a set (bounding, then capset after the user switch). Pure code apart from
 * the pp_caps_apply_* steps, which act on the calling process. */
#ifndef PEAPOD_CAPS_H
#define PEAPOD_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* A set of capabilities, bit N = capability N. */
typedef uint64_t pp_caps_t;

#define PP_CAP_BIT(n) ((pp_caps_t)1 << (n))

#define PP_CAP_SYS_ADMIN 21

/* The highest capability this code knows (CAP_CHECKPOINT_RESTORE). */
#define PP_CAP_LAST_KNOWN 40

/* containerd's 14 default capabilities (docker's too): CHOWN,
 * DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP,
 * SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE = 0xa80425fb. */
pp_caps_t pp_caps_default(void);

/* Every capability known to the kernel (cap_last_cap), as privileged and
 * capabilities.add ALL grant them. */
pp_caps_t pp_caps_all(void);

/* The capability number of name ("SYS_ADMIN", "CAP_SYS_ADMIN", any case),
 * or -1 when it is no capability. */
int pp_cap_from_name(const char *name);

/* "SYS_ADMIN" for 21; NULL when unknown. */
const char *pp_cap_name(int cap);

/* Kubernetes' capabilities.add/drop on top of the default set, as
 * containerd applies them: add ALL, drop ALL, then each add, then each
 * drop. Names must be valid (checked at parse time); unknown ones are
 * ignored here. */
pp_caps_t pp_caps_compute(char *const *add, char *const *drop);

/* The steps, in the child, in this order: */

/* 1. while still root: removes every capability outside keep from the
 *    bounding set (no exec can gain them back) and keeps the permitted set
 *    across the user switch (PR_SET_KEEPCAPS). */
int pp_caps_apply_bounding(pp_caps_t keep, struct pp_error **err);

/* 2. after setresuid: permitted = effective = caps (as far as we hold
 *    them), inheritable empty, ambient empty; KEEPCAPS off again. A
 *    non-root user then loses them at exec, as with containerd. */
int pp_caps_apply_sets(pp_caps_t caps, struct pp_error **err);

#endif

/* src/security: owns capabilities (names, sets, the steps that apply
 * them) and seccomp filters (the default profile, OCI JSON, compiling);
 * uses only src/util. Must not know pods or containers, print or exit.
 *
 * seccomp filters built with libseccomp: the default profile containerd and
 * runc ship (moby's default.json: an allow-list by syscall, with argument
 * filters for clone, personality and socket, and syscalls that depend on
 * the granted capabilities), and Localhost profiles in the OCI JSON format.
 * Filters are compiled to classic BPF in the parent, so that the child only
 * installs them (no allocation, no library state after the clone). */
#ifndef PEAPOD_SECCOMP_H
#define PEAPOD_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "security/caps.h"
#include "util/error.h"

#define PP_SECCOMP_MAX_ARGS 6

/* One argument comparison, as OCI writes it: for MASKED_EQ, value is the
 * mask and value_two the expected value. op is a libseccomp enum scmp_compare. */
struct pp_seccomp_arg {
	unsigned index;
	int op;
	uint64_t value, value_two;
};

struct pp_seccomp_rule {
	const char *const *names; /* NULL-terminated */
	uint32_t action;	  /* SCMP_ACT_* (the kernel's SECCOMP_RET_* values) */
	struct pp_seccomp_arg args[PP_SECCOMP_MAX_ARGS];
	size_t n_args;
	pp_caps_t caps_include; /* only when one of these is granted (0: always) */
	pp_caps_t caps_exclude; /* not when one of these is granted */
	bool skip;		/* for other architectures only */
};

struct pp_seccomp_profile {
	uint32_t default_action;
	const struct pp_seccomp_rule *rules;
	size_t n_rules;
	bool owned; /* parsed: names and rules are on the heap */
};

/* The default profile (static data). */
const struct pp_seccomp_profile *pp_seccomp_default_profile(void);

/* Parses an OCI (or Docker) JSON seccomp profile. Refuses what it does not
 * understand (an unknown action or operator, a bad index) with the field. */
int pp_seccomp_profile_parse(const char *json, size_t len, struct pp_seccomp_profile *out,
			     struct pp_error **err);
void pp_seccomp_profile_free(struct pp_seccomp_profile *p);

/* A compiled filter. */
struct pp_seccomp_filter {
	struct sock_filter *insns;
	unsigned short len;
};

/* Compiles profile for a process granted caps. Syscalls numbered above
 * every one the profile names get ENOSYS rather than the default action, as
 * runc does, so that a program probing a syscall newer than the profile
 * falls back instead of failing on EPERM. */
int pp_seccomp_compile(const struct pp_seccomp_profile *profile, pp_caps_t caps,
		       struct pp_seccomp_filter *out, struct pp_error **err);

/* pp_seccomp_compile, with the last result kept in memory and every result
 * as a file in the cache directory (when set), keyed by a hash of the
 * profile, the caps and libseccomp's version. */
int pp_seccomp_compile_cached(const struct pp_seccomp_profile *profile, pp_caps_t caps,
			      struct pp_seccomp_filter *out, struct pp_error **err);

/* Where compiled filters are kept across processes (a directory only root
 * writes, created 0700 when missing); NULL: nowhere. */
void pp_seccomp_set_cache_dir(const char *dir);
const char *pp_seccomp_cache_dir(void);

/* The default profile compiled for caps (cached as above). */
int pp_seccomp_compile_default(pp_caps_t caps, struct pp_seccomp_filter *out,
			       struct pp_error **err);

/* Reads, parses and compiles a Localhost profile file. */
int pp_seccomp_compile_file(const char *path, pp_caps_t caps, struct pp_seccomp_filter *out,
			    struct pp_error **err);

void pp_seccomp_filter_free(struct pp_seccomp_filter *f);

/* In the child: installs f on the calling thread. Needs no_new_privs or
 * CAP_SYS_ADMIN. */
int pp_seccomp_install(const struct pp_seccomp_filter *f, struct pp_error **err);

#endif

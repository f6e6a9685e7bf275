/* Compiling a seccomp profile with libseccomp, and installing the result. */
#include "security/seccomp.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* Instructions put in front of libseccomp's program: on the native
 * architecture, a syscall numbered above max_nr returns ENOSYS. */
#define ENOSYS_STUB_LEN 5

static bool rule_applies(const struct pp_seccomp_rule *r, pp_caps_t caps)
{
	if (r->skip)
		return false;
	if (r->caps_include != 0 && (caps & r->caps_include) == 0)
		return false;
	return (caps & r->caps_exclude) == 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct pp_seccomp_rule *r, uint32_t default_action,
		    int *max_nr)
{
	struct scmp_arg_cmp cmp[PP_SECCOMP_MAX_ARGS];
	for (size_t i = 0; i < r->n_args; i++) {
		const struct pp_seccomp_arg *a = &r->args[i];
		cmp[i] = (struct scmp_arg_cmp){.arg = a->index,
					       .op = (enum scmp_compare)a->op,
					       .datum_a = a->value,
					       .datum_b = a->value_two};
	}
	for (const char *const *name = r->names; name != NULL && *name != NULL; name++) {
		int nr = seccomp_syscall_resolve_name(*name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to libseccomp: as runc, skipped */
		int native = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, *name);
		if (native > *max_nr)
			*max_nr = native;
		/* libseccomp refuses a rule whose action is the default one. */
		if (r->action == default_action)
			continue;
		/* A syscall that one of the architectures lacks, or an argument
		 * filter it cannot express there (socket through socketcall on
		 * x86), is left to the default action there. */
		(void)seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->n_args, cmp);
	}
	return 0;
}

/* Exports ctx's program into memory (libseccomp 2.5 writes it to an fd). */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *n,
		      struct pp_error **err)
{
	cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "seccomp: memfd_create");
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return pp_error_set(err, -r, "seccomp: export the filter");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return pp_error_set(err, errno, "seccomp: stat the filter");
	size_t len = (size_t)st.st_size;
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		return pp_error_set(err, EINVAL, "seccomp: filter of %zu bytes", len);
	*insns = xmalloc(len + ENOSYS_STUB_LEN * sizeof(struct sock_filter));
	if (pread(fd, *insns + ENOSYS_STUB_LEN, len, 0) != (ssize_t)len) {
		free(*insns);
		*insns = NULL;
		return pp_error_set(err, errno, "seccomp: read the filter");
	}
	*n = len / sizeof(struct sock_filter);
	return 0;
}

static void put_enosys_stub(struct sock_filter *p, int max_nr)
{
	/* Jumps are relative to the next instruction. */
	p[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, arch));
	p[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3);
	p[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, nr));
	p[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (unsigned)max_nr, 0, 1);
	p[4] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
}

int pp_seccomp_compile(const struct pp_seccomp_profile *profile, pp_caps_t caps,
		       struct pp_seccomp_filter *out, struct pp_error **err)
{
	*out = (struct pp_seccomp_filter){0};
	scmp_filter_ctx ctx = seccomp_init(profile->default_action);
	if (ctx == NULL)
		return pp_error_set(err, EINVAL, "seccomp: bad default action %#x",
				    profile->default_action);
	int ret = 0, max_nr = -1;
	/* 32-bit x86 programs (int 0x80) get the same list, on their numbers. */
	int r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (r < 0 && r != -EEXIST)
		ret = pp_error_set(err, -r, "seccomp: add the x86 architecture");
	for (size_t i = 0; ret == 0 && i < profile->n_rules; i++)
		if (rule_applies(&profile->rules[i], caps))
			ret = add_rule(ctx, &profile->rules[i], profile->default_action, &max_nr);
	/* We set no_new_privs ourselves when asked to. */
	if (ret == 0 && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
		ret = pp_error_set(err, -r, "seccomp: attribute");
	/* A binary tree over syscall numbers instead of a list: the kernel
	 * runs the filter for every syscall number when it is installed (to
	 * cache the allowed ones), ~0.6 ms for the list, and every syscall of
	 * the container walks it. */
	if (ret == 0 && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		ret = pp_error_set(err, -r, "seccomp: optimize attribute");
	struct sock_filter *insns = NULL;
	size_t n = 0;
	if (ret == 0)
		ret = export_bpf(ctx, &insns, &n, err);
	seccomp_release(ctx);
	if (ret < 0)
		return -1;
	size_t skip = ENOSYS_STUB_LEN;
	if (max_nr >= 0 &&
	    ((SECCOMP_RET_ACTION_FULL & profile->default_action) == SECCOMP_RET_ERRNO)) {
		put_enosys_stub(insns, max_nr);
		skip = 0;
	}
	n += ENOSYS_STUB_LEN - skip;
	if (n > BPF_MAXINSNS) {
		free(insns);
		return pp_error_set(err, E2BIG, "seccomp: filter of %zu instructions", n);
	}
	if (skip != 0)
		memmove(insns, insns + skip, n * sizeof(*insns));
	out->insns = insns;
	out->len = (unsigned short)n;
	return 0;
}

/* ---- the compiled-filter cache ----
 * libseccomp takes ~5 ms to compile the default profile for two
 * architectures (its rule database is copied at every rule added), a third
 * of a pod's start budget. The result depends only on the profile, the
 * capabilities and libseccomp, so it is kept: in memory for the process,
 * and as a file under the cache directory for the next processes. */

static char *cache_dir;

const char *pp_seccomp_cache_dir(void)
{
	return cache_dir;
}

void pp_seccomp_set_cache_dir(const char *dir)
{
	free(cache_dir);
	cache_dir = dir != NULL ? xstrdup(dir) : NULL;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
/* Changes when the layout of what is hashed or of the file changes. */
#define CACHE_FORMAT 2

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

/* A key for everything the compiled program depends on. */
static uint64_t profile_key(const struct pp_seccomp_profile *p, pp_caps_t caps)
{
	const struct scmp_version *v = seccomp_version();
	uint64_t h = fnv(FNV_OFFSET, &(int){CACHE_FORMAT}, sizeof(int));
	if (v != NULL)
		h = fnv(h, v, sizeof(*v));
	h = fnv(h, &caps, sizeof(caps));
	h = fnv(h, &p->default_action, sizeof(p->default_action));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pp_seccomp_rule *r = &p->rules[i];
		if (!rule_applies(r, caps))
			continue;
		for (const char *const *n = r->names; n != NULL && *n != NULL; n++)
			h = fnv(h, *n, strlen(*n) + 1);
		h = fnv(h, &r->action, sizeof(r->action));
		for (size_t k = 0; k < r->n_args; k++) {
			const struct pp_seccomp_arg *a = &r->args[k];
			uint64_t words[4] = {a->index, (uint64_t)a->op, a->value, a->value_two};
			h = fnv(h, words, sizeof(words));
		}
		h = fnv(h, "|", 1);
	}
	return h;
}

static int cache_load(const char *path, struct pp_seccomp_filter *out)
{
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter)))
		return -1;
	struct sock_filter *insns = xmalloc((size_t)st.st_size);
	if (pread(fd, insns, (size_t)st.st_size, 0) != (ssize_t)st.st_size) {
		free(insns);
		return -1;
	}
	out->insns = insns;
	out->len = (unsigned short)((size_t)st.st_size / sizeof(struct sock_filter));
	return 0;
}

/* Best effort: a cache that cannot be written only costs time. Written
 * whole under a temporary name, then renamed. */
static void cache_store(const char *path, const struct pp_seccomp_filter *f)
{
	if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
		return;
	cleanup_free char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	size_t len = f->len * sizeof(struct sock_filter);
	if (write(fd, f->insns, len) != (ssize_t)len || rename(tmp, path) < 0)
		unlink(tmp);
}

int pp_seccomp_compile_cached(const struct pp_seccomp_profile *profile, pp_caps_t caps,
			      struct pp_seccomp_filter *out, struct pp_error **err)
{
	static struct pp_seccomp_filter last;
	static uint64_t last_key;
	uint64_t key = profile_key(profile, caps);
	if (last.insns == NULL || last_key != key) {
		struct pp_seccomp_filter f = {0};
		cleanup_free char *path = cache_dir != NULL ? xasprintf("%s/%016llx.bpf", cache_dir,
									(unsigned long long)key)
							    : NULL;
		if (path == NULL || cache_load(path, &f) < 0) {
			if (pp_seccomp_compile(profile, caps, &f, err) < 0)
				return -1;
			if (path != NULL)
				cache_store(path, &f);
		}
		pp_seccomp_filter_free(&last);
		last = f;
		last_key = key;
	}
	out->len = last.len;
	out->insns = xmalloc(last.len * sizeof(struct sock_filter));
	memcpy(out->insns, last.insns, last.len * sizeof(struct sock_filter));
	return 0;
}

int pp_seccomp_compile_default(pp_caps_t caps, struct pp_seccomp_filter *out, struct pp_error **err)
{
	return pp_seccomp_compile_cached(pp_seccomp_default_profile(), caps, out, err);
}

/* Bound on a Localhost profile file: moby's default is 13 KiB. */
#define PROFILE_MAX_BYTES (1 << 20)

int pp_seccomp_compile_file(const char *path, pp_caps_t caps, struct pp_seccomp_filter *out,
			    struct pp_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pp_error_set(err, errno, "seccomp profile %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return pp_error_set(err, errno, "seccomp profile %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > PROFILE_MAX_BYTES)
		return pp_error_set(err, EINVAL,
				    "seccomp profile %s: not a regular file of at most %d bytes",
				    path, PROFILE_MAX_BYTES);
	cleanup_free char *buf = xmalloc((size_t)st.st_size + 1);
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < 0)
		return pp_error_set(err, errno, "seccomp profile %s", path);
	struct pp_seccomp_profile p;
	if (pp_seccomp_profile_parse(buf, (size_t)n, &p, err) < 0)
		return pp_error_wrap(err, "seccomp profile %s", path);
	int r = pp_seccomp_compile_cached(&p, caps, out, err);
	pp_seccomp_profile_free(&p);
	return r < 0 ? pp_error_wrap(err, "seccomp profile %s", path) : 0;
}

void pp_seccomp_filter_free(struct pp_seccomp_filter *f)
{
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
}

int pp_seccomp_install(const struct pp_seccomp_filter *f, struct pp_error **err)
{
	struct sock_fprog prog = {.len = f->len, .filter = f->insns};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return pp_error_set(err, errno, "install the seccomp filter");
	return 0;
}

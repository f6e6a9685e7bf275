/* The device allow-list of a container cgroup: the v1 devices controller, or
 * on cgroup v2 an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached
 * with BPF_CGROUP_DEVICE (as runc's devicefilter and crun's ebpf.c build it),
 * loaded with raw bpf(2) calls. */
#include "cgroup/cgroup_ops.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "util/cleanup.h"
#include "util/settings.h"

/* One rule: type 'c' or 'b', major/minor (-1 = any), access "rwm" letters. */
struct dev_rule {
	char type;
	int major, minor;
	const char *access;
};

/* runc's AllowedDevices (libcontainer/specconv), without /dev/net/tun:
 * mknod of any node (a node made inside the container is still useless
 * without read/write access), and the devices every container gets. */
static const struct dev_rule default_rules[] = {
    {'c', -1, -1, "m"},	   /* mknod of any character device */
    {'b', -1, -1, "m"},	   /* mknod of any block device */
    {'c', 1, 3, "rwm"},	   /* /dev/null */
    {'c', 1, 5, "rwm"},	   /* /dev/zero */
    {'c', 1, 7, "rwm"},	   /* /dev/full */
    {'c', 1, 8, "rwm"},	   /* /dev/random */
    {'c', 1, 9, "rwm"},	   /* /dev/urandom */
    {'c', 5, 0, "rwm"},	   /* /dev/tty */
    {'c', 5, 1, "rwm"},	   /* /dev/console */
    {'c', 5, 2, "rwm"},	   /* /dev/ptmx */
    {'c', 136, -1, "rwm"}, /* /dev/pts/N */
};
#define N_RULES (sizeof(default_rules) / sizeof(default_rules[0]))
#define DEVICES_V1_ROOT "/sys/fs/cgroup/devices"
#define BPF_LOG_SIZE 4096

/* The v1 devices hierarchy is mounted (the cgroup layer then joins it). */
static bool have_v1_devices(void)
{
	struct statfs sfs;
	return statfs(DEVICES_V1_ROOT, &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC;
}

enum pp_devices_backend pp_devices_backend(void)
{
	enum pp_cgroup_layout layout;
	if (pp_cgroup_layout(&layout, NULL) < 0)
		return PP_DEVICES_NONE;
	if (layout == PP_CGROUP_V2)
		return PP_DEVICES_BPF;
	bool bpf = pp_settings()->cgroup_devices_bpf;
	if (have_v1_devices() && !(layout == PP_CGROUP_HYBRID && bpf))
		return PP_DEVICES_V1;
	return layout == PP_CGROUP_HYBRID ? PP_DEVICES_BPF : PP_DEVICES_NONE;
}

static int write_rule(const char *file, const char *line, struct pp_error **err)
{
	cleanup_close int fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", file);
	size_t len = strlen(line);
	if (write(fd, line, len) != (ssize_t)len)
		return pp_error_set(err, errno, "write \"%s\" to %s", line, file);
	return 0;
}

static char *rule_line(const struct dev_rule *r)
{
	char maj[16] = "*", min[16] = "*";
	if (r->major >= 0)
		snprintf(maj, sizeof(maj), "%d", r->major);
	if (r->minor >= 0)
		snprintf(min, sizeof(min), "%d", r->minor);
	return xasprintf("%c %s:%s %s", r->type, maj, min, r->access);
}

/* The default rules, then the extra ones; *out freed by the caller. */
static size_t all_rules(const struct pp_cgroup_device *extra, size_t n, struct dev_rule **out)
{
	struct dev_rule *r = xmalloc(sizeof(*r) * (N_RULES + n));
	memcpy(r, default_rules, sizeof(default_rules));
	for (size_t i = 0; i < n; i++)
		r[N_RULES + i] = (struct dev_rule){.type = extra[i].type,
						   .major = (int)extra[i].major,
						   .minor = (int)extra[i].minor,
						   .access = extra[i].access};
	*out = r;
	return N_RULES + n;
}

static int apply_v1(const struct pp_cgroup *cg, const struct dev_rule *rules, size_t n_rules,
		    struct pp_error **err)
{
	cleanup_free char *dir = pp_cgroup_v1_dir(cg, "devices");
	if (dir == NULL)
		return pp_error_set(err, ENOTSUP, "no v1 devices hierarchy");
	cleanup_free char *deny = xasprintf("%s/devices.deny", dir);
	cleanup_free char *allow = xasprintf("%s/devices.allow", dir);
	/* Deny everything first: the list inherited from the parent allows all. */
	if (write_rule(deny, "a", err) < 0)
		return -1;
	/* Then one rule a write(2), all through one open file. */
	cleanup_close int fd = open(allow, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", allow);
	for (size_t i = 0; i < n_rules; i++) {
		cleanup_free char *line = rule_line(&rules[i]);
		size_t len = strlen(line);
		if (write(fd, line, len) != (ssize_t)len)
			return pp_error_set(err, errno, "write \"%s\" to %s", line, allow);
	}
	return 0;
}

/* The eBPF program. Its context is struct bpf_cgroup_dev_ctx: access_type
 * (access << 16 | type), major, minor. Each rule is a block that jumps to
 * the next block when the request does not match and returns 1 (allow) when
 * it does; past the last block the program returns 0 (deny). */
#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define INSNS_PER_RULE 8
#define INSNS_FIXED (6 + 2)

static unsigned access_bits(const char *a)
{
	unsigned bits = 0;
	for (; *a; a++)
		bits |= *a == 'r'   ? BPF_DEVCG_ACC_READ
			: *a == 'w' ? BPF_DEVCG_ACC_WRITE
				    : BPF_DEVCG_ACC_MKNOD;
	return bits;
}

static size_t emit_rule(struct bpf_insn *p, const struct dev_rule *r)
{
	const unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	unsigned acc = access_bits(r->access);
	/* Instructions after the type test up to the end of the block. */
	short rest = (short)((acc != all ? 3 : 0) + (r->major >= 0) + (r->minor >= 0) + 2);
	size_t n = 0;
	int type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
	p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, rest, type);
	if (acc != all) {
		/* Every requested access bit must be in the rule's. */
		p[n++] = INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
		p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int)acc);
		p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3,
			      (short)((r->major >= 0) + (r->minor >= 0) + 2), 0);
	}
	if (r->major >= 0)
		p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (short)((r->minor >= 0) + 2),
			      r->major);
	if (r->minor >= 0)
		p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 2, r->minor);
	p[n++] = INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static size_t build_program(struct bpf_insn *p, const struct dev_rule *rules, size_t n_rules)
{
	size_t n = 0;
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = 0; i < n_rules; i++)
		n += emit_rule(p + n, &rules[i]);
	p[n++] = INSN(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int apply_bpf(const struct pp_cgroup *cg, const struct dev_rule *rules, size_t n_rules,
		     struct pp_error **err)
{
	cleanup_free char *dir = pp_cgroup_unified_dir(cg);
	if (dir == NULL)
		return pp_error_set(err, ENOTSUP, "no unified cgroup hierarchy");
	cleanup_free struct bpf_insn *insns =
	    xmalloc(sizeof(*insns) * (INSNS_FIXED + n_rules * INSNS_PER_RULE));
	size_t n = build_program(insns, rules, n_rules);
	union bpf_attr load = {0};
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)insns;
	load.insn_cnt = (uint32_t)n;
	load.license = (uint64_t)(uintptr_t) "GPL";
	cleanup_close int prog = bpf_call(BPF_PROG_LOAD, &load);
	if (prog < 0) {
		/* Load again with the verifier's log, for the message only (a
		 * log on every load would cost and can overflow). */
		int e = errno;
		cleanup_free char *log = xmalloc(BPF_LOG_SIZE);
		load.log_buf = (uint64_t)(uintptr_t)log;
		load.log_size = BPF_LOG_SIZE;
		load.log_level = 1;
		bpf_call(BPF_PROG_LOAD, &load);
		return pp_error_set(err, e, "load the device eBPF program: %.200s", log);
	}
	cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return pp_error_set(err, errno, "open %s", dir);
	/* Without BPF_F_ALLOW_MULTI a second attach (a reused cgroup) replaces
	 * the program; the attachment keeps it alive after we close its fd. */
	union bpf_attr attach = {0};
	attach.target_fd = (uint32_t)cgfd;
	attach.attach_bpf_fd = (uint32_t)prog;
	attach.attach_type = BPF_CGROUP_DEVICE;
	if (bpf_call(BPF_PROG_ATTACH, &attach) < 0)
		return pp_error_set(err, errno, "attach the device eBPF program to %s", dir);
	return 0;
}

int pp_cgroup_devices_apply_extra(const struct pp_cgroup *cg, bool privileged,
				  const struct pp_cgroup_device *extra, size_t n,
				  struct pp_error **err)
{
	/* A privileged container keeps the parent's list: every device. */
	if (privileged)
		return 0;
	enum pp_devices_backend b = pp_devices_backend();
	if (b == PP_DEVICES_NONE)
		return 1;
	cleanup_free struct dev_rule *rules = NULL;
	size_t n_rules = all_rules(extra, n, &rules);
	int ret = b == PP_DEVICES_BPF ? apply_bpf(cg, rules, n_rules, err)
				      : apply_v1(cg, rules, n_rules, err);
	return ret < 0 ? pp_error_wrap(err, "device allow-list") : 0;
}

int pp_cgroup_devices_apply(const struct pp_cgroup *cg, bool privileged, struct pp_error **err)
{
	return pp_cgroup_devices_apply_extra(cg, privileged, NULL, 0, err);
}

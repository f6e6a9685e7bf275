/* Capabilities: names, sets, and the raw capset(2)/prctl(2) steps (no
 * libcap: three system calls do not need a library). */
#include "security/caps.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

static const char *const cap_names[PP_CAP_LAST_KNOWN + 1] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

pp_caps_t pp_caps_default(void)
{
	static const int defaults[] = {
	    CAP_CHOWN,	 CAP_DAC_OVERRIDE, CAP_FSETID,		 CAP_FOWNER,
	    CAP_MKNOD,	 CAP_NET_RAW,	   CAP_SETGID,		 CAP_SETUID,
	    CAP_SETFCAP, CAP_SETPCAP,	   CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
	    CAP_KILL,	 CAP_AUDIT_WRITE,
	};
	pp_caps_t set = 0;
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		set |= PP_CAP_BIT(defaults[i]);
	return set;
}

/* The kernel's last capability, read once. */
static int cap_last_cap(void)
{
	static int last = -1;
	if (last >= 0)
		return last;
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	int v = n > 0 ? atoi(buf) : PP_CAP_LAST_KNOWN;
	last = v > 0 && v < 64 ? v : PP_CAP_LAST_KNOWN;
	return last;
}

pp_caps_t pp_caps_all(void)
{
	int last = cap_last_cap();
	return last >= 63 ? ~(pp_caps_t)0 : PP_CAP_BIT(last + 1) - 1;
}

int pp_cap_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i <= PP_CAP_LAST_KNOWN; i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return i;
	return -1;
}

const char *pp_cap_name(int cap)
{
	return cap >= 0 && cap <= PP_CAP_LAST_KNOWN ? cap_names[cap] : NULL;
}

static bool has_all(char *const *names)
{
	for (; names != NULL && *names != NULL; names++)
		if (strcasecmp(*names, "ALL") == 0)
			return true;
	return false;
}

static pp_caps_t named(char *const *names)
{
	pp_caps_t set = 0;
	for (; names != NULL && *names != NULL; names++) {
		int cap = pp_cap_from_name(*names);
		if (cap >= 0)
			set |= PP_CAP_BIT(cap);
	}
	return set;
}

pp_caps_t pp_caps_compute(char *const *add, char *const *drop)
{
	pp_caps_t set = pp_caps_default();
	if (has_all(add))
		set = pp_caps_all();
	if (has_all(drop))
		set = 0;
	set |= named(add);
	set &= ~named(drop);
	return set & pp_caps_all();
}

int pp_caps_apply_bounding(pp_caps_t keep, struct pp_error **err)
{
	int last = cap_last_cap();
	for (int cap = 0; cap <= last; cap++) {
		if (keep & PP_CAP_BIT(cap))
			continue;
		/* EINVAL: a capability this kernel does not have. */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return pp_error_set(err, errno, "drop %s from the bounding set",
					    pp_cap_name(cap) ? pp_cap_name(cap) : "?");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return pp_error_set(err, errno, "prctl PR_SET_KEEPCAPS");
	return 0;
}

int pp_caps_apply_sets(pp_caps_t caps, struct pp_error **err)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return pp_error_set(err, errno, "capget");
	/* What we still hold bounds what we can grant (this host's root lacks
	 * SYS_RESOURCE, say). */
	pp_caps_t held = (pp_caps_t)data[0].permitted | ((pp_caps_t)data[1].permitted << 32);
	caps &= held;
	for (int i = 0; i < 2; i++) {
		data[i].effective = data[i].permitted = (uint32_t)(caps >> (32 * i));
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return pp_error_set(err, errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return pp_error_set(err, errno, "clear the ambient set");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return pp_error_set(err, errno, "prctl PR_SET_KEEPCAPS");
	return 0;
}

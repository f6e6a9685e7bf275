/* Kernel feature probes: each calls the syscall in a way that fails
 * harmlessly, and tells "absent" (ENOSYS) from "present but refused". */
#include "ops/features.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "image/gunzip.h"
#include "image/image.h"
#include "util/cleanup.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* A syscall called with arguments it must refuse: is it there at all? */
static bool syscall_exists(long nr, long a, long b)
{
	errno = 0;
	long r = syscall(nr, a, b, 0L, 0L, 0L);
	return !(r < 0 && errno == ENOSYS);
}

static bool seccomp_notify_supported(void)
{
	struct seccomp_notif_sizes sizes;
	return syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
}

static bool userns_allowed(void)
{
	FILE *f = fopen("/proc/sys/user/max_user_namespaces", "re");
	long max = 0;
	if (f == NULL)
		return false;
	if (fscanf(f, "%ld", &max) != 1)
		max = 0;
	fclose(f);
	return max > 0;
}

static bool has_filesystem(const char *name)
{
	FILE *f = fopen("/proc/filesystems", "re");
	char line[128];
	bool found = false;
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		const char *fs = strrchr(line, '\t');
		found = strcmp(fs ? fs + 1 : line, name) == 0;
	}
	fclose(f);
	return found;
}

static bool pidfd_supported(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void pp_features_probe(struct pp_features *f)
{
	*f = (struct pp_features){.cgroup_layout = "unknown"};
	cleanup_error struct pp_error *err = NULL;
	enum pp_cgroup_layout layout;
	if (pp_cgroup_layout(&layout, &err) == 0)
		f->cgroup_layout = pp_cgroup_layout_name(layout);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	/* bad fd and NULL attr: EBADF/EINVAL where the syscall exists */
	f->idmapped_mounts = syscall_exists(SYS_mount_setattr, -1, 0);
	f->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 || errno != EINVAL;
	f->seccomp_notify = f->seccomp && seccomp_notify_supported();
	f->user_namespaces = userns_allowed();
	f->pidfd = pidfd_supported();
	/* clone3(NULL, 0): EINVAL where it exists; CLONE_INTO_CGROUP needs cgroup2 */
	f->clone3_into_cgroup =
	    syscall_exists(SYS_clone3, 0, 0) &&
	    (strcmp(f->cgroup_layout, "v2") == 0 || strcmp(f->cgroup_layout, "hybrid") == 0);
	f->overlayfs = has_filesystem("overlay");
	struct pp_gunzip *z = pp_gunzip_new();
	f->isal = z != NULL;
	pp_gunzip_free(z);
}

int pp_store_format_version(void)
{
	return pp_image_store_format();
}

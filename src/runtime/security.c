/* Capabilities, no_new_privs and seccomp for a container's process and for
 * every process exec'd into it, in runc's order: bounding set and KEEPCAPS
 * as root, the user switch, capset, then no_new_privs and the seccomp
 * filter right before exec (the filter earlier when no_new_privs is not
 * wanted, since installing it then needs CAP_SYS_ADMIN). */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/cleanup.h"

static const struct pp_security default_security; /* zero: the runtime default */

static const struct pp_security *or_default(const struct pp_security *sec)
{
	return sec != NULL ? sec : &default_security;
}

pp_caps_t pp_security_caps(const struct pp_security *sec)
{
	sec = or_default(sec);
	if (sec->privileged)
		return pp_caps_all();
	return sec->has_caps ? sec->caps : pp_caps_default();
}

int pp_security_prepare(const struct pp_security *sec, struct pp_seccomp_filter *f,
			struct pp_error **err)
{
	*f = (struct pp_seccomp_filter){0};
	sec = or_default(sec);
	/* containerd gives a privileged container no filter at all. */
	if (sec->privileged)
		return 0;
	switch (sec->seccomp) {
	case PP_SECCOMP_UNCONFINED:
		return 0;
	case PP_SECCOMP_LOCALHOST:
		if (sec->seccomp_profile == NULL)
			return pp_error_set(err, EINVAL, "seccomp: Localhost without a profile");
		return pp_seccomp_compile_file(sec->seccomp_profile, pp_security_caps(sec), f, err);
	case PP_SECCOMP_RUNTIME_DEFAULT:
		return pp_seccomp_compile_default(pp_security_caps(sec), f, err);
	default:
		return pp_error_set(err, EINVAL, "seccomp: unknown mode %d", (int)sec->seccomp);
	}
}

int pp_child_security_before_user(const struct pp_security *sec, const struct pp_seccomp_filter *f,
				  struct pp_error **err)
{
	sec = or_default(sec);
	if (!sec->no_new_privs && f->len > 0 && pp_seccomp_install(f, err) < 0)
		return -1;
	return pp_caps_apply_bounding(pp_security_caps(sec), err);
}

int pp_child_security_after_user(const struct pp_security *sec, struct pp_error **err)
{
	return pp_caps_apply_sets(pp_security_caps(sec), err);
}

/* Writes text to a /proc/self/attr file: the LSM applies it at the next exec. */
static int write_attr(const char *path, const char *text, struct pp_error **err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	if (n != (ssize_t)strlen(text))
		return pp_error_set(err, n < 0 ? saved : EIO, "set %s to %s", path, text);
	return 0;
}

int pp_child_security_last(const struct pp_security *sec, const struct pp_seccomp_filter *f,
			   struct pp_error **err)
{
	sec = or_default(sec);
	if (sec->apparmor_profile != NULL) {
		cleanup_free char *cmd = xasprintf("exec %s", sec->apparmor_profile);
		if (write_attr("/proc/self/attr/apparmor/exec", cmd, err) < 0)
			return pp_error_wrap(err, "AppArmor profile");
	}
	if (sec->selinux_label != NULL &&
	    write_attr("/proc/self/attr/exec", sec->selinux_label, err) < 0)
		return pp_error_wrap(err, "SELinux label");
	if (sec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return pp_error_set(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	if (sec->no_new_privs && f->len > 0 && pp_seccomp_install(f, err) < 0)
		return -1;
	return 0;
}

/* A container's image user and securityContext (merged with the pod's) as
 * the runtime's plain pp_identity, and the checks kubelet makes before it
 * creates a container: runAsNonRoot, and a Localhost seccomp profile that exists
 * and compiles. Done when the pod is created, so a refused container
 * creates nothing. */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "pod/pod_internal.h"
#include "security/seccomp.h"
#include "util/cleanup.h"
#include "util/settings.h"

#define SECCOMP_DIR_NAME                                                                           \
	"seccomp" /* under the store root, like kubelet's /var/lib/kubelet/seccomp */

/* The uid part of the image's USER ("uid", "uid:gid", "name", "name:group"):
 * 1 and *uid when numeric, 0 when a name, -1 when empty (root). */
static int image_uid(const char *user, long long *uid)
{
	if (user == NULL || user[0] == '\0' || user[0] == ':')
		return -1;
	size_t len = strcspn(user, ":");
	if (strspn(user, "0123456789") != len)
		return 0;
	*uid = strtoll(user, NULL, 10);
	return 1;
}

/* kubelet's verifyRunAsNonRoot, with its messages. */
static int check_non_root(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			  struct pp_error **err)
{
	const struct pp_security_context *sc = &c->spec->security;
	const struct pp_pod_security *ps = &pod->spec->security;
	bool non_root = sc->has_run_as_non_root	  ? sc->run_as_non_root
			: ps->has_run_as_non_root ? ps->run_as_non_root
						  : false;
	if (!non_root)
		return 0;
	const char *pod_name = pod->spec->name, *name = c->spec->name;
	if (sc->has_run_as_user || ps->has_run_as_user) {
		int64_t uid = sc->has_run_as_user ? sc->run_as_user : ps->run_as_user;
		if (uid == 0)
			return pp_error_set(
			    err, EPERM,
			    "container's runAsUser breaks non-root policy (pod: \"%s\", "
			    "container: %s)",
			    pod_name, name);
		return 0;
	}
	long long uid = 0;
	const char *user = c->image->config.user;
	int kind = image_uid(user, &uid);
	if (kind == 0)
		return pp_error_set(
		    err, EPERM,
		    "container has runAsNonRoot and image has non-numeric user (%s), "
		    "cannot verify user is non-root (pod: \"%s\", container: %s)",
		    user, pod_name, name);
	if (kind < 0 || uid == 0)
		return pp_error_set(err, EPERM,
				    "container has runAsNonRoot and image will run as root (pod: "
				    "\"%s\", container: %s)",
				    pod_name, name);
	return 0;
}

static char *seccomp_dir(const char *store_root)
{
	const char *dir = pp_settings()->seccomp_dir;
	if (dir != NULL)
		return xstrdup(dir);
	return xasprintf("%s/%s", store_root, SECCOMP_DIR_NAME);
}

/* seccompProfile: the container's, else the pod's, else RuntimeDefault
 * (kubelet's --seccomp-default; without it Kubernetes runs Unconfined). */
static int resolve_seccomp(const struct pp_pod_instance *pod, struct pp_pod_container *c,
			   const char *store_root, struct pp_error **err)
{
	const struct pp_security_context *sc = &c->spec->security;
	const struct pp_pod_security *ps = &pod->spec->security;
	const char *type = sc->seccomp_type ? sc->seccomp_type : ps->seccomp_type;
	const char *profile =
	    sc->seccomp_type ? sc->seccomp_localhost_profile : ps->seccomp_localhost_profile;
	struct pp_security *sec = &c->identity.security;
	if (type == NULL || strcmp(type, "RuntimeDefault") == 0) {
		sec->seccomp = PP_SECCOMP_RUNTIME_DEFAULT;
		return 0;
	}
	if (strcmp(type, "Unconfined") == 0) {
		sec->seccomp = PP_SECCOMP_UNCONFINED;
		return 0;
	}
	sec->seccomp = PP_SECCOMP_LOCALHOST;
	cleanup_free char *dir = seccomp_dir(store_root);
	c->seccomp_profile = xasprintf("%s/%s", dir, profile);
	sec->seccomp_profile = c->seccomp_profile;
	/* Compiled once now, so that a missing or bad profile refuses the pod
	 * instead of failing each start. */
	struct pp_seccomp_filter f;
	if (sec->privileged)
		return 0;
	if (pp_seccomp_compile_file(c->seccomp_profile, pp_security_caps(sec), &f, err) < 0)
		return -1;
	pp_seccomp_filter_free(&f);
	return 0;
}

/* Whether this host runs the LSM (as kubelet and runc check it). */
static bool host_has_apparmor(void)
{
	char c = 'N';
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 'N';
		close(fd);
	}
	return c == 'Y';
}

static bool host_has_selinux(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

/* appArmorProfile and seLinuxOptions: applied where the host has the LSM,
 * refused where it does not (kubelet's wording for AppArmor). AppArmor's
 * RuntimeDefault would be a profile the runtime loads; peapod has none. */
static int resolve_lsm(const struct pp_pod_instance *pod, struct pp_pod_container *c,
		       struct pp_error **err)
{
	const struct pp_security_context *sc = &c->spec->security;
	const struct pp_pod_security *ps = &pod->spec->security;
	const char *aa = sc->apparmor_type ? sc->apparmor_type : ps->apparmor_type;
	const char *aa_profile =
	    sc->apparmor_type ? sc->apparmor_localhost_profile : ps->apparmor_localhost_profile;
	if (aa != NULL && strcmp(aa, "Unconfined") != 0) {
		if (!host_has_apparmor())
			return pp_error_set(
			    err, ENOTSUP,
			    "Cannot enforce AppArmor: AppArmor is not enabled on the "
			    "host");
		if (strcmp(aa, "Localhost") != 0)
			return pp_error_set(err, ENOTSUP,
					    "appArmorProfile %s: peapod has no default AppArmor "
					    "profile; use Localhost",
					    aa);
		c->identity.security.apparmor_profile = aa_profile;
	}
	const struct pp_selinux_options *o = sc->selinux.set ? &sc->selinux : &ps->selinux;
	if (!o->set)
		return 0;
	if (!host_has_selinux())
		return pp_error_set(err, ENOTSUP,
				    "seLinuxOptions: SELinux is not enabled on the host");
	if (o->user == NULL || o->role == NULL || o->type == NULL || o->level == NULL)
		return pp_error_set(err, EINVAL,
				    "seLinuxOptions: user, role, type and level are all needed");
	c->selinux_label = xasprintf("%s:%s:%s:%s", o->user, o->role, o->type, o->level);
	c->identity.security.selinux_label = c->selinux_label;
	return 0;
}

/* Who: the image's USER and WorkingDir unless the manifest overrides them;
 * runAsUser/runAsGroup; supplementalGroups and fsGroup as extra groups. */
static void resolve_user(const struct pp_pod_instance *pod, struct pp_pod_container *c)
{
	const struct pp_security_context *sc = &c->spec->security;
	const struct pp_pod_security *ps = &pod->spec->security;
	struct pp_identity *id = &c->identity;
	id->cwd = c->spec->working_dir ? c->spec->working_dir : c->image->config.working_dir;
	id->user = c->image->config.user;
	id->has_uid = sc->has_run_as_user || ps->has_run_as_user;
	id->uid = (uid_t)(sc->has_run_as_user ? sc->run_as_user : ps->run_as_user);
	id->has_gid = sc->has_run_as_group || ps->has_run_as_group;
	id->gid = (gid_t)(sc->has_run_as_group ? sc->run_as_group : ps->run_as_group);
	/* supplementalGroups and fsGroup join the user's groups, as kubelet does. */
	for (size_t g = 0;
	     g < ps->n_supplemental_groups && id->n_extra_gids < PP_MAX_EXTRA_GIDS - 1; g++)
		id->extra_gids[id->n_extra_gids++] = (gid_t)ps->supplemental_groups[g];
	if (ps->has_fs_group)
		id->extra_gids[id->n_extra_gids++] = (gid_t)ps->fs_group;
}

int pp_pod_container_identity(const struct pp_pod_instance *pod, struct pp_pod_container *c,
			      const char *store_root, struct pp_error **err)
{
	const struct pp_security_context *sc = &c->spec->security;
	struct pp_security *sec = &c->identity.security;
	c->identity = (struct pp_identity){0};
	resolve_user(pod, c);
	if (check_non_root(pod, c, err) < 0)
		return -1;
	sec->privileged = sc->has_privileged && sc->privileged;
	sec->has_caps = true;
	sec->caps = sec->privileged ? pp_caps_all() : pp_caps_compute(sc->caps_add, sc->caps_drop);
	/* allowPrivilegeEscalation defaults to true; false sets no_new_privs. */
	sec->no_new_privs = sc->has_allow_privilege_escalation && !sc->allow_privilege_escalation;
	sec->read_only_rootfs = sc->has_read_only_root_filesystem && sc->read_only_root_filesystem;
	sec->unmasked_proc = sc->proc_mount != NULL && strcmp(sc->proc_mount, "Unmasked") == 0;
	sec->has_paths = c->spec->has_cri_paths;
	sec->masked_paths = c->spec->masked_paths;
	sec->readonly_paths = c->spec->readonly_paths;
	if (resolve_seccomp(pod, c, store_root, err) < 0 || resolve_lsm(pod, c, err) < 0)
		return pp_error_wrap(err, "container %s", c->spec->name);
	return 0;
}

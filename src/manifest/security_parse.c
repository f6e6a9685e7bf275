/* securityContext at pod and container level. */
#include <string.h>
#include <strings.h>

#include "security/caps.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

struct seccomp {
	char *type;
	char *localhost_profile;
};

static const struct field seccomp_fields[] = {
    F_STR_REQ("type", struct seccomp, type),
    F_STR("localhostProfile", struct seccomp, localhost_profile),
    F_END,
};

static bool relative_inside(const char *p)
{
	if (p[0] == '\0' || p[0] == '/')
		return false;
	for (const char *q = p; *q != '\0'; q += strcspn(q, "/"), q += strspn(q, "/"))
		if (strncmp(q, "..", 2) == 0 && (q[2] == '/' || q[2] == '\0'))
			return false;
	return true;
}

/* seccompProfile and appArmorProfile have one shape; a seccomp
 * localhostProfile is a path under the seccomp directory. */
static int parse_profile(struct pctx *c, const struct pp_ynode *n, const char *path, char **type,
			 char **localhost, bool is_path)
{
	static const char *const types[] = {"RuntimeDefault", "Unconfined", "Localhost", NULL};
	struct seccomp s = {0};
	int v = 0;
	int r = walk_map(c, n, path, seccomp_fields, &s);
	*type = s.type;
	*localhost = s.localhost_profile;
	if (r < 0)
		return -1;
	cleanup_free char *tpath = path_key(path, "type");
	cleanup_free char *lpath = path_key(path, "localhostProfile");
	if (get_enum(c, pp_ymap_get(n, "type"), tpath, types, &v) < 0)
		return -1;
	bool localhost_type = strcmp(s.type, "Localhost") == 0;
	if (localhost_type && s.localhost_profile == NULL)
		return perr(c, n->pos, lpath, "must be set when type is Localhost");
	if (!localhost_type && s.localhost_profile != NULL)
		return perr(c, pp_ymap_get(n, "localhostProfile")->pos, lpath,
			    "can only be set when type is Localhost");
	/* Kubernetes' own rule: a path relative to the seccomp directory that
	 * cannot leave it. */
	if (is_path && localhost_type && !relative_inside(s.localhost_profile))
		return perr(c, pp_ymap_get(n, "localhostProfile")->pos, lpath,
			    "must be a relative path without '..'");
	return 0;
}

int parse_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path, char **type,
		  char **localhost)
{
	return parse_profile(c, n, path, type, localhost, true);
}

static int parse_pod_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod_security *s = obj;
	return parse_seccomp(c, n, path, &s->seccomp_type, &s->seccomp_localhost_profile);
}

static int parse_pod_apparmor(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod_security *s = obj;
	return parse_profile(c, n, path, &s->apparmor_type, &s->apparmor_localhost_profile, false);
}

static const struct field selinux_fields[] = {
    F_STR("user", struct pp_selinux_options, user),
    F_STR("role", struct pp_selinux_options, role),
    F_STR("type", struct pp_selinux_options, type),
    F_STR("level", struct pp_selinux_options, level),
    F_END,
};

/* seLinuxOptions (the pod layer refuses it where SELinux is not enabled). */
static int parse_selinux(struct pctx *c, const struct pp_ynode *n, const char *path,
			 struct pp_selinux_options *o)
{
	o->set = true;
	return walk_map(c, n, path, selinux_fields, o);
}

static int parse_pod_selinux(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_selinux(c, n, path, &((struct pp_pod_security *)obj)->selinux);
}

static int parse_supplemental_groups(struct pctx *c, const struct pp_ynode *n, const char *path,
				     void *obj)
{
	struct pp_pod_security *s = obj;
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	s->supplemental_groups = xmalloc(n->n * sizeof(int64_t));
	s->n_supplemental_groups = n->n;
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = path_index(path, i);
		if (get_int64(c, n->child[i], p, 0, INT32_MAX, &s->supplemental_groups[i]) < 0)
			return -1;
	}
	return 0;
}

static const struct field sysctl_fields[] = {
    F_STR_REQ("name", struct pp_kv, key),
    F_STR_REQ("value", struct pp_kv, value),
    F_END,
};

/* Only sysctls of the pod's own namespaces (kubelet's namespaced set): any
 * other would be written to the host's kernel. */
static bool namespaced_sysctl(const char *name)
{
	static const char *const prefixes[] = {"net.",	     "net/",	   "kernel.shm",
					       "kernel/shm", "kernel.msg", "kernel/msg",
					       "fs.mqueue.", "fs/mqueue/", NULL};
	if (strcmp(name, "kernel.sem") == 0 || strcmp(name, "kernel/sem") == 0)
		return true;
	for (const char *const *p = prefixes; *p != NULL; p++)
		if (strncmp(name, *p, strlen(*p)) == 0)
			return true;
	return false;
}

static int parse_sysctl(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_kv *kv = elem;
	if (walk_map(c, n, path, sysctl_fields, elem) < 0)
		return -1;
	cleanup_free char *npath = path_key(path, "name");
	const struct pp_ynode *name = pp_ymap_get(n, "name");
	if (!namespaced_sysctl(kv->key) || strstr(kv->key, "..") != NULL)
		return perr(c, name->pos, npath,
			    "sysctl \"%s\" is not namespaced (net.*, kernel.shm*, kernel.msg*, "
			    "kernel.sem, fs.mqueue.*): it would change the host",
			    kv->key);
	return 0;
}

static int parse_sysctls(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod_security *s = obj;
	return walk_seq(c, n, path, sizeof(struct pp_kv), (void **)&s->sysctls, &s->n_sysctls,
			parse_sysctl);
}

#define T struct pp_pod_security
static const struct field pod_security_fields[] = {
    F_ID_HAS("runAsUser", T, run_as_user, has_run_as_user),
    F_ID_HAS("runAsGroup", T, run_as_group, has_run_as_group),
    F_BOOL_HAS("runAsNonRoot", T, run_as_non_root, has_run_as_non_root),
    F_ID_HAS("fsGroup", T, fs_group, has_fs_group),
    F_FN("supplementalGroups", parse_supplemental_groups),
    F_FN("sysctls", parse_sysctls),
    F_FN("seccompProfile", parse_pod_seccomp),
    F_IGN("fsGroupChangePolicy", PP_YSCALAR),
    F_IGN("supplementalGroupsPolicy", PP_YSCALAR),
    F_IGN("seLinuxChangePolicy", PP_YSCALAR),
    F_FN("seLinuxOptions", parse_pod_selinux),
    F_IGN("windowsOptions", PP_YMAP),
    F_FN("appArmorProfile", parse_pod_apparmor),
    F_END,
};
#undef T

int parse_security_context(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod *pod = obj;
	return walk_map(c, n, path, pod_security_fields, &pod->security);
}

#define T struct pp_security_context
static const struct field capabilities_fields[] = {
    F_STRV("add", T, caps_add),
    F_STRV("drop", T, caps_drop),
    F_END,
};

/* Names without CAP_ as Kubernetes writes them (CAP_X and any case are
 * taken too, as containerd does), or ALL; anything else is refused here
 * rather than when the container starts. */
static int check_cap_names(struct pctx *c, const struct pp_ynode *n, const char *path,
			   const char *key)
{
	const struct pp_ynode *list = pp_ymap_get(n, key);
	if (list == NULL || list->kind != PP_YSEQ)
		return 0;
	cleanup_free char *kpath = path_key(path, key);
	for (size_t i = 0; i < list->n; i++) {
		const struct pp_ynode *e = list->child[i];
		if (e->kind != PP_YSCALAR || strcasecmp(e->value, "ALL") == 0 ||
		    pp_cap_from_name(e->value) >= 0)
			continue;
		cleanup_free char *p = path_index(kpath, i);
		return perr(c, e->pos, p, "unknown capability \"%s\"", e->value);
	}
	return 0;
}

static int parse_capabilities(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	if (walk_map(c, n, path, capabilities_fields, obj) < 0)
		return -1;
	if (check_cap_names(c, n, path, "add") < 0 || check_cap_names(c, n, path, "drop") < 0)
		return -1;
	return 0;
}

static int parse_container_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	struct pp_security_context *s = obj;
	return parse_seccomp(c, n, path, &s->seccomp_type, &s->seccomp_localhost_profile);
}

static int parse_container_apparmor(struct pctx *c, const struct pp_ynode *n, const char *path,
				    void *obj)
{
	struct pp_security_context *s = obj;
	return parse_profile(c, n, path, &s->apparmor_type, &s->apparmor_localhost_profile, false);
}

static int parse_container_selinux(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	return parse_selinux(c, n, path, &((struct pp_security_context *)obj)->selinux);
}

static int parse_proc_mount(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"Default", "Unmasked", NULL};
	struct pp_security_context *s = obj;
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	s->proc_mount = xstrdup(words[v]);
	return 0;
}

static const struct field container_security_fields[] = {
    F_ID_HAS("runAsUser", T, run_as_user, has_run_as_user),
    F_ID_HAS("runAsGroup", T, run_as_group, has_run_as_group),
    F_BOOL_HAS("runAsNonRoot", T, run_as_non_root, has_run_as_non_root),
    F_BOOL_HAS("privileged", T, privileged, has_privileged),
    F_BOOL_HAS("readOnlyRootFilesystem", T, read_only_root_filesystem,
	       has_read_only_root_filesystem),
    F_BOOL_HAS("allowPrivilegeEscalation", T, allow_privilege_escalation,
	       has_allow_privilege_escalation),
    F_FN("capabilities", parse_capabilities),
    F_FN("seccompProfile", parse_container_seccomp),
    F_FN("procMount", parse_proc_mount),
    F_FN("seLinuxOptions", parse_container_selinux),
    F_IGN("windowsOptions", PP_YMAP),
    F_FN("appArmorProfile", parse_container_apparmor),
    F_END,
};
#undef T

static bool adds_sys_admin(char **caps)
{
	for (; caps && *caps; caps++)
		if (pp_cap_from_name(*caps) == PP_CAP_SYS_ADMIN)
			return true;
	return false;
}

int parse_container_security(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_security_context *s = &((struct pp_container *)obj)->security;
	s->pos = n->pos;
	if (walk_map(c, n, path, container_security_fields, s) < 0)
		return -1;
	if (!s->has_allow_privilege_escalation || s->allow_privilege_escalation)
		return 0;
	cleanup_free char *p = path_key(path, "allowPrivilegeEscalation");
	struct pp_pos pos = pp_ymap_get(n, "allowPrivilegeEscalation")->pos;
	if (s->has_privileged && s->privileged)
		return perr(c, pos, p,
			    "cannot set allowPrivilegeEscalation to false and "
			    "privileged to true");
	if (adds_sys_admin(s->caps_add))
		return perr(c, pos, p,
			    "cannot set allowPrivilegeEscalation to false and "
			    "capabilities.add CAP_SYS_ADMIN");
	return 0;
}

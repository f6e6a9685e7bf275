/* securityContext at pod and container level. */
#include <string.h>

#include "spec/parse_internal.h"
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

int parse_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path, char **type,
		  char **localhost)
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
	return 0;
}

static int parse_pod_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_pod_security *s = obj;
	return parse_seccomp(c, n, path, &s->seccomp_type, &s->seccomp_localhost_profile);
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

static int parse_sysctl(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	return walk_map(c, n, path, sysctl_fields, elem);
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
    F_IGN("seLinuxOptions", PP_YMAP),
    F_IGN("windowsOptions", PP_YMAP),
    F_IGN("appArmorProfile", PP_YMAP),
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

static int parse_capabilities(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return walk_map(c, n, path, capabilities_fields, obj);
}

static int parse_container_seccomp(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	struct pp_security_context *s = obj;
	return parse_seccomp(c, n, path, &s->seccomp_type, &s->seccomp_localhost_profile);
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
    F_IGN("seLinuxOptions", PP_YMAP),
    F_IGN("windowsOptions", PP_YMAP),
    F_IGN("appArmorProfile", PP_YMAP),
    F_END,
};
#undef T

static bool adds_sys_admin(char **caps)
{
	for (; caps && *caps; caps++)
		if (strcmp(*caps, "SYS_ADMIN") == 0 || strcmp(*caps, "CAP_SYS_ADMIN") == 0)
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

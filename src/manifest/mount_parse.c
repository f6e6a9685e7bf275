/* volumeMounts of a container. Whether the volume exists is checked in
 * validate.c, once all volumes are known. */
#include <string.h>

#include "manifest/parse_internal.h"
#include "util/cleanup.h"

static int parse_propagation(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"None", "HostToContainer", "Bidirectional", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	struct pp_volume_mount *m = obj;
	m->propagation = (enum pp_mount_propagation)v;
	m->propagation_pos = n->pos;
	return 0;
}

static int parse_rro(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	static const char *const words[] = {"Disabled", "IfPossible", "Enabled", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct pp_volume_mount *)obj)->recursive_read_only = xstrdup(words[v]);
	return 0;
}

#define T struct pp_volume_mount
static const struct field mount_fields[] = {
    F_STR_REQ("name", T, name),
    F_STR_REQ("mountPath", T, mount_path),
    F_BOOL("readOnly", T, read_only),
    F_STR("subPath", T, sub_path),
    F_STR("subPathExpr", T, sub_path_expr),
    F_FN("mountPropagation", parse_propagation),
    F_FN("recursiveReadOnly", parse_rro),
    F_END,
};
#undef T

static bool has_backstep(const char *p)
{
	cleanup_free char *copy = xstrdup(p);
	char *save = NULL;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		if (strcmp(tok, "..") == 0)
			return true;
	return false;
}

/* subPath is resolved below the volume: relative, and never climbing out. */
static int check_sub_path(struct pctx *c, const struct pp_ynode *n, const char *path,
			  const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	cleanup_free char *p = path_key(path, key);
	struct pp_pos pos = pp_ymap_get(n, key)->pos;
	if (value[0] == '/')
		return perr(c, pos, p, "must be a relative path, got \"%s\"", value);
	if (has_backstep(value))
		return perr(c, pos, p, "must not contain '..', got \"%s\"", value);
	return 0;
}

static int check_mount(struct pctx *c, const struct pp_ynode *n, const char *path,
		       const struct pp_volume_mount *m)
{
	if (m->mount_path[0] != '/') {
		cleanup_free char *p = path_key(path, "mountPath");
		return perr(c, m->mount_path_pos, p, "must be an absolute path, got \"%s\"",
			    m->mount_path);
	}
	if (check_sub_path(c, n, path, "subPath", m->sub_path) < 0 ||
	    check_sub_path(c, n, path, "subPathExpr", m->sub_path_expr) < 0)
		return -1;
	if (m->sub_path != NULL && m->sub_path_expr != NULL) {
		return perr_key(c, n, path, "subPathExpr",
				"subPathExpr and subPath are mutually exclusive");
	}
	if (m->recursive_read_only != NULL && strcmp(m->recursive_read_only, "Disabled") != 0 &&
	    (!m->read_only || m->propagation != PP_PROPAGATION_NONE)) {
		return perr_key(
		    c, n, path, "recursiveReadOnly",
		    "may only be set when readOnly is true and mountPropagation is None");
	}
	return 0;
}

static int parse_mount(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_volume_mount *m = elem;
	m->pos = n->pos;
	if (walk_map(c, n, path, mount_fields, m) < 0)
		return -1;
	m->name_pos = pp_ymap_get(n, "name")->pos;
	m->mount_path_pos = pp_ymap_get(n, "mountPath")->pos;
	return check_mount(c, n, path, m);
}

int parse_volume_mounts(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	return walk_seq(c, n, path, sizeof(struct pp_volume_mount), (void **)&ct->volume_mounts,
			&ct->n_volume_mounts, parse_mount);
}

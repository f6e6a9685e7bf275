/* env and envFrom: values, the downward API, and keys of this host's
 * ConfigMaps and Secrets (resolved by the pod layer at each start). */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

#include "manifest/config_object.h"

static bool is_supported_field_path(const char *p)
{
	static const char *const plain[] = {"metadata.name",
					    "metadata.namespace",
					    "metadata.uid",
					    "spec.nodeName",
					    "spec.serviceAccountName",
					    "status.hostIP",
					    "status.hostIPs",
					    "status.podIP",
					    "status.podIPs",
					    NULL};
	static const char *const subscripted[] = {"metadata.labels['", "metadata.annotations['",
						  NULL};
	for (int i = 0; plain[i]; i++)
		if (strcmp(p, plain[i]) == 0)
			return true;
	for (int i = 0; subscripted[i]; i++) {
		size_t n = strlen(subscripted[i]), len = strlen(p);
		if (strncmp(p, subscripted[i], n) == 0 && len > n + 2 &&
		    strcmp(p + len - 2, "']") == 0)
			return true;
	}
	return false;
}

static int parse_field_ref(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_env_var *e = obj;
	e->source = PP_ENV_FIELD_REF;
	if (parse_field_ref_path(c, n, path, &e->field_path) < 0)
		return -1;
	if (!is_supported_field_path(e->field_path)) {
		return perr_key(c, n, path, "fieldPath", "unsupported fieldPath \"%s\"",
				e->field_path);
	}
	return 0;
}

static int parse_divisor(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_env_var *e = obj;
	if (get_quantity(c, n, path, &e->divisor) < 0)
		return -1;
	if (e->divisor.milli == 0)
		return perr(c, n->pos, path, "must be greater than 0");
	return 0;
}

static const struct field resource_ref_fields[] = {
    F_STR("containerName", struct pp_env_var, container_name),
    F_STR_REQ("resource", struct pp_env_var, resource),
    F_FN("divisor", parse_divisor),
    F_END,
};

static int parse_resource_ref(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_env_var *e = obj;
	e->source = PP_ENV_RESOURCE_FIELD_REF;
	if (walk_map(c, n, path, resource_ref_fields, e) < 0)
		return -1;
	if (!pp_resource_ref_supported(e->resource)) {
		return perr_key(c, n, path, "resource", "unsupported resource \"%s\"", e->resource);
	}
	return check_resource_divisor(c, n, path, e->resource, &e->divisor);
}

static const struct field key_ref_fields[] = {
    F_STR("name", struct pp_env_var, ref_name),
    F_STR_REQ("key", struct pp_env_var, ref_key),
    F_BOOL("optional", struct pp_env_var, ref_optional),
    F_END,
};

/* configMapKeyRef / secretKeyRef, checked as the API server does. */
static int parse_key_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
			 struct pp_env_var *e, enum pp_env_source source)
{
	e->source = source;
	if (walk_map(c, n, path, key_ref_fields, e) < 0)
		return -1;
	if (e->ref_name == NULL || e->ref_name[0] == '\0') {
		cleanup_free char *p = path_key(path, "name");
		return perr(c, n->pos, p, "required field \"name\" is missing");
	}
	if (!pp_is_dns1123_subdomain(e->ref_name)) {
		return perr_key(c, n, path, "name",
				"invalid name \"%s\": must be a lowercase RFC 1123 subdomain",
				e->ref_name);
	}
	const char *why = pp_object_key_error(e->ref_key);
	if (why != NULL) {
		return perr_key(c, n, path, "key", "invalid key \"%s\": %s", e->ref_key, why);
	}
	return 0;
}

static int parse_configmap_key_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	return parse_key_ref(c, n, path, obj, PP_ENV_CONFIGMAP_KEY);
}

static int parse_secret_key_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	return parse_key_ref(c, n, path, obj, PP_ENV_SECRET_KEY);
}

static const struct field value_from_fields[] = {
    F_FN("fieldRef", parse_field_ref),
    F_FN("resourceFieldRef", parse_resource_ref),
    F_FN("configMapKeyRef", parse_configmap_key_ref),
    F_FN("secretKeyRef", parse_secret_key_ref),
    F_REFUSE("fileKeyRef", "fileKeyRef is not supported"),
    F_END,
};

static int parse_value_from(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	if (walk_map(c, n, path, value_from_fields, obj) < 0)
		return -1;
	size_t sources = 0;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		sources += !ynode_is_null(n->child[i + 1]);
	if (sources == 0)
		return perr(c, n->pos, path,
			    "must specify one of: fieldRef, resourceFieldRef, configMapKeyRef or "
			    "secretKeyRef");
	if (sources > 1)
		return perr(c, n->pos, path,
			    "may not have more than one field specified at a time");
	return 0;
}

static const struct field env_fields[] = {
    F_STR_REQ("name", struct pp_env_var, name),
    F_STR("value", struct pp_env_var, value),
    F_FN("valueFrom", parse_value_from),
    F_END,
};

static int parse_env_var(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_env_var *e = elem;
	e->pos = n->pos;
	if (walk_map(c, n, path, env_fields, e) < 0)
		return -1;
	if (!pp_is_env_var_name(e->name)) {
		return perr_key(c, n, path, "name",
				"invalid environment variable name \"%s\": must be [-._a-zA-Z]"
				"[-._a-zA-Z0-9]*",
				e->name);
	}
	if (e->source != PP_ENV_VALUE && e->value != NULL && e->value[0] != '\0') {
		return perr_key(c, n, path, "valueFrom",
				"may not be specified when `value` is not empty");
	}
	return 0;
}

int parse_env(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	return walk_seq(c, n, path, sizeof(struct pp_env_var), (void **)&ct->env, &ct->n_env,
			parse_env_var);
}

struct object_ref {
	char *name;
	bool optional;
};

static const struct field object_ref_fields[] = {
    F_STR("name", struct object_ref, name),
    F_BOOL("optional", struct object_ref, optional),
    F_END,
};

static int parse_object_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
			    struct pp_env_from *e, bool secret)
{
	struct object_ref r = {0};
	int ret = walk_map(c, n, path, object_ref_fields, &r);
	free(e->name);
	e->name = r.name;
	e->optional = r.optional;
	e->secret = secret;
	if (ret < 0)
		return -1;
	if (e->name == NULL || e->name[0] == '\0') {
		cleanup_free char *p = path_key(path, "name");
		return perr(c, n->pos, p, "required field \"name\" is missing");
	}
	if (!pp_is_dns1123_subdomain(e->name)) {
		return perr_key(c, n, path, "name",
				"invalid name \"%s\": must be a lowercase RFC 1123 subdomain",
				e->name);
	}
	return 0;
}

static int parse_configmap_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *obj)
{
	return parse_object_ref(c, n, path, obj, false);
}

static int parse_secret_ref(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_object_ref(c, n, path, obj, true);
}

static const struct field env_from_fields[] = {
    F_FN("configMapRef", parse_configmap_ref),
    F_FN("secretRef", parse_secret_ref),
    F_STR("prefix", struct pp_env_from, prefix),
    F_END,
};

static int parse_env_from_item(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *elem)
{
	struct pp_env_from *e = elem;
	e->pos = n->pos;
	if (walk_map(c, n, path, env_from_fields, e) < 0)
		return -1;
	const struct pp_ynode *cm = pp_ymap_get(n, "configMapRef");
	const struct pp_ynode *sec = pp_ymap_get(n, "secretRef");
	bool has_cm = cm != NULL && !ynode_is_null(cm),
	     has_sec = sec != NULL && !ynode_is_null(sec);
	if (!has_cm && !has_sec)
		return perr(c, n->pos, path, "must specify one of: configMapRef or secretRef");
	if (has_cm && has_sec)
		return perr(c, n->pos, path,
			    "may not have more than one field specified at a time");
	if (e->prefix != NULL && e->prefix[0] != '\0' && !pp_is_env_var_name(e->prefix)) {
		return perr_key(
		    c, n, path, "prefix",
		    "invalid prefix \"%s\": a valid environment variable name must "
		    "consist of alphabetic characters, digits, '_', '-', or '.', and must "
		    "not start with a digit",
		    e->prefix);
	}
	return 0;
}

int parse_env_from(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_container *ct = obj;
	return walk_seq(c, n, path, sizeof(struct pp_env_from), (void **)&ct->env_from,
			&ct->n_env_from, parse_env_from_item);
}

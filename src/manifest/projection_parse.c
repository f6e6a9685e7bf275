/* spec.volumes[].downwardAPI and .projected, with the API server's
 * validation (validateDownwardAPIVolumeSource, validateProjectionSources):
 * file paths, fieldRef paths, resourceFieldRef resources and divisors,
 * modes, duplicate paths. configMap and secret sources are parsed here;
 * resolving them is the pod layer's. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/atomic_writer.h"
#include "util/cleanup.h"

#define FILE_MODE_MSG "must be a number between 0 and 0777 (octal), both inclusive"
#define PP_CONFIGMAP_KEY_MAX 253

static int get_mode(struct pctx *c, const struct pp_ynode *n, const char *path, int32_t *out)
{
	int64_t v;
	if (get_int64(c, n, path, INT32_MIN, INT32_MAX, &v) < 0)
		return -1;
	if (v < 0 || v > 0777)
		return perr(c, n->pos, path, "invalid value %lld: " FILE_MODE_MSG, (long long)v);
	*out = (int32_t)v;
	return 0;
}

/* ValidateLocalNonReservedPath, then what kubelet's writer refuses (the
 * lengths), so that a pod that parses can be written. */
static int check_local_path(struct pctx *c, const struct pp_ynode *owner, const char *path,
			    const char *value)
{
	cleanup_free char *p = path_key(path, "path");
	const struct pp_ynode *n = pp_ymap_get(owner, "path");
	struct pp_pos pos = n ? n->pos : owner->pos;
	if (value == NULL || value[0] == '\0')
		return perr(c, pos, p, "required value");
	if (value[0] == '/')
		return perr(c, pos, p, "invalid value \"%s\": must be a relative path", value);
	cleanup_free char *slashed = xasprintf("/%s/", value);
	if (strstr(slashed, "/../") != NULL)
		return perr(c, pos, p, "invalid value \"%s\": must not contain '..'", value);
	if (strncmp(value, "..", 2) == 0)
		return perr(c, pos, p, "invalid value \"%s\": must not start with '..'", value);
	struct pp_error *e = NULL;
	struct pp_aw_file one = {.path = value};
	if (pp_aw_check_payload(&one, 1, &e) < 0) {
		int r = perr(c, pos, p, "%s", e->msg);
		pp_error_free(&e);
		return r;
	}
	return 0;
}

/* ---- fieldRef ---- */

struct field_ref {
	char *api_version;
	char *field_path;
};

static const struct field field_ref_fields[] = {
    F_STR("apiVersion", struct field_ref, api_version),
    F_STR_REQ("fieldPath", struct field_ref, field_path),
    F_END,
};

/* validVolumeDownwardAPIFieldPathExpressions, and the subscripted label and
 * annotation forms with a valid key. */
static bool volume_field_path_ok(const char *p)
{
	static const char *const plain[] = {"metadata.annotations", "metadata.labels",
					    "metadata.name",	    "metadata.namespace",
					    "metadata.uid",	    NULL};
	for (int i = 0; plain[i]; i++)
		if (strcmp(p, plain[i]) == 0)
			return true;
	static const char *const subscripted[] = {"metadata.labels['", "metadata.annotations['",
						  NULL};
	for (int i = 0; subscripted[i]; i++) {
		size_t n = strlen(subscripted[i]), len = strlen(p);
		if (strncmp(p, subscripted[i], n) != 0 || len < n + 2 ||
		    strcmp(p + len - 2, "']") != 0)
			continue;
		cleanup_free char *key = strndup(p + n, len - n - 2);
		if (i == 1) /* annotation keys are compared lower-cased */
			for (char *k = key; *k; k++)
				*k = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
		return pp_is_qualified_name(key);
	}
	return false;
}

int parse_field_ref_path(struct pctx *c, const struct pp_ynode *n, const char *path,
			 char **field_path)
{
	struct field_ref r = {0};
	int ret = walk_map(c, n, path, field_ref_fields, &r);
	free(*field_path);
	*field_path = r.field_path;
	cleanup_free char *api = r.api_version;
	if (ret < 0)
		return -1;
	if (api != NULL && strcmp(api, "v1") != 0) {
		return perr_key(c, n, path, "apiVersion",
				"unsupported value \"%s\": supported values: \"v1\"", api);
	}
	return 0;
}

static int parse_file_field_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
				void *obj)
{
	struct pp_dapi_file *f = obj;
	if (parse_field_ref_path(c, n, path, &f->field_path) < 0)
		return -1;
	if (!volume_field_path_ok(f->field_path)) {
		return perr_key(
		    c, n, path, "fieldPath",
		    "unsupported value \"%s\": supported values: \"metadata.annotations\", "
		    "\"metadata.labels\", \"metadata.name\", \"metadata.namespace\", "
		    "\"metadata.uid\" (and metadata.labels['KEY'], "
		    "metadata.annotations['KEY'])",
		    f->field_path);
	}
	return 0;
}

/* ---- resourceFieldRef ---- */

static bool is_power(int64_t v, int64_t base)
{
	for (int64_t p = base; p > 0 && p <= v; p = p > INT64_MAX / base ? 0 : p * base)
		if (p == v)
			return true;
	return false;
}

/* validateContainerResourceDivisor: 1m or 1 for cpu; 1 and the whole powers
 * of 1000 and 1024 up to E and Ei for memory, ephemeral storage and
 * hugepages. NULL when fine, else the API server's complaint. */
static const char *divisor_error(const char *resource, const struct pp_quantity *d)
{
	if (!d->set)
		return NULL;
	const char *dot = strchr(resource, '.');
	const char *name = dot ? dot + 1 : resource;
	if (strcmp(name, "cpu") == 0)
		return d->milli == 1 || d->milli == 1000
			   ? NULL
			   : "only divisor's values 1m and 1 are supported with the cpu resource";
	/* a whole number (milli saturates above ~9.2e15, and 1P.. are whole) */
	bool whole = d->value >= 1000000000000000LL || d->milli == d->value * 1000;
	bool ok = whole && d->value > 0 &&
		  (d->value == 1 || is_power(d->value, 1000) || is_power(d->value, 1024)) &&
		  d->value <= 1152921504606846976LL /* 1Ei */;
	if (ok)
		return NULL;
	if (strcmp(name, "memory") == 0)
		return "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, "
		       "1Ei are supported with the memory resource";
	if (strcmp(name, "ephemeral-storage") == 0)
		return "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, "
		       "1Ei are supported with the local ephemeral storage resource";
	return "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei "
	       "are supported with the hugepages resource";
}

int check_resource_divisor(struct pctx *c, const struct pp_ynode *n, const char *path,
			   const char *resource, const struct pp_quantity *divisor)
{
	const char *bad = divisor_error(resource, divisor);
	if (bad != NULL)
		return perr_key(c, n, path, "divisor", "invalid value \"%s\": %s", divisor->text,
				bad);
	return 0;
}

bool pp_resource_ref_supported(const char *r)
{
	static const char *const names[] = {"limits.cpu",
					    "limits.memory",
					    "limits.ephemeral-storage",
					    "requests.cpu",
					    "requests.memory",
					    "requests.ephemeral-storage",
					    NULL};
	for (int i = 0; names[i]; i++)
		if (strcmp(r, names[i]) == 0)
			return true;
	return strncmp(r, "limits.hugepages-", strlen("limits.hugepages-")) == 0 ||
	       strncmp(r, "requests.hugepages-", strlen("requests.hugepages-")) == 0;
}

static int parse_file_divisor(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_quantity(c, n, path, &((struct pp_dapi_file *)obj)->divisor);
}

static const struct field resource_ref_fields[] = {
    F_STR("containerName", struct pp_dapi_file, container_name),
    F_STR_REQ("resource", struct pp_dapi_file, resource),
    F_FN("divisor", parse_file_divisor),
    F_END,
};

static int parse_file_resource_ref(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	struct pp_dapi_file *f = obj;
	if (walk_map(c, n, path, resource_ref_fields, f) < 0)
		return -1;
	if (f->container_name == NULL || f->container_name[0] == '\0') {
		cleanup_free char *p = path_key(path, "containerName");
		return perr(c, n->pos, p, "required value");
	}
	if (!pp_resource_ref_supported(f->resource)) {
		return perr_key(
		    c, n, path, "resource",
		    "unsupported value \"%s\": supported values: \"limits.cpu\", "
		    "\"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", "
		    "\"requests.ephemeral-storage\", \"requests.memory\" (and "
		    "limits.hugepages-SIZE, requests.hugepages-SIZE)",
		    f->resource);
	}
	return check_resource_divisor(c, n, path, f->resource, &f->divisor);
}

/* ---- downwardAPI items ---- */

static int parse_file_mode(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_dapi_file *f = obj;
	f->has_mode = true;
	return get_mode(c, n, path, &f->mode);
}

static const struct field dapi_file_fields[] = {
    F_STR("path", struct pp_dapi_file, path),
    F_FN("fieldRef", parse_file_field_ref),
    F_FN("resourceFieldRef", parse_file_resource_ref),
    F_FN("mode", parse_file_mode),
    F_END,
};

static int parse_dapi_file(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_dapi_file *f = elem;
	f->pos = n->pos;
	if (walk_map(c, n, path, dapi_file_fields, f) < 0)
		return -1;
	if (check_local_path(c, n, path, f->path) < 0)
		return -1;
	if (f->field_path != NULL && f->resource != NULL)
		return perr(c, n->pos, path,
			    "fieldRef and resourceFieldRef can not be specified simultaneously");
	if (f->field_path == NULL && f->resource == NULL)
		return perr(c, n->pos, path, "one of fieldRef and resourceFieldRef is required");
	return 0;
}

static int parse_dapi_items(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_projection *p = obj;
	return walk_seq(c, n, path, sizeof(struct pp_dapi_file), (void **)&p->files, &p->n_files,
			parse_dapi_file);
}

static const struct field dapi_projection_fields[] = {
    F_FN("items", parse_dapi_items),
    F_END,
};

/* ---- configMap / secret items ---- */

/* IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253, not "." or "..", not ".." first */
static bool is_config_map_key(const char *k)
{
	size_t len = strlen(k);
	if (len == 0 || len > PP_CONFIGMAP_KEY_MAX || strcmp(k, ".") == 0 ||
	    strncmp(k, "..", 2) == 0)
		return false;
	for (const char *s = k; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int parse_item_mode(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_key_to_path *k = obj;
	k->has_mode = true;
	return get_mode(c, n, path, &k->mode);
}

static const struct field key_to_path_fields[] = {
    F_STR_REQ("key", struct pp_key_to_path, key),
    F_STR_REQ("path", struct pp_key_to_path, path),
    F_FN("mode", parse_item_mode),
    F_END,
};

static int parse_key_to_path(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	struct pp_key_to_path *k = elem;
	k->pos = n->pos;
	if (walk_map(c, n, path, key_to_path_fields, k) < 0)
		return -1;
	if (!is_config_map_key(k->key)) {
		return perr_key(
		    c, n, path, "key",
		    "invalid value \"%s\": a valid config key must consist of alphanumeric "
		    "characters, '-', '_' or '.'",
		    k->key);
	}
	return check_local_path(c, n, path, k->path);
}

static int parse_object_items(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_projection *p = obj;
	return walk_seq(c, n, path, sizeof(struct pp_key_to_path), (void **)&p->items, &p->n_items,
			parse_key_to_path);
}

static const struct field object_projection_fields[] = {
    F_STR("name", struct pp_projection, name),
    F_FN("items", parse_object_items),
    F_BOOL("optional", struct pp_projection, optional),
    F_END,
};

static int parse_object_projection(struct pctx *c, const struct pp_ynode *n, const char *path,
				   struct pp_projection *p, enum pp_projection_kind kind)
{
	p->kind = kind;
	p->pos = n->pos;
	p->field = xstrdup(path);
	if (walk_map(c, n, path, object_projection_fields, p) < 0)
		return -1;
	if (p->name == NULL || p->name[0] == '\0') {
		cleanup_free char *np = path_key(path, "name");
		return perr(c, n->pos, np, "required value");
	}
	return 0;
}

/* ---- projected sources ---- */

static int parse_source_dapi(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_projection *p = obj;
	p->kind = PP_PROJECTION_DOWNWARD_API;
	p->pos = n->pos;
	p->field = xstrdup(path);
	return walk_map(c, n, path, dapi_projection_fields, p);
}

static int parse_source_config_map(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	return parse_object_projection(c, n, path, obj, PP_PROJECTION_CONFIG_MAP);
}

static int parse_source_secret(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *obj)
{
	return parse_object_projection(c, n, path, obj, PP_PROJECTION_SECRET);
}

static const struct field source_fields[] = {
    F_FN("downwardAPI", parse_source_dapi),
    F_FN("configMap", parse_source_config_map),
    F_FN("secret", parse_source_secret),
    F_REFUSE("serviceAccountToken",
	     "serviceAccountToken is not supported: peapod has no API server to issue tokens"),
    F_REFUSE("clusterTrustBundle",
	     "clusterTrustBundle is not supported: peapod has no API server to read it from"),
    F_REFUSE("podCertificate",
	     "podCertificate is not supported: peapod has no API server to issue certificates"),
    F_END,
};

static int parse_source(struct pctx *c, const struct pp_ynode *n, const char *path, void *elem)
{
	if (expect_kind(c, n, path, PP_YMAP) < 0)
		return -1;
	/* one kind per source, checked first: a second would overwrite the first */
	size_t sources = 0;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		sources += !ynode_is_null(n->child[i + 1]);
	if (sources > 1)
		return perr(c, n->pos, path, "may not specify more than 1 volume type per source");
	if (walk_map(c, n, path, source_fields, elem) < 0)
		return -1;
	if (sources == 0)
		return perr(c, n->pos, path, "must specify one of: downwardAPI, configMap, secret");
	return 0;
}

static int parse_sources(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	return walk_seq(c, n, path, sizeof(struct pp_projection), (void **)&v->sources,
			&v->n_sources, parse_source);
}

static int parse_default_mode(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_mode(c, n, path, &((struct pp_volume *)obj)->default_mode);
}

/* "conflicting duplicate paths" among all files of the volume, after
 * path.Clean (the writer would refuse them: one file per path). */
static int check_duplicate_paths(struct pctx *c, const struct pp_volume *v, const char *path)
{
	size_t n = 0, k = 0;
	for (size_t i = 0; i < v->n_sources; i++)
		n += v->sources[i].n_files + v->sources[i].n_items;
	struct pp_aw_file *files = xmalloc(sizeof(*files) * (n + 1));
	struct pp_pos *pos = xmalloc(sizeof(*pos) * (n + 1));
	for (size_t i = 0; i < v->n_sources; i++) {
		const struct pp_projection *s = &v->sources[i];
		for (size_t j = 0; j < s->n_files; j++, k++) {
			files[k] = (struct pp_aw_file){.path = s->files[j].path};
			pos[k] = s->files[j].pos;
		}
		for (size_t j = 0; j < s->n_items; j++, k++) {
			files[k] = (struct pp_aw_file){.path = s->items[j].path};
			pos[k] = s->items[j].pos;
		}
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		for (size_t j = 0; j < i && r == 0; j++) {
			struct pp_error *e = NULL;
			struct pp_aw_file pair[2] = {files[j], files[i]};
			if (pp_aw_check_payload(pair, 2, &e) < 0) {
				const char *why = e->msg;
				if (strncmp(why, "invalid payload: ", 17) == 0)
					why += 17;
				r = perr(c, pos[i], path, "conflicting duplicate paths: %s", why);
				pp_error_free(&e);
			}
		}
	free(files);
	free(pos);
	return r;
}

/* a downwardAPI volume: items in its one projection, defaultMode in the volume */
static int parse_volume_dapi_items(struct pctx *c, const struct pp_ynode *n, const char *path,
				   void *obj)
{
	return parse_dapi_items(c, n, path, &((struct pp_volume *)obj)->sources[0]);
}

static const struct field dapi_volume_fields[] = {
    F_FN("items", parse_volume_dapi_items),
    F_FN("defaultMode", parse_default_mode),
    F_END,
};

int parse_downward_api_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	if (v->sources != NULL) /* projected too: check_source's refusal, before an overwrite */
		return perr(c, n->pos, path, "may not specify more than 1 volume type");
	v->kind = PP_VOLUME_DOWNWARD_API;
	v->default_mode = PP_PROJECTED_DEFAULT_MODE;
	v->sources = xmalloc(sizeof(*v->sources));
	v->n_sources = 1;
	v->sources[0].kind = PP_PROJECTION_DOWNWARD_API;
	v->sources[0].pos = n->pos;
	v->sources[0].field = xstrdup(path);
	if (walk_map(c, n, path, dapi_volume_fields, v) < 0)
		return -1;
	return check_duplicate_paths(c, v, path);
}

/* configMap and secret volumes: one projection, its object named by
 * `name` (configMap) or `secretName` (secret), defaultMode in the volume. */
static int parse_volume_object_items(struct pctx *c, const struct pp_ynode *n, const char *path,
				     void *obj)
{
	return parse_object_items(c, n, path, &((struct pp_volume *)obj)->sources[0]);
}

static int parse_volume_object_name(struct pctx *c, const struct pp_ynode *n, const char *path,
				    void *obj)
{
	struct pp_projection *p = &((struct pp_volume *)obj)->sources[0];
	free(p->name);
	p->name = NULL;
	return get_string(c, n, path, &p->name);
}

static int parse_volume_object_optional(struct pctx *c, const struct pp_ynode *n, const char *path,
					void *obj)
{
	return get_bool(c, n, path, &((struct pp_volume *)obj)->sources[0].optional);
}

static const struct field config_map_volume_fields[] = {
    F_FN("name", parse_volume_object_name),
    F_FN("items", parse_volume_object_items),
    F_FN("optional", parse_volume_object_optional),
    F_FN("defaultMode", parse_default_mode),
    F_END,
};

static const struct field secret_volume_fields[] = {
    F_FN("secretName", parse_volume_object_name),
    F_FN("items", parse_volume_object_items),
    F_FN("optional", parse_volume_object_optional),
    F_FN("defaultMode", parse_default_mode),
    F_END,
};

static int parse_object_volume(struct pctx *c, const struct pp_ynode *n, const char *path,
			       struct pp_volume *v, enum pp_projection_kind kind)
{
	if (v->sources != NULL) /* another projecting type too: as above */
		return perr(c, n->pos, path, "may not specify more than 1 volume type");
	bool secret = kind == PP_PROJECTION_SECRET;
	v->kind = secret ? PP_VOLUME_SECRET : PP_VOLUME_CONFIG_MAP;
	v->default_mode = PP_PROJECTED_DEFAULT_MODE;
	v->sources = xmalloc(sizeof(*v->sources));
	v->n_sources = 1;
	struct pp_projection *p = &v->sources[0];
	p->kind = kind;
	p->pos = n->pos;
	p->field = xstrdup(path);
	if (walk_map(c, n, path, secret ? secret_volume_fields : config_map_volume_fields, v) < 0)
		return -1;
	if (p->name == NULL || p->name[0] == '\0') {
		cleanup_free char *np = path_key(path, secret ? "secretName" : "name");
		return perr(c, n->pos, np, "required value");
	}
	return check_duplicate_paths(c, v, path);
}

int parse_config_map_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_object_volume(c, n, path, obj, PP_PROJECTION_CONFIG_MAP);
}

int parse_secret_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_object_volume(c, n, path, obj, PP_PROJECTION_SECRET);
}

static const struct field projected_fields[] = {
    F_FN("sources", parse_sources),
    F_FN("defaultMode", parse_default_mode),
    F_END,
};

int parse_projected_volume(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_volume *v = obj;
	if (v->sources != NULL) /* downwardAPI too: as above */
		return perr(c, n->pos, path, "may not specify more than 1 volume type");
	v->kind = PP_VOLUME_PROJECTED;
	v->default_mode = PP_PROJECTED_DEFAULT_MODE;
	if (walk_map(c, n, path, projected_fields, v) < 0)
		return -1;
	return check_duplicate_paths(c, v, path);
}

/* The container env's references to this host's ConfigMaps and Secrets
 * (envFrom, configMapKeyRef, secretKeyRef), resolved as kubelet's
 * makeEnvironmentVariables does, at each start: a restarted container sees
 * the objects as they are then. */
#include <stdlib.h>
#include <string.h>

#include "manifest/k8s_names.h"
#include "objects/objects.h"
#include "pod/pod.h"
#include "util/cleanup.h"

/* A value's bytes as a C string (a NUL inside ends it, as in any env). */
static char *bytes_str(const unsigned char *v, size_t len)
{
	char *s = xmalloc(len + 1);
	memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* kubelet's NotFound, singular: `configmap "x" not found`. */
static int get_object(enum pp_object_kind kind, const char *ns, const char *name, bool optional,
		      struct pp_config_object **out, struct pp_error **err)
{
	int r = pp_object_get(kind, ns, name, out, err);
	if (r == PP_OBJECT_NOT_FOUND) {
		if (optional) {
			pp_error_free(err);
			return 0;
		}
		return pp_error_set(err, 0, "%s \"%s\" not found", pp_object_kind_lower(kind),
				    name);
	}
	return r;
}

int pp_pod_env_key_value(const char *ns, const struct pp_env_var *e, char **value,
			 struct pp_error **err)
{
	enum pp_object_kind kind =
	    e->source == PP_ENV_SECRET_KEY ? PP_OBJ_SECRET : PP_OBJ_CONFIGMAP;
	struct pp_config_object *o = NULL;
	*value = NULL;
	if (get_object(kind, ns, e->ref_name, e->ref_optional, &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	const struct pp_data_item *it = pp_object_find(o, e->ref_key);
	/* A ConfigMap's env comes from its data only, not binaryData. */
	if (it == NULL || (kind == PP_OBJ_CONFIGMAP && it->binary)) {
		int r = e->ref_optional
			    ? 0
			    : pp_error_set(err, 0, "couldn't find key %s in %s %s/%s", e->ref_key,
					   pp_object_kind_name(kind), ns, e->ref_name);
		pp_object_free(o);
		return r;
	}
	*value = bytes_str(it->value, it->len);
	pp_object_free(o);
	return 0;
}

int pp_pod_env_from_values(const char *ns, const struct pp_env_from *e, struct pp_kv **kv,
			   size_t *n, char ***invalid, struct pp_error **err)
{
	enum pp_object_kind kind = e->secret ? PP_OBJ_SECRET : PP_OBJ_CONFIGMAP;
	struct pp_config_object *o = NULL;
	*kv = NULL;
	*n = 0;
	if (invalid != NULL)
		*invalid = NULL;
	if (get_object(kind, ns, e->name, e->optional, &o, err) < 0)
		return -1;
	if (o == NULL)
		return 0;
	size_t n_invalid = 0;
	*kv = xmalloc((o->n_items + 1) * sizeof(**kv));
	for (size_t i = 0; i < o->n_items; i++) {
		const struct pp_data_item *it = &o->items[i];
		if (kind == PP_OBJ_CONFIGMAP && it->binary)
			continue;
		char *name = xasprintf("%s%s", e->prefix ? e->prefix : "", it->key);
		if (!pp_is_env_var_name(name)) {
			if (invalid != NULL) {
				*invalid = xrealloc(*invalid, (n_invalid + 2) * sizeof(char *));
				(*invalid)[n_invalid++] = name;
				(*invalid)[n_invalid] = NULL;
			} else {
				free(name);
			}
			continue;
		}
		(*kv)[*n].key = name;
		(*kv)[(*n)++].value = bytes_str(it->value, it->len);
	}
	pp_object_free(o);
	return 0;
}

/* The rules a ConfigMap or Secret obeys as a whole (the API server's
 * ValidateConfigMap / ValidateSecret), comparisons and freeing. */
#include "manifest/config_object.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

const char *pp_object_kind_name(enum pp_object_kind kind)
{
	return kind == PP_OBJ_PV       ? "PersistentVolume"
	       : kind == PP_OBJ_PVC    ? "PersistentVolumeClaim"
	       : kind == PP_OBJ_SECRET ? "Secret"
				       : "ConfigMap";
}

const char *pp_object_kind_lower(enum pp_object_kind kind)
{
	return kind == PP_OBJ_PV       ? "persistentvolume"
	       : kind == PP_OBJ_PVC    ? "persistentvolumeclaim"
	       : kind == PP_OBJ_SECRET ? "secret"
				       : "configmap";
}

const char *pp_object_kind_plural(enum pp_object_kind kind)
{
	return kind == PP_OBJ_PV       ? "persistentvolumes"
	       : kind == PP_OBJ_PVC    ? "persistentvolumeclaims"
	       : kind == PP_OBJ_SECRET ? "secrets"
				       : "configmaps";
}

const struct pp_data_item *pp_object_find(const struct pp_config_object *o, const char *key)
{
	for (size_t i = 0; i < o->n_items; i++)
		if (strcmp(o->items[i].key, key) == 0)
			return &o->items[i];
	return NULL;
}

const char *pp_object_key_error(const char *key)
{
	size_t len = strlen(key);
	if (len == 0)
		return "a valid config key must consist of alphanumeric characters, '-', '_' or "
		       "'.' (regex used for validation is '[-._a-zA-Z0-9]+')";
	if (len > PP_OBJECT_KEY_MAX)
		return "must be no more than 253 characters";
	if (strspn(key, "-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != len)
		return "a valid config key must consist of alphanumeric characters, '-', '_' or "
		       "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
		       "validation is '[-._a-zA-Z0-9]+')";
	if (strcmp(key, ".") == 0)
		return "must not be '.'";
	if (strcmp(key, "..") == 0)
		return "must not be '..'";
	if (strncmp(key, "..", 2) == 0)
		return "must not start with '..'";
	return NULL;
}

static bool has_key(const struct pp_config_object *o, const char *key)
{
	return pp_object_find(o, key) != NULL;
}

static int need_key(const struct pp_config_object *o, const char *key, struct pp_error **err)
{
	if (has_key(o, key))
		return 0;
	return pp_error_set(err, 0, "data[%s]: Required value: required for Secret type \"%s\"",
			    key, o->type);
}

static int need_json(const struct pp_config_object *o, const char *key, struct pp_error **err)
{
	if (need_key(o, key, err) < 0)
		return -1;
	const struct pp_data_item *it = pp_object_find(o, key);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc = json_tokener_parse_ex(tok, (const char *)it->value, (int)it->len);
	bool ok = doc != NULL && json_tokener_get_error(tok) == json_tokener_success &&
		  json_object_is_type(doc, json_type_object);
	json_object_put(doc);
	json_tokener_free(tok);
	if (!ok)
		return pp_error_set(err, 0,
				    "data[%s]: Invalid value: \"<secret contents redacted>\": "
				    "must be a JSON object",
				    key);
	return 0;
}

/* The keys each built-in Secret type requires (ValidateSecret). */
static int validate_secret_type(const struct pp_config_object *o, struct pp_error **err)
{
	const char *t = o->type;
	if (strcmp(t, "kubernetes.io/dockerconfigjson") == 0)
		return need_json(o, ".dockerconfigjson", err);
	if (strcmp(t, "kubernetes.io/dockercfg") == 0)
		return need_json(o, ".dockercfg", err);
	if (strcmp(t, "kubernetes.io/tls") == 0)
		return need_key(o, "tls.crt", err) < 0 ? -1 : need_key(o, "tls.key", err);
	if (strcmp(t, "kubernetes.io/ssh-auth") == 0)
		return need_key(o, "ssh-privatekey", err);
	if (strcmp(t, "kubernetes.io/basic-auth") == 0 && !has_key(o, "username") &&
	    !has_key(o, "password"))
		return pp_error_set(err, 0,
				    "data[username]: Required value, data[password]: Required "
				    "value: a basic-auth Secret needs one of them at least");
	if (strcmp(t, "kubernetes.io/service-account-token") == 0) {
		for (size_t i = 0; i < o->n_annotations; i++)
			if (strcmp(o->annotations[i].key, "kubernetes.io/service-account.name") ==
			    0)
				return 0;
		return pp_error_set(
		    err, 0,
		    "metadata.annotations[kubernetes.io/service-account.name]: Required value");
	}
	return 0;
}

int pp_object_validate(const struct pp_config_object *o, struct pp_error **err)
{
	size_t total = 0;
	for (size_t i = 0; i < o->n_items; i++)
		total += o->items[i].len;
	if (total > PP_OBJECT_MAX_SIZE)
		return pp_error_set(err, 0, "%s: Too long: must have at most %d bytes",
				    o->kind == PP_OBJ_SECRET ? "data" : "[data, binaryData]",
				    PP_OBJECT_MAX_SIZE);
	if (o->kind == PP_OBJ_SECRET)
		return validate_secret_type(o, err);
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool pp_object_data_equal(const struct pp_config_object *a, const struct pp_config_object *b)
{
	if (a->kind != b->kind || a->n_items != b->n_items || !str_eq(a->type, b->type))
		return false;
	for (size_t i = 0; i < a->n_items; i++) {
		const struct pp_data_item *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->key, y->key) != 0 || x->len != y->len || x->binary != y->binary ||
		    memcmp(x->value, y->value, x->len) != 0)
			return false;
	}
	return true;
}

/* Order-insensitive: maps. */
static bool kv_equal(const struct pp_kv *a, size_t na, const struct pp_kv *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		bool found = false;
		for (size_t j = 0; j < nb && !found; j++)
			found = strcmp(a[i].key, b[j].key) == 0 && str_eq(a[i].value, b[j].value);
		if (!found)
			return false;
	}
	return true;
}

bool pp_object_equal(const struct pp_config_object *a, const struct pp_config_object *b)
{
	return pp_object_data_equal(a, b) && a->immutable == b->immutable &&
	       a->access_modes == b->access_modes && str_eq(a->storage, b->storage) &&
	       str_eq(a->storage_class, b->storage_class) &&
	       str_eq(a->volume_name, b->volume_name) && str_eq(a->host_path, b->host_path) &&
	       str_eq(a->claim_ns, b->claim_ns) && str_eq(a->claim_name, b->claim_name) &&
	       kv_equal(a->labels, a->n_labels, b->labels, b->n_labels) &&
	       kv_equal(a->annotations, a->n_annotations, b->annotations, b->n_annotations);
}

static void kv_free(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void pp_object_free(struct pp_config_object *o)
{
	if (o == NULL)
		return;
	free(o->source);
	free(o->name);
	free(o->namespace_);
	free(o->uid);
	free(o->created);
	kv_free(o->labels, o->n_labels);
	kv_free(o->annotations, o->n_annotations);
	free(o->type);
	for (size_t i = 0; i < o->n_items; i++) {
		free(o->items[i].key);
		/* Secret values do not linger in freed memory. */
		explicit_bzero(o->items[i].value, o->items[i].len);
		free(o->items[i].value);
	}
	free(o->items);
	free(o->storage);
	free(o->storage_class);
	free(o->volume_name);
	free(o->host_path);
	free(o->claim_ns);
	free(o->claim_name);
	free(o);
}

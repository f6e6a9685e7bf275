/* ConfigMap and Secret documents -> struct pp_config_object, with the API
 * server's checks (ValidateConfigMap, ValidateSecret). */
#include <stdlib.h>
#include <string.h>

#include "manifest/config_object.h"
#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/base64.h"
#include "util/cleanup.h"

/* What the document's maps hold until they are merged into items. */
struct object_maps {
	struct pp_config_object *o;
	const struct pp_ynode *data, *binary_data, *string_data;
};

static int parse_metadata(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_config_object *o = ((struct object_maps *)obj)->o;
	struct meta_target m = {
	    .name = &o->name,
	    .namespace_ = &o->namespace_,
	    .uid = &o->uid,
	    .created = &o->created,
	    .labels = &o->labels,
	    .n_labels = &o->n_labels,
	    .annotations = &o->annotations,
	    .n_annotations = &o->n_annotations,
	};
	return parse_meta(c, n, path, &m);
}

static int keep_map(struct pctx *c, const struct pp_ynode *n, const char *path,
		    const struct pp_ynode **slot)
{
	if (expect_kind(c, n, path, PP_YMAP) < 0)
		return -1;
	*slot = n;
	return 0;
}

static int parse_data(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return keep_map(c, n, path, &((struct object_maps *)obj)->data);
}

static int parse_binary_data(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return keep_map(c, n, path, &((struct object_maps *)obj)->binary_data);
}

static int parse_string_data(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return keep_map(c, n, path, &((struct object_maps *)obj)->string_data);
}

static int parse_immutable(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct object_maps *m = obj;
	m->o->has_immutable = true;
	return get_bool(c, n, path, &m->o->immutable);
}

static int parse_type(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_string(c, n, path, &((struct object_maps *)obj)->o->type);
}

static int parse_kind(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return 0; /* checked by the caller, which chose this parser by it */
}

static int parse_api_version(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	cleanup_free char *v = NULL;
	if (get_string(c, n, path, &v) < 0)
		return -1;
	if (strcmp(v, "v1") != 0)
		return perr(c, n->pos, path, "apiVersion \"%s\" is not supported: %s is \"v1\"", v,
			    pp_object_kind_name(((struct object_maps *)obj)->o->kind));
	return 0;
}

static const struct field configmap_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_metadata),
    F_FN("data", parse_data),
    F_FN("binaryData", parse_binary_data),
    F_FN("immutable", parse_immutable),
    F_END,
};

static const struct field secret_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version), F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_metadata),      F_FN("data", parse_data),
    F_FN("stringData", parse_string_data),     F_FN("type", parse_type),
    F_FN("immutable", parse_immutable),	       F_END,
};

static const struct field pvc_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_metadata),
    F_FN_REQ("spec", parse_pvc_spec),
    /* what the API server reports; a claim saved with kubectl get -o yaml */
    F_SKIP("status"),
    F_END,
};

static const struct field pv_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_metadata),
    F_FN_REQ("spec", parse_pv_spec),
    F_SKIP("status"),
    F_END,
};

/* One key of a data map, read in document order; merged once all are. */
struct entry {
	const struct pp_ynode *key;
	struct pp_data_item item;
	int rank; /* data 0, binaryData or stringData 1 */
	size_t seq;
};

struct entries {
	struct entry *e;
	size_t n;
};

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->e[i].item.key);
		free(es->e[i].item.value);
	}
	free(es->e);
}

/* One key: checked, its value read (and base64-decoded). */
static int read_entry(struct pctx *c, const struct pp_ynode *k, const struct pp_ynode *v,
		      const char *path, bool base64, struct pp_data_item *it)
{
	cleanup_free char *p = xasprintf("%s[%s]", path, k->value); /* the API server's form */
	const char *why = pp_object_key_error(k->value);
	if (why != NULL)
		return perr(c, k->pos, p, "invalid key \"%s\": %s", k->value, why);
	cleanup_free char *text = NULL;
	/* A Secret's value is never echoed in a message (get_string's would). */
	if (c->object->kind == PP_OBJ_SECRET && !ynode_is_null(v) &&
	    (v->kind != PP_YSCALAR || yscalar_type(v) != YS_STRING))
		return perr(c, v->pos, p, "expected string, got %s (quote it)", ynode_type_name(v));
	if (ynode_is_null(v))
		text = xstrdup("");
	else if (get_string(c, v, p, &text) < 0)
		return -1;
	if (base64) {
		cleanup_error struct pp_error *e = NULL;
		if (pp_base64_decode(text, &it->value, &it->len, &e) < 0)
			return perr(c, v->pos, p, "%s", e->msg);
	} else {
		it->len = strlen(text);
		it->value = (unsigned char *)steal_ptr(&text);
	}
	it->key = xstrdup(k->value);
	return 0;
}

static int read_map(struct pctx *c, const struct pp_ynode *n, const char *path, bool base64,
		    bool binary, int rank, struct entries *es)
{
	if (n == NULL)
		return 0;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		es->e = xrealloc(es->e, (es->n + 1) * sizeof(*es->e));
		struct entry *e = &es->e[es->n];
		*e = (struct entry){.key = n->child[i], .rank = rank, .seq = es->n};
		e->item.binary = binary;
		if (read_entry(c, n->child[i], n->child[i + 1], path, base64, &e->item) < 0) {
			free(e->item.key);
			free(e->item.value);
			return -1;
		}
		es->n++;
	}
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = strcmp(x->item.key, y->item.key);
	if (r != 0)
		return r;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->seq < y->seq ? -1 : 1;
}

/* Sorted by key: a key twice in one map is refused; a Secret's stringData
 * replaces its data's value; a ConfigMap's binaryData may not repeat data. */
static int merge_entries(struct pctx *c, struct entries *es, bool secret)
{
	struct pp_config_object *o = c->object;
	if (es->n > 0)
		qsort(es->e, es->n, sizeof(*es->e), cmp_entries);
	o->items = xmalloc((es->n + 1) * sizeof(*o->items));
	for (size_t i = 0; i < es->n; i++) {
		struct entry *e = &es->e[i], *next = i + 1 < es->n ? &es->e[i + 1] : NULL;
		bool same = next != NULL && strcmp(e->item.key, next->item.key) == 0;
		if (same && e->rank == next->rank) {
			const char *map =
			    next->rank ? (secret ? "stringData" : "binaryData") : "data";
			cleanup_free char *p = xasprintf("%s[%s]", map, next->item.key);
			return perr(c, next->key->pos, p, "duplicate field \"%s\"", next->item.key);
		}
		if (same && !secret) {
			cleanup_free char *p = xasprintf("binaryData[%s]", next->item.key);
			return perr(c, next->key->pos, p, "duplicate of key present in data");
		}
		if (same)
			continue; /* stringData's wins */
		o->items[o->n_items++] = e->item;
		e->item = (struct pp_data_item){0};
	}
	return 0;
}

int parse_config_object(struct pctx *c, const struct pp_ynode *root)
{
	struct pp_config_object *o = c->object;
	struct object_maps m = {.o = o};
	bool secret = o->kind == PP_OBJ_SECRET;
	o->pos = root->pos;
	const struct field *fields = o->kind == PP_OBJ_PV    ? pv_fields
				     : o->kind == PP_OBJ_PVC ? pvc_fields
				     : secret		     ? secret_fields
							     : configmap_fields;
	int r = walk_map(c, root, "", fields, &m);
	if (r < 0)
		return -1;
	struct entries es = {0};
	if (o->kind == PP_OBJ_PVC || o->kind == PP_OBJ_PV)
		r = 0;
	else if (secret)
		r = read_map(c, m.data, "data", true, true, 0, &es) < 0 ||
			    read_map(c, m.string_data, "stringData", false, true, 1, &es) < 0 ||
			    merge_entries(c, &es, true) < 0
			? -1
			: 0;
	else
		r = read_map(c, m.data, "data", false, false, 0, &es) < 0 ||
			    read_map(c, m.binary_data, "binaryData", true, true, 1, &es) < 0 ||
			    merge_entries(c, &es, false) < 0
			? -1
			: 0;
	entries_free(&es);
	if (r < 0)
		return -1;
	if (secret && (o->type == NULL || o->type[0] == '\0')) {
		free(o->type);
		o->type = xstrdup(PP_SECRET_TYPE_OPAQUE);
	}
	if (o->kind == PP_OBJ_PV) {
		/* cluster-scoped: a namespace in its metadata means nothing */
		free(o->namespace_);
		o->namespace_ = xstrdup(PP_CLUSTER_SCOPE);
	}
	if (o->namespace_ == NULL)
		o->namespace_ = xstrdup("default");
	cleanup_error struct pp_error *e = NULL;
	if (pp_object_validate(o, &e) < 0)
		return pp_error_set(c->err, 0, "%s:%d:%d: %s", c->source, root->pos.line,
				    root->pos.col, e->msg);
	return 0;
}

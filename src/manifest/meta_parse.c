/* A document's metadata, the same for every kind: the table walk of its
 * fields and the API server's checks of names, labels and annotations. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

int check_meta_map(struct pctx *c, const struct pp_ynode *n, const char *path, bool label_values)
{
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct pp_ynode *k = n->child[i], *v = n->child[i + 1];
		cleanup_free char *p = path_key(path, k->value);
		if (!pp_is_qualified_name(k->value))
			return perr(c, k->pos, p,
				    "invalid key \"%s\": must be [prefix/]name, name at most 63 "
				    "alphanumerics, '-', '_' or '.' (prefix a DNS subdomain)",
				    k->value);
		if (label_values && !pp_is_label_value(v->value ? v->value : ""))
			return perr(
			    c, v->pos, p,
			    "invalid label value \"%s\": at most 63 alphanumerics, '-', '_' "
			    "or '.', starting and ending alphanumeric",
			    v->value);
	}
	return 0;
}

/* What the walk fills: the target and the generateName read. */
struct meta_walk {
	struct meta_target *t;
	char *generate_name;
};

static int parse_name(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	if (get_string(c, n, path, t->name) < 0)
		return -1;
	if (!pp_is_dns1123_subdomain(*t->name))
		return perr(
		    c, n->pos, path,
		    "invalid name \"%s\": must be a lowercase RFC 1123 subdomain (at most 253 "
		    "characters of a-z, 0-9, '-' and '.', starting and ending alphanumeric)",
		    *t->name);
	return t->check_name != NULL ? t->check_name(c, n, path, *t->name) : 0;
}

static int parse_namespace(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	if (get_string(c, n, path, t->namespace_) < 0)
		return -1;
	if (!pp_is_dns1123_label(*t->namespace_))
		return perr(c, n->pos, path, "invalid namespace \"%s\": must be a DNS-1123 label",
			    *t->namespace_);
	return 0;
}

static int parse_uid(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_string(c, n, path, ((struct meta_walk *)obj)->t->uid);
}

static int parse_created(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	return t->created != NULL ? get_string(c, n, path, t->created) : 0;
}

static int parse_generation(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	return t->generation != NULL ? get_int64(c, n, path, 0, INT64_MAX, t->generation) : 0;
}

static int parse_generate_name(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *obj)
{
	return get_string(c, n, path, &((struct meta_walk *)obj)->generate_name);
}

static int parse_labels(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	if (get_string_map(c, n, path, t->labels, t->n_labels) < 0)
		return -1;
	return check_meta_map(c, n, path, true);
}

static int parse_annotations(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	if (get_string_map(c, n, path, t->annotations, t->n_annotations) < 0 ||
	    check_meta_map(c, n, path, false) < 0)
		return -1;
	return t->check_annotations != NULL ? t->check_annotations(c, n, path) : 0;
}

static int parse_owner_refs(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct meta_target *t = ((struct meta_walk *)obj)->t;
	return t->owner_refs != NULL ? t->owner_refs(c, n, path, t->owner_obj) : 0;
}

/* The rows every kind shares; the API server's read-only fields accepted. */
#define META_FIELDS                                                                                \
	F_FN("name", parse_name), F_FN("namespace", parse_namespace), F_FN("uid", parse_uid),      \
	    F_FN("labels", parse_labels), F_FN("annotations", parse_annotations),                  \
	    F_FN("creationTimestamp", parse_created), F_FN("generation", parse_generation),        \
	    F_FN("ownerReferences", parse_owner_refs), F_SKIP("deletionTimestamp"),                \
	    F_SKIP("deletionGracePeriodSeconds"), F_SKIP("resourceVersion"), F_SKIP("selfLink"),   \
	    F_SKIP("managedFields"), F_SKIP("finalizers")

static const struct field meta_fields[] = {
    META_FIELDS,
    F_FN("generateName", parse_generate_name),
    F_END,
};

static const struct field meta_fields_no_generate[] = {
    META_FIELDS,
    F_REFUSE("generateName", "is not supported: peapod does not generate names"),
    F_END,
};

int parse_meta(struct pctx *c, const struct pp_ynode *n, const char *path, struct meta_target *m)
{
	struct meta_walk w = {.t = m};
	int r = walk_map(c, n, path,
			 m->refuse_generate_name ? meta_fields_no_generate : meta_fields, &w);
	bool generated = w.generate_name != NULL;
	if (m->generate_name != NULL) {
		free(*m->generate_name);
		*m->generate_name = steal_ptr(&w.generate_name);
	}
	free(w.generate_name);
	if (r < 0)
		return -1;
	if (*m->name == NULL && generated)
		return perr(c, n->pos, "metadata.name",
			    "required field \"name\" is missing: peapod does not generate names "
			    "from metadata.generateName");
	if (*m->name == NULL)
		return perr(c, n->pos, "metadata.name", "required field \"name\" is missing");
	return 0;
}

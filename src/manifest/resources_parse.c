/* resources.limits / resources.requests of a container. */
#include <string.h>

#include "manifest/k8s_names.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

#define HUGEPAGES_PREFIX "hugepages-"

static struct pp_quantity *standard_slot(struct pp_resources *r, bool limits, const char *name)
{
	if (strcmp(name, "cpu") == 0)
		return limits ? &r->limits_cpu : &r->requests_cpu;
	if (strcmp(name, "memory") == 0)
		return limits ? &r->limits_memory : &r->requests_memory;
	if (strcmp(name, "ephemeral-storage") == 0)
		return limits ? &r->limits_ephemeral_storage : &r->requests_ephemeral_storage;
	return NULL;
}

/* Names without a domain are Kubernetes' own: only these exist for containers. */
static bool is_valid_resource_name(const char *name)
{
	if (strchr(name, '/') != NULL)
		return pp_is_qualified_name(name);
	return strncmp(name, HUGEPAGES_PREFIX, strlen(HUGEPAGES_PREFIX)) == 0 &&
	       name[strlen(HUGEPAGES_PREFIX)] != '\0';
}

static int parse_resource_map(struct pctx *c, const struct pp_ynode *n, const char *path,
			      struct pp_resources *r, bool limits)
{
	struct pp_kv **other = limits ? &r->limits_other : &r->requests_other;
	size_t *n_other = limits ? &r->n_limits_other : &r->n_requests_other;
	if (expect_kind(c, n, path, PP_YMAP) < 0)
		return -1;
	*other = xmalloc(pp_ymap_len(n) * sizeof(**other));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *name = n->child[i]->value;
		const struct pp_ynode *v = n->child[i + 1];
		cleanup_free char *p = path_key(path, name);
		struct pp_quantity q = {0}, *slot = standard_slot(r, limits, name);
		if (slot == NULL && !is_valid_resource_name(name))
			return perr(c, n->child[i]->pos, p, "unsupported resource name \"%s\"",
				    name);
		if (slot != NULL && slot->set)
			return perr(c, n->child[i]->pos, p, "duplicate field \"%s\"", name);
		int ret = get_quantity(c, v, p, slot ? slot : &q);
		if (slot == NULL && q.text != NULL) {
			(*other)[*n_other].key = xstrdup(name);
			(*other)[(*n_other)++].value = q.text;
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int parse_limits(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_resource_map(c, n, path, obj, true);
}

static int parse_requests(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_resource_map(c, n, path, obj, false);
}

static const struct field resources_fields[] = {
    F_FN("limits", parse_limits),
    F_FN("requests", parse_requests),
    F_IGN("claims", PP_YSEQ),
    F_END,
};

static int64_t limit_milli(const struct pp_resources *r, const char *name, bool *found)
{
	const struct pp_quantity *q = standard_slot((struct pp_resources *)r, true, name);
	*found = q != NULL && q->set;
	if (q != NULL)
		return q->milli;
	for (size_t i = 0; i < r->n_limits_other; i++) {
		struct pp_quantity tmp = {0};
		if (strcmp(r->limits_other[i].key, name) != 0 ||
		    pp_quantity_parse(r->limits_other[i].value, &tmp, NULL) < 0)
			continue;
		free(tmp.text);
		*found = true;
		return tmp.milli;
	}
	return 0;
}

/* The API server refuses a request above its limit. */
static int check_request_limits(struct pctx *c, const struct pp_ynode *n, const char *path,
				const struct pp_resources *r)
{
	const struct pp_ynode *requests = pp_ymap_get(n, "requests");
	const struct pp_ynode *limits = pp_ymap_get(n, "limits");
	for (size_t i = 0; requests && requests->kind == PP_YMAP && i + 1 < requests->n; i += 2) {
		const char *name = requests->child[i]->value;
		const struct pp_ynode *v = requests->child[i + 1];
		struct pp_quantity req = {0};
		bool found;
		if (ynode_is_null(v) || pp_quantity_parse(v->value, &req, NULL) < 0)
			continue;
		free(req.text);
		int64_t lim = limit_milli(r, name, &found);
		if (!found || req.milli <= lim)
			continue;
		cleanup_free char *p = xasprintf("%s.requests.%s", path, name);
		return perr(c, v->pos, p, "must be less than or equal to %s limit of %s", name,
			    pp_ymap_get(limits, name)->value);
	}
	return 0;
}

static void default_quantity(struct pp_quantity *request, const struct pp_quantity *limit)
{
	if (request->set || !limit->set)
		return;
	*request = *limit;
	request->text = xstrdup(limit->text);
}

/* The API server's defaulting: a resource with a limit and no request gets
 * the limit as its request. */
static void default_requests(struct pp_resources *r)
{
	default_quantity(&r->requests_cpu, &r->limits_cpu);
	default_quantity(&r->requests_memory, &r->limits_memory);
	default_quantity(&r->requests_ephemeral_storage, &r->limits_ephemeral_storage);
	for (size_t i = 0; i < r->n_limits_other; i++) {
		bool found = false;
		for (size_t k = 0; k < r->n_requests_other && !found; k++)
			found = strcmp(r->requests_other[k].key, r->limits_other[i].key) == 0;
		if (found)
			continue;
		r->requests_other = xrealloc(r->requests_other, sizeof(*r->requests_other) *
								    (r->n_requests_other + 1));
		r->requests_other[r->n_requests_other++] =
		    (struct pp_kv){.key = xstrdup(r->limits_other[i].key),
				   .value = xstrdup(r->limits_other[i].value)};
	}
}

int parse_resources(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_resources *r = &((struct pp_container *)obj)->resources;
	if (walk_map(c, n, path, resources_fields, r) < 0 ||
	    check_request_limits(c, n, path, r) < 0)
		return -1;
	default_requests(r);
	return 0;
}

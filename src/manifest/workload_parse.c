/* Deployment, ReplicaSet, DaemonSet and Job documents -> struct
 * pp_workload, with the API server's checks (apps/validation,
 * batch/validation): selector required and matching the template's labels,
 * replicas >= 0, the strategy's fields; the pod template parsed as a Pod. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/job.h"
#include "manifest/parse_internal.h"
#include "manifest/workload.h"
#include "util/cleanup.h"

static const struct pp_workload_kind_info kinds[PP_WL_KIND_COUNT] = {
    [PP_WL_DEPLOYMENT] = {"Deployment", "apps/v1", "deployments", "deployment", "deploy", "apps"},
    [PP_WL_REPLICASET] = {"ReplicaSet", "apps/v1", "replicasets", "replicaset", "rs", "apps"},
    [PP_WL_DAEMONSET] = {"DaemonSet", "apps/v1", "daemonsets", "daemonset", "ds", "apps"},
    [PP_WL_JOB] = {"Job", "batch/v1", "jobs", "job", "job", "batch"},
};

const struct pp_workload_kind_info *pp_workload_kind_info(enum pp_workload_kind k)
{
	return &kinds[k];
}

int pp_workload_kind_lookup(const char *word)
{
	for (int k = 0; k < PP_WL_KIND_COUNT; k++) {
		const struct pp_workload_kind_info *i = &kinds[k];
		size_t ll = strlen(i->lower), pl = strlen(i->plural);
		if (strcmp(word, i->kind) == 0 || strcmp(word, i->plural) == 0 ||
		    strcmp(word, i->lower) == 0 || strcmp(word, i->short_name) == 0 ||
		    (strncmp(word, i->lower, ll) == 0 && word[ll] == '.' &&
		     strcmp(word + ll + 1, i->group) == 0) ||
		    (strncmp(word, i->plural, pl) == 0 && word[pl] == '.' &&
		     strcmp(word + pl + 1, i->group) == 0))
			return k;
	}
	return -1;
}

int32_t pp_int_or_percent_scaled(const struct pp_int_or_percent *v, int32_t total, bool round_up)
{
	if (!v->percent)
		return v->value;
	int64_t x = (int64_t)v->value * total;
	return (int32_t)(round_up ? (x + 99) / 100 : x / 100);
}

const char *pp_kv_lookup(void *ctx, const char *key)
{
	const struct pp_kv_set *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return s->kv[i].value;
	return NULL;
}

static void kv_free(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void pp_workload_free(struct pp_workload *w)
{
	if (w == NULL)
		return;
	free(w->source);
	free(w->name);
	free(w->namespace_);
	free(w->uid);
	free(w->created);
	free(w->owner_kind);
	free(w->owner_name);
	free(w->owner_uid);
	free(w->owner_refs_json);
	kv_free(w->labels, w->n_labels);
	kv_free(w->annotations, w->n_annotations);
	pp_selector_free(&w->selector);
	kv_free(w->tmpl_labels, w->n_tmpl_labels);
	pp_pod_free(w->tmpl);
	free(w->tmpl_json);
	kv_free(w->node_selector, w->n_node_selector);
	free(w->affinity_json);
	free(w->spec_json);
	pp_job_free(w->job);
	free(w);
}

/* ---- metadata ---- */

struct owner_ref {
	char *api_version, *kind, *name, *uid;
	bool controller, block;
};

static const struct field owner_fields[] = {
    F_STR_REQ("apiVersion", struct owner_ref, api_version),
    F_STR_REQ("kind", struct owner_ref, kind),
    F_STR_REQ("name", struct owner_ref, name),
    F_STR_REQ("uid", struct owner_ref, uid),
    F_BOOL("controller", struct owner_ref, controller),
    F_BOOL("blockOwnerDeletion", struct owner_ref, block),
    F_END,
};

static int parse_owner_refs(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = path_index(path, i);
		struct owner_ref o = {0};
		int r = walk_map(c, n->child[i], p, owner_fields, &o);
		if (r == 0 && o.controller && w->owner_uid != NULL)
			r = perr(
			    c, n->child[i]->pos, p,
			    "Invalid value: only one reference can have Controller set to true");
		if (r == 0 && o.controller) {
			w->owner_kind = steal_ptr(&o.kind);
			w->owner_name = steal_ptr(&o.name);
			w->owner_uid = steal_ptr(&o.uid);
		}
		free(o.api_version);
		free(o.kind);
		free(o.name);
		free(o.uid);
		if (r < 0)
			return -1;
	}
	struct json_object *j = ynode_to_json(n);
	w->owner_refs_json = xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return 0;
}

static int parse_metadata(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	struct meta_target m = {
	    .name = &w->name,
	    .namespace_ = &w->namespace_,
	    .uid = &w->uid,
	    .created = &w->created,
	    .generation = &w->generation,
	    .labels = &w->labels,
	    .n_labels = &w->n_labels,
	    .annotations = &w->annotations,
	    .n_annotations = &w->n_annotations,
	    .owner_refs = parse_owner_refs,
	    .owner_obj = w,
	    .refuse_generate_name = true,
	};
	return parse_meta(c, n, path, &m);
}

/* ---- selector ---- */

static int parse_match_labels(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_selector *s = obj;
	struct pp_kv *kv = NULL;
	size_t nkv = 0;
	int r = get_string_map(c, n, path, &kv, &nkv);
	if (r == 0)
		r = check_meta_map(c, n, path, true);
	for (size_t i = 0; i < nkv; i++) {
		if (r == 0 && kv[i].key != NULL && kv[i].value != NULL) {
			s->reqs = xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
			struct pp_sel_req *q = &s->reqs[s->n++];
			*q = (struct pp_sel_req){.key = kv[i].key, .op = PP_SEL_EQ, .n_values = 1};
			q->values = xmalloc(sizeof(char *));
			q->values[0] = kv[i].value;
			continue;
		}
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
	return r;
}

struct expr {
	char *key, *op;
	char **values;
	const struct pp_ynode *values_node;
};

static int parse_expr_values(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct expr *e = obj;
	e->values_node = n;
	return get_strv(c, n, path, &e->values);
}

static const struct field expr_fields[] = {
    F_STR_REQ("key", struct expr, key),
    F_STR_REQ("operator", struct expr, op),
    F_FN("values", parse_expr_values),
    F_END,
};

static int parse_expressions(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_selector *s = obj;
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = path_index(path, i);
		struct expr e = {0};
		int r = walk_map(c, n->child[i], p, expr_fields, &e);
		size_t nv = 0;
		while (e.values && e.values[nv])
			nv++;
		static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
		static const enum pp_sel_op sel[] = {PP_SEL_IN, PP_SEL_NOTIN, PP_SEL_EXISTS,
						     PP_SEL_ABSENT};
		int k = 0;
		while (r == 0 && k < 4 && strcmp(ops[k], e.op) != 0)
			k++;
		const char *why = NULL;
		if (r == 0 && k == 4)
			r = perr(c, n->child[i]->pos, p,
				 "operator: Invalid value: \"%s\": not a valid selector operator",
				 e.op);
		else if (r == 0 && !pp_label_key_valid(e.key, &why))
			r = perr(c, n->child[i]->pos, p, "key: Invalid value: \"%s\": %s", e.key,
				 why);
		else if (r == 0 && k < 2 && nv == 0)
			r = perr(c, n->child[i]->pos, p,
				 "values: Required value: must be specified when `operator` is "
				 "'In' or 'NotIn'");
		else if (r == 0 && k >= 2 && nv > 0)
			r = perr(c, e.values_node->pos, p,
				 "values: Forbidden: may not be specified when `operator` is "
				 "'Exists' or 'DoesNotExist'");
		free(e.op);
		if (r < 0) {
			free(e.key);
			for (size_t j = 0; j < nv; j++)
				free(e.values[j]);
			free(e.values);
			return -1;
		}
		s->reqs = xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
		s->reqs[s->n++] = (struct pp_sel_req){
		    .key = e.key, .op = sel[k], .values = e.values, .n_values = nv};
	}
	return 0;
}

static const struct field selector_fields[] = {
    F_FN("matchLabels", parse_match_labels),
    F_FN("matchExpressions", parse_expressions),
    F_END,
};

static int parse_selector(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	if (ynode_is_null(n))
		return 0;
	w->has_selector = true;
	if (walk_map(c, n, path, selector_fields, &w->selector) < 0)
		return -1;
	if (w->selector.n == 0 && w->kind != PP_WL_JOB)
		return perr(c, n->pos, path, "Invalid value: {}: empty selector is invalid for %s",
			    pp_workload_kind_info(w->kind)->lower);
	return 0;
}

/* ---- the pod template ---- */

static struct pp_ynode *scalar(const char *v, struct pp_pos pos)
{
	struct pp_ynode *n = xmalloc(sizeof(*n));
	n->kind = PP_YSCALAR;
	n->value = xstrdup(v);
	n->pos = pos;
	return n;
}

static void add_pair(struct pp_ynode *map, struct pp_ynode *k, struct pp_ynode *v)
{
	map->child = xrealloc(map->child, (map->n + 2) * sizeof(*map->child));
	map->child[map->n++] = k;
	map->child[map->n++] = v;
}

/* Frees the nodes made here (owned[i]), not the template's (borrowed). */
static void free_made(struct pp_ynode **made, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(made[i]->value);
		free(made[i]->child);
		free(made[i]);
	}
}

static int parse_node_affinity_json(struct pctx *c, const struct pp_ynode *spec)
{
	struct pp_workload *w = c->workload;
	const struct pp_ynode *ns = pp_ymap_get(spec, "nodeSelector");
	if (ns != NULL && !ynode_is_null(ns) &&
	    get_string_map(c, ns, "spec.template.spec.nodeSelector", &w->node_selector,
			   &w->n_node_selector) < 0)
		return -1;
	const struct pp_ynode *aff = pp_ymap_get(spec, "affinity");
	const struct pp_ynode *na =
	    aff && aff->kind == PP_YMAP ? pp_ymap_get(aff, "nodeAffinity") : NULL;
	if (na != NULL && !ynode_is_null(na)) {
		struct json_object *j = ynode_to_json(na);
		w->affinity_json =
		    xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
		w->has_affinity = true;
	}
	return 0;
}

static int parse_template(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	/* a second spec would be stored unchecked: the first is validated */
	if (expect_kind(c, n, path, PP_YMAP) < 0 || check_duplicate_keys(c, n, path) < 0)
		return -1;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const char *k = n->child[i]->value;
		if (strcmp(k, "metadata") != 0 && strcmp(k, "spec") != 0) {
			cleanup_free char *p = path_key(path, k);
			return perr(c, n->child[i]->pos, p, "unknown field \"%s\"", k);
		}
	}
	const struct pp_ynode *meta = pp_ymap_get(n, "metadata");
	const struct pp_ynode *spec = pp_ymap_get(n, "spec");
	if (meta != NULL && !ynode_is_null(meta) &&
	    expect_kind(c, meta, "spec.template.metadata", PP_YMAP) < 0)
		return -1;
	if (spec == NULL || ynode_is_null(spec))
		return perr(c, n->pos, "spec.template.spec.containers", "Required value");
	/* A Pod document: apiVersion v1, kind Pod, metadata with a name, the
	 * template's spec; its nodes borrowed from the template's tree. */
	struct pp_ynode *made[16];
	size_t nm = 0;
	struct pp_ynode *root = made[nm++] = scalar("", n->pos);
	root->kind = PP_YMAP;
	struct pp_ynode *m = made[nm++] = scalar("", meta ? meta->pos : n->pos);
	m->kind = PP_YMAP;
	static const char *const pairs[][2] = {
	    {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", NULL}, {"spec", NULL}};
	for (size_t i = 0; i < 4; i++) {
		struct pp_ynode *k = made[nm++] = scalar(pairs[i][0], n->pos);
		struct pp_ynode *v = i == 2   ? m
				     : i == 3 ? (struct pp_ynode *)spec
					      : (made[nm++] = scalar(pairs[i][1], n->pos));
		add_pair(root, k, v);
	}
	struct pp_ynode *nk = made[nm++] = scalar("name", n->pos);
	struct pp_ynode *nv = made[nm++] = scalar("template", n->pos);
	add_pair(m, nk, nv);
	if (meta != NULL && meta->kind == PP_YMAP)
		for (size_t i = 0; i + 1 < meta->n; i += 2) {
			const char *k = meta->child[i]->value;
			if (strcmp(k, "name") != 0 && strcmp(k, "namespace") != 0 &&
			    strcmp(k, "generateName") != 0)
				add_pair(m, meta->child[i], meta->child[i + 1]);
		}
	w->tmpl = xmalloc(sizeof(*w->tmpl));
	w->tmpl->source = xstrdup(c->source);
	struct pctx pc = {
	    .source = c->source, .err = c->err, .pod = w->tmpl, .prefix = "spec.template."};
	int r = parse_pod(&pc, root);
	free_made(made, nm);
	if (r < 0)
		return -1;
	const struct pp_ynode *labels =
	    meta && meta->kind == PP_YMAP ? pp_ymap_get(meta, "labels") : NULL;
	if (labels != NULL && !ynode_is_null(labels) &&
	    get_string_map(c, labels, "spec.template.metadata.labels", &w->tmpl_labels,
			   &w->n_tmpl_labels) < 0)
		return -1;
	const struct pp_ynode *rp = pp_ymap_get(spec, "restartPolicy");
	if (w->kind != PP_WL_JOB && w->tmpl->restart_policy != PP_RESTART_ALWAYS)
		return perr(c, rp ? rp->pos : spec->pos, "spec.template.spec.restartPolicy",
			    "Unsupported value: \"%s\": supported values: \"Always\"",
			    w->tmpl->restart_policy == PP_RESTART_NEVER ? "Never" : "OnFailure");
	if (w->kind == PP_WL_JOB && w->tmpl->restart_policy == PP_RESTART_ALWAYS)
		return perr(c, rp ? rp->pos : spec->pos, "spec.template.spec.restartPolicy",
			    rp ? "Unsupported value: \"Always\": supported values: \"OnFailure\", "
				 "\"Never\""
			       : "Required value: valid values: \"OnFailure\", \"Never\"");
	if (parse_node_affinity_json(c, spec) < 0)
		return -1;
	struct json_object *j = ynode_to_json(n);
	w->tmpl_json = xstrdup(json_object_to_json_string_ext(
	    j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return 0;
}

/* ---- strategies ---- */

static int parse_int_or_percent(struct pctx *c, const struct pp_ynode *n, const char *path,
				struct pp_int_or_percent *v)
{
	v->set = true;
	if (yscalar_type(n) == YS_INT) {
		int64_t x;
		if (get_int64(c, n, path, 0, INT32_MAX, &x) < 0)
			return -1;
		v->value = (int32_t)x;
		return 0;
	}
	cleanup_free char *s = NULL;
	if (get_string(c, n, path, &s) < 0)
		return -1;
	size_t l = strlen(s);
	char *end = NULL;
	long x = l > 1 && s[l - 1] == '%' ? strtol(s, &end, 10) : -1;
	if (end == NULL || end != s + l - 1 || x < 0 || s[0] == '-' || s[0] == '+')
		return perr(c, n->pos, path,
			    "Invalid value: \"%s\": a valid percent string must be a numeric "
			    "string followed by an ending '%%' (e.g. '1%%',  or '93%%', regex used "
			    "for validation is '[0-9]+%%')",
			    s);
	if (x > 100)
		return perr(c, n->pos, path,
			    "Invalid value: \"%s\": must not be greater than 100%%", s);
	v->percent = true;
	v->value = (int32_t)x;
	return 0;
}

static int parse_max_surge(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_int_or_percent(c, n, path, &((struct pp_workload *)obj)->max_surge);
}

static int parse_max_unavailable(struct pctx *c, const struct pp_ynode *n, const char *path,
				 void *obj)
{
	return parse_int_or_percent(c, n, path, &((struct pp_workload *)obj)->max_unavailable);
}

static const struct field rolling_fields[] = {
    F_FN("maxSurge", parse_max_surge),
    F_FN("maxUnavailable", parse_max_unavailable),
    F_END,
};

static const struct field ds_rolling_fields[] = {
    F_FN("maxUnavailable", parse_max_unavailable),
    F_FN("maxSurge", parse_max_surge),
    F_END,
};

struct strategy {
	struct pp_workload *w;
	char *type;
	const struct pp_ynode *rolling;
};

static int keep_rolling(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	(void)c;
	(void)path;
	((struct strategy *)obj)->rolling = n;
	return 0;
}

static const struct field strategy_fields[] = {
    F_STR("type", struct strategy, type),
    F_FN("rollingUpdate", keep_rolling),
    F_END,
};

static int parse_strategy(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	struct strategy s = {.w = w};
	bool ds = w->kind == PP_WL_DAEMONSET;
	int r = walk_map(c, n, path, strategy_fields, &s);
	cleanup_free char *type = s.type;
	if (r < 0)
		return -1;
	const char *other = ds ? "OnDelete" : "Recreate";
	cleanup_free char *tp = path_key(path, "type");
	cleanup_free char *rp = path_key(path, "rollingUpdate");
	if (type != NULL && strcmp(type, "RollingUpdate") != 0 && strcmp(type, other) != 0)
		return perr(
		    c, pp_ymap_get(n, "type")->pos, tp,
		    "Unsupported value: \"%s\": supported values: \"%s\", \"RollingUpdate\"", type,
		    other);
	bool rolling = type == NULL || strcmp(type, "RollingUpdate") == 0;
	if (!rolling) {
		if (ds)
			w->on_delete = true;
		else
			w->strategy = PP_STRATEGY_RECREATE;
		if (s.rolling != NULL && !ynode_is_null(s.rolling))
			return perr(c, s.rolling->pos, rp,
				    "Forbidden: may not be specified when strategy `type` is '%s'",
				    other);
		return 0;
	}
	if (s.rolling != NULL && !ynode_is_null(s.rolling) &&
	    walk_map(c, s.rolling, rp, ds ? ds_rolling_fields : rolling_fields, w) < 0)
		return -1;
	return 0;
}

/* ---- the kinds' specs ---- */

static int parse_template_req(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_template(c, n, path, obj);
}

static const struct field deployment_spec[] = {
    F_I32("replicas", struct pp_workload, replicas, 0),
    F_FN("selector", parse_selector),
    F_FN_REQ("template", parse_template_req),
    F_FN("strategy", parse_strategy),
    F_I32("minReadySeconds", struct pp_workload, min_ready_seconds, 0),
    F_I32("revisionHistoryLimit", struct pp_workload, revision_history_limit, 0),
    F_I32("progressDeadlineSeconds", struct pp_workload, progress_deadline_seconds, 0),
    F_BOOL("paused", struct pp_workload, paused),
    F_END,
};

static const struct field replicaset_spec[] = {
    F_I32("replicas", struct pp_workload, replicas, 0),
    F_FN("selector", parse_selector),
    F_FN_REQ("template", parse_template_req),
    F_I32("minReadySeconds", struct pp_workload, min_ready_seconds, 0),
    F_END,
};

static const struct field daemonset_spec[] = {
    F_FN("selector", parse_selector),
    F_FN_REQ("template", parse_template_req),
    F_FN("updateStrategy", parse_strategy),
    F_I32("minReadySeconds", struct pp_workload, min_ready_seconds, 0),
    F_I32("revisionHistoryLimit", struct pp_workload, revision_history_limit, 0),
    F_END,
};

/* The Job's own fields: checked and typed by job_parse.c (parse_job). */
static const struct field job_spec[] = {
    F_FN("selector", parse_selector),
    F_FN_REQ("template", parse_template_req),
    F_SKIP("parallelism"),
    F_SKIP("completions"),
    F_SKIP("backoffLimit"),
    F_SKIP("activeDeadlineSeconds"),
    F_SKIP("ttlSecondsAfterFinished"),
    F_SKIP("completionMode"),
    F_SKIP("suspend"),
    F_SKIP("manualSelector"),
    F_SKIP("podFailurePolicy"),
    F_SKIP("successPolicy"),
    F_SKIP("backoffLimitPerIndex"),
    F_SKIP("maxFailedIndexes"),
    F_SKIP("podReplacementPolicy"),
    F_SKIP("managedBy"),
    F_END,
};

static const struct field *const spec_tables[PP_WL_KIND_COUNT] = {
    [PP_WL_DEPLOYMENT] = deployment_spec,
    [PP_WL_REPLICASET] = replicaset_spec,
    [PP_WL_DAEMONSET] = daemonset_spec,
    [PP_WL_JOB] = job_spec,
};

static char *kv_text(const struct pp_kv *kv, size_t n)
{
	char *s = xstrdup("map[string]string{");
	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%s\"%s\":\"%s\"", s, i ? ", " : "", kv[i].key, kv[i].value);
		free(s);
		s = t;
	}
	char *t = xasprintf("%s}", s);
	free(s);
	return t;
}

static int parse_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	if (walk_map(c, n, path, spec_tables[w->kind], w) < 0)
		return -1;
	struct json_object *j = ynode_to_json(n);
	w->spec_json = xstrdup(json_object_to_json_string_ext(
	    j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	const struct pp_ynode *sel = pp_ymap_get(n, "selector");
	if (!w->has_selector && w->kind != PP_WL_JOB)
		return perr(c, n->pos, "spec.selector", "Required value");
	struct pp_kv_set labels = {w->tmpl_labels, w->n_tmpl_labels};
	if (w->has_selector && !pp_selector_matches(&w->selector, pp_kv_lookup, &labels)) {
		const struct pp_ynode *tm = pp_ymap_get(pp_ymap_get(n, "template"), "metadata");
		const struct pp_ynode *tl =
		    tm && tm->kind == PP_YMAP ? pp_ymap_get(tm, "labels") : NULL;
		cleanup_free char *t = kv_text(w->tmpl_labels, w->n_tmpl_labels);
		return perr(c, tl ? tl->pos : sel->pos, "spec.template.metadata.labels",
			    "Invalid value: %s: `selector` does not match template `labels`", t);
	}
	if (w->kind == PP_WL_DEPLOYMENT) {
		if (!w->max_surge.set && !w->max_unavailable.set &&
		    w->strategy == PP_STRATEGY_ROLLING_UPDATE) {
			w->max_surge = (struct pp_int_or_percent){true, true, 25};
			w->max_unavailable = (struct pp_int_or_percent){true, true, 25};
		} else if (w->strategy == PP_STRATEGY_ROLLING_UPDATE) {
			if (!w->max_surge.set)
				w->max_surge = (struct pp_int_or_percent){true, true, 25};
			if (!w->max_unavailable.set)
				w->max_unavailable = (struct pp_int_or_percent){true, true, 25};
			if (w->max_surge.value == 0 && w->max_unavailable.value == 0)
				return perr(c, n->pos, "spec.strategy.rollingUpdate.maxUnavailable",
					    "Invalid value: %d: may not be 0 when `maxSurge` is 0",
					    0);
		}
		if (pp_ymap_get(n, "progressDeadlineSeconds") != NULL &&
		    w->progress_deadline_seconds <= w->min_ready_seconds)
			return perr(c, pp_ymap_get(n, "progressDeadlineSeconds")->pos,
				    "spec.progressDeadlineSeconds",
				    "Invalid value: %d: must be greater than minReadySeconds",
				    w->progress_deadline_seconds);
	}
	if (w->kind == PP_WL_DAEMONSET && !w->max_unavailable.set)
		w->max_unavailable = (struct pp_int_or_percent){true, false, 1};
	return 0;
}

static int parse_api_version(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_workload *w = obj;
	cleanup_free char *v = NULL;
	if (get_string(c, n, path, &v) < 0)
		return -1;
	const struct pp_workload_kind_info *i = pp_workload_kind_info(w->kind);
	if (strcmp(v, i->api_version) != 0)
		return perr(c, n->pos, path,
			    "%s \"%s\" is not supported for kind %s: peapod takes %s", path, v,
			    i->kind, i->api_version);
	return 0;
}

static const struct field top_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_SKIP("kind"),
    F_FN_REQ("metadata", parse_metadata),
    F_FN_REQ("spec", parse_spec),
    F_SKIP("status"),
    F_END,
};

int parse_workload(struct pctx *c, const struct pp_ynode *root)
{
	struct pp_workload *w = c->workload;
	w->replicas = 1;
	w->revision_history_limit = 10;
	w->progress_deadline_seconds = 600;
	w->pos = root->pos;
	if (walk_map(c, root, "", top_fields, w) < 0)
		return -1;
	if (w->namespace_ == NULL)
		w->namespace_ = xstrdup("default");
	if (w->kind == PP_WL_JOB) {
		w->job = xmalloc(sizeof(*w->job));
		w->job->source = xstrdup(c->source);
		struct pctx jc = {.source = c->source, .err = c->err};
		if (parse_job(&jc, root, w->job) < 0)
			return -1;
		/* the namespace apply -n gives (set_namespace) is the workload's */
	}
	return 0;
}

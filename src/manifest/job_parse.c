/* A batch/v1 Job document -> struct pp_job, with the API server's defaults
 * and checks (pkg/apis/batch/validation). The template is parsed by the Pod
 * parser over a Pod made of the template's metadata and spec, its messages'
 * paths prefixed "spec.template.". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/job.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"

#define STDIN_NAME "<stdin>"
#define DEFAULT_NAMESPACE "default"
#define JOB_API_VERSION "batch/v1"
/* a pod's job-name label holds the job's name: a label value's limit */
#define MAX_JOB_NAME 63

/* What the walk keeps beside the job: presence flags and nodes for the
 * checks across fields. */
struct job_parse {
	struct pp_job *job;
	bool has_completions, has_parallelism, has_selector;
	const struct pp_ynode *template_node, *selector_node, *completions_node;
};

void pp_kv_array_free(struct pp_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void pp_job_free(struct pp_job *job)
{
	if (job == NULL)
		return;
	free(job->source);
	free(job->name);
	free(job->namespace_);
	free(job->uid);
	pp_kv_array_free(job->labels, job->n_labels);
	pp_kv_array_free(job->annotations, job->n_annotations);
	pp_kv_array_free(job->selector, job->n_selector);
	pp_pod_free(job->template_);
	free(job);
}

/* ---- metadata ---- */

/* the API server checks the labels it generates: job-name=NAME */
static int check_job_name(struct pctx *c, const struct pp_ynode *n, const char *path,
			  const char *name)
{
	if (strlen(name) > MAX_JOB_NAME)
		return perr(c, n->pos, path,
			    "invalid name \"%s\": must be no more than %d characters (it is the "
			    "value of its pods' job-name label)",
			    name, MAX_JOB_NAME);
	return 0;
}

static int parse_metadata(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_job *job = ((struct job_parse *)obj)->job;
	struct meta_target m = {
	    .name = &job->name,
	    .namespace_ = &job->namespace_,
	    .uid = &job->uid,
	    .labels = &job->labels,
	    .n_labels = &job->n_labels,
	    .annotations = &job->annotations,
	    .n_annotations = &job->n_annotations,
	    .check_name = check_job_name,
	};
	return parse_meta(c, n, path, &m);
}

/* ---- spec ---- */

static int get_int32(struct pctx *c, const struct pp_ynode *n, const char *path, int32_t *out)
{
	int64_t v = 0;
	/* the API server's words for a negative one: "greater than or equal to 0" */
	if (get_int64(c, n, path, 0, INT64_MAX, &v) < 0)
		return -1;
	if (v > INT32_MAX)
		return perr(c, n->pos, path, "must be less than or equal to %d", INT32_MAX);
	*out = (int32_t)v;
	return 0;
}

static int parse_parallelism(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct job_parse *jp = obj;
	jp->has_parallelism = true;
	return get_int32(c, n, path, &jp->job->parallelism);
}

static int parse_completions(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct job_parse *jp = obj;
	jp->has_completions = true;
	jp->completions_node = n;
	return get_int32(c, n, path, &jp->job->completions);
}

static int parse_backoff_limit(struct pctx *c, const struct pp_ynode *n, const char *path,
			       void *obj)
{
	return get_int32(c, n, path, &((struct job_parse *)obj)->job->backoff_limit);
}

static int parse_deadline(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_int64(c, n, path, 1, INT64_MAX,
			 &((struct job_parse *)obj)->job->active_deadline_seconds);
}

static int parse_ttl(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_job *job = ((struct job_parse *)obj)->job;
	int32_t v = 0;
	if (get_int32(c, n, path, &v) < 0)
		return -1;
	job->ttl_seconds_after_finished = v;
	return 0;
}

static int parse_completion_mode(struct pctx *c, const struct pp_ynode *n, const char *path,
				 void *obj)
{
	static const char *const words[] = {"NonIndexed", "Indexed", NULL};
	int v;
	if (get_enum(c, n, path, words, &v) < 0)
		return -1;
	((struct job_parse *)obj)->job->completion_mode = (enum pp_job_completion_mode)v;
	return 0;
}

static int parse_suspend(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return get_bool(c, n, path, &((struct job_parse *)obj)->job->suspend);
}

static int parse_manual_selector(struct pctx *c, const struct pp_ynode *n, const char *path,
				 void *obj)
{
	return get_bool(c, n, path, &((struct job_parse *)obj)->job->manual_selector);
}

static int parse_match_labels(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct pp_job *job = ((struct job_parse *)obj)->job;
	if (get_string_map(c, n, path, &job->selector, &job->n_selector) < 0)
		return -1;
	return check_meta_map(c, n, path, true);
}

static int refuse_expressions(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	(void)obj;
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	if (n->n > 0)
		return perr(c, n->pos, path,
			    "peapod supports a Job's selector by matchLabels only");
	return 0;
}

static const struct field selector_fields[] = {
    F_FN("matchLabels", parse_match_labels),
    F_FN("matchExpressions", refuse_expressions),
    F_END,
};

static int parse_selector(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct job_parse *jp = obj;
	jp->has_selector = true;
	jp->selector_node = n;
	return walk_map(c, n, path, selector_fields, jp);
}

static int keep_template(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	if (expect_kind(c, n, path, PP_YMAP) < 0)
		return -1;
	((struct job_parse *)obj)->template_node = n;
	return 0;
}

#define UNSUPPORTED(what) "peapod does not support a Job's " what
static const struct field spec_fields[] = {
    F_FN("parallelism", parse_parallelism),
    F_FN("completions", parse_completions),
    F_FN("backoffLimit", parse_backoff_limit),
    F_FN("activeDeadlineSeconds", parse_deadline),
    F_FN("ttlSecondsAfterFinished", parse_ttl),
    F_FN("completionMode", parse_completion_mode),
    F_FN("suspend", parse_suspend),
    F_FN("manualSelector", parse_manual_selector),
    F_FN("selector", parse_selector),
    F_FN_REQ("template", keep_template),
    F_REFUSE("podFailurePolicy", UNSUPPORTED("podFailurePolicy")),
    F_REFUSE("successPolicy", UNSUPPORTED("successPolicy")),
    F_REFUSE("backoffLimitPerIndex", UNSUPPORTED("backoffLimitPerIndex")),
    F_REFUSE("maxFailedIndexes", UNSUPPORTED("maxFailedIndexes")),
    /* valid, and what peapod does anyway: a pod is replaced once it has failed */
    F_IGN("podReplacementPolicy", PP_YSCALAR),
    F_IGN("managedBy", PP_YSCALAR),
    F_END,
};
#undef UNSUPPORTED

/* ---- the template, as a Pod ---- */

static struct pp_ynode scalar(const char *value, struct pp_pos pos)
{
	return (struct pp_ynode){.kind = PP_YSCALAR, .pos = pos, .value = (char *)value};
}

/* Parses the template as the Pod {apiVersion: v1, kind: Pod, metadata:
 * {name: JOB, namespace: NS, <the template's other metadata>}, spec:
 * <the template's spec>}. The built nodes borrow the template's. */
static int parse_template(struct pctx *c, struct pp_job *job, const struct pp_ynode *t)
{
	static const char *const template_fields[] = {"metadata", "spec", NULL};
	for (size_t i = 0; i + 1 < t->n; i += 2) {
		const struct pp_ynode *k = t->child[i];
		bool known = false;
		for (size_t w = 0; template_fields[w]; w++)
			known = known || strcmp(k->value, template_fields[w]) == 0;
		cleanup_free char *p = path_key("spec.template", k->value);
		if (!known)
			return perr(c, k->pos, p, "unknown field \"%s\"", k->value);
	}
	const struct pp_ynode *meta = pp_ymap_get(t, "metadata");
	const struct pp_ynode *spec = pp_ymap_get(t, "spec");
	if (spec == NULL || ynode_is_null(spec))
		return perr(c, t->pos, "spec.template.spec", "required field \"spec\" is missing");
	if (meta != NULL && !ynode_is_null(meta) &&
	    expect_kind(c, meta, "spec.template.metadata", PP_YMAP) < 0)
		return -1;
	size_t n_meta = meta != NULL && meta->kind == PP_YMAP ? meta->n : 0;
	struct pp_pos mpos = meta != NULL ? meta->pos : t->pos;

	/* metadata: name and namespace are the job's; the rest the template's */
	struct pp_ynode k_name = scalar("name", mpos), v_name = scalar(job->name, mpos);
	struct pp_ynode k_ns = scalar("namespace", mpos), v_ns = scalar(job->namespace_, mpos);
	cleanup_free struct pp_ynode **mchild = xmalloc((n_meta + 4) * sizeof(*mchild));
	size_t mn = 0;
	mchild[mn++] = &k_name;
	mchild[mn++] = &v_name;
	mchild[mn++] = &k_ns;
	mchild[mn++] = &v_ns;
	for (size_t i = 0; i + 1 < n_meta; i += 2) {
		const char *k = meta->child[i]->value;
		if (strcmp(k, "name") == 0 || strcmp(k, "namespace") == 0 ||
		    strcmp(k, "generateName") == 0)
			continue;
		mchild[mn++] = meta->child[i];
		mchild[mn++] = meta->child[i + 1];
	}
	struct pp_ynode m = {.kind = PP_YMAP, .pos = mpos, .child = mchild, .n = mn};

	struct pp_ynode k_api = scalar("apiVersion", t->pos), v_api = scalar("v1", t->pos);
	struct pp_ynode k_kind = scalar("kind", t->pos), v_kind = scalar("Pod", t->pos);
	struct pp_ynode k_meta = scalar("metadata", mpos), k_spec = scalar("spec", spec->pos);
	struct pp_ynode *rchild[] = {&k_api,  &v_api, &k_kind, &v_kind,
				     &k_meta, &m,     &k_spec, (struct pp_ynode *)spec};
	struct pp_ynode root = {.kind = PP_YMAP, .pos = t->pos, .child = rchild, .n = 8};

	struct pp_pod *pod = xmalloc(sizeof(*pod));
	pod->source = xstrdup(c->source);
	struct pctx pc = {
	    .source = c->source, .err = c->err, .pod = pod, .prefix = "spec.template."};
	job->template_ = pod;
	if (parse_pod(&pc, &root) < 0)
		return -1;
	/* the API server's job rules for the template */
	const struct pp_ynode *rp = pp_ymap_get(spec, "restartPolicy");
	if (pod->restart_policy == PP_RESTART_ALWAYS)
		return perr(c, rp != NULL ? rp->pos : spec->pos, "spec.template.spec.restartPolicy",
			    rp != NULL ? "Unsupported value: \"Always\": supported values: "
					 "\"OnFailure\", \"Never\""
				       : "Required value: valid values: \"OnFailure\", \"Never\"");
	return 0;
}

/* ---- checks across fields ---- */

static const char *kv_get(const struct pp_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

static int check_job(struct pctx *c, struct job_parse *jp, const struct pp_ynode *spec)
{
	struct pp_job *job = jp->job;
	if (!job->manual_selector && jp->has_selector && job->n_selector > 0)
		return perr(c, jp->selector_node->pos, "spec.selector",
			    "Invalid value: `selector` not auto-generated (set "
			    "spec.manualSelector: true to choose it)");
	if (job->manual_selector && job->n_selector == 0)
		return perr(c, jp->has_selector ? jp->selector_node->pos : spec->pos,
			    "spec.selector", "Required value: manualSelector needs a selector");
	for (size_t i = 0; i < job->n_selector; i++) {
		const char *v =
		    kv_get(job->template_->labels, job->template_->n_labels, job->selector[i].key);
		if (v == NULL || strcmp(v, job->selector[i].value) != 0)
			return perr(c, jp->template_node->pos, "spec.template.metadata.labels",
				    "Invalid value: `selector` does not match template `labels` "
				    "(%s=%s)",
				    job->selector[i].key, job->selector[i].value);
	}
	if (job->completion_mode == PP_JOB_INDEXED) {
		if (!jp->has_completions)
			return perr(c, spec->pos, "spec.completions",
				    "Required value: when completion mode is Indexed");
		if (job->completions > PP_JOB_MAX_INDEXED_COMPLETIONS)
			return perr(c, jp->completions_node->pos, "spec.completions",
				    "must be less than or equal to %d when completion mode is "
				    "Indexed",
				    PP_JOB_MAX_INDEXED_COMPLETIONS);
		if (job->parallelism > PP_JOB_MAX_INDEXED_PARALLELISM)
			return perr(c, pp_ymap_get(spec, "parallelism")->pos, "spec.parallelism",
				    "must be less than or equal to %d when completion mode is "
				    "Indexed",
				    PP_JOB_MAX_INDEXED_PARALLELISM);
	}
	return 0;
}

static int parse_spec(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	struct job_parse *jp = obj;
	struct pp_job *job = jp->job;
	if (walk_map(c, n, path, spec_fields, jp) < 0)
		return -1;
	/* the API server's defaults: both unset -> 1 and 1; only parallelism
	 * set -> a work queue (completions unset) */
	if (!jp->has_completions && !jp->has_parallelism)
		job->completions = 1;
	if (!jp->has_parallelism)
		job->parallelism = 1;
	if (parse_template(c, job, jp->template_node) < 0)
		return -1;
	return check_job(c, jp, n);
}

/* ---- type meta ---- */

static int parse_kind(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	(void)obj;
	cleanup_free char *kind = NULL;
	if (get_string(c, n, path, &kind) < 0)
		return -1;
	if (strcmp(kind, "CronJob") == 0)
		return perr(c, n->pos, path, "%s", PP_CRONJOB_REFUSAL);
	if (strcmp(kind, "Job") != 0)
		return perr(c, n->pos, path, "kind \"%s\" is not a Job", kind);
	return 0;
}

static int parse_api_version(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	(void)obj;
	cleanup_free char *v = NULL;
	if (get_string(c, n, path, &v) < 0)
		return -1;
	if (strcmp(v, JOB_API_VERSION) != 0)
		return perr(c, n->pos, path,
			    "apiVersion \"%s\" is not supported: a Job is \"" JOB_API_VERSION "\"",
			    v);
	return 0;
}

static int parse_meta_top(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	return parse_metadata(c, n, path, obj);
}

static int parse_spec_top(struct pctx *c, const struct pp_ynode *n, const char *path, void *obj)
{
	/* the template needs the name and namespace: metadata first */
	(void)c, (void)n, (void)path, (void)obj;
	return 0;
}

static const struct field top_fields[] = {
    F_FN_REQ("apiVersion", parse_api_version),
    F_FN_REQ("kind", parse_kind),
    F_FN_REQ("metadata", parse_meta_top),
    F_FN_REQ("spec", parse_spec_top),
    F_SKIP("status"),
    F_END,
};

int parse_job(struct pctx *c, const struct pp_ynode *root, struct pp_job *job)
{
	if (root->kind != PP_YMAP)
		return pp_error_set(c->err, 0, "%s:%d:%d: a Job manifest must be a map, got %s",
				    c->source, root->pos.line, root->pos.col,
				    ynode_type_name(root));
	struct job_parse jp = {.job = job};
	job->pos = root->pos;
	job->completions = -1;
	job->backoff_limit = PP_JOB_DEFAULT_BACKOFF_LIMIT;
	job->active_deadline_seconds = -1;
	job->ttl_seconds_after_finished = -1;
	const struct pp_ynode *kind = pp_ymap_get(root, "kind");
	if (kind != NULL && !ynode_is_null(kind) && parse_kind(c, kind, "kind", NULL) < 0)
		return -1;
	if (walk_map(c, root, "", top_fields, &jp) < 0)
		return -1;
	if (job->namespace_ == NULL)
		job->namespace_ = xstrdup(DEFAULT_NAMESPACE);
	return parse_spec(c, pp_ymap_get(root, "spec"), "spec", &jp);
}

int pp_job_parse_buffer(const char *source_name, const char *buf, size_t len, struct pp_job **out,
			struct pp_error **err)
{
	const char *source = strcmp(source_name, "-") == 0 ? STDIN_NAME : source_name;
	*out = NULL;
	struct pp_ynode *root = NULL;
	if (pp_yaml_parse(source, buf, len, &root, err) < 0)
		return -1;
	if (root == NULL)
		return pp_error_set(err, 0, "%s:1:1: empty manifest", source);
	struct pp_job *job = xmalloc(sizeof(*job));
	*job = (struct pp_job){.source = xstrdup(source)};
	struct pctx c = {.source = source, .err = err};
	int r = parse_job(&c, root, job);
	pp_ynode_free(root);
	if (r < 0) {
		pp_job_free(job);
		return -1;
	}
	*out = job;
	return 0;
}

/* ---- the labels the controller puts on its pods ---- */

static void kv_add(struct pp_kv **kv, size_t *n, const char *key, const char *value)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*kv)[i].key, key) == 0) {
			free((*kv)[i].value);
			(*kv)[i].value = xstrdup(value);
			return;
		}
	*kv = xrealloc(*kv, (*n + 1) * sizeof(**kv));
	(*kv)[(*n)++] = (struct pp_kv){.key = xstrdup(key), .value = xstrdup(value)};
}

struct pp_kv *pp_job_selector(const struct pp_job *job, const char *uid, size_t *n)
{
	struct pp_kv *kv = NULL;
	*n = 0;
	if (job->manual_selector) {
		for (size_t i = 0; i < job->n_selector; i++)
			kv_add(&kv, n, job->selector[i].key, job->selector[i].value);
		return kv;
	}
	kv_add(&kv, n, PP_JOB_LABEL_CONTROLLER_UID, uid);
	return kv;
}

struct pp_kv *pp_job_pod_labels(const struct pp_job *job, const char *uid, int64_t index, size_t *n)
{
	struct pp_kv *kv = NULL;
	*n = 0;
	const struct pp_pod *t = job->template_;
	for (size_t i = 0; i < t->n_labels; i++)
		kv_add(&kv, n, t->labels[i].key, t->labels[i].value);
	kv_add(&kv, n, PP_JOB_LABEL_CONTROLLER_UID, uid);
	kv_add(&kv, n, PP_JOB_LABEL_JOB_NAME, job->name);
	kv_add(&kv, n, PP_JOB_LABEL_CONTROLLER_UID_LEGACY, uid);
	kv_add(&kv, n, PP_JOB_LABEL_JOB_NAME_LEGACY, job->name);
	if (index >= 0) {
		char buf[24];
		snprintf(buf, sizeof(buf), "%lld", (long long)index);
		kv_add(&kv, n, PP_JOB_COMPLETION_INDEX, buf);
	}
	return kv;
}

/* The workloads' store: one JSON file per object (objects/<ns>/<plural>/),
 * written atomically under the namespace's lock, read back through the
 * manifest parser (the same checks as any input). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest/manifest.h"
#include "objects/store_fs.h"
#include "objects/workload_store.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define DIR_MODE 0755
#define FILE_MODE 0644

static char *obj_path(enum pp_workload_kind kind, const char *ns, const char *name)
{
	return pp_store_path(pp_workload_kind_info(kind)->plural, ns, name);
}

char *pp_workload_path(enum pp_workload_kind kind, const char *ns, const char *name)
{
	return obj_path(kind, ns, name);
}

char *pp_workload_dir(enum pp_workload_kind kind, const char *ns, struct pp_error **err)
{
	char *d = pp_store_kind_dir(pp_workload_kind_info(kind)->plural, ns);
	if (pp_mkdir_p(d, DIR_MODE, err) < 0) {
		free(d);
		return NULL;
	}
	return d;
}

static int not_found(enum pp_workload_kind kind, const char *name, struct pp_error **err)
{
	const struct pp_workload_kind_info *i = pp_workload_kind_info(kind);
	pp_error_set(err, 0, "%s.%s \"%s\" not found", i->plural, i->group, name);
	return PP_OBJECT_NOT_FOUND;
}

static int lock_namespace(const char *ns, struct pp_error **err)
{
	return pp_store_lock_namespace(ns, DIR_MODE, err);
}

/* The stored JSON; NULL and PP_OBJECT_NOT_FOUND when there is none. */
static int read_json(enum pp_workload_kind kind, const char *ns, const char *name,
		     struct json_object **out, char **text, struct pp_error **err)
{
	cleanup_free char *path = obj_path(kind, ns, name);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	*out = NULL;
	int r = pp_store_read(path, &buf, &len, err);
	if (r == PP_OBJECT_NOT_FOUND)
		return not_found(kind, name, err);
	if (r < 0)
		return -1;
	*out = json_tokener_parse(buf);
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return pp_error_set(err, 0, "%s: not a JSON object", path);
	}
	if (text != NULL)
		*text = steal_ptr(&buf);
	return 0;
}

static int write_json(enum pp_workload_kind kind, const char *ns, const char *name,
		      struct json_object *j, struct pp_error **err)
{
	cleanup_free char *dir = pp_workload_dir(kind, ns, err);
	if (dir == NULL)
		return -1;
	cleanup_free char *path = obj_path(kind, ns, name);
	return pp_store_write_json(path, j, FILE_MODE, err);
}

static int parse_stored(const char *path, const char *buf, enum pp_workload_kind kind,
			struct pp_workload **out, struct pp_error **err)
{
	struct pp_manifest_set set = {0};
	if (pp_manifest_set_parse(path, buf, strlen(buf), &set, err) < 0)
		return -1;
	if (set.n != 1 || set.items[0].workload == NULL || set.items[0].workload->kind != kind) {
		pp_manifest_set_free(&set);
		return pp_error_set(err, 0, "%s: not a %s", path,
				    pp_workload_kind_info(kind)->kind);
	}
	*out = steal_ptr(&set.items[0].workload);
	pp_manifest_set_free(&set);
	return 0;
}

int pp_workload_get(enum pp_workload_kind kind, const char *ns, const char *name,
		    struct pp_workload **out, struct json_object **obj, struct pp_error **err)
{
	struct json_object *j = NULL;
	cleanup_free char *text = NULL;
	int r = read_json(kind, ns, name, &j, &text, err);
	if (r < 0)
		return r;
	cleanup_free char *path = obj_path(kind, ns, name);
	if (out != NULL && parse_stored(path, text, kind, out, err) < 0) {
		json_object_put(j);
		return -1;
	}
	if (obj != NULL)
		*obj = j;
	else
		json_object_put(j);
	return 0;
}

static const char *str_of(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *a = NULL, *b = NULL;
	if (!json_object_object_get_ex(o, k1, &a))
		return NULL;
	if (k2 == NULL)
		return json_object_get_string(a);
	return json_object_object_get_ex(a, k2, &b) ? json_object_get_string(b) : NULL;
}

static bool same_json(struct json_object *a, struct json_object *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_object_equal(a, b) != 0;
}

static struct json_object *child(struct json_object *o, const char *k)
{
	struct json_object *c = NULL;
	return json_object_object_get_ex(o, k, &c) ? c : NULL;
}

int pp_workload_apply(struct pp_workload *w, const char *text, enum pp_object_apply_result *res,
		      struct pp_error **err)
{
	struct json_object *in = json_tokener_parse(text);
	if (in == NULL)
		return pp_error_set(err, 0, "%s: the object is not JSON", w->source);
	cleanup_close int lock = lock_namespace(w->namespace_, err);
	if (lock < 0) {
		json_object_put(in);
		return -1;
	}
	struct json_object *old = NULL;
	cleanup_error struct pp_error *gerr = NULL;
	int g = read_json(w->kind, w->namespace_, w->name, &old, NULL, &gerr);
	if (g < 0 && g != PP_OBJECT_NOT_FOUND) {
		json_object_put(in);
		*err = steal_ptr(&gerr);
		return -1;
	}
	struct json_object *inmeta = child(in, "metadata");
	struct json_object *labels = inmeta ? child(inmeta, "labels") : NULL;
	struct json_object *ann = inmeta ? child(inmeta, "annotations") : NULL;
	struct json_object *spec = child(in, "spec");
	struct json_object *oldmeta = old ? child(old, "metadata") : NULL;
	int64_t gen = 1;
	if (old != NULL) {
		free(w->uid);
		free(w->created);
		w->uid = xstrdup(str_of(old, "metadata", "uid") ?: "");
		w->created = xstrdup(str_of(old, "metadata", "creationTimestamp") ?: "");
		gen = json_object_get_int64(child(oldmeta, "generation"));
		bool spec_same = same_json(spec, child(old, "spec"));
		if (!spec_same)
			gen++;
		*res = spec_same && same_json(labels, child(oldmeta, "labels")) &&
			       same_json(ann, child(oldmeta, "annotations"))
			   ? PP_OBJECT_UNCHANGED
			   : PP_OBJECT_CONFIGURED;
	} else {
		w->uid = pp_store_new_uid();
		w->created = pp_store_now_rfc3339();
		*res = PP_OBJECT_CREATED;
	}
	w->generation = gen;
	int r = 0;
	if (*res != PP_OBJECT_UNCHANGED) {
		const struct pp_workload_kind_info *i = pp_workload_kind_info(w->kind);
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "apiVersion", json_object_new_string(i->api_version));
		json_object_object_add(j, "kind", json_object_new_string(i->kind));
		struct json_object *m = json_object_new_object();
		json_object_object_add(m, "name", json_object_new_string(w->name));
		json_object_object_add(m, "namespace", json_object_new_string(w->namespace_));
		json_object_object_add(m, "uid", json_object_new_string(w->uid));
		json_object_object_add(m, "creationTimestamp", json_object_new_string(w->created));
		json_object_object_add(m, "generation", json_object_new_int64(gen));
		if (labels != NULL)
			json_object_object_add(m, "labels", json_object_get(labels));
		if (ann != NULL)
			json_object_object_add(m, "annotations", json_object_get(ann));
		struct json_object *refs = inmeta ? child(inmeta, "ownerReferences") : NULL;
		if (refs != NULL)
			json_object_object_add(m, "ownerReferences", json_object_get(refs));
		json_object_object_add(j, "metadata", m);
		json_object_object_add(j, "spec", json_object_get(spec));
		struct json_object *st = old ? child(old, "status") : NULL;
		json_object_object_add(j, "status",
				       st ? json_object_get(st) : json_object_new_object());
		r = write_json(w->kind, w->namespace_, w->name, j, err);
		json_object_put(j);
	}
	json_object_put(old);
	json_object_put(in);
	return r;
}

/* Read, changed by fn, written back (when fn says so), under the lock. */
static int update(enum pp_workload_kind kind, const char *ns, const char *name,
		  int (*fn)(struct json_object *j, void *ctx, struct pp_error **err), void *ctx,
		  struct pp_error **err)
{
	cleanup_close int lock = lock_namespace(ns, err);
	if (lock < 0)
		return -1;
	struct json_object *j = NULL;
	int r = read_json(kind, ns, name, &j, NULL, err);
	if (r < 0)
		return r;
	r = fn(j, ctx, err);
	if (r > 0)
		r = write_json(kind, ns, name, j, err);
	json_object_put(j);
	return r;
}

struct status_ctx {
	const char *uid;
	struct json_object *status;
	enum pp_workload_kind kind;
	const char *name;
};

static int set_status(struct json_object *j, void *ctx, struct pp_error **err)
{
	struct status_ctx *s = ctx;
	const char *uid = str_of(j, "metadata", "uid");
	if (uid == NULL || strcmp(uid, s->uid) != 0)
		return not_found(s->kind, s->name, err);
	if (same_json(child(j, "status"), s->status))
		return 0;
	json_object_object_add(j, "status", json_object_get(s->status));
	return 1;
}

int pp_workload_set_status(enum pp_workload_kind kind, const char *ns, const char *name,
			   const char *uid, struct json_object *status, struct pp_error **err)
{
	struct status_ctx s = {uid, status, kind, name};
	return update(kind, ns, name, set_status, &s, err);
}

static void bump_generation(struct json_object *j)
{
	struct json_object *m = child(j, "metadata");
	int64_t g = json_object_get_int64(child(m, "generation"));
	json_object_object_add(m, "generation", json_object_new_int64(g + 1));
}

static int set_replicas(struct json_object *j, void *ctx, struct pp_error **err)
{
	int32_t n = *(int32_t *)ctx;
	struct json_object *spec = child(j, "spec");
	struct json_object *cur = child(spec, "replicas");
	if (cur != NULL && json_object_get_int(cur) == n)
		return 0;
	json_object_object_add(spec, "replicas", json_object_new_int(n));
	bump_generation(j);
	return 1;
}

int pp_workload_scale(enum pp_workload_kind kind, const char *ns, const char *name,
		      int32_t replicas, struct pp_error **err)
{
	return update(kind, ns, name, set_replicas, &replicas, err);
}

static int set_restarted(struct json_object *j, void *ctx, struct pp_error **err)
{
	struct json_object *t = child(child(j, "spec"), "template");
	if (t == NULL)
		return pp_error_set(err, 0, "no spec.template");
	struct json_object *m = child(t, "metadata");
	if (m == NULL) {
		m = json_object_new_object();
		json_object_object_add(t, "metadata", m);
	}
	struct json_object *a = child(m, "annotations");
	if (a == NULL) {
		a = json_object_new_object();
		json_object_object_add(m, "annotations", a);
	}
	cleanup_free char *now = pp_store_now_rfc3339();
	json_object_object_add(a, "kubectl.kubernetes.io/restartedAt", json_object_new_string(now));
	bump_generation(j);
	return 1;
}

int pp_workload_restart(enum pp_workload_kind kind, const char *ns, const char *name,
			struct pp_error **err)
{
	return update(kind, ns, name, set_restarted, NULL, err);
}

int pp_workload_delete(enum pp_workload_kind kind, const char *ns, const char *name,
		       struct pp_error **err)
{
	cleanup_close int lock = lock_namespace(ns, err);
	if (lock < 0)
		return -1;
	cleanup_free char *path = obj_path(kind, ns, name);
	if (unlink(path) < 0)
		return errno == ENOENT ? not_found(kind, name, err)
				       : pp_error_set(err, errno, "unlink %s", path);
	return 0;
}

int pp_workload_namespaces(char ***out, size_t *n, struct pp_error **err)
{
	return pp_store_namespaces(out, n, err);
}

void pp_workload_list_free(struct pp_workload **ws, struct json_object **objs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pp_workload_free(ws[i]);
		if (objs != NULL)
			json_object_put(objs[i]);
	}
	free(ws);
	free(objs);
}

struct list_ctx {
	enum pp_workload_kind kind;
	const char *ns;
	struct pp_workload ***out;
	struct json_object ***objs;
	size_t *n;
};

static int list_one(const char *name, const char *path, void *ctx, struct pp_error **err)
{
	struct list_ctx *c = ctx;
	struct pp_workload *w = NULL;
	struct json_object *j = NULL;
	int r = pp_workload_get(c->kind, c->ns, name, &w, &j, err);
	if (r < 0)
		return r;
	*c->out = xrealloc(*c->out, (*c->n + 1) * sizeof(**c->out));
	(*c->out)[*c->n] = w;
	if (c->objs != NULL) {
		*c->objs = xrealloc(*c->objs, (*c->n + 1) * sizeof(**c->objs));
		(*c->objs)[*c->n] = j;
	} else {
		json_object_put(j);
	}
	(*c->n)++;
	return 0;
}

static int list_ns(enum pp_workload_kind kind, const char *ns, struct pp_workload ***out,
		   struct json_object ***objs, size_t *n, struct pp_error **err)
{
	cleanup_free char *dir = pp_store_kind_dir(pp_workload_kind_info(kind)->plural, ns);
	struct list_ctx c = {kind, ns, out, objs, n};
	return pp_store_scan(dir, list_one, &c, err);
}

int pp_workload_list(enum pp_workload_kind kind, const char *ns, struct pp_workload ***out,
		     struct json_object ***objs, size_t *n, struct pp_error **err)
{
	*out = NULL;
	if (objs != NULL)
		*objs = NULL;
	*n = 0;
	int r = 0;
	if (ns != NULL) {
		r = list_ns(kind, ns, out, objs, n, err);
	} else {
		char **nss = NULL;
		size_t nn = 0;
		r = pp_workload_namespaces(&nss, &nn, err);
		for (size_t i = 0; i < nn; i++) {
			if (r == 0)
				r = list_ns(kind, nss[i], out, objs, n, err);
			free(nss[i]);
		}
		free(nss);
	}
	if (r < 0) {
		pp_workload_list_free(*out, objs ? *objs : NULL, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

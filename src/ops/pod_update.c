/* A pod's update: its stored manifest and the new one compared as JSON
 * trees with the fields an update may change set aside. */
#include "ops/pod_update.h"

#include <json-c/json.h>
#include <string.h>

#include "manifest/yaml_tree.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define MANIFEST_MODE 0600
/* The API server's list (k8s.io/kubernetes/pkg/apis/core/validation). */
#define FORBIDDEN_UPDATE                                                                           \
	"spec: Forbidden: pod updates may not change fields other than "                           \
	"`spec.containers[*].image`,`spec.initContainers[*].image`,"                               \
	"`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "             \
	"tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "    \
	"previously negative)"

static void json_putp(struct json_object **j)
{
	json_object_put(*j);
}
#define cleanup_json __attribute__((cleanup(json_putp)))

static struct json_object *text_json(const char *source, const char *text, size_t len,
				     struct pp_error **err)
{
	struct pp_ynode *root = NULL;
	if (pp_yaml_parse(source, text, len, &root, err) < 0)
		return NULL;
	struct json_object *j = pp_ynode_to_json(root);
	pp_ynode_free(root);
	if (j == NULL)
		pp_error_set(err, 0, "%s: empty manifest", source);
	return j;
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Whether the two metadata maps (labels, annotations) differ. */
static bool meta_changed(struct json_object *a, struct json_object *b, const char *key)
{
	return !json_object_equal(member(member(a, "metadata"), key),
				  member(member(b, "metadata"), key));
}

struct diff {
	bool meta, tolerations, deadline;
	int64_t old_deadline; /* -1: none */
	int images;
	/* the app containers (indexes) whose image changed */
	size_t *apps;
	size_t n_apps;
};

static void diff_free(struct diff *d)
{
	free(d->apps);
}

/* Takes the images out of both lists of containers (same length, same
 * names: else the rest of the comparison finds the change); counts the
 * ones that differ (and notes which, for the app containers). */
static int take_images(struct json_object *a, struct json_object *b, const char *key,
		       struct diff *d)
{
	struct json_object *la = member(a, key), *lb = member(b, key);
	if (!json_object_is_type(la, json_type_array) ||
	    !json_object_is_type(lb, json_type_array) ||
	    json_object_array_length(la) != json_object_array_length(lb))
		return 0;
	int changed = 0;
	for (size_t i = 0; i < json_object_array_length(la); i++) {
		struct json_object *ca = json_object_array_get_idx(la, i);
		struct json_object *cb = json_object_array_get_idx(lb, i);
		if (!json_object_is_type(ca, json_type_object) ||
		    !json_object_is_type(cb, json_type_object))
			continue;
		if (!json_object_equal(member(ca, "image"), member(cb, "image"))) {
			changed++;
			if (strcmp(key, "containers") == 0) {
				d->apps = xrealloc(d->apps, (d->n_apps + 1) * sizeof(*d->apps));
				d->apps[d->n_apps++] = i;
			}
		}
		json_object_object_del(ca, "image");
		json_object_object_del(cb, "image");
	}
	return changed;
}

/* Tolerations: only additions (each old one still there, in order). */
static bool tolerations_added(struct json_object *a, struct json_object *b, bool *changed)
{
	struct json_object *ta = member(a, "tolerations"), *tb = member(b, "tolerations");
	*changed = !json_object_equal(ta, tb);
	if (!*changed)
		return true;
	size_t na = ta ? json_object_array_length(ta) : 0;
	if (tb == NULL || !json_object_is_type(tb, json_type_array) ||
	    (ta != NULL && !json_object_is_type(ta, json_type_array)) ||
	    json_object_array_length(tb) < na)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!json_object_equal(json_object_array_get_idx(ta, i),
				       json_object_array_get_idx(tb, i)))
			return false;
	return true;
}

/* The API server's rule over the two specs (copies: changed here). */
static bool allowed(struct json_object *old, struct json_object *new, struct diff *d)
{
	struct json_object *sa = member(old, "spec"), *sb = member(new, "spec");
	if (sa == NULL || sb == NULL)
		return json_object_equal(sa, sb);
	d->images = take_images(sa, sb, "containers", d) + take_images(sa, sb, "initContainers", d);
	if (!tolerations_added(sa, sb, &d->tolerations))
		return false;
	json_object_object_del(sa, "tolerations");
	json_object_object_del(sb, "tolerations");
	struct json_object *was = member(sa, "activeDeadlineSeconds");
	d->old_deadline = json_object_is_type(was, json_type_int) ? json_object_get_int64(was) : -1;
	d->deadline = !json_object_equal(was, member(sb, "activeDeadlineSeconds"));
	json_object_object_del(sa, "activeDeadlineSeconds");
	json_object_object_del(sb, "activeDeadlineSeconds");
	return json_object_equal(sa, sb);
}

static int load_old(const struct pp_pod *spec, char **uid, struct json_object **old,
		    struct pp_error **err)
{
	cleanup_error struct pp_error *e = NULL;
	if (pp_name_lookup(spec->namespace_, spec->name, uid, &e) < 0) {
		if (e->status == ENOENT)
			return 1;
		*err = steal_ptr(&e);
		return -1;
	}
	cleanup_free char *path = pp_state_file(*uid, PP_STATE_MANIFEST);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (pp_read_file(path, PP_YAML_MAX_INPUT, &text, &len, err) < 0) {
		if ((*err)->status != ENOENT)
			return pp_error_wrap(err, "pod \"%s\": its manifest", spec->name);
		/* its record is being removed (a delete under way): the API
		 * server's answer to a create of an object being deleted */
		pp_error_free(err);
		return pp_error_set(err, 0, "object is being deleted: pods \"%s\" already exists",
				    spec->name);
	}
	*old = text_json(path, text, len, err);
	return *old == NULL ? -1 : 0;
}

/* The API server's rule for activeDeadlineSeconds: a first one, or a
 * smaller one; never taken away. */
static int check_deadline(const struct pp_pod *spec, const struct diff *d, struct pp_error **err)
{
	int64_t now = spec->active_deadline_seconds;
	if (d->old_deadline < 0)
		return 0;
	if (now < 0)
		return pp_error_set(
		    err, 0,
		    "The Pod \"%s\" is invalid: spec.activeDeadlineSeconds: Invalid "
		    "value: \"null\": must not update from a positive integer to nil "
		    "value",
		    spec->name);
	if (now > d->old_deadline)
		return pp_error_set(
		    err, 0,
		    "The Pod \"%s\" is invalid: spec.activeDeadlineSeconds: Invalid "
		    "value: %lld: must be less than or equal to previous value",
		    spec->name, (long long)now);
	return 0;
}

/* The new images, each to the pod's supervisor (it restarts the container
 * with it), and the new deadline. A pod that finished keeps them for its
 * record only. */
static int send_changes(const struct pp_pod *spec, const struct diff *d, struct pp_error **err)
{
	if (d->n_apps == 0 && !d->deadline)
		return 0;
	struct pp_pod_view v;
	if (pp_pod_view_load(spec->namespace_, spec->name, &v, err) < 0)
		return -1;
	int r = 0;
	if (v.alive && !v.finished) {
		cleanup_close int fd = pp_ctl_connect(v.uid, err);
		r = fd < 0 ? -1 : 0;
		for (size_t k = 0; r == 0 && k < d->n_apps; k++) {
			const struct pp_container *c = &spec->containers[d->apps[k]];
			cleanup_free char *req = xasprintf("image %s %s", c->name, c->image);
			r = pp_ctl_call(fd, req, NULL, NULL, NULL, err);
		}
		if (r == 0 && d->deadline) {
			cleanup_free char *req =
			    xasprintf("deadline %lld", (long long)spec->active_deadline_seconds);
			r = pp_ctl_call(fd, req, NULL, NULL, NULL, err);
		}
		if (r < 0)
			pp_pod_ctl_failed(&v, err);
	}
	pp_pod_view_free(&v);
	return r;
}

int pp_pod_update(const struct pp_pod *spec, const char *text, size_t len, bool force,
		  enum pp_pod_update_result *res, struct pp_error **err)
{
	*res = PP_POD_UPDATE_ABSENT;
	cleanup_free char *uid = NULL;
	cleanup_json struct json_object *old = NULL;
	int r = load_old(spec, &uid, &old, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	cleanup_json struct json_object *new = text_json(spec->source, text, len, err);
	if (new == NULL)
		return -1;
	__attribute__((cleanup(diff_free))) struct diff d = {
	    .meta = meta_changed(old, new, "labels") || meta_changed(old, new, "annotations")};
	bool ok = allowed(old, new, &d);
	if (ok && !d.meta && !d.tolerations && !d.deadline && d.images == 0) {
		*res = PP_POD_UPDATE_UNCHANGED;
		return 0;
	}
	if (ok && d.deadline && check_deadline(spec, &d, err) < 0) {
		if (!force)
			return -1;
		pp_error_free(err);
		ok = false;
	}
	if (!ok && !force)
		return pp_error_set(err, 0, "The Pod \"%s\" is invalid: " FORBIDDEN_UPDATE,
				    spec->name);
	if (!ok) {
		struct pp_delete_opts o = {.grace_s = -1, .timeout_ms = -1};
		if (pp_pod_delete(spec->namespace_, spec->name, &o, err) < 0)
			return -1;
		*res = PP_POD_UPDATE_RECREATE;
		return 0;
	}
	if (send_changes(spec, &d, err) < 0)
		return -1;
	/* labels, annotations, tolerations, images, the deadline: the record
	 * is the manifest */
	cleanup_free char *path = pp_state_file(uid, PP_STATE_MANIFEST);
	if (pp_write_file_atomic(path, text, len, MANIFEST_MODE, err) < 0)
		return -1;
	*res = PP_POD_UPDATE_CONFIGURED;
	return 0;
}

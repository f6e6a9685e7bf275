/* The controller process: started detached (fork, setsid, fork) by the
 * CLI, holding its workload's lock for its life; one epoll loop over
 * inotify, a timerfd and a signalfd; each wake-up one pass of its kind's
 * sync over the workload and the pods it owns. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/controller.h"
#include "controller/controller_internal.h"
#include "logs/crilog.h"
#include "manifest/manifest.h"
#include "objects/workload_store.h"
#include "ops/apply.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/proc.h"

#define WORKLOADS_DIR "workloads"
#define DIR_MODE 0755

static const struct pp_ctrl_kind *const ctrl_kinds[PP_WL_KIND_COUNT] = {
    [PP_WL_DEPLOYMENT] = &pp_ctrl_deployment,
    [PP_WL_REPLICASET] = &pp_ctrl_replicaset,
    [PP_WL_DAEMONSET] = &pp_ctrl_daemonset,
    [PP_WL_JOB] = &pp_ctrl_job,
};

const struct pp_ctrl_kind *pp_ctrl_kind_of(enum pp_workload_kind kind)
{
	return kind < PP_WL_KIND_COUNT ? ctrl_kinds[kind] : NULL;
}

/* ---- pure helpers ---- */

uint32_t pp_fnv32a(const void *data, size_t len, uint32_t h)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

char *pp_template_hash(const char *tmpl_json, int32_t collision_count)
{
	uint32_t h = pp_fnv32a(tmpl_json, strlen(tmpl_json), PP_FNV32_OFFSET);
	if (collision_count > 0) {
		/* the deployment controller adds the count's bytes (little-endian) */
		unsigned char b[4] = {
		    (unsigned char)collision_count, (unsigned char)(collision_count >> 8),
		    (unsigned char)(collision_count >> 16), (unsigned char)(collision_count >> 24)};
		h = pp_fnv32a(b, 4, h);
	}
	char dec[16];
	snprintf(dec, sizeof(dec), "%u", h);
	/* rand.SafeEncodeString: each byte mapped into the alphabet */
	static const char alpha[] = PP_SAFE_ALPHABET;
	char *out = xstrdup(dec);
	for (size_t i = 0; out[i]; i++)
		out[i] = alpha[(unsigned char)dec[i] % (sizeof(alpha) - 1)];
	return out;
}

char *pp_ctrl_pod_name(const char *prefix)
{
	static const char alpha[] = PP_SAFE_ALPHABET;
	unsigned char r[5];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		abort();
	char s[6];
	for (size_t i = 0; i < 5; i++)
		s[i] = alpha[r[i] % (sizeof(alpha) - 1)];
	s[5] = '\0';
	return xasprintf("%s-%s", prefix, s);
}

int64_t pp_ctrl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pp_ctrl_wake_at(struct pp_ctrl *c, int64_t at_ms)
{
	if (c->wake_at_ms == 0 || at_ms < c->wake_at_ms)
		c->wake_at_ms = at_ms;
}

bool pp_ctrl_pod_available(const struct pp_ctrl_pod *p, int32_t min_ready_s, int64_t now_ms,
			   int64_t *at_ms)
{
	if (!p->ready || !p->alive)
		return false;
	if (min_ready_s == 0)
		return true;
	int64_t at = (p->ready_since + min_ready_s) * 1000;
	if (at <= now_ms)
		return true;
	if (at_ms != NULL)
		*at_ms = at;
	return false;
}

bool pp_ctrl_pod_matches(const struct pp_ctrl_pod *p, const struct pp_selector *s)
{
	struct pp_kv_set set = {p->labels, p->n_labels};
	return pp_selector_matches(s, pp_kv_lookup, &set);
}

/* ---- paths ---- */

static char *ctrl_dir(enum pp_workload_kind kind, const char *ns)
{
	return xasprintf("%s/%s/%s/%s", pp_run_dir(), WORKLOADS_DIR, ns,
			 pp_workload_kind_info(kind)->plural);
}

static char *lock_path(enum pp_workload_kind kind, const char *ns, const char *name)
{
	cleanup_free char *d = ctrl_dir(kind, ns);
	return xasprintf("%s/%s.lock", d, name);
}

char *pp_ctrl_events_path(enum pp_workload_kind kind, const char *ns, const char *name)
{
	cleanup_free char *d = ctrl_dir(kind, ns);
	return xasprintf("%s/%s.events", d, name);
}

bool pp_ctrl_running(enum pp_workload_kind kind, const char *ns, const char *name)
{
	cleanup_free char *path = lock_path(kind, ns, name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	return flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* ---- events ---- */

static void write_event(const char *path, const char *type, const char *reason, const char *msg)
{
	char ts[PP_LOG_TIME_LEN + 1];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	pp_log_format_time(now.tv_sec * 1000000000LL + now.tv_nsec, ts);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(
	    o, "level", json_object_new_string(strcmp(type, "Normal") == 0 ? "info" : "warning"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	cleanup_free char *line =
	    xasprintf("%s\n", json_object_to_json_string_ext(
				  o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	cleanup_free char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	pp_mkdir_p(dir, DIR_MODE, NULL);
	cleanup_close int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		(void)!write(fd, line, strlen(line));
}

void pp_ctrl_event_on(struct pp_ctrl *c, enum pp_workload_kind kind, const char *name,
		      const char *type, const char *reason, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	cleanup_free char *path = pp_ctrl_events_path(kind, c->ns, name);
	write_event(path, type, reason, msg);
}

void pp_ctrl_event(struct pp_ctrl *c, const char *type, const char *reason, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	cleanup_free char *path = pp_ctrl_events_path(c->kind, c->ns, c->name);
	write_event(path, type, reason, msg);
}

int pp_ctrl_set_status(struct pp_ctrl *c, struct json_object *status, struct pp_error **err)
{
	int r = pp_fault("ctrl status", err);
	if (r == 0)
		r = pp_workload_set_status(c->kind, c->ns, c->name, c->w->uid, status, err);
	json_object_put(status);
	return r;
}

/* ---- pods ---- */

static void ctrl_pod_free(struct pp_ctrl_pod *p)
{
	free(p->name);
	free(p->uid);
	free(p->owner_uid);
	for (size_t i = 0; i < p->n_labels; i++) {
		free(p->labels[i].key);
		free(p->labels[i].value);
	}
	free(p->labels);
	json_object_put(p->obj);
}

void pp_ctrl_pods_free(struct pp_ctrl *c)
{
	for (size_t i = 0; i < c->n_pods; i++)
		ctrl_pod_free(&c->pods[i]);
	free(c->pods);
	c->pods = NULL;
	c->n_pods = 0;
}

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return o != NULL && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static int64_t parse_time(const char *s)
{
	struct tm tm = {0};
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

static const char *controller_owner(struct json_object *meta)
{
	struct json_object *refs = jget(meta, "ownerReferences");
	if (refs == NULL || !json_object_is_type(refs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		struct json_object *r = json_object_array_get_idx(refs, i);
		if (json_object_get_boolean(jget(r, "controller")))
			return json_object_get_string(jget(r, "uid"));
	}
	return NULL;
}

int pp_ctrl_load_pods(struct pp_ctrl *c, const char *const *owner_uids, size_t n_owners,
		      struct pp_error **err)
{
	pp_ctrl_pods_free(c);
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	if (pp_pod_views_list(c->ns, &views, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct pp_pod_view *v = &views[i];
		pp_pod_view_attach_spec(v);
		struct json_object *meta = jget(v->obj, "metadata");
		const char *owner = controller_owner(meta);
		bool mine = false;
		for (size_t k = 0; owner != NULL && k < n_owners && !mine; k++)
			mine = strcmp(owner, owner_uids[k]) == 0;
		if (!mine)
			continue;
		c->pods = xrealloc(c->pods, (c->n_pods + 1) * sizeof(*c->pods));
		struct pp_ctrl_pod *p = &c->pods[c->n_pods++];
		*p = (struct pp_ctrl_pod){0};
		p->name = xstrdup(v->name);
		p->uid = xstrdup(v->uid);
		p->owner_uid = xstrdup(owner);
		p->obj = json_object_get(v->obj);
		p->alive = v->alive;
		p->finished = v->finished;
		struct json_object *labels = jget(meta, "labels");
		if (labels != NULL && json_object_is_type(labels, json_type_object)) {
			json_object_object_foreach(labels, k, val)
			{
				p->labels =
				    xrealloc(p->labels, (p->n_labels + 1) * sizeof(*p->labels));
				p->labels[p->n_labels].key = xstrdup(k);
				p->labels[p->n_labels++].value =
				    xstrdup(json_object_get_string(val) ?: "");
			}
		}
		p->created = parse_time(json_object_get_string(jget(meta, "creationTimestamp")));
		struct json_object *st = jget(p->obj, "status");
		p->phase = json_object_get_string(jget(st, "phase"));
		if (p->phase == NULL)
			p->phase = "Pending";
		if (strcmp(p->phase, "Succeeded") == 0 || strcmp(p->phase, "Failed") == 0)
			p->finished = true;
		struct json_object *conds = jget(st, "conditions");
		for (size_t k = 0; conds && json_object_is_type(conds, json_type_array) &&
				   k < json_object_array_length(conds);
		     k++) {
			struct json_object *cd = json_object_array_get_idx(conds, k);
			const char *t = json_object_get_string(jget(cd, "type"));
			const char *s = json_object_get_string(jget(cd, "status"));
			if (t && s && strcmp(t, "Ready") == 0 && strcmp(s, "True") == 0) {
				p->ready = true;
				p->ready_since = parse_time(
				    json_object_get_string(jget(cd, "lastTransitionTime")));
			}
		}
		if (!p->alive)
			p->ready = false;
	}
	pp_pod_views_free(views, n);
	return 0;
}

int pp_ctrl_pod_create(struct pp_ctrl *c, const struct pp_ctrl_owner *owner, const char *tmpl_json,
		       const char *pod_name, const struct pp_kv *extra_labels, size_t n_extra,
		       struct pp_error **err)
{
	const struct pp_workload_kind_info *oi = pp_workload_kind_info(owner->kind);
	struct json_object *t = json_tokener_parse(tmpl_json);
	if (t == NULL)
		return pp_error_set(err, 0, "%s/%s: the pod template is not JSON", oi->plural,
				    owner->name);
	struct json_object *meta = jget(t, "metadata");
	meta = meta ? json_object_get(meta) : json_object_new_object();
	json_object_object_del(meta, "name");
	json_object_object_del(meta, "generateName");
	json_object_object_add(meta, "name", json_object_new_string(pod_name));
	json_object_object_add(meta, "namespace", json_object_new_string(c->ns));
	struct json_object *labels = jget(meta, "labels");
	if (labels == NULL) {
		labels = json_object_new_object();
		json_object_object_add(meta, "labels", labels);
	}
	for (size_t i = 0; i < n_extra; i++)
		json_object_object_add(labels, extra_labels[i].key,
				       json_object_new_string(extra_labels[i].value));
	struct json_object *ref = json_object_new_object();
	json_object_object_add(ref, "apiVersion", json_object_new_string(oi->api_version));
	json_object_object_add(ref, "kind", json_object_new_string(oi->kind));
	json_object_object_add(ref, "name", json_object_new_string(owner->name));
	json_object_object_add(ref, "uid", json_object_new_string(owner->uid));
	json_object_object_add(ref, "controller", json_object_new_boolean(1));
	json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
	struct json_object *refs = json_object_new_array();
	json_object_array_add(refs, ref);
	json_object_object_add(meta, "ownerReferences", refs);
	struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(doc, "kind", json_object_new_string("Pod"));
	json_object_object_add(doc, "metadata", meta);
	json_object_object_add(doc, "spec", json_object_get(jget(t, "spec")));
	json_object_put(t);
	cleanup_free char *text = xstrdup(json_object_to_json_string_ext(
	    doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	cleanup_free char *source = xasprintf("%s/%s", oi->lower, owner->name);
	struct pp_manifest_set set = {0};
	int r = pp_manifest_set_parse(source, text, strlen(text), &set, err);
	if (r == 0 && (set.n != 1 || set.items[0].pod == NULL))
		r = pp_error_set(err, 0, "%s: the template is not one pod", source);
	if (r == 0)
		r = pp_fault("ctrl pod create", err);
	if (r == 0) {
		struct pp_apply_opts o = {.manifest = text, .manifest_len = strlen(text)};
		r = pp_pod_apply(steal_ptr(&set.items[0].pod), &o, NULL, err);
		/* made, not yet told: a kill here leaves a pod the next
		 * controller adopts by its owner's uid */
		if (r == 0)
			r = pp_fault("ctrl pod created", err);
	}
	pp_manifest_set_free(&set);
	if (r < 0) {
		pp_ctrl_event_on(c, owner->kind, owner->name, "Warning", "FailedCreate",
				 "Error creating: %s", (*err)->msg);
		return -1;
	}
	pp_ctrl_event_on(c, owner->kind, owner->name, "Normal", "SuccessfulCreate",
			 "Created pod: %s", pod_name);
	return 0;
}

int pp_ctrl_pod_delete(struct pp_ctrl *c, const struct pp_ctrl_owner *owner,
		       const struct pp_ctrl_pod *p, struct pp_error **err)
{
	struct pp_delete_opts o = {.grace_s = -1, .timeout_ms = -1};
	cleanup_error struct pp_error *e = NULL;
	cleanup_free char *uid = NULL;
	if ((pp_fault("ctrl pod delete", &e) < 0 || pp_pod_delete(c->ns, p->name, &o, &e) < 0) &&
	    pp_name_lookup(c->ns, p->name, &uid, NULL) == 0) {
		pp_ctrl_event_on(c, owner->kind, owner->name, "Warning", "FailedDelete",
				 "Error deleting: %s", e->msg);
		*err = steal_ptr(&e);
		return -1;
	}
	pp_ctrl_event_on(c, owner->kind, owner->name, "Normal", "SuccessfulDelete",
			 "Deleted pod: %s", p->name);
	return 0;
}

struct json_object *pp_ctrl_condition(struct json_object *old_conds, const char *type,
				      const char *status, const char *reason, const char *msg)
{
	return pp_ctrl_condition_at(old_conds, type, status, reason, msg, NULL);
}

struct json_object *pp_ctrl_condition_at(struct json_object *old_conds, const char *type,
					 const char *status, const char *reason, const char *msg,
					 const char *update_time)
{
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string(type));
	json_object_object_add(c, "status", json_object_new_string(status));
	const char *upd = NULL, *trans = NULL;
	for (size_t i = 0; old_conds && json_object_is_type(old_conds, json_type_array) &&
			   i < json_object_array_length(old_conds);
	     i++) {
		struct json_object *o = json_object_array_get_idx(old_conds, i);
		const char *t = json_object_get_string(jget(o, "type"));
		if (t == NULL || strcmp(t, type) != 0)
			continue;
		const char *s = json_object_get_string(jget(o, "status"));
		const char *r = json_object_get_string(jget(o, "reason"));
		if (s && strcmp(s, status) == 0)
			trans = json_object_get_string(jget(o, "lastTransitionTime"));
		if (s && r && strcmp(s, status) == 0 && strcmp(r, reason) == 0)
			upd = json_object_get_string(jget(o, "lastUpdateTime"));
	}
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (update_time != NULL)
		upd = update_time;
	json_object_object_add(c, "lastUpdateTime", json_object_new_string(upd ? upd : now));
	json_object_object_add(c, "lastTransitionTime",
			       json_object_new_string(trans ? trans : now));
	json_object_object_add(c, "reason", json_object_new_string(reason));
	json_object_object_add(c, "message", json_object_new_string(msg));
	return c;
}

/* Pod lookups with an honest status, delete and gc. */
#include "ops/ops.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "image/image.h"
#include "net/podnet.h"
#include "pod/pod.h"
#include "state/idrange.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/dir.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/trace.h"

/* How long a dead pod's record may be without status before gc takes it
 * (apply writes the status within milliseconds of taking the lock). */
#define GC_LOCK_WAIT_MS 0
/* A supervisor that has closed its connections exits at once. */
#define RECORD_LOCK_WAIT_MS 5000
/* A record whose state directory is gone has its name released this soon
 * (pp_state_remove), looked at this often meanwhile */
#define NAME_RELEASE_WAIT_MS 200
#define NAME_RELEASE_POLL_MS 5
/* delete of a pod being created waits this long for its supervisor's
 * control socket (it listens once the sandbox is up), trying this often */
#define DELETE_CREATE_WAIT_MS 30000
#define DELETE_CREATE_POLL_MS 50

static struct json_object *get_path(struct json_object *o, const char *path)
{
	cleanup_free char *p = xstrdup(path);
	char *save = NULL;
	for (char *k = strtok_r(p, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

const char *pp_pod_view_str(const struct pp_pod_view *v, const char *path)
{
	struct json_object *o = get_path(v->obj, path);
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

static void set_path_str(struct json_object *root, const char *obj, const char *key,
			 const char *value)
{
	struct json_object *o = NULL;
	if (!json_object_object_get_ex(root, obj, &o)) {
		o = json_object_new_object();
		json_object_object_add(root, obj, o);
	}
	json_object_object_add(o, key, json_object_new_string(value));
}

/* Nothing is ready in a pod nobody runs. */
static void mark_not_ready(struct json_object *obj)
{
	const char *lists[] = {"status.initContainerStatuses", "status.containerStatuses",
			       "status.ephemeralContainerStatuses"};
	for (size_t l = 0; l < 3; l++) {
		struct json_object *cs = get_path(obj, lists[l]);
		for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
			struct json_object *c = json_object_array_get_idx(cs, i);
			json_object_object_add(c, "ready", json_object_new_boolean(false));
			json_object_object_add(c, "started", json_object_new_boolean(false));
		}
	}
	struct json_object *conds = get_path(obj, "status.conditions");
	for (size_t i = 0; conds && i < json_object_array_length(conds); i++) {
		struct json_object *c = json_object_array_get_idx(conds, i), *t = NULL;
		if (json_object_object_get_ex(c, "type", &t) &&
		    (strcmp(json_object_get_string(t), "Ready") == 0 ||
		     strcmp(json_object_get_string(t), "ContainersReady") == 0))
			json_object_object_add(c, "status", json_object_new_string("False"));
	}
}

/* Whether the record of uid is being removed: pp_state_remove moves the
 * state directory away first and releases the name a moment later. A name
 * that outlives its directory longer (its remover died in between) is a
 * record for gc to clean up. */
static bool record_going(const char *ns, const char *name, const char *uid)
{
	cleanup_free char *dir = pp_state_dir(uid);
	for (int waited = 0; access(dir, F_OK) < 0 && errno == ENOENT;
	     waited += NAME_RELEASE_POLL_MS) {
		cleanup_free char *now = NULL;
		if (pp_name_lookup(ns, name, &now, NULL) < 0 || strcmp(now, uid) != 0)
			return true;
		if (waited >= NAME_RELEASE_WAIT_MS)
			return false;
		poll(NULL, 0, NAME_RELEASE_POLL_MS);
	}
	return false;
}

int pp_pod_view_load(const char *ns, const char *name, struct pp_pod_view *v, struct pp_error **err)
{
	*v = (struct pp_pod_view){0};
	if (pp_name_lookup(ns, name, &v->uid, err) < 0)
		return -1;
	if (record_going(ns, name, v->uid)) {
		/* as the next look-up will say */
		free(v->uid);
		v->uid = NULL;
		return pp_error_set(err, ENOENT, "pods \"%s\" not found in namespace \"%s\"", name,
				    ns);
	}
	v->ns = xstrdup(ns);
	v->name = xstrdup(name);
	v->alive = pp_state_is_locked(v->uid);
	cleanup_error struct pp_error *e = NULL;
	if (pp_state_read_status(v->uid, &v->obj, &e) < 0) {
		/* Being created (apply holds the lock), or its creator died. */
		v->obj = json_object_new_object();
		set_path_str(v->obj, "metadata", "name", name);
		set_path_str(v->obj, "metadata", "namespace", ns);
		set_path_str(v->obj, "metadata", "uid", v->uid);
		set_path_str(v->obj, "status", "phase", v->alive ? "Pending" : "Unknown");
		if (!v->alive)
			set_path_str(v->obj, "status", "reason", "SupervisorDied");
		return 0;
	}
	struct json_object *fin = get_path(v->obj, "peapod.finished");
	v->finished = fin && json_object_get_boolean(fin);
	if (!v->alive && !v->finished) {
		mark_not_ready(v->obj);
		set_path_str(v->obj, "status", "phase", "Unknown");
		set_path_str(v->obj, "status", "reason", "SupervisorDied");
		set_path_str(
		    v->obj, "status", "message",
		    "the pod's supervisor is gone: `peapod delete` or `peapod gc` cleans up");
	}
	return 0;
}

static const char *first_name(struct json_object *list, bool *several)
{
	struct json_object *n = NULL;
	if (list == NULL || !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) == 0 ||
	    !json_object_object_get_ex(json_object_array_get_idx(list, 0), "name", &n))
		return NULL;
	if (several != NULL)
		*several = json_object_array_length(list) > 1;
	return json_object_get_string(n);
}

const char *pp_pod_view_default_container(struct pp_pod_view *v, bool *several)
{
	const char *name = first_name(get_path(v->obj, "status.containerStatuses"), several);
	if (name != NULL)
		return name;
	if (get_path(v->obj, "spec") == NULL)
		pp_pod_view_attach_spec(v);
	return first_name(get_path(v->obj, "spec.containers"), several);
}

/* What became of the pod of before, or NULL when it still runs as it did. */
static const char *pod_fate(const struct pp_pod_view *before, const struct pp_pod_view *now)
{
	if (strcmp(now->uid, before->uid) != 0)
		return "was deleted meanwhile";
	if (now->finished)
		return "is not running";
	if (!now->alive)
		return "lost its supervisor: `peapod delete` or `peapod gc` cleans up";
	/* no status yet: apply or the supervisor is still setting it up */
	const char *phase = pp_pod_view_str(now, "status.phase");
	if (phase != NULL && strcmp(phase, "Pending") == 0 &&
	    get_path(now->obj, "status.containerStatuses") == NULL)
		return "is not running yet (being created)";
	if (get_path(now->obj, "metadata.deletionTimestamp") != NULL)
		return "is terminating";
	return NULL;
}

int pp_pod_ctl_failed(const struct pp_pod_view *v, struct pp_error **err)
{
	if (err == NULL || *err == NULL || (*err)->status == 0)
		return -1;
	struct pp_pod_view now;
	cleanup_error struct pp_error *e = NULL;
	if (pp_pod_view_load(v->ns, v->name, &now, &e) < 0) {
		if (e->status == ENOENT) { /* deleted: as if we had come later */
			pp_error_free(err);
			*err = steal_ptr(&e);
		}
		return -1;
	}
	const char *fate = pod_fate(v, &now);
	if (fate != NULL) {
		pp_error_free(err);
		pp_error_set(err, 0, "pod \"%s\" %s", v->name, fate);
	}
	pp_pod_view_free(&now);
	return -1;
}

void pp_pod_view_free(struct pp_pod_view *v)
{
	free(v->ns);
	free(v->name);
	free(v->uid);
	if (v->obj)
		json_object_put(v->obj);
	*v = (struct pp_pod_view){0};
}

int pp_pod_views_list(const char *ns, struct pp_pod_view **views, size_t *n, struct pp_error **err)
{
	struct pp_pod_ref *refs = NULL;
	size_t nr = 0;
	*views = NULL;
	*n = 0;
	if (pp_pod_list(ns, &refs, &nr, err) < 0)
		return -1;
	*views = xmalloc(sizeof(**views) * (nr + 1));
	for (size_t i = 0; i < nr; i++)
		if (pp_pod_view_load(refs[i].ns, refs[i].name, &(*views)[*n], NULL) == 0)
			(*n)++;
	pp_pod_refs_free(refs, nr);
	return 0;
}

void pp_pod_views_free(struct pp_pod_view *views, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pp_pod_view_free(&views[i]);
	free(views);
}

/* A record nobody runs: whatever the pod left, then the record. Under the
 * pod's lock, so that two cleanups never race. */
static int remove_dead(const char *ns, const char *name, const char *uid, const char *data_dir,
		       int wait_ms, struct pp_error **err)
{
	cleanup_error struct pp_error *e = NULL;
	cleanup_close int lock = pp_state_lock(uid, wait_ms, &e);
	/* No state directory at all (removed by hand, say): only its name
	 * and leftovers remain, and nobody can be creating it. */
	if (lock < 0 && e->status != ENOENT)
		return pp_error_set(err, e->status, "%s", e->msg);
	if (pp_pod_remove_leftovers(data_dir, uid, err) < 0)
		return -1;
	return pp_state_remove(ns, name, uid, err);
}

/* The record of a pod that is over, under its lock: of two deletes, one
 * removes it and the other finds it gone, which is fine too. */
static int remove_record(const char *ns, const char *name, const char *uid, struct pp_error **err)
{
	cleanup_error struct pp_error *e = NULL;
	cleanup_close int lock = pp_state_lock(uid, RECORD_LOCK_WAIT_MS, &e);
	if (lock < 0 && e->status == ENOENT)
		return 0;
	if (lock < 0)
		return pp_error_set(err, e->status, "%s", e->msg);
	/* A network its supervisor could not leave (a failed DEL) is left now. */
	cleanup_free char *state_dir = pp_state_dir(uid);
	if (pp_pod_net_detach(state_dir, 0, err) < 0)
		return -1;
	return pp_state_remove(ns, name, uid, err);
}

static char *data_dir_of(const struct pp_pod_view *v);

/* After the supervisor closed its connections: it finished the pod (only
 * the record is left), or it died on the way (clean up after it). */
static int remove_stopped(const char *ns, const char *name, const struct pp_pod_view *before,
			  struct pp_error **err)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, NULL) < 0 || strcmp(v.uid, before->uid) != 0) {
		if (v.uid != NULL)
			pp_pod_view_free(&v);
		return 0; /* removed by another delete meanwhile */
	}
	int ret;
	if (v.finished) {
		ret = remove_record(ns, name, v.uid, err);
	} else {
		cleanup_free char *data = data_dir_of(&v);
		ret = remove_dead(ns, name, v.uid, data, RECORD_LOCK_WAIT_MS, err);
	}
	pp_pod_view_free(&v);
	return ret;
}

static char *data_dir_of(const struct pp_pod_view *v)
{
	const char *d = pp_pod_view_str(v, "peapod.dataDir");
	if (d != NULL)
		return xstrdup(d);
	struct pp_image_store *store = NULL;
	if (pp_image_store_open(NULL, &store, NULL) < 0)
		return NULL;
	char *r = xasprintf("%s/pods/%s", pp_image_store_root(store), v->uid);
	pp_image_store_free(store);
	return r;
}

/* The supervisor's control socket; a pod still being created (apply holds
 * its lock, the supervisor does not listen yet) is waited for, as long as
 * it stays so. -1 when nobody answers. */
static int connect_when_up(const struct pp_pod_view *v)
{
	for (int waited = 0;; waited += DELETE_CREATE_POLL_MS) {
		int fd = v->alive ? pp_ctl_connect(v->uid, NULL) : -1;
		if (fd >= 0 || !v->alive || v->finished || waited >= DELETE_CREATE_WAIT_MS)
			return fd;
		struct pp_pod_view now;
		if (pp_pod_view_load(v->ns, v->name, &now, NULL) < 0)
			return -1;
		bool creating = strcmp(now.uid, v->uid) == 0 && now.alive && !now.finished;
		pp_pod_view_free(&now);
		if (!creating)
			return -1;
		poll(NULL, 0, DELETE_CREATE_POLL_MS);
	}
}

int pp_pod_delete(const char *ns, const char *name, const struct pp_delete_opts *o,
		  struct pp_error **err)
{
	struct pp_pod_view v;
	if (pp_pod_view_load(ns, name, &v, err) < 0)
		return -1;
	int ret = 0;
	pp_trace("delete call");
	cleanup_close int fd = connect_when_up(&v);
	if (fd < 0 && v.alive) {
		/* what became of it while we waited */
		pp_pod_view_free(&v);
		if (pp_pod_view_load(ns, name, &v, err) < 0)
			return -1;
	}
	if (fd >= 0) {
		cleanup_free char *req = xasprintf("stop %lld", (long long)o->grace_s);
		cleanup_error struct pp_error *e = NULL;
		/* A supervisor that dies while we talk to it is cleaned up
		 * after; only a stop that takes too long is an error. */
		if ((pp_ctl_call(fd, req, NULL, NULL, NULL, &e) < 0 ||
		     pp_ctl_wait_closed(fd, o->timeout_ms, &e) < 0) &&
		    e->status == ETIMEDOUT)
			ret = pp_error_set(err, e->status, "%s", e->msg);
		else if (pp_fault("delete record", err) < 0)
			ret = -1;
		else {
			pp_trace("delete supervisor gone");
			ret = remove_stopped(ns, name, &v, err);
		}
	} else if (v.alive && !v.finished) {
		ret = pp_error_set(err, EBUSY,
				   "pod \"%s\" is being created or its supervisor "
				   "does not answer: try again",
				   name);
	} else {
		/* Finished (the supervisor left nothing but the record), or
		 * its supervisor died: clean up after it. */
		cleanup_free char *data = data_dir_of(&v);
		ret = v.finished ? remove_record(ns, name, v.uid, err)
				 : remove_dead(ns, name, v.uid, data, GC_LOCK_WAIT_MS, err);
	}
	pp_pod_view_free(&v);
	return ret;
}

/* Records no name refers to: an apply killed before it claimed the name
 * (or a delete between the name's release and the record's removal). One
 * whose lock is held is being made or removed right now: left alone. */
static int gc_orphan_records(const char *store_root, int *removed, struct pp_error **err)
{
	cleanup_strv char **uids = NULL;
	if (pp_state_orphans(&uids, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; uids[i] != NULL; i++) {
		cleanup_close int lock = pp_state_lock(uids[i], 0, NULL);
		if (lock < 0)
			continue;
		cleanup_free char *data = xasprintf("%s/pods/%s", store_root, uids[i]);
		cleanup_free char *dir = pp_state_dir(uids[i]);
		cleanup_free char *trash =
		    xasprintf("%s/%s/%s", pp_run_dir(), PP_TRASH_NAME, uids[i]);
		if (pp_pod_remove_leftovers(data, uids[i], ret < 0 ? NULL : err) < 0 ||
		    pp_discard_dir(dir, trash, ret < 0 ? NULL : err) < 0)
			ret = -1;
		else
			(*removed)++;
	}
	return ret;
}

/* Empty pod cgroups whose record is gone: a teardown whose cgroup removal
 * failed, or a reboot's on a persistent cgroup tree. A pod's cgroups are
 * made by its supervisor after its record and removed before it; one that
 * holds a process is left alone: it may be a pod of another PEAPOD_RUN
 * under the same cgroup parent (what removes a dead pod's processes is
 * its record's gc, pp_pod_remove_leftovers). */
static int gc_orphan_cgroups(struct pp_error **err)
{
	cleanup_strv char **names = NULL;
	if (pp_cgroup_pod_names(&names, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; names[i] != NULL; i++) {
		cleanup_free char *state = pp_state_dir(names[i] + strlen("pod-"));
		if (access(state, F_OK) == 0)
			continue;
		if (pp_cgroup_remove_empty_pod(names[i], ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	return ret;
}

/* Pod data directories (layers, volumes, pins) whose record is gone: what a
 * reboot leaves, as /run is a tmpfs. */
static int gc_orphan_data(const char *store_root, int *removed, struct pp_error **err)
{
	cleanup_free char *pods = xasprintf("%s/pods", store_root);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, pods, PP_DIR_MISSING_OK, err) < 0)
		return -1;
	int ret = 0, r;
	struct dirent *de;
	while ((r = pp_dir_next(&d, &de, ret < 0 ? NULL : err)) > 0) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *state = pp_state_dir(de->d_name);
		if (access(state, F_OK) == 0)
			continue;
		cleanup_free char *data = xasprintf("%s/%s", pods, de->d_name);
		if (pp_pod_remove_leftovers(data, de->d_name, ret < 0 ? NULL : err) < 0)
			ret = -1;
		else
			(*removed)++;
	}
	return r < 0 ? -1 : ret;
}

/* Log directories (<ns>_<name>_<uid>) whose pod record is gone. */
static int gc_orphan_logs(struct pp_error **err)
{
	cleanup_free char *pods = xasprintf("%s/pods", pp_log_root());
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open(&d, pods, PP_DIR_MISSING_OK, err) < 0)
		return -1;
	int ret = 0, r;
	struct dirent *de;
	while ((r = pp_dir_next(&d, &de, ret < 0 ? NULL : err)) > 0) {
		const char *uid = strrchr(de->d_name, '_');
		if (de->d_name[0] == '.' || uid == NULL)
			continue;
		cleanup_free char *state = pp_state_dir(uid + 1);
		if (access(state, F_OK) == 0)
			continue;
		cleanup_free char *dir = xasprintf("%s/%s", pods, de->d_name);
		if (pp_rm_rf(dir, ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	return r < 0 ? -1 : ret;
}

int pp_pod_gc(const char *store_root, int *removed, struct pp_error **err)
{
	*removed = 0;
	struct pp_pod_ref *refs = NULL;
	size_t n = 0;
	if (pp_pod_list(NULL, &refs, &n, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		struct pp_pod_view v;
		if (pp_pod_view_load(refs[i].ns, refs[i].name, &v, NULL) < 0)
			continue;
		if (!v.alive && !v.finished) {
			cleanup_free char *data = data_dir_of(&v);
			if (remove_dead(v.ns, v.name, v.uid, data, GC_LOCK_WAIT_MS,
					ret < 0 ? NULL : err) < 0)
				ret = -1;
			else
				(*removed)++;
		}
		pp_pod_view_free(&v);
	}
	pp_pod_refs_free(refs, n);
	struct pp_image_store *store = NULL;
	if (pp_image_store_open(store_root, &store, ret < 0 ? NULL : err) < 0)
		return -1;
	if (gc_orphan_records(pp_image_store_root(store), removed, ret < 0 ? NULL : err) < 0)
		ret = -1;
	if (gc_orphan_data(pp_image_store_root(store), removed, ret < 0 ? NULL : err) < 0 ||
	    gc_orphan_cgroups(ret < 0 ? NULL : err) < 0 ||
	    pp_pod_cgroup_parents_gc(ret < 0 ? NULL : err) < 0)
		ret = -1;
	/* Files of deleted pods whose removal a crash or reboot cut short
	 * (not counted: their pods were deleted already). */
	int trashed = 0;
	if (pp_pod_empty_trash(pp_image_store_root(store), &trashed, ret < 0 ? NULL : err) < 0)
		ret = -1;
	cleanup_free char *run_trash = xasprintf("%s/%s", pp_run_dir(), PP_TRASH_NAME);
	cleanup_free char *log_trash = xasprintf("%s/%s", pp_log_root(), PP_TRASH_NAME);
	if (pp_empty_trash(run_trash, &trashed, ret < 0 ? NULL : err) < 0 ||
	    pp_empty_trash(log_trash, &trashed, ret < 0 ? NULL : err) < 0)
		ret = -1;
	/* and what a crash left half-made in the block groups (util/fs.h) */
	const char *const roots[] = {pp_run_dir(), pp_log_root(), pp_image_store_root(store)};
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		cleanup_free char *groups = xasprintf("%s/%s", roots[i], PP_GROUPS_NAME);
		if (pp_sweep_groups(groups, PP_GROUPS_SWEEP_AGE_S, &trashed, ret < 0 ? NULL : err) <
		    0)
			ret = -1;
	}
	if (gc_orphan_logs(ret < 0 ? NULL : err) < 0)
		ret = -1;
	/* User namespace id ranges whose pod record is gone (not counted). */
	if (pp_idrange_sweep(NULL, ret < 0 ? NULL : err) < 0)
		ret = -1;
	pp_image_store_free(store);
	return ret;
}

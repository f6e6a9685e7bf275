/* RuntimeService's containers: CreateContainer, StartContainer,
 * StopContainer, RemoveContainer, ContainerStatus, ListContainers,
 * UpdateContainerResources, ReopenContainerLog. A CRI container is a
 * container added to its sandbox's running pod through the supervisor's
 * control socket (supervisor/cri_containers.c); its record is the state
 * file "cri-ctr-<name>": the ContainerConfig as given, packed (its mtime is
 * the creation time). Its state comes from the pod's status.json ("cri" in
 * its container status), so a server restarted finds it again. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cri/cri_internal.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fs.h"

#define CTR_FILE_PREFIX "cri-ctr-"
#define CTR_FILE_MAX (4u << 20)
/* How often a stop's wait looks at the status, and how long past the
 * timeout it waits for the kill to be seen. */
#define STOP_POLL_US 5000
#define STOP_SLACK_MS 10000

struct cri_ctr {
	Runtime__V1__ContainerConfig *cfg;
	int64_t created_ns;
};

static char *ctr_file(const char *uid, const char *name)
{
	cleanup_free char *f = xasprintf(CTR_FILE_PREFIX "%s", name);
	return pp_state_file(uid, f);
}

static int ctr_load(const char *uid, const char *name, struct cri_ctr *out, struct pp_error **err)
{
	*out = (struct cri_ctr){0};
	cleanup_free char *path = ctr_file(uid, name);
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (pp_read_file(path, CTR_FILE_MAX, &data, &len, NULL) < 0)
		return pp_error_set(err, ENOENT,
				    "container %s not found (removed, or not made "
				    "through the CRI)",
				    name);
	struct stat st;
	if (stat(path, &st) == 0)
		out->created_ns = (int64_t)st.st_mtim.tv_sec * PP_NSEC_PER_SEC + st.st_mtim.tv_nsec;
	out->cfg = runtime__v1__container_config__unpack(NULL, len, (const uint8_t *)data);
	if (out->cfg == NULL || out->cfg->metadata == NULL) {
		if (out->cfg != NULL)
			runtime__v1__container_config__free_unpacked(out->cfg, NULL);
		out->cfg = NULL;
		return pp_error_set(err, EINVAL, "%s: not a container record", path);
	}
	return 0;
}

static void ctr_free(struct cri_ctr *c)
{
	if (c->cfg != NULL)
		runtime__v1__container_config__free_unpacked(c->cfg, NULL);
	*c = (struct cri_ctr){0};
}

Runtime__V1__ContainerConfig *cri_container_config(const char *uid, const char *name)
{
	struct cri_ctr c;
	struct pp_error *err = NULL;
	if (ctr_load(uid, name, &c, &err) < 0) {
		pp_error_free(&err);
		return NULL;
	}
	return c.cfg;
}

/* Container name's status object in the view, NULL when none. */
static struct json_object *ctr_status(const struct pp_pod_view *v, const char *name)
{
	struct json_object *status = NULL, *list = NULL;
	if (!json_object_object_get_ex(v->obj, "status", &status) ||
	    !json_object_object_get_ex(status, "ephemeralContainerStatuses", &list))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *c = json_object_array_get_idx(list, i), *n = NULL;
		if (json_object_object_get_ex(c, "name", &n) &&
		    strcmp(json_object_get_string(n), name) == 0)
			return c;
	}
	return NULL;
}

static struct json_object *cri_part(struct json_object *st)
{
	struct json_object *c = NULL;
	return st && json_object_object_get_ex(st, "cri", &c) ? c : NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* The container's CRI state: from its supervisor while the pod runs;
 * a container of a pod that is down ran no more (EXITED, or CREATED when
 * it never started). */
static Runtime__V1__ContainerState state_of(const struct pp_pod_view *v, struct json_object *cri)
{
	const char *s = jstr(cri, "state");
	if (s == NULL)
		return RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN;
	if (strcmp(s, "CONTAINER_CREATED") == 0)
		return RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED;
	if (strcmp(s, "CONTAINER_RUNNING") == 0)
		return v->alive && !v->finished ? RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING
						: RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
	return RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
}

/* "sha256:<id>" from the status's imageID, or "". */
static const char *image_ref(struct json_object *st)
{
	const char *id = jstr(st, "imageID");
	return id ? id : "";
}

/* One request to the pod's supervisor; its refusal as an error. */
static int ctl(const char *uid, const char *msg, struct pp_error **err)
{
	int fd = pp_ctl_connect(uid, err);
	if (fd < 0)
		return -1;
	cleanup_close int c = fd;
	cleanup_free char *answer = NULL;
	return pp_ctl_call(c, msg, &answer, NULL, NULL, err);
}

/* The sandbox and container an id names (not found: ENOENT). */
static int find(const char *id, struct pp_pod_view *v, char **name, struct cri_ctr *ctr,
		struct pp_error **err)
{
	*name = NULL;
	if (id == NULL || id[0] == '\0')
		return pp_error_set(err, EINVAL, "container_id is missing");
	if (cri_find_container(id, v, name, err) < 0)
		return -1;
	if (!cri_view_is_cri(v) || ctr_load(v->uid, *name, ctr, err) < 0) {
		pp_pod_view_free(v);
		free(*name);
		*name = NULL;
		if (*err == NULL)
			pp_error_set(err, ENOENT, "container \"%s\" not found", id);
		(*err)->status = ENOENT;
		return -1;
	}
	return 0;
}

/* ---- CreateContainer ---- */

static int write_ctr(const char *uid, const char *name, const Runtime__V1__ContainerConfig *cfg,
		     struct pp_error **err)
{
	size_t len = protobuf_c_message_get_packed_size(&cfg->base);
	cleanup_free uint8_t *buf = xmalloc(len ? len : 1);
	protobuf_c_message_pack(&cfg->base, buf);
	cleanup_free char *path = ctr_file(uid, name);
	/* whole under a name of its own, then linked into place: a link
	 * never replaces, so a second CreateContainer of the name fails here
	 * and leaves the first one's record alone */
	cleanup_free char *tmp = xasprintf("%s.new-%d", path, (int)getpid());
	if (pp_write_file_atomic(tmp, buf, len, 0600, err) < 0)
		return -1;
	int r = link(tmp, path) < 0 ? -errno : 0;
	unlink(tmp);
	if (r == -EEXIST)
		return pp_error_set(err, EEXIST, "container %s exists already in the sandbox",
				    name);
	if (r < 0)
		return pp_error_set(err, -r, "link %s", path);
	return 0;
}

/* The reference the store knows the image by, for the container's spec. */
static char *image_name(const struct pp_image *img)
{
	if (img->ref != NULL)
		return xstrdup(img->ref);
	if (img->tags != NULL && img->tags[0] != NULL)
		return xstrdup(img->tags[0]);
	if (img->repo_digests != NULL && img->repo_digests[0] != NULL)
		return xstrdup(img->repo_digests[0]);
	return NULL;
}

static char *log_path_of(const Runtime__V1__PodSandboxConfig *sb,
			 const Runtime__V1__ContainerConfig *cfg)
{
	if (cfg->log_path == NULL || cfg->log_path[0] == '\0')
		return NULL;
	if (cfg->log_path[0] == '/')
		return xstrdup(cfg->log_path);
	if (sb == NULL || sb->log_directory == NULL || sb->log_directory[0] == '\0')
		return NULL;
	return xasprintf("%s/%s", sb->log_directory, cfg->log_path);
}

static int create(struct pp_cri_service *svc, const Runtime__V1__CreateContainerRequest *req,
		  char id[CRI_ID_LEN + 1], struct pp_error **err)
{
	const Runtime__V1__ContainerConfig *cfg = req->config;
	if (req->pod_sandbox_id[0] == '\0')
		return pp_error_set(err, EINVAL, "pod_sandbox_id is missing");
	if (cri_container_check(cfg, err) < 0)
		return -1;
	struct pp_pod_view v = {0};
	struct cri_sandbox sb = {0};
	if (cri_find_sandbox(req->pod_sandbox_id, &v, err) < 0)
		return -1;
	int r = 0;
	if (!cri_view_is_cri(&v) || cri_sandbox_load(v.uid, &sb, NULL) < 0)
		r = pp_error_set(err, ENOENT, "sandbox \"%s\" not found", req->pod_sandbox_id);
	else if (!cri_view_ready(&v))
		r = pp_error_set(err, EBUSY, "sandbox %s is not ready: it is stopped",
				 req->pod_sandbox_id);
	struct pp_image *img = NULL;
	if (r == 0 && cri_find_image(svc->store, cfg->image->image, &img, err) < 0)
		r = -1;
	else if (r == 0 && img == NULL)
		r = pp_error_set(err, ENOENT, "image \"%s\" not found: pull it first",
				 cfg->image->image);
	cleanup_free char *image = r == 0 ? image_name(img) : NULL;
	if (r == 0 && image == NULL)
		r = pp_error_set(err, ENOENT, "image \"%s\" has no name the store knows",
				 cfg->image->image);
	cleanup_free char *name = cri_container_name(cfg->metadata->name, cfg->metadata->attempt);
	cleanup_free char *log_path = log_path_of(sb.req ? sb.req->config : NULL, cfg);
	/* the record first: a List never sees a container without it */
	if (r == 0 && (r = write_ctr(v.uid, name, cfg, err)) == 0) {
		cleanup_free char *body = cri_container_request(cfg, name, image, log_path);
		cleanup_free char *msg = xasprintf(PP_CTL_CRI_CREATE " %s", body);
		if ((r = ctl(v.uid, msg, err)) < 0) {
			cleanup_free char *path = ctr_file(v.uid, name);
			unlink(path);
			if ((*err)->status == 0 && strstr((*err)->msg, "already has") != NULL)
				(*err)->status = EEXIST;
		} else {
			cri_container_id(v.uid, name, id);
		}
	}
	pp_image_free(img);
	cri_sandbox_free(&sb);
	pp_pod_view_free(&v);
	return r;
}

void cri_create_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__CreateContainerRequest *req = cri_unpack(
	    &runtime__v1__create_container_request__descriptor, msg, len, "CreateContainer", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	char id[CRI_ID_LEN + 1];
	if (create(ctx, req, id, &err) < 0) {
		cri_reply_error(reply, "CreateContainer", err);
	} else {
		Runtime__V1__CreateContainerResponse resp =
		    RUNTIME__V1__CREATE_CONTAINER_RESPONSE__INIT;
		resp.container_id = id;
		cri_reply_message(reply, &resp.base);
	}
	runtime__v1__create_container_request__free_unpacked(req, NULL);
}

/* ---- StartContainer, UpdateContainerResources, ReopenContainerLog ---- */

/* The control request for container name (what build makes of it). */
typedef char *(*ctl_msg_fn)(const char *name, const void *arg);

/* One request to the supervisor of the running sandbox of the container id
 * names, answered with ok (an empty response) or the error; down says
 * what a stopped sandbox means for the method. */
static void ctl_reply(struct pp_grpc_reply *reply, const char *method, const char *id,
		      ctl_msg_fn build, const void *arg, const char *down,
		      const ProtobufCMessage *ok)
{
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	struct cri_ctr ctr = {0};
	cleanup_free char *name = NULL;
	if (find(id, &v, &name, &ctr, &err) == 0) {
		cleanup_free char *m = build(name, arg);
		if (!v.alive)
			pp_error_set(&err, EBUSY, "container %s: %s", name, down);
		else
			ctl(v.uid, m, &err);
	}
	if (err != NULL)
		cri_reply_error(reply, method, err);
	else
		cri_reply_message(reply, ok);
	ctr_free(&ctr);
	pp_pod_view_free(&v);
}

static char *start_msg(const char *name, const void *arg)
{
	return xasprintf("cri-start %s", name);
}

void cri_start_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__StartContainerRequest *req = cri_unpack(
	    &runtime__v1__start_container_request__descriptor, msg, len, "StartContainer", reply);
	if (req == NULL)
		return;
	Runtime__V1__StartContainerResponse resp = RUNTIME__V1__START_CONTAINER_RESPONSE__INIT;
	ctl_reply(reply, "StartContainer", req->container_id, start_msg, NULL,
		  "its sandbox is stopped", &resp.base);
	runtime__v1__start_container_request__free_unpacked(req, NULL);
}

/* ---- StopContainer, RemoveContainer ---- */

/* Whether container name of the pod uid still runs (its status says). */
static bool still_running(const char *uid, const char *name)
{
	struct json_object *st = NULL;
	if (pp_state_read_status(uid, &st, NULL) < 0)
		return false;
	struct pp_pod_view v = {.obj = st, .alive = true};
	const char *s = jstr(cri_part(ctr_status(&v, name)), "state");
	bool running = s != NULL && strcmp(s, "CONTAINER_RUNNING") == 0;
	json_object_put(st);
	return running && pp_state_is_locked(uid);
}

/* Stops it (SIGTERM, SIGKILL after timeout_s) and waits until it is. */
static int stop_and_wait(const char *uid, const char *name, int64_t timeout_s,
			 struct pp_error **err)
{
	if (!still_running(uid, name))
		return 0;
	cleanup_free char *m = xasprintf("cri-stop %lld %s", (long long)timeout_s, name);
	if (ctl(uid, m, err) < 0)
		return -1;
	int64_t until = pp_monotonic_ms() + (timeout_s > 0 ? timeout_s * 1000 : 0) + STOP_SLACK_MS;
	while (still_running(uid, name)) {
		if (pp_monotonic_ms() > until)
			return pp_error_set(err, ETIMEDOUT, "container %s did not stop", name);
		usleep(STOP_POLL_US);
	}
	return 0;
}

struct stop_arg {
	const char *id;
	int64_t timeout;
	bool remove;
};

static void stop_work(struct pp_cri_service *svc, void *arg, struct pp_grpc_reply *reply)
{
	const struct stop_arg *a = arg;
	const char *method = a->remove ? "RemoveContainer" : "StopContainer";
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	struct cri_ctr ctr = {0};
	cleanup_free char *name = NULL;
	if (find(a->id, &v, &name, &ctr, &err) < 0) {
		/* removed already: done (idempotent) */
		if (a->remove && err->status == ENOENT)
			pp_error_free(&err);
	} else if (stop_and_wait(v.uid, name, a->remove ? 0 : a->timeout, &err) == 0 && a->remove) {
		cleanup_free char *m = xasprintf("cri-remove %s", name);
		/* a pod that is down has freed everything but the record */
		if (!v.alive || ctl(v.uid, m, &err) == 0 ||
		    (err->status == ECONNREFUSED || err->status == ENOENT)) {
			pp_error_free(&err);
			cleanup_free char *path = ctr_file(v.uid, name);
			if (unlink(path) < 0 && errno != ENOENT)
				pp_error_set(&err, errno, "remove %s", path);
		}
	}
	if (err != NULL) {
		cri_reply_error(reply, method, err);
	} else if (a->remove) {
		Runtime__V1__RemoveContainerResponse resp =
		    RUNTIME__V1__REMOVE_CONTAINER_RESPONSE__INIT;
		cri_reply_message(reply, &resp.base);
	} else {
		Runtime__V1__StopContainerResponse resp =
		    RUNTIME__V1__STOP_CONTAINER_RESPONSE__INIT;
		cri_reply_message(reply, &resp.base);
	}
	ctr_free(&ctr);
	pp_pod_view_free(&v);
}

void cri_stop_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__StopContainerRequest *req = cri_unpack(
	    &runtime__v1__stop_container_request__descriptor, msg, len, "StopContainer", reply);
	if (req == NULL)
		return;
	struct stop_arg a = {.id = req->container_id, .timeout = req->timeout};
	cri_reply_later(ctx, reply, stop_work, &a, "StopContainer");
	runtime__v1__stop_container_request__free_unpacked(req, NULL);
}

void cri_remove_container(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__RemoveContainerRequest *req = cri_unpack(
	    &runtime__v1__remove_container_request__descriptor, msg, len, "RemoveContainer", reply);
	if (req == NULL)
		return;
	struct stop_arg a = {.id = req->container_id, .remove = true};
	cri_reply_later(ctx, reply, stop_work, &a, "RemoveContainer");
	runtime__v1__remove_container_request__free_unpacked(req, NULL);
}

/* ---- ContainerStatus, ListContainers ---- */

static bool labels_match(const Runtime__V1__ContainerConfig *cfg,
			 Runtime__V1__ContainerFilter__LabelSelectorEntry *const *want, size_t n)
{
	return cri_labels_match((Runtime__V1__PodSandboxConfig__LabelsEntry *const *)cfg->labels,
				cfg->n_labels,
				(Runtime__V1__PodSandboxConfig__LabelsEntry *const *)want, n);
}

static char *status_info(const struct pp_pod_view *v, struct json_object *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pod", json_object_new_string(v->name));
	json_object_object_add(o, "namespace", json_object_new_string(v->ns));
	json_object_object_add(o, "uid", json_object_new_string(v->uid));
	if (st != NULL)
		json_object_object_add(o, "status", json_object_get(st));
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* s as ContainerStatus says container name of v (st: its status in v);
 * s points into ctr and st. */
static void status_fill(const struct pp_pod_view *v, const char *name, const struct cri_ctr *ctr,
			struct json_object *st, Runtime__V1__ContainerStatus *s, char *id)
{
	const Runtime__V1__ContainerConfig *cfg = ctr->cfg;
	struct json_object *cri = cri_part(st);
	cri_container_id(v->uid, name, id);
	runtime__v1__container_status__init(s);
	s->id = id;
	s->metadata = cfg->metadata;
	s->state = state_of(v, cri);
	s->created_at = jint(cri, "createdAt") ? jint(cri, "createdAt") : ctr->created_ns;
	s->started_at = jint(cri, "startedAt");
	s->finished_at = jint(cri, "finishedAt");
	s->exit_code = (int32_t)jint(cri, "exitCode");
	const char *reason = jstr(cri, "reason");
	if (s->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED && reason == NULL)
		reason = "Unknown"; /* its pod went down without a word of it */
	s->reason = (char *)(reason ? reason : "");
	s->message = (char *)(jstr(cri, "message") ? jstr(cri, "message") : "");
	s->image = cfg->image;
	s->image_ref = (char *)image_ref(st);
	s->image_id = s->image_ref;
	s->n_labels = cfg->n_labels;
	s->labels = (Runtime__V1__ContainerStatus__LabelsEntry **)cfg->labels;
	s->n_annotations = cfg->n_annotations;
	s->annotations = (Runtime__V1__ContainerStatus__AnnotationsEntry **)cfg->annotations;
	s->n_mounts = cfg->n_mounts;
	s->mounts = cfg->mounts;
	s->log_path = (char *)(jstr(cri, "logPath") ? jstr(cri, "logPath") : "");
}

void cri_container_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__ContainerStatusRequest *req = cri_unpack(
	    &runtime__v1__container_status_request__descriptor, msg, len, "ContainerStatus", reply);
	if (req != NULL && req->container_id[0] == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "ContainerStatus: container_id is missing");
		runtime__v1__container_status_request__free_unpacked(req, NULL);
		return;
	}
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	struct cri_ctr ctr = {0};
	cleanup_free char *name = NULL;
	if (find(req->container_id, &v, &name, &ctr, &err) < 0) {
		cri_reply_error(reply, "ContainerStatus", err);
		runtime__v1__container_status_request__free_unpacked(req, NULL);
		return;
	}
	struct json_object *st = ctr_status(&v, name);
	char id[CRI_ID_LEN + 1];
	Runtime__V1__ContainerStatus s;
	status_fill(&v, name, &ctr, st, &s, id);
	Runtime__V1__ContainerStatusResponse resp = RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INIT;
	resp.status = &s;
	cleanup_free char *info = NULL;
	Runtime__V1__ContainerStatusResponse__InfoEntry entry =
	    RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INFO_ENTRY__INIT;
	Runtime__V1__ContainerStatusResponse__InfoEntry *entries[] = {&entry};
	if (req->verbose) {
		info = status_info(&v, st);
		entry.key = (char *)"info";
		entry.value = info;
		resp.n_info = 1;
		resp.info = entries;
	}
	cri_reply_message(reply, &resp.base);
	ctr_free(&ctr);
	pp_pod_view_free(&v);
	runtime__v1__container_status_request__free_unpacked(req, NULL);
}

struct cri_statuses {
	struct cri_ctr *ctrs;
	char (*ids)[CRI_ID_LEN + 1];
};

Runtime__V1__ContainerStatus **cri_container_statuses(const struct pp_pod_view *v, size_t *n,
						      struct cri_statuses **keep)
{
	struct json_object *status = NULL, *list = NULL;
	*n = 0;
	*keep = xmalloc(sizeof(**keep));
	**keep = (struct cri_statuses){0};
	if (!json_object_object_get_ex(v->obj, "status", &status) ||
	    !json_object_object_get_ex(status, "ephemeralContainerStatuses", &list))
		return NULL;
	size_t max = json_object_array_length(list);
	Runtime__V1__ContainerStatus **out = xmalloc(sizeof(*out) * (max + 1));
	(*keep)->ctrs = xmalloc(sizeof(struct cri_ctr) * (max + 1));
	(*keep)->ids = xmalloc(sizeof(*(*keep)->ids) * (max + 1));
	for (size_t i = 0; i < max; i++) {
		struct json_object *st = json_object_array_get_idx(list, i);
		const char *name = jstr(st, "name");
		struct cri_ctr *ctr = &(*keep)->ctrs[*n];
		if (cri_part(st) == NULL || name == NULL)
			continue;
		if (ctr_load(v->uid, name, ctr, NULL) < 0) {
			ctr_free(ctr);
			continue; /* removed */
		}
		out[*n] = xmalloc(sizeof(**out));
		status_fill(v, name, ctr, st, out[*n], (*keep)->ids[*n]);
		(*n)++;
	}
	return out;
}

void cri_container_statuses_free(Runtime__V1__ContainerStatus **s, size_t n,
				 struct cri_statuses *keep)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i]);
		ctr_free(&keep->ctrs[i]);
	}
	free(s);
	free(keep->ctrs);
	free(keep->ids);
	free(keep);
}

struct list {
	Runtime__V1__Container **items;
	size_t n, cap;
	struct cri_ctr *ctrs; /* what items point into */
	size_t n_ctrs, cap_ctrs;
};

static void list_pod(struct list *l, const struct pp_pod_view *v,
		     const Runtime__V1__ContainerFilter *f)
{
	char sid[CRI_ID_LEN + 1];
	cri_sandbox_id(v->uid, sid);
	if (f && f->pod_sandbox_id[0] && strncmp(sid, f->pod_sandbox_id, strlen(f->pod_sandbox_id)))
		return;
	struct json_object *status = NULL, *list = NULL;
	if (!json_object_object_get_ex(v->obj, "status", &status) ||
	    !json_object_object_get_ex(status, "ephemeralContainerStatuses", &list))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *st = json_object_array_get_idx(list, i), *cri = cri_part(st);
		const char *name = jstr(st, "name");
		if (cri == NULL || name == NULL)
			continue;
		char id[CRI_ID_LEN + 1];
		cri_container_id(v->uid, name, id);
		Runtime__V1__ContainerState state = state_of(v, cri);
		if (f && ((f->id[0] && strncmp(id, f->id, strlen(f->id))) ||
			  (f->state && f->state->state != state)))
			continue;
		struct cri_ctr ctr;
		if (ctr_load(v->uid, name, &ctr, NULL) < 0) {
			ctr_free(&ctr);
			continue; /* removed */
		}
		if (f && !labels_match(ctr.cfg, f->label_selector, f->n_label_selector)) {
			ctr_free(&ctr);
			continue;
		}
		if (l->n_ctrs == l->cap_ctrs) {
			l->cap_ctrs = l->cap_ctrs ? 2 * l->cap_ctrs : 16;
			l->ctrs = xrealloc(l->ctrs, sizeof(*l->ctrs) * l->cap_ctrs);
		}
		l->ctrs[l->n_ctrs++] = ctr;
		Runtime__V1__Container *c = xmalloc(sizeof(*c));
		runtime__v1__container__init(c);
		c->id = xstrdup(id);
		c->pod_sandbox_id = xstrdup(sid);
		c->metadata = ctr.cfg->metadata;
		c->image = ctr.cfg->image;
		c->image_ref = xstrdup(image_ref(st));
		c->image_id = c->image_ref;
		c->state = state;
		c->created_at = jint(cri, "createdAt") ? jint(cri, "createdAt") : ctr.created_ns;
		c->n_labels = ctr.cfg->n_labels;
		c->labels = (Runtime__V1__Container__LabelsEntry **)ctr.cfg->labels;
		c->n_annotations = ctr.cfg->n_annotations;
		c->annotations = (Runtime__V1__Container__AnnotationsEntry **)ctr.cfg->annotations;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 16;
			l->items = xrealloc(l->items, sizeof(*l->items) * l->cap);
		}
		l->items[l->n++] = c;
	}
}

void cri_list_containers(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	Runtime__V1__ListContainersRequest *req =
	    cri_unpack_listing(&runtime__v1__list_containers_request__descriptor, msg, len,
			       "ListContainers", reply, &views, &n);
	if (req == NULL)
		return;
	struct list l = {0};
	for (size_t i = 0; i < n; i++)
		if (cri_view_is_cri(&views[i]))
			list_pod(&l, &views[i], req->filter);
	Runtime__V1__ListContainersResponse resp = RUNTIME__V1__LIST_CONTAINERS_RESPONSE__INIT;
	resp.n_containers = l.n;
	resp.containers = l.items;
	cri_reply_message(reply, &resp.base);
	for (size_t k = 0; k < l.n; k++) {
		free(l.items[k]->id);
		free(l.items[k]->pod_sandbox_id);
		free(l.items[k]->image_ref);
		free(l.items[k]);
	}
	free(l.items);
	for (size_t k = 0; k < l.n_ctrs; k++)
		ctr_free(&l.ctrs[k]);
	free(l.ctrs);
	pp_pod_views_free(views, n);
	runtime__v1__list_containers_request__free_unpacked(req, NULL);
}

static char *update_msg(const char *name, const void *arg)
{
	cleanup_free char *body = cri_update_request(name, arg);
	return xasprintf(PP_CTL_CRI_UPDATE " %s", body);
}

void cri_update_container_resources(void *ctx, const uint8_t *msg, size_t len,
				    struct pp_grpc_reply *reply)
{
	Runtime__V1__UpdateContainerResourcesRequest *req =
	    cri_unpack(&runtime__v1__update_container_resources_request__descriptor, msg, len,
		       "UpdateContainerResources", reply);
	if (req == NULL)
		return;
	Runtime__V1__UpdateContainerResourcesResponse resp =
	    RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_RESPONSE__INIT;
	ctl_reply(reply, "UpdateContainerResources", req->container_id, update_msg, req->linux,
		  "its sandbox is stopped", &resp.base);
	runtime__v1__update_container_resources_request__free_unpacked(req, NULL);
}

static char *reopen_msg(const char *name, const void *arg)
{
	return xasprintf("cri-reopen %s", name);
}

void cri_reopen_container_log(void *ctx, const uint8_t *msg, size_t len,
			      struct pp_grpc_reply *reply)
{
	Runtime__V1__ReopenContainerLogRequest *req =
	    cri_unpack(&runtime__v1__reopen_container_log_request__descriptor, msg, len,
		       "ReopenContainerLog", reply);
	if (req == NULL)
		return;
	Runtime__V1__ReopenContainerLogResponse resp =
	    RUNTIME__V1__REOPEN_CONTAINER_LOG_RESPONSE__INIT;
	ctl_reply(reply, "ReopenContainerLog", req->container_id, reopen_msg, NULL,
		  "it is not running", &resp.base);
	runtime__v1__reopen_container_log_request__free_unpacked(req, NULL);
}

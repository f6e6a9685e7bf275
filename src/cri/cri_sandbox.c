/* RuntimeService's sandboxes: RunPodSandbox, StopPodSandbox,
 * RemovePodSandbox, PodSandboxStatus, ListPodSandbox. A sandbox is a
 * peapod pod in CRI mode (pp_pod.cri: no containers of its own, running
 * until stopped) whose state directory holds CRI_SANDBOX_FILE: the
 * RunPodSandboxRequest as given, packed (metadata, labels, annotations
 * come back from it exactly; its mtime is the sandbox's creation time).
 * Nothing else is kept: a server restarted finds everything again. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cri/cri_internal.h"
#include "ops/apply.h"
#include "ops/ops.h"
#include "state/podstate.h"
#include "supervisor/control.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/fault.h"
#include "util/fs.h"

/* The sandbox's record file is small; a bigger one is not ours. */
#define SANDBOX_FILE_MAX (4u << 20)
/* StopPodSandbox waits this long for the supervisor to be done. */
#define STOP_WAIT_MS 60000

int cri_sandbox_load(const char *uid, struct cri_sandbox *out, struct pp_error **err)
{
	*out = (struct cri_sandbox){0};
	cleanup_free char *path = pp_state_file(uid, CRI_SANDBOX_FILE);
	cleanup_free char *data = NULL;
	size_t len = 0;
	struct stat st;
	if (pp_read_file(path, SANDBOX_FILE_MAX, &data, &len, err) < 0)
		return -1;
	if (stat(path, &st) == 0)
		out->created_ns = (int64_t)st.st_mtim.tv_sec * PP_NSEC_PER_SEC + st.st_mtim.tv_nsec;
	out->req = runtime__v1__run_pod_sandbox_request__unpack(NULL, len, (const uint8_t *)data);
	if (out->req == NULL || out->req->config == NULL || out->req->config->metadata == NULL) {
		cri_sandbox_free(out);
		return pp_error_set(err, EINVAL, "%s: not a sandbox record", path);
	}
	return 0;
}

void cri_sandbox_free(struct cri_sandbox *sb)
{
	if (sb->req != NULL)
		runtime__v1__run_pod_sandbox_request__free_unpacked(sb->req, NULL);
	*sb = (struct cri_sandbox){0};
}

bool cri_view_ready(const struct pp_pod_view *v)
{
	if (!v->alive || v->finished)
		return false;
	struct json_object *peapod = NULL, *stopping = NULL;
	if (json_object_object_get_ex(v->obj, "peapod", &peapod) &&
	    json_object_object_get_ex(peapod, "stopping", &stopping) &&
	    json_object_get_boolean(stopping))
		return false;
	const char *phase = pp_pod_view_str(v, "status.phase");
	return phase != NULL && strcmp(phase, "Running") == 0;
}

/* ---- RunPodSandbox ---- */

static void run_work(struct pp_cri_service *svc, void *arg, struct pp_grpc_reply *reply)
{
	const Runtime__V1__RunPodSandboxRequest *req = arg;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod *spec = NULL;
	if (cri_sandbox_spec(req->config, &spec, &err) < 0) {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "RunPodSandbox: %s", err->msg);
		return;
	}
	/* The record goes into the pod's state directory before the pod can
	 * be seen (pp_apply_opts.extra_file) and with it on a failure: a
	 * server killed at any moment leaves a CRI pod or nothing, never a
	 * pod a restarted server would take for a CLI one. */
	size_t rec_len = protobuf_c_message_get_packed_size(&req->base);
	cleanup_free uint8_t *rec = xmalloc(rec_len ? rec_len : 1);
	protobuf_c_message_pack(&req->base, rec);
	struct pp_apply_opts opts = {.store_root = pp_image_store_root(svc->store),
				     .extra_file = CRI_SANDBOX_FILE,
				     .extra_data = rec,
				     .extra_len = rec_len};
	cleanup_free char *uid = NULL;
	if (pp_pod_apply(spec, &opts, &uid, &err) < 0) {
		if (err->status == EEXIST)
			err->status = 0; /* the name is taken: not NOT_FOUND-like */
		cri_reply_error(reply, "RunPodSandbox", err);
		return;
	}
	/* the window the record closed: the pod up, the reply not sent */
	if (pp_fault("cri sandbox up", &err) < 0) {
		cri_reply_error(reply, "RunPodSandbox", err);
		return;
	}
	char id[CRI_ID_LEN + 1];
	cri_sandbox_id(uid, id);
	Runtime__V1__RunPodSandboxResponse resp = RUNTIME__V1__RUN_POD_SANDBOX_RESPONSE__INIT;
	resp.pod_sandbox_id = id;
	cri_reply_message(reply, &resp.base);
}

void cri_run_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_cri_service *svc = ctx;
	Runtime__V1__RunPodSandboxRequest *req = cri_unpack(
	    &runtime__v1__run_pod_sandbox_request__descriptor, msg, len, "RunPodSandbox", reply);
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	if (req->runtime_handler && req->runtime_handler[0])
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "RunPodSandbox: runtime handler \"%s\" not supported (only "
				    "the default one, \"\")",
				    req->runtime_handler);
	else if (cri_sandbox_check(req->config, &err) < 0)
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT, "RunPodSandbox: %s", err->msg);
	else
		cri_reply_later(svc, reply, run_work, req, "RunPodSandbox");
	runtime__v1__run_pod_sandbox_request__free_unpacked(req, NULL);
}

/* ---- StopPodSandbox, RemovePodSandbox ---- */

int cri_sandbox_stop(const struct pp_pod_view *v, struct pp_error **err)
{
	if (!v->alive)
		return 0;
	int fd = pp_ctl_connect(v->uid, err);
	if (fd < 0) {
		/* gone meanwhile: stopped */
		if ((*err)->status == ECONNREFUSED || (*err)->status == ENOENT) {
			pp_error_free(err);
			return 0;
		}
		return -1;
	}
	cleanup_close int c = fd;
	cleanup_free char *answer = NULL;
	size_t n_fds = 0;
	if (pp_ctl_call(c, "stop 0", &answer, NULL, &n_fds, err) < 0) {
		if ((*err)->status != 0) { /* the connection went: it stopped */
			pp_error_free(err);
			return 0;
		}
		return -1;
	}
	return pp_ctl_wait_closed(c, STOP_WAIT_MS, err);
}

static void stop_work(struct pp_cri_service *svc, void *arg, struct pp_grpc_reply *reply)
{
	const char *id = arg;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	Runtime__V1__StopPodSandboxResponse resp = RUNTIME__V1__STOP_POD_SANDBOX_RESPONSE__INIT;
	if (cri_find_sandbox(id, &v, &err) < 0) {
		/* gone: stopped (idempotent, as CRI-O answers and critest expects) */
		if (err->status == ENOENT)
			cri_reply_message(reply, &resp.base);
		else
			cri_reply_error(reply, "StopPodSandbox", err);
		return;
	}
	if (cri_sandbox_stop(&v, &err) < 0)
		cri_reply_error(reply, "StopPodSandbox", err);
	else
		cri_reply_message(reply, &resp.base);
	pp_pod_view_free(&v);
}

void cri_stop_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__StopPodSandboxRequest *req = cri_unpack(
	    &runtime__v1__stop_pod_sandbox_request__descriptor, msg, len, "StopPodSandbox", reply);
	if (req == NULL)
		return;
	if (req->pod_sandbox_id[0] == '\0')
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "StopPodSandbox: pod_sandbox_id is missing");
	else
		cri_reply_later(ctx, reply, stop_work, req->pod_sandbox_id, "StopPodSandbox");
	runtime__v1__stop_pod_sandbox_request__free_unpacked(req, NULL);
}

static void remove_work(struct pp_cri_service *svc, void *arg, struct pp_grpc_reply *reply)
{
	const char *id = arg;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	Runtime__V1__RemovePodSandboxResponse resp = RUNTIME__V1__REMOVE_POD_SANDBOX_RESPONSE__INIT;
	if (cri_find_sandbox(id, &v, &err) < 0) {
		/* gone already: removed (idempotent, as critest expects) */
		if (err->status == ENOENT)
			cri_reply_message(reply, &resp.base);
		else
			cri_reply_error(reply, "RemovePodSandbox", err);
		return;
	}
	struct pp_delete_opts d = {.grace_s = 0, .timeout_ms = STOP_WAIT_MS};
	if (!cri_view_is_cri(&v))
		pp_error_set(&err, EINVAL,
			     "pod %s/%s was not made through the CRI: delete it with "
			     "peapod delete",
			     v.ns, v.name);
	else if (pp_pod_delete(v.ns, v.name, &d, &err) < 0 && err->status == ENOENT)
		pp_error_free(&err);
	if (err != NULL)
		cri_reply_error(reply, "RemovePodSandbox", err);
	else
		cri_reply_message(reply, &resp.base);
	pp_pod_view_free(&v);
}

void cri_remove_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__RemovePodSandboxRequest *req =
	    cri_unpack(&runtime__v1__remove_pod_sandbox_request__descriptor, msg, len,
		       "RemovePodSandbox", reply);
	if (req == NULL)
		return;
	if (req->pod_sandbox_id[0] == '\0')
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "RemovePodSandbox: pod_sandbox_id is missing");
	else
		cri_reply_later(ctx, reply, remove_work, req->pod_sandbox_id, "RemovePodSandbox");
	runtime__v1__remove_pod_sandbox_request__free_unpacked(req, NULL);
}

/* ---- PodSandboxStatus, ListPodSandbox ---- */

/* The map entries of a map field, as the unpacked message has them. */
typedef Runtime__V1__PodSandboxConfig__LabelsEntry kv_entry;

static Runtime__V1__PodSandboxState state_of(const struct pp_pod_view *v)
{
	return cri_view_ready(v) ? RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY
				 : RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
}

/* verbose info: what peapod knows of the pod, as containerd's "info". */
static char *sandbox_info(const struct pp_pod_view *v)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "namespace", json_object_new_string(v->ns));
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "uid", json_object_new_string(v->uid));
	json_object_object_add(o, "supervisorAlive", json_object_new_boolean(v->alive));
	struct json_object *status = NULL, *peapod = NULL;
	if (json_object_object_get_ex(v->obj, "status", &status))
		json_object_object_add(o, "status", json_object_get(status));
	if (json_object_object_get_ex(v->obj, "peapod", &peapod))
		json_object_object_add(o, "peapod", json_object_get(peapod));
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

static bool host_network(const Runtime__V1__PodSandboxConfig *c)
{
	return c->linux && c->linux->security_context &&
	       c->linux->security_context->namespace_options &&
	       c->linux->security_context->namespace_options->network ==
		   RUNTIME__V1__NAMESPACE_MODE__NODE;
}

void cri_pod_sandbox_status(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	Runtime__V1__PodSandboxStatusRequest *req =
	    cri_unpack(&runtime__v1__pod_sandbox_status_request__descriptor, msg, len,
		       "PodSandboxStatus", reply);
	if (req != NULL && req->pod_sandbox_id[0] == '\0') {
		pp_grpc_reply_error(reply, PP_GRPC_INVALID_ARGUMENT,
				    "PodSandboxStatus: pod_sandbox_id is missing");
		runtime__v1__pod_sandbox_status_request__free_unpacked(req, NULL);
		return;
	}
	if (req == NULL)
		return;
	cleanup_error struct pp_error *err = NULL;
	struct pp_pod_view v = {0};
	struct cri_sandbox sb = {0};
	if (cri_find_sandbox(req->pod_sandbox_id, &v, &err) < 0 ||
	    cri_sandbox_load(v.uid, &sb, &err) < 0) {
		if (err->status == ENOENT || err->status == EINVAL)
			err->status = ENOENT; /* a CLI pod is no sandbox */
		cri_reply_error(reply, "PodSandboxStatus", err);
		pp_pod_view_free(&v);
		runtime__v1__pod_sandbox_status_request__free_unpacked(req, NULL);
		return;
	}
	const Runtime__V1__PodSandboxConfig *cfg = sb.req->config;
	char id[CRI_ID_LEN + 1];
	cri_sandbox_id(v.uid, id);
	Runtime__V1__PodSandboxStatus st = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
	st.id = id;
	st.metadata = cfg->metadata;
	st.state = state_of(&v);
	st.created_at = sb.created_ns;
	Runtime__V1__PodSandboxNetworkStatus net = RUNTIME__V1__POD_SANDBOX_NETWORK_STATUS__INIT;
	const char *ip = pp_pod_view_str(&v, "status.podIP");
	net.ip = (char *)(ip && st.state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY &&
				  !host_network(cfg)
			      ? ip
			      : "");
	st.network = &net;
	Runtime__V1__NamespaceOption nsopt = RUNTIME__V1__NAMESPACE_OPTION__INIT;
	Runtime__V1__Namespace nss = RUNTIME__V1__NAMESPACE__INIT;
	Runtime__V1__LinuxPodSandboxStatus lx = RUNTIME__V1__LINUX_POD_SANDBOX_STATUS__INIT;
	nss.options = cfg->linux && cfg->linux->security_context &&
			      cfg->linux->security_context->namespace_options
			  ? cfg->linux->security_context->namespace_options
			  : &nsopt;
	lx.namespaces = &nss;
	st.linux = &lx;
	/* the map entries of the config, as given: the same message types */
	st.n_labels = cfg->n_labels;
	st.labels = (Runtime__V1__PodSandboxStatus__LabelsEntry **)cfg->labels;
	st.n_annotations = cfg->n_annotations;
	st.annotations = (Runtime__V1__PodSandboxStatus__AnnotationsEntry **)cfg->annotations;
	st.runtime_handler = sb.req->runtime_handler;
	Runtime__V1__PodSandboxStatusResponse resp = RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INIT;
	resp.status = &st;
	resp.timestamp = pp_realtime_ns();
	/* its containers too, as containerd answers (kubelet's evented PLEG
	 * reads them from here) */
	struct cri_statuses *keep = NULL;
	resp.containers_statuses = cri_container_statuses(&v, &resp.n_containers_statuses, &keep);
	cleanup_free char *info = NULL;
	Runtime__V1__PodSandboxStatusResponse__InfoEntry entry =
	    RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INFO_ENTRY__INIT;
	Runtime__V1__PodSandboxStatusResponse__InfoEntry *entries[] = {&entry};
	if (req->verbose) {
		info = sandbox_info(&v);
		entry.key = (char *)"info";
		entry.value = info;
		resp.n_info = 1;
		resp.info = entries;
	}
	cri_reply_message(reply, &resp.base);
	cri_container_statuses_free(resp.containers_statuses, resp.n_containers_statuses, keep);
	cri_sandbox_free(&sb);
	pp_pod_view_free(&v);
	runtime__v1__pod_sandbox_status_request__free_unpacked(req, NULL);
}

/* Every entry of want is in have (kubelet's label_selector: equality). */
bool cri_labels_match(Runtime__V1__PodSandboxConfig__LabelsEntry *const *have, size_t n_have,
		      Runtime__V1__PodSandboxConfig__LabelsEntry *const *want, size_t n_want)
{
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;
		for (size_t k = 0; k < n_have && !found; k++)
			found = strcmp(have[k]->key, want[i]->key) == 0 &&
				strcmp(have[k]->value, want[i]->value) == 0;
		if (!found)
			return false;
	}
	return true;
}

static bool id_prefix(const char *want, const char *id)
{
	return want == NULL || want[0] == '\0' || strncmp(id, want, strlen(want)) == 0;
}

static Runtime__V1__PodSandbox *sandbox_msg(const struct pp_pod_view *v, struct cri_sandbox *sb,
					    const Runtime__V1__PodSandboxFilter *f)
{
	char id[CRI_ID_LEN + 1];
	cri_sandbox_id(v->uid, id);
	const Runtime__V1__PodSandboxConfig *cfg = sb->req->config;
	Runtime__V1__PodSandboxState state = state_of(v);
	if (f != NULL &&
	    (!id_prefix(f->id, id) || (f->state && f->state->state != state) ||
	     !cri_labels_match(
		 cfg->labels, cfg->n_labels,
		 (Runtime__V1__PodSandboxConfig__LabelsEntry *const *)f->label_selector,
		 f->n_label_selector)))
		return NULL;
	Runtime__V1__PodSandbox *p = xmalloc(sizeof(*p));
	runtime__v1__pod_sandbox__init(p);
	p->id = xstrdup(id);
	p->metadata = cfg->metadata;
	p->state = state;
	p->created_at = sb->created_ns;
	p->n_labels = cfg->n_labels;
	p->labels = (Runtime__V1__PodSandbox__LabelsEntry **)cfg->labels;
	p->n_annotations = cfg->n_annotations;
	p->annotations = (Runtime__V1__PodSandbox__AnnotationsEntry **)cfg->annotations;
	p->runtime_handler = sb->req->runtime_handler;
	return p;
}

void *cri_unpack_listing(const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len,
			 const char *method, struct pp_grpc_reply *reply,
			 struct pp_pod_view **views, size_t *n)
{
	ProtobufCMessage *req = cri_unpack(d, msg, len, method, reply);
	if (req == NULL)
		return NULL;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_views_list(NULL, views, n, &err) < 0) {
		cri_reply_error(reply, method, err);
		protobuf_c_message_free_unpacked(req, NULL);
		return NULL;
	}
	return req;
}

void cri_list_pod_sandbox(void *ctx, const uint8_t *msg, size_t len, struct pp_grpc_reply *reply)
{
	struct pp_pod_view *views = NULL;
	size_t n = 0;
	Runtime__V1__ListPodSandboxRequest *req =
	    cri_unpack_listing(&runtime__v1__list_pod_sandbox_request__descriptor, msg, len,
			       "ListPodSandbox", reply, &views, &n);
	if (req == NULL)
		return;
	struct cri_sandbox *sbs = xmalloc(sizeof(*sbs) * (n + 1));
	Runtime__V1__PodSandbox **items = xmalloc(sizeof(*items) * (n + 1));
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!cri_view_is_cri(&views[i]) ||
		    cri_sandbox_load(views[i].uid, &sbs[i], NULL) < 0)
			continue;
		Runtime__V1__PodSandbox *p = sandbox_msg(&views[i], &sbs[i], req->filter);
		if (p != NULL)
			items[m++] = p;
	}
	Runtime__V1__ListPodSandboxResponse resp = RUNTIME__V1__LIST_POD_SANDBOX_RESPONSE__INIT;
	resp.n_items = m;
	resp.items = items;
	cri_reply_message(reply, &resp.base);
	for (size_t k = 0; k < m; k++) {
		free(items[k]->id);
		free(items[k]);
	}
	free(items);
	for (size_t i = 0; i < n; i++)
		cri_sandbox_free(&sbs[i]);
	free(sbs);
	pp_pod_views_free(views, n);
	runtime__v1__list_pod_sandbox_request__free_unpacked(req, NULL);
}

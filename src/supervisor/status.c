/* The pod's status as Kubernetes reports it (PodStatus field names), written
 * to status.json atomically whenever it changes. The CLI's get, describe,
 * inspect and wait read nothing else. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "supervisor/supervisor_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/trace.h"

#define TIME_BUF 32

static struct json_object *jtime(const struct timespec *ts)
{
	char buf[TIME_BUF];
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

static void put(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
	if (v != NULL)
		put(o, key, json_object_new_string(v));
}

static struct json_object *terminated(int exit_code, int signal, const char *reason,
				      const char *message, const struct timespec *started,
				      const struct timespec *finished)
{
	struct json_object *t = json_object_new_object();
	put(t, "exitCode", json_object_new_int(exit_code));
	if (signal)
		put(t, "signal", json_object_new_int(signal));
	put_str(t, "reason", reason);
	put_str(t, "message", message);
	if (started->tv_sec)
		put(t, "startedAt", jtime(started));
	put(t, "finishedAt", jtime(finished));
	struct json_object *st = json_object_new_object();
	put(st, "terminated", t);
	return st;
}

static struct json_object *waiting(const char *reason, const char *message)
{
	struct json_object *w = json_object_new_object();
	put_str(w, "reason", reason);
	put_str(w, "message", message);
	struct json_object *st = json_object_new_object();
	put(st, "waiting", w);
	return st;
}

static bool init_done(const struct sup *s)
{
	return s->next_init >= s->pod->n_init;
}

/* Its postStart hook still runs: not started yet, as kubelet reports it. */
static bool in_post_start(const struct sup *s, size_t i)
{
	return s->run[i].hook.kind == HOOK_POST_START;
}

/* Started: running, its postStart hook ended and its startup probe passed
 * (or it has none). */
static bool container_started(const struct sup *s, size_t i)
{
	return s->pod->containers[i].state == PP_CTR_RUNNING && !in_post_start(s, i) &&
	       s->run[i].started;
}

/* Ready: started and its readiness probe passed (or it has none). */
static bool container_ready(const struct sup *s, size_t i)
{
	return container_started(s, i) && s->run[i].ready && s->stopping == STOP_NONE &&
	       !s->finished;
}

static struct json_object *container_state(const struct sup *s, size_t i)
{
	const struct pp_pod_container *c = &s->pod->containers[i];
	const char *reason = NULL, *message = NULL;
	/* Its image: pulled, or why not (ErrImagePull, ImagePullBackOff...). */
	if (sup_image_waiting(s, i, &reason, &message) && reason != NULL)
		return waiting(reason, message);
	/* a restart waiting for an object its env needs */
	if (s->run[i].config_restart && s->run[i].start_at)
		return waiting(s->run[i].img.reason, s->run[i].img.message);
	if (c->state == PP_CTR_RUNNING && in_post_start(s, i))
		return waiting("ContainerCreating", NULL);
	switch (c->state) {
	case PP_CTR_RUNNING: {
		struct json_object *r = json_object_new_object();
		put(r, "startedAt", jtime(&c->started_at));
		struct json_object *st = json_object_new_object();
		put(st, "running", r);
		return st;
	}
	case PP_CTR_TERMINATED:
		if (s->run[i].start_at)
			return waiting("CrashLoopBackOff", NULL);
		return terminated(c->exit_code, c->signal, c->reason, c->message, &c->started_at,
				  &c->finished_at);
	case PP_CTR_WAITING:
	default:
		if (s->run[i].start_at)
			return waiting("CrashLoopBackOff", NULL);
		if (i >= s->pod->n_init && !init_done(s))
			return waiting("PodInitializing", NULL);
		return waiting(c->spec->is_init ? "PodInitializing" : "ContainerCreating", NULL);
	}
}

static struct json_object *ns_time(const struct timespec *t)
{
	return json_object_new_int64((int64_t)t->tv_sec * 1000000000 + t->tv_nsec);
}

/* What the CRI's ContainerStatus tells that a PodStatus does not: its
 * state as the CRI names it and its times in nanoseconds. */
static struct json_object *cri_part(const struct sup *s, size_t i)
{
	const struct pp_pod_container *c = &s->pod->containers[i];
	struct json_object *o = json_object_new_object();
	const char *state = "CONTAINER_CREATED";
	if (c->state == PP_CTR_RUNNING || c->spawning)
		state = "CONTAINER_RUNNING";
	else if (c->state == PP_CTR_TERMINATED)
		state = "CONTAINER_EXITED";
	put_str(o, "state", state);
	put(o, "createdAt", ns_time(&c->created_at));
	if (c->started_at.tv_sec)
		put(o, "startedAt", ns_time(&c->started_at));
	if (c->state == PP_CTR_TERMINATED) {
		put(o, "finishedAt", ns_time(&c->finished_at));
		put(o, "exitCode", json_object_new_int(c->exit_code));
		put_str(o, "reason", c->reason);
		put_str(o, "message", c->message);
	}
	put_str(o, "logPath", c->log_path);
	return o;
}

static struct json_object *container_status(const struct sup *s, size_t i)
{
	const struct pp_pod_container *c = &s->pod->containers[i];
	const struct ctr_run *r = &s->run[i];
	struct json_object *o = json_object_new_object();
	put_str(o, "name", c->spec->name);
	put_str(o, "image", c->spec->image);
	/* "" until the image is here, as kubelet shows it */
	cleanup_free char *image_id = c->image ? xasprintf("sha256:%s", c->image->id) : xstrdup("");
	put_str(o, "imageID", image_id);
	if (r->ever_started) {
		cleanup_free char *id =
		    xasprintf("peapod://%s/%s/%d", s->pod->uid, c->spec->name, c->restart_count);
		put_str(o, "containerID", id);
	}
	/* an ephemeral container is never ready (the API server's) */
	put(o, "ready", json_object_new_boolean(!c->is_ephemeral && container_ready(s, i)));
	put(o, "started", json_object_new_boolean(container_started(s, i)));
	put(o, "restartCount", json_object_new_int(c->restart_count));
	put(o, "state", container_state(s, i));
	put(o, "lastState",
	    r->last.set ? terminated(r->last.exit_code, r->last.signal, r->last.reason,
				     r->last.message, &r->last.started_at, &r->last.finished_at)
			: json_object_new_object());
	if (c->state == PP_CTR_RUNNING)
		put(o, "pid", json_object_new_int(c->pid));
	if (c->cri)
		put(o, "cri", cri_part(s, i));
	return o;
}

const char *sup_phase(const struct sup *s)
{
	if (s->finished)
		return s->res.phase == PP_PHASE_SUCCEEDED ? "Succeeded" : "Failed";
	if (!init_done(s) || !s->apps_started)
		return "Pending";
	/* An app container that has not started yet (its image is being
	 * pulled): kubelet counts it waiting, and the pod Pending. */
	const char *reason = NULL, *message = NULL;
	for (size_t i = s->pod->n_init; i < s->pod->n_containers; i++)
		if (sup_image_waiting(s, i, &reason, &message) && !s->run[i].ever_started)
			return "Pending";
	return "Running";
}

static struct json_object *condition(const char *type, bool status, const struct timespec *t)
{
	struct json_object *o = json_object_new_object();
	put_str(o, "type", type);
	put_str(o, "status", status ? "True" : "False");
	put(o, "lastTransitionTime", jtime(t));
	return o;
}

static bool all_ready(const struct sup *s)
{
	for (size_t i = 0; i < s->pod->n_containers; i++) {
		const struct pp_pod_container *c = &s->pod->containers[i];
		if ((!c->spec->is_init || c->is_sidecar) && !container_ready(s, i))
			return false;
	}
	return true;
}

/* [{"ip": ...}]: the list, or the one address when there is no list. */
static struct json_object *sup_ip_list(const char *one, char *const *list)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; list ? list[i] != NULL : i < 1; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "ip", json_object_new_string(list ? list[i] : one));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *pod_status(const struct sup *s)
{
	const struct pp_pod_instance *pod = s->pod;
	struct json_object *st = json_object_new_object();
	put_str(st, "phase", sup_phase(s));
	struct json_object *conds = json_object_new_array();
	json_object_array_add(conds, condition("PodScheduled", true, &s->created));
	json_object_array_add(conds, condition("Initialized", init_done(s), &s->started));
	bool ready = init_done(s) && s->apps_started && all_ready(s);
	static bool traced_ready;
	if (ready && !traced_ready)
		pp_trace("pod ready");
	traced_ready = ready;
	json_object_array_add(conds, condition("ContainersReady", ready, &s->started));
	json_object_array_add(conds, condition("Ready", ready, &s->started));
	put(st, "conditions", conds);
	if (s->reason != NULL) {
		put_str(st, "reason", s->reason);
		if (strcmp(s->reason, "DeadlineExceeded") == 0)
			put_str(st, "message",
				"Pod was active on the node longer than the specified deadline");
	}
	const struct pp_sandbox *sb = pod->sandbox;
	put_str(st, "hostIP", sb && sb->host_ip ? sb->host_ip : "127.0.0.1");
	put(st, "hostIPs", sup_ip_list(sb && sb->host_ip ? sb->host_ip : "127.0.0.1", NULL));
	const char *ip = sb && sb->pod_ip ? sb->pod_ip : "127.0.0.1";
	put_str(st, "podIP", ip);
	put(st, "podIPs",
	    sup_ip_list(ip, sb && sb->pod_ips && sb->pod_ips[0] ? sb->pod_ips : NULL));
	put(st, "startTime", jtime(&s->started));
	put_str(st, "qosClass", pp_qos_class_name(pod->qos));
	struct json_object *inits = json_object_new_array(), *apps = json_object_new_array();
	for (size_t i = 0; i < pod->n_containers; i++)
		json_object_array_add(i < pod->n_init ? inits : apps, container_status(s, i));
	if (pod->n_init)
		put(st, "initContainerStatuses", inits);
	else
		json_object_put(inits);
	put(st, "containerStatuses", apps);
	if (pod->n_ephemeral) {
		struct json_object *eph = json_object_new_array();
		for (size_t i = pod->n_containers; i < pp_pod_n_all(pod); i++)
			if (pp_pod_slot_used(pod, i))
				json_object_array_add(eph, container_status(s, i));
		put(st, "ephemeralContainerStatuses", eph);
	}
	return st;
}

static struct json_object *metadata(const struct sup *s)
{
	const struct pp_pod *p = s->pod->spec;
	struct json_object *m = json_object_new_object();
	put_str(m, "name", p->name);
	put_str(m, "namespace", p->namespace_);
	put_str(m, "uid", s->pod->uid);
	put(m, "creationTimestamp", jtime(&s->created));
	if (s->stop_requested)
		put(m, "deletionTimestamp", jtime(&s->deletion_time));
	return m;
}

/* spec.ephemeralContainers as the API server keeps them (the manifest
 * has the rest of the spec): peapod debug's, in the order added. */
static struct json_object *ephemeral_specs(const struct sup *s)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = s->pod->n_containers; i < pp_pod_n_all(s->pod); i++) {
		const struct pp_pod_container *c = &s->pod->containers[i];
		if (c->removed)
			continue;
		struct json_object *o = json_object_new_object();
		put_str(o, "name", c->spec->name);
		put_str(o, "image", c->spec->image);
		if (c->spec->command != NULL) {
			struct json_object *cmd = json_object_new_array();
			for (char **p = c->spec->command; *p; p++)
				json_object_array_add(cmd, json_object_new_string(*p));
			put(o, "command", cmd);
		}
		static const char *const policies[] = {[PP_PULL_ALWAYS] = "Always",
						       [PP_PULL_IF_NOT_PRESENT] = "IfNotPresent",
						       [PP_PULL_NEVER] = "Never"};
		put_str(o, "imagePullPolicy", policies[pp_pod_pull_policy(c->spec)]);
		put_str(o, "terminationMessagePolicy", "File");
		if (c->has_target)
			put_str(o, "targetContainerName", s->pod->containers[c->target].spec->name);
		if (c->spec->stdin_open)
			put(o, "stdin", json_object_new_boolean(true));
		if (c->spec->stdin_once)
			put(o, "stdinOnce", json_object_new_boolean(true));
		if (c->spec->tty)
			put(o, "tty", json_object_new_boolean(true));
		json_object_array_add(a, o);
	}
	return a;
}

/* What only peapod knows: the supervisor, and how a finished pod ended. */
/* How the pod ended (finished only). */
static void put_outcome(struct json_object *o, const struct sup *s)
{
	static const char *const results[] = {"Succeeded", "Failed", "Stopped"};
	put(o, "exitCode", json_object_new_int(s->res.exit_code));
	put_str(o, "result", results[s->res.phase]);
	put_str(o, "reason", s->res.reason);
}

static struct json_object *peapod_part(const struct sup *s)
{
	struct json_object *o = json_object_new_object();
	put(o, "supervisorPid", json_object_new_int(getpid()));
	put(o, "finished", json_object_new_boolean(s->finished));
	if (s->pod->spec->cri)
		put(o, "cri", json_object_new_boolean(true));
	put_str(o, "dataDir", s->pod->data_dir);
	if (s->pod->cgroup != NULL) {
		enum pp_cgroup_layout layout = PP_CGROUP_V2;
		struct json_object *cg = json_object_new_object();
		pp_cgroup_layout(&layout, NULL);
		put_str(cg, "layout", pp_cgroup_layout_name(layout));
		put_str(cg, "path", pp_cgroup_path(s->pod->cgroup));
		put(o, "cgroup", cg);
	}
	/* Sidecars count in READY like app containers (kubectl reads the spec). */
	struct json_object *sidecars = json_object_new_array();
	for (size_t i = 0; i < s->pod->n_init; i++)
		if (s->pod->containers[i].is_sidecar)
			json_object_array_add(
			    sidecars, json_object_new_string(s->pod->containers[i].spec->name));
	put(o, "sidecars", sidecars);
	/* merged into spec by the views (ops/inspect.c) */
	if (s->pod->n_ephemeral)
		put(o, "ephemeralContainers", ephemeral_specs(s));
	if (s->stopping != STOP_NONE)
		put(o, "stopping", json_object_new_boolean(true));
	if (s->frozen)
		put(o, "paused", json_object_new_boolean(true));
	if (s->finished)
		put_outcome(o, s);
	return o;
}

char *sup_outcome_json(const struct sup *s)
{
	struct json_object *o = json_object_new_object();
	put_outcome(o, s);
	char *text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

void sup_write_status(struct sup *s)
{
	if (!s->dirty || s->callbacks->status_path == NULL)
		return;
	s->dirty = false;
	struct json_object *o = json_object_new_object();
	put_str(o, "apiVersion", "v1");
	put_str(o, "kind", "Pod");
	put(o, "metadata", metadata(s));
	put(o, "status", pod_status(s));
	put(o, "peapod", peapod_part(s));
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* A status that cannot be written is retried at the next change. */
	if (pp_write_file_volatile(s->callbacks->status_path, text, len, 0644, NULL) < 0)
		s->dirty = true;
	json_object_put(o);
}

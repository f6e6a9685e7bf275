/* src/controller: owns the workload controllers: one detached process per
 * top-level workload (a Deployment, a standalone ReplicaSet, a DaemonSet, a
 * Job), comm name "peapod-ctrl", that keeps its pods as the
 * kube-controller-manager does. It sits above src/ops (it creates and
 * deletes pods exactly as `peapod apply` / `delete` do: pods stay
 * independent, a controller's death never hurts one) and below src/cli.
 * Must not print nor exit but in the controller process itself.
 *
 * On disk (beside the pods' records):
 *   $PEAPOD_RUN/workloads/<ns>/<plural>/<name>.lock    flocked by the
 *       controller for its life: free = no controller (resume starts one)
 *   $PEAPOD_RUN/workloads/<ns>/<plural>/<name>.events  its events, one JSON
 *       object a line, the pods' events format (ops/events.h)
 *
 * The process: one epoll loop over inotify (the workload's object file,
 * $PEAPOD_RUN/names/<ns>/ for pods made or removed, each owned pod's state
 * directory: status.json renamed over, the supervisor's lock closed when it
 * dies), a timerfd for the next deadline a kind asks for, a signalfd. No
 * polling: nothing runs while nothing changes. At each wake-up it reads the
 * workload and the pods it owns (ownerReferences uid) and calls its kind's
 * sync. It exits when the workload is gone, after the kind's teardown.
 *
 * ---- Adding a kind (the kind table, controller.c: ctrl_kinds[]) ----
 * A kind provides a struct pp_ctrl_kind:
 *   sync(c)      one pass toward what the workload asks, with c->w (the
 *                workload as stored, re-read before each pass), c->obj (its
 *                stored JSON: status), c->pods (the pods it owns, fresh);
 *                it creates / deletes pods with pp_ctrl_pod_create /
 *                pp_ctrl_pod_delete, records events with pp_ctrl_event,
 *                writes the status with pp_ctrl_set_status, and asks to be
 *                called again at a time with pp_ctrl_wake_at (back-offs,
 *                minReadySeconds, deadlines). It must be idempotent: it is
 *                called again at every change, and after a restart of the
 *                controller (which adopts the pods by their owner's uid).
 *   teardown(c)  the workload was deleted: delete what it owns (default:
 *                every owned pod) before the process exits. May be NULL.
 *   owns_pods_of_children: the pods belong to the workload's own children
 *                (a Deployment's ReplicaSets), listed in c->pods too.
 * The controller gives: the loop, the lock, the adoption, the pod records
 * (struct pp_ctrl_pod), pod creation from the template with the
 * Kubernetes name, labels and ownerReferences, events, status writes. */
#ifndef PEAPOD_CONTROLLER_H
#define PEAPOD_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest/workload.h"
#include "util/error.h"

struct json_object;

/* A pod the workload owns (its controller ownerReference's uid is the
 * workload's, or one of its children's). */
struct pp_ctrl_pod {
	char *name, *uid;
	char *owner_uid; /* the controller ownerReference's uid */
	struct pp_kv *labels;
	size_t n_labels;
	struct json_object *obj; /* the pod as `get -o json` shows it */
	const char *phase;	 /* status.phase: Pending, Running, Succeeded, Failed, Unknown */
	bool alive;		 /* its supervisor runs */
	bool finished;		 /* Succeeded or Failed */
	bool ready;		 /* condition Ready True */
	int64_t ready_since;	 /* the Ready condition's lastTransitionTime (epoch s) */
	int64_t created;	 /* creation (epoch s) */
};

struct pp_ctrl {
	enum pp_workload_kind kind;
	char *ns, *name;
	struct pp_workload *w;	 /* the workload as stored now */
	struct json_object *obj; /* its stored JSON (metadata, spec, status) */
	struct pp_ctrl_pod *pods;
	size_t n_pods;
	int64_t wake_at_ms; /* CLOCK_REALTIME ms of the next pass asked for; 0: none */
	void *kind_state;   /* the kind's own, kept across passes */
};

struct pp_ctrl_kind {
	enum pp_workload_kind kind;
	int (*sync)(struct pp_ctrl *c, struct pp_error **err);
	int (*teardown)(struct pp_ctrl *c, struct pp_error **err);
	bool owns_pods_of_children;
};

/* The kinds' tables (deployment.c, replicaset.c, daemonset.c; jobs: job.c). */
extern const struct pp_ctrl_kind pp_ctrl_deployment, pp_ctrl_replicaset, pp_ctrl_daemonset,
    pp_ctrl_job;
const struct pp_ctrl_kind *pp_ctrl_kind_of(enum pp_workload_kind kind);

/* ---- what the CLI and the node process call ---- */

/* Starts the controller of the stored workload unless one runs (its lock is
 * held); returns once it holds its lock. */
int pp_ctrl_start(enum pp_workload_kind kind, const char *ns, const char *name,
		  struct pp_error **err);
/* Whether a controller holds the workload's lock. */
bool pp_ctrl_running(enum pp_workload_kind kind, const char *ns, const char *name);
/* Starts the controller of every stored top-level workload whose lock is
 * free (after a SIGKILL, a reboot): apply, get, scale, rollout, delete and
 * gc call it; the node process at boot. Errors are per workload: the first
 * one is returned after trying them all. */
int pp_workloads_resume(struct pp_error **err);
/* Waits (inotify on the lock's directory, timeout_ms; -1: no limit) until
 * the workload's controller is gone (delete waits for its cascade). */
int pp_ctrl_wait_gone(enum pp_workload_kind kind, const char *ns, const char *name, int timeout_ms,
		      struct pp_error **err);
/* The events file of the workload (describe reads it as a pod's). */
char *pp_ctrl_events_path(enum pp_workload_kind kind, const char *ns, const char *name);

/* ---- what a kind calls ---- */

/* Makes a pod named name from the template tmpl_json ({"metadata":...,
 * "spec": ...}) with the extra labels (and the template's), owned by the
 * object (kind, name, uid) as its controller; blocks until it runs, as
 * apply does. Records SuccessfulCreate / FailedCreate on the owner of
 * event_kind/event_name. */
struct pp_ctrl_owner {
	enum pp_workload_kind kind;
	const char *name, *uid;
};
int pp_ctrl_pod_create(struct pp_ctrl *c, const struct pp_ctrl_owner *owner, const char *tmpl_json,
		       const char *pod_name, const struct pp_kv *extra_labels, size_t n_extra,
		       struct pp_error **err);
/* Deletes an owned pod as `peapod delete` does; SuccessfulDelete recorded
 * on owner. */
int pp_ctrl_pod_delete(struct pp_ctrl *c, const struct pp_ctrl_owner *owner,
		       const struct pp_ctrl_pod *p, struct pp_error **err);
/* "NAME-xxxxx": 5 random characters of the SafeEncodeString alphabet. */
char *pp_ctrl_pod_name(const char *prefix);
/* An event (type "Normal" or "Warning") in the workload's events file. */
void pp_ctrl_event(struct pp_ctrl *c, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes the status of the workload (no write when unchanged). Takes status. */
int pp_ctrl_set_status(struct pp_ctrl *c, struct json_object *status, struct pp_error **err);
/* Asks for a pass at (CLOCK_REALTIME) ms, the earliest asked for wins. */
void pp_ctrl_wake_at(struct pp_ctrl *c, int64_t at_ms);
int64_t pp_ctrl_now_ms(void);
/* Whether p is available: ready for minReadySeconds (else *at_ms, when
 * non-NULL, is when it will be, for pp_ctrl_wake_at). */
bool pp_ctrl_pod_available(const struct pp_ctrl_pod *p, int32_t min_ready_s, int64_t now_ms,
			   int64_t *at_ms);
/* Whether p's labels match the selector. */
bool pp_ctrl_pod_matches(const struct pp_ctrl_pod *p, const struct pp_selector *s);

/* ---- pure helpers (unit-tested) ---- */

/* Kubernetes' rand.SafeEncodeString alphabet. */
#define PP_SAFE_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
/* FNV-32a of data. */
uint32_t pp_fnv32a(const void *data, size_t len, uint32_t h);
#define PP_FNV32_OFFSET 2166136261u
/* The pod-template-hash of a template's JSON (and the Deployment's
 * collisionCount), rendered as SafeEncodeString(decimal). */
char *pp_template_hash(const char *tmpl_json, int32_t collision_count);

#endif

/* ---- the verbs on workloads (workloads.c) ---- */

/* apply -f's workloads (after pp_set_apply's Pods and objects): each
 * stored ("created", "configured", "unchanged": report's resource is
 * "deployment.apps"...) and its controller started (or woken: it sees the
 * file change). -1 when any failed. */
struct pp_manifest_set;
typedef void (*pp_ctrl_report_fn)(void *ctx, const char *resource, const char *name,
				  const char *result, const struct pp_error *err);
int pp_workloads_apply(struct pp_manifest_set *set, pp_ctrl_report_fn report, void *ctx);
/* delete: the object goes, its controller deletes what it owns (its pods,
 * a Deployment's ReplicaSets) and exits; returns once it has (timeout_ms,
 * -1: no limit). PP_OBJECT_NOT_FOUND when there is none. */
int pp_workload_remove(enum pp_workload_kind kind, const char *ns, const char *name, int timeout_ms,
		       struct pp_error **err);
/* delete -f's workloads (ns: -n, NULL: each object's). */
int pp_workloads_delete_set(const struct pp_manifest_set *set, const char *ns,
			    pp_ctrl_report_fn report, void *ctx);
/* "deployment.apps" for kubectl's "deployment.apps/x created" */
char *pp_workload_resource(enum pp_workload_kind kind);

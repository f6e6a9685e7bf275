/* src/ops: owns the verbs on the pods of this host, each one library call
 * for the CLI: apply (ops/apply.c), look up with an honest status, delete,
 * gc, freeze, stats; over the records (src/state) and the supervisors'
 * control sockets. Must not parse flags, print or exit (src/cli does), nor
 * run a pod's containers itself (its supervisor does).
 *
 * What the CLI verbs do to the pods of this host, over their records
 * (src/state) and supervisors (control socket): look one up with an honest
 * status, list, inspect, delete, collect garbage, freeze, sample usage. The
 * other verbs have a header each: apply.h, run.h, wait.h, logs.h (logs and
 * attach), events.h (a pod's events), exec.h. */
#ifndef PEAPOD_OPS_H
#define PEAPOD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cgroup/cgroup_ops.h"
#include "util/error.h"

/* A pod as the CLI shows it: its status.json, with status.phase "Unknown"
 * and reason "SupervisorDied" when the supervisor is gone but the pod did
 * not finish (and a "Pending" placeholder while apply is creating it). */
struct pp_pod_view {
	char *ns, *name, *uid;
	struct json_object *obj; /* the pod object (apiVersion, kind, metadata, status, peapod) */
	bool alive;		 /* its supervisor runs */
	bool finished;		 /* completed: the record stays until deleted */
};

int pp_pod_view_load(const char *ns, const char *name, struct pp_pod_view *v,
		     struct pp_error **err);
void pp_pod_view_free(struct pp_pod_view *v);

/* A call to v's supervisor failed (err from pp_ctl_connect or pp_ctl_call):
 * when the socket itself failed (err->status set: gone, reset, closed), the
 * pod most likely ended or went away meanwhile, and err is replaced by what
 * became of it, as kubectl would say it (not found, not running,
 * terminating, its supervisor gone); the supervisor's own refusals
 * (status 0) are kept. Returns -1. */
int pp_pod_ctl_failed(const struct pp_pod_view *v, struct pp_error **err);

/* A string field of v->obj by path ("status.phase"), NULL when absent. */
const char *pp_pod_view_str(const struct pp_pod_view *v, const char *path);

/* The views of the pods of namespace ns (NULL: every namespace) that can be
 * loaded, in pp_pod_list's order; pp_pod_views_free. */
int pp_pod_views_list(const char *ns, struct pp_pod_view **views, size_t *n, struct pp_error **err);
void pp_pod_views_free(struct pp_pod_view *views, size_t n);

/* select.c: the pods a label selector (-l) and a field selector
 * (--field-selector, on the fields in pp_pod_selector_fields) pick; either
 * NULL picks every pod. The views come with their spec attached (their
 * labels), sorted by namespace and name as the API server lists them. */
struct pp_selector;
extern const char *const pp_pod_selector_fields[];
int pp_pod_views_select(const char *ns, const struct pp_selector *labels,
			const struct pp_selector *fields, struct pp_pod_view **views, size_t *n,
			struct pp_error **err);
bool pp_pod_view_selected(const struct pp_pod_view *v, const struct pp_selector *labels,
			  const struct pp_selector *fields);

/* watch.c: get -w, woken when a pod's record changes (a pod applied, a
 * new status.json, a pod removed): inotify on the records under
 * PEAPOD_RUN, no polling. pp_pod_watch_next blocks until a change (EINTR:
 * a signal), then the caller lists the pods again. */
struct pp_pod_watch;
int pp_pod_watch_open(struct pp_pod_watch **w, struct pp_error **err);
int pp_pod_watch_next(struct pp_pod_watch *w, struct pp_error **err);
void pp_pod_watch_free(struct pp_pod_watch *w);

/* The name of the pod's first app container (kubectl's default for exec and
 * logs without -c): from the status, else (a pod so new that its
 * supervisor has not written one) from its manifest; NULL when neither
 * has one. *several: the pod has more than one (may be NULL). */
const char *pp_pod_view_default_container(struct pp_pod_view *v, bool *several);

/* inspect.c: adds the manifest's spec, labels and annotations to the
 * view's object, for the views of the whole pod (get -o json|yaml|wide). */
void pp_pod_view_attach_spec(struct pp_pod_view *v);

/* `peapod inspect`: the view with its spec, the CNI CHECK of its network
 * (peapod.networkCheck) and one sample of its usage (peapod.stats). */
int pp_pod_inspect(const char *ns, const char *name, struct pp_pod_view *v, struct pp_error **err);

struct pp_delete_opts {
	int64_t grace_s; /* < 0: the pod's terminationGracePeriodSeconds */
	int timeout_ms;	 /* how long to wait for the pod to be gone, -1: no limit */
};

/* kubectl delete: the graceful stop (SIGTERM or the stop signal, SIGKILL
 * after the grace period), then the record goes. A pod whose supervisor
 * died is cleaned up as gc does. Returns once the pod is gone. */
int pp_pod_delete(const char *ns, const char *name, const struct pp_delete_opts *o,
		  struct pp_error **err);

/* Cleans up after pods whose supervisor died (processes, cgroups, layers,
 * records) and, after a reboot, pod data without a record. *removed counts
 * the pods cleaned up. store_root NULL: the default. */
int pp_pod_gc(const char *store_root, int *removed, struct pp_error **err);

/* freeze.c: what `peapod pause` / `unpause` do (podman pod pause): freezes
 * (thaws) every process of a running pod through its supervisor; freezing
 * a frozen pod is no error, thawing one that is not frozen is. */
int pp_pod_freeze(const char *ns, const char *name, bool freeze, struct pp_error **err);

/* debug.c: what `peapod debug` does (kubectl debug): adds the ephemeral
 * container to a running pod through its supervisor (refused for a pod
 * that is not Running, a name taken, a target that is not one of its
 * containers); its image is pulled by the supervisor when missing. */
struct pp_debug_opts {
	const char *container; /* its name */
	const char *image;
	const char *target;	 /* whose PID namespace it joins, or NULL */
	char **command;		 /* NULL-terminated, NULL: the image's */
	const char *pull_policy; /* Always, IfNotPresent, Never; NULL: the default */
	bool stdin_open, tty;
};
int pp_pod_debug(const char *ns, const char *name, const struct pp_debug_opts *o,
		 struct pp_error **err);
/* Waits until ephemeral container `container` runs or is over (for an
 * attach); an error when it cannot start (its image cannot be pulled) or
 * the pod ends first. */
int pp_pod_debug_wait(const char *ns, const char *name, const char *container,
		      struct pp_error **err);

/* stats.c: usage of a running pod and of its running containers, from
 * their cgroups (peapod stats, peapod top pod, inspect). */

/* Default time between the two samples CPU use is computed from. */
#define PP_STATS_WINDOW_MS 1000

struct pp_usage {
	struct pp_cgroup_stats st;
	bool has_rate;	    /* a second sample was taken (pp_pod_usage_end) */
	double cpu_percent; /* 100 = one CPU */
	uint64_t millicores;
	uint64_t cpu0_ns; /* the first sample */
};

struct pp_ctr_usage {
	char *name;
	struct pp_usage u;
};

struct pp_pod_usage {
	char *ns, *name, *cgroup;
	struct pp_usage pod; /* the whole pod: infra and containers */
	struct pp_ctr_usage *ctrs;
	size_t n_ctrs;
	int64_t t0_ns; /* monotonic time of the first sample */
};

/* First sample: the pod must be running (its supervisor alive). */
int pp_pod_usage_begin(const char *ns, const char *name, struct pp_pod_usage *u,
		       struct pp_error **err);
/* Second sample: fills the CPU rates over the time since the first. */
int pp_pod_usage_end(struct pp_pod_usage *u, struct pp_error **err);
void pp_pod_usage_free(struct pp_pod_usage *u);

/* What `peapod stats` and `top pod` sample: the pods named in namespace ns
 * or, with no names, every running pod of ns (NULL: of every namespace). */
struct pp_usage_request {
	const char *ns;
	const char *const *names;
	size_t n_names;
	int window_ms; /* between the two samples */
	/* A named pod that cannot be sampled (not running, say) is left out
	 * and told here; NULL: silently. */
	void (*on_error)(void *ctx, const struct pp_error *e);
	void *ctx;
};

/* Samples every pod of r twice, window_ms apart (once waiting for them all);
 * *out gets the pods sampled (pp_pod_usages_free). -1 when the pods could
 * not be listed. */
int pp_pods_usage_sample(const struct pp_usage_request *r, struct pp_pod_usage **out, size_t *n_out,
			 struct pp_error **err);
void pp_pod_usages_free(struct pp_pod_usage *u, size_t n);

/* The usage as JSON (inspect's "peapod": {"stats": ...}). */
struct json_object *pp_pod_usage_json(const struct pp_pod_usage *u);

#endif

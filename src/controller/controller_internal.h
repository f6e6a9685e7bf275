/* Shared by the controller's files (not for the layers above). */
#ifndef PEAPOD_CONTROLLER_INTERNAL_H
#define PEAPOD_CONTROLLER_INTERNAL_H

#include "controller/controller.h"

/* Fills c->pods with the pods whose controller ownerReference's uid is one
 * of owner_uids. */
int pp_ctrl_load_pods(struct pp_ctrl *c, const char *const *owner_uids, size_t n_owners,
		      struct pp_error **err);
void pp_ctrl_pods_free(struct pp_ctrl *c);
/* An event on another object than the controller's own (a Deployment's
 * ReplicaSet). */
void pp_ctrl_event_on(struct pp_ctrl *c, enum pp_workload_kind kind, const char *name,
		      const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* replicaset.c: one ReplicaSet's pods brought to replicas (those of c->pods
 * owned by rs->uid): finished and dead pods replaced, extra ones deleted
 * (not ready first, then the newest). Its counts in *out; its status (a
 * JSON object) written to the store. */
struct pp_rs_counts {
	int32_t replicas, ready, available, fully_labeled;
};
int pp_rs_reconcile(struct pp_ctrl *c, const struct pp_workload *rs, int32_t replicas,
		    struct pp_rs_counts *out, struct pp_error **err);
/* The counts only (no change made). */
void pp_rs_count(struct pp_ctrl *c, const struct pp_workload *rs, struct pp_rs_counts *out);
struct json_object *pp_rs_status(const struct pp_workload *rs, const struct pp_rs_counts *n);

/* A condition for a status (type, status, reason, message), keeping the
 * old one's times when it did not change (old: the stored conditions). */
struct json_object *pp_ctrl_condition(struct json_object *old_conds, const char *type,
				      const char *status, const char *reason, const char *msg);
/* The same with lastUpdateTime given (RFC 3339; NULL: as above). */
struct json_object *pp_ctrl_condition_at(struct json_object *old_conds, const char *type,
					 const char *status, const char *reason, const char *msg,
					 const char *update_time);

/* The rolling update's arithmetic (deployment.c; unit-tested). */
struct pp_rolling_in {
	int32_t replicas;		/* spec.replicas */
	int32_t max_surge, max_unavail; /* resolved (pp_rolling_resolve) */
	int32_t new_replicas;		/* the new RS's spec.replicas */
	int32_t new_available;
	int32_t old_replicas;  /* the old RSs' spec.replicas together */
	int32_t all_available; /* available pods of every RS */
	int32_t old_unhealthy; /* old pods not available */
};
/* Surge rounded up, unavailable down, both 0 -> unavailable 1
 * (deploymentutil.ResolveFenceposts). */
void pp_rolling_resolve(const struct pp_int_or_percent *surge,
			const struct pp_int_or_percent *unavail, int32_t replicas,
			int32_t *max_surge, int32_t *max_unavail);
/* The new RS's next replicas (NewRSNewReplicas). */
int32_t pp_rolling_new_replicas(const struct pp_rolling_in *in);
/* How many old pods may go now (reconcileOldReplicaSets: the unhealthy
 * ones first, then down to minAvailable). */
int32_t pp_rolling_old_scale_down(const struct pp_rolling_in *in);

/* job.c: refuses an apply that changes what a Job may not change (its
 * template, completions, completionMode, selector) with the API server's
 * message; 0 when it is new or allowed. */
int pp_job_check_update(const struct pp_workload *w, struct pp_error **err);

#endif

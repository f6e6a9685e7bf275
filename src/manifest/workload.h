/* The typed workload objects: Deployment, ReplicaSet, DaemonSet (apps/v1)
 * and Job (batch/v1), parsed once from a manifest document or from the
 * object store's JSON (workload_parse.c) with the API server's checks;
 * their pod template goes through the Pod parser (every pod check applies,
 * errors name spec.template.spec...). Pure code. */
#ifndef PEAPOD_WORKLOAD_H
#define PEAPOD_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest/pod_spec.h"
#include "util/error.h"
#include "util/labelsel.h"

enum pp_workload_kind {
	PP_WL_DEPLOYMENT,
	PP_WL_REPLICASET,
	PP_WL_DAEMONSET,
	PP_WL_JOB,
	PP_WL_KIND_COUNT
};

/* The names of a kind: "Deployment", "apps/v1", "deployments" (the store's
 * directory and kubectl's resource), "deployment" (kubectl's "deployment.apps/x
 * created" uses lower + group), "deploy" (kubectl's short name). */
struct pp_workload_kind_info {
	const char *kind, *api_version, *plural, *lower, *short_name, *group;
};
const struct pp_workload_kind_info *pp_workload_kind_info(enum pp_workload_kind k);
/* The kind named by a kind ("Deployment"), resource ("deployments",
 * "deployment", "deploy", "deployment.apps"), or -1. */
int pp_workload_kind_lookup(const char *word);

/* An int-or-percent (maxSurge, maxUnavailable). */
struct pp_int_or_percent {
	bool set;
	bool percent;
	int32_t value;
};
/* intstr.GetScaledValueFromIntOrPercent: a percent of total rounded up
 * (round_up) or down; an int as it is. */
int32_t pp_int_or_percent_scaled(const struct pp_int_or_percent *v, int32_t total, bool round_up);

enum pp_deploy_strategy { PP_STRATEGY_ROLLING_UPDATE = 0, PP_STRATEGY_RECREATE };

struct pp_workload {
	enum pp_workload_kind kind;
	char *source; /* the file, for messages */
	struct pp_pos pos;
	char *name;
	char *namespace_;
	char *uid;	    /* set by the store; NULL in a manifest */
	char *created;	    /* creationTimestamp, set by the store */
	int64_t generation; /* set by the store (1 at creation) */
	/* metadata.ownerReferences' controller (a Deployment's ReplicaSet);
	 * NULL: none, a top-level workload. The list as JSON, kept. */
	char *owner_kind, *owner_name, *owner_uid;
	char *owner_refs_json;
	struct pp_kv *labels;
	size_t n_labels;
	struct pp_kv *annotations;
	size_t n_annotations;

	/* spec.selector (matchLabels and matchExpressions as requirements) */
	struct pp_selector selector;
	bool has_selector;
	/* spec.template: its labels and annotations, the pod parsed from it
	 * (a Pod named as the workload, for the checks and for what the
	 * controller needs: restartPolicy, ...), and its JSON ({"metadata":
	 * ..., "spec": ...}), from which the controller makes the pods. */
	struct pp_kv *tmpl_labels;
	size_t n_tmpl_labels;
	struct pp_pod *tmpl;
	char *tmpl_json;
	/* spec.template.spec.nodeSelector (a DaemonSet runs where it matches) */
	struct pp_kv *node_selector;
	size_t n_node_selector;
	bool has_affinity; /* spec.template.spec.affinity.nodeAffinity given */
	char *affinity_json;
	/* The whole spec as JSON (canonical: a changed spec bumps generation). */
	char *spec_json;

	/* Deployment, ReplicaSet */
	int32_t replicas; /* default 1 */
	int32_t min_ready_seconds;
	/* Deployment */
	int32_t revision_history_limit;	   /* default 10 */
	int32_t progress_deadline_seconds; /* default 600 */
	bool paused;
	enum pp_deploy_strategy strategy;
	struct pp_int_or_percent max_surge, max_unavailable; /* default 25% each */
	/* DaemonSet: updateStrategy RollingUpdate (maxUnavailable) or OnDelete */
	bool on_delete;
	/* Job: its own fields, parsed by job_parse.c (job.h) */
	struct pp_job *job;
};

/* The labels as a selector's pp_sel_get_fn context. */
const char *pp_kv_lookup(void *kvs_ctx, const char *key);
struct pp_kv_set {
	const struct pp_kv *kv;
	size_t n;
};

void pp_workload_free(struct pp_workload *w);

#endif

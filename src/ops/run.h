/* `peapod run`: apply, follow the pod's output and events, wait for it to
 * be over, delete it. The pod runs under its own supervisor as any applied
 * pod does; this only shows it in the foreground. */
#ifndef PEAPOD_OPS_RUN_H
#define PEAPOD_OPS_RUN_H

#include <stdbool.h>

#include "logs/crilog.h"
#include "ops/apply.h"
#include "ops/events.h"

/* How often the output, the events and the signals are looked at. */
#define PP_RUN_POLL_MS 50

/* What the caller shows, as it comes. */
struct pp_run_output {
	pp_log_record_fn record; /* each line of each container's output */
	pp_pod_event_fn event;	 /* each event of the pod */
	void *ctx;
};

struct pp_run_outcome {
	bool over;	 /* the pod's supervisor was followed to its end */
	bool has_status; /* it left a final status: what follows is set */
	int exit_code;	 /* 0 Succeeded; the first failed container's code; 128+signal */
	char *result;	 /* "Succeeded", "Failed", "Stopped"; NULL when the status has none */
	char *reason;	 /* e.g. "DeadlineExceeded"; NULL: none */
};

/* Runs spec (taking ownership of it) until it is over: each signal read
 * from sigfd (a signalfd, -1: none) is a stop request, the first graceful,
 * the next a kill at once; a pod stopped so ends "Stopped", exit code
 * 128+signal. The pod is deleted whatever happened once it was created.
 * -1 with err when the pod could not be applied or followed or deleted;
 * *res tells what is known (pp_run_outcome_free). */
int pp_pod_run(struct pp_pod *spec, const struct pp_apply_opts *opts, int sigfd,
	       const struct pp_run_output *out, struct pp_run_outcome *res, struct pp_error **err);

void pp_run_outcome_free(struct pp_run_outcome *res);

#endif

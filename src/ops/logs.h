/* `peapod logs` and `attach`: which log file a container's output is in,
 * reading and following it while its instance runs, and the container's
 * stdin from its supervisor. */
#ifndef PEAPOD_OPS_LOGS_H
#define PEAPOD_OPS_LOGS_H

#include <stdbool.h>

#include "logs/crilog.h"
#include "util/error.h"

#define PP_LOGS_FOLLOW_POLL_MS 100

/* One container instance's log. */
struct pp_log_target {
	char *ns, *name; /* the pod */
	char *container;
	bool defaulted; /* not named: the first of several app containers (kubectl says so) */
	int restart;	/* the instance */
	char *dir;	/* its log directory */
	char *uid;
};

/* The log of container (NULL: the pod's only, or first, app container)
 * of pod ns/name: its current instance or, with previous, the one before.
 * t->container and t->defaulted are set as soon as known, even when the
 * instance is not there; pp_log_target_free in any case. */
int pp_pod_log_target(const char *ns, const char *name, const char *container, bool previous,
		      struct pp_log_target *t, struct pp_error **err);
void pp_log_target_free(struct pp_log_target *t);

/* Reads the instance's log as it is; one that was never written is empty. */
int pp_pod_logs_read(const struct pp_log_target *t, const struct pp_log_read_opts *opts,
		     pp_log_record_fn fn, void *ctx, struct pp_error **err);

/* The caller's side of following (every member may be NULL). */
struct pp_logs_follow_io {
	/* After each batch of records passed on (to flush what was printed). */
	void (*batch_done)(void *ctx);
	/* Something else to watch meanwhile (attach -i: our stdin): the fd to
	 * watch now, -1: none (any more); ready: it is readable or at its end. */
	int (*fd)(void *ctx);
	void (*ready)(void *ctx);
	void *ctx;
};

/* Follows the instance's log until the instance is over (or the pod is),
 * calling fn for each record as it is written, and io's members. */
int pp_pod_logs_follow(const struct pp_log_target *t, const struct pp_log_read_opts *opts,
		       pp_log_record_fn fn, void *ctx, const struct pp_logs_follow_io *io,
		       struct pp_error **err);

/* attach -i: the container's stdin, from its supervisor; *is_pty when it is
 * the container's terminal (tty: true). */
int pp_pod_attach_stdin(const char *uid, const char *container, int *fd, bool *is_pty,
			struct pp_error **err);

#endif

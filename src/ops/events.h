/* A pod's events (kubectl-events style, one JSON object a line in its
 * state directory, written by its supervisor): read for `run` as they come
 * and for `describe`. */
#ifndef PEAPOD_OPS_EVENTS_H
#define PEAPOD_OPS_EVENTS_H

#include "util/error.h"

/* One event; a field is NULL when the line has none. */
struct pp_pod_event {
	const char *time;      /* RFC 3339 */
	const char *type;      /* "Normal" or "Warning" */
	const char *level;     /* "info", "warning" or "error" */
	const char *reason;    /* e.g. "BackOff" */
	const char *container; /* NULL: the pod's */
	const char *message;
};

typedef void (*pp_pod_event_fn)(void *ctx, const struct pp_pod_event *e);

/* Calls fn for each whole event line of the pod uid from *offset on (0:
 * the first) and moves *offset past them; a line being written is left for
 * the next call. An error (ENOENT: no events file) leaves *offset. */
int pp_pod_events_read(const char *uid, long *offset, pp_pod_event_fn fn, void *ctx,
		       struct pp_error **err);

/* The same from an events file of that format (a workload controller's). */
int pp_events_file_read(const char *path, long *offset, pp_pod_event_fn fn, void *ctx,
			struct pp_error **err);

#endif

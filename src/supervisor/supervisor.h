/* The pod's supervisor loop: starts init containers in order, sidecars, then
 * the app containers; restarts them per restartPolicy with kubelet's
 * back-off; forwards their output line by line; stops the pod on completion,
 * failure, activeDeadlineSeconds or a signal (SIGINT/SIGTERM/SIGHUP: the
 * graceful stop; a second one kills at once). One thread, one epoll over a
 * signalfd, a timerfd, the containers' pidfds and output pipes. */
#ifndef PEAPOD_SUPERVISOR_H
#define PEAPOD_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>

#include "pod/pod.h"
#include "util/error.h"

enum pp_stream { PP_STREAM_STDOUT = 0, PP_STREAM_STDERR };
enum pp_event_level { PP_EVENT_INFO = 0, PP_EVENT_WARNING, PP_EVENT_ERROR };

struct pp_supervisor_hooks {
	/* One line of a container's output, without its newline. partial is
	 * true when the line was split because it was too long or the stream
	 * ended without a newline. */
	void (*output)(void *ctx, const char *container, enum pp_stream stream, const char *line,
		       size_t len, bool partial);
	/* Something the user may want to know, kubectl-events style. */
	void (*event)(void *ctx, enum pp_event_level level, const char *container, const char *msg);
	void *ctx;
};

enum pp_pod_phase { PP_PHASE_SUCCEEDED = 0, PP_PHASE_FAILED, PP_PHASE_STOPPED };

struct pp_run_result {
	enum pp_pod_phase phase;
	int exit_code; /* 0, the first failed container's exit code, or 128+signal when stopped */
	const char *reason; /* e.g. "DeadlineExceeded", NULL otherwise */
};

/* Runs the pod until it completes or is stopped. The caller destroys it after. */
int pp_supervisor_run(struct pp_pod_instance *pod, const struct pp_supervisor_hooks *hooks,
		      struct pp_run_result *res, struct pp_error **err);

#endif

/* src/supervisor: owns a running pod's life: the detached per-pod
 * process (peapod-sup), its event loop, its images' pulls (image_pull.c:
 * per pull policy, in a child process, kubelet's reasons and back-off),
 * restarts, probes and hooks (one exec
 * path, exec_path.c), status and events, the control socket and its typed
 * messages (a CRI container's, control_cri.c, checked by the manifest
 * parser as a Pod's only container: one validation for both), and a CRI
 * sandbox's containers (cri_containers.c). Must not read manifest files,
 * be called by src/pod or anything
 * below it, nor print (its stdio is /dev/null: it writes status, events
 * and logs).
 *
 * The pod's supervisor loop: starts init containers in order, sidecars, then
 * the app containers; restarts them per restartPolicy with kubelet's
 * back-off; passes their output on line by line; keeps the pod's status
 * (status.json, Kubernetes field names) and events; serves the control socket
 * (stop, kill, exec); stops the pod on completion, failure,
 * activeDeadlineSeconds, a stop request or a signal (SIGINT/SIGTERM/SIGHUP:
 * the graceful stop; a second one kills at once). One thread, one epoll over
 * a signalfd, a timerfd, the containers' pidfds and output pipes, the control
 * socket and its clients.
 *
 * daemon.c runs it detached, one process per pod (ops/apply.c). */
#ifndef PEAPOD_SUPERVISOR_H
#define PEAPOD_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pod/pod.h"
#include "manifest/manifest.h"
#include "util/error.h"

enum pp_stream { PP_STREAM_STDOUT = 0, PP_STREAM_STDERR };
enum pp_event_level { PP_EVENT_INFO = 0, PP_EVENT_WARNING, PP_EVENT_ERROR };

/* What the supervisor's caller (daemon.c) is told as the pod runs; not to
 * be confused with the containers' lifecycle hooks (postStart, preStop). */
struct pp_supervisor_callbacks {
	/* One line of a container's output, without its newline. partial is
	 * true when the line was split because it was too long or the stream
	 * ended without a newline. flush follows each chunk read. */
	void (*output)(void *ctx, const struct pp_pod_container *c, enum pp_stream stream,
		       const char *line, size_t len, bool partial);
	void (*flush)(void *ctx, const struct pp_pod_container *c);
	/* Container c's process (instance c->restart_count) has started. */
	void (*container_started)(void *ctx, const struct pp_pod_container *c);
	/* Something the user may want to know, kubectl-events style. */
	void (*event)(void *ctx, enum pp_event_level level, const char *container,
		      const char *reason, const char *msg);
	/* After the first round of container starts: the pod is up. */
	void (*running)(void *ctx);
	/* The loop is over and the final status written; called before the
	 * control connections close, so a client that waits for them to close
	 * knows that what finish does is done. remove_record: a client that
	 * awaited the end asked for the pod's record to go too ("await
	 * remove", control.h). */
	void (*finish)(void *ctx, bool remove_record);
	/* ReopenContainerLog: the log of CRI container c is closed and opened
	 * again at its path (kubelet rotated it). */
	int (*reopen_log)(void *ctx, const struct pp_pod_container *c, struct pp_error **err);
	/* CRI container c is about to be removed: its log is closed. */
	void (*container_removed)(void *ctx, const struct pp_pod_container *c);
	/* The control socket has been quiet for a while after requests (an
	 * exec, a CRI call), or the pod has been up for that while: what
	 * serving them, or setting up, touched may be given back. At most once
	 * per PP_SUP_QUIET_MIN_INTERVAL_MS. */
	void (*quiet)(void *ctx);
	void *ctx;
	const char *status_path; /* status.json written on every change; NULL: none */
	int ctl_fd;		 /* listening control socket, -1: none */
	/* A control connection of the caller's that awaits the pod's end
	 * from the start, as after "await remove" (control.h): `run`'s,
	 * made before the fork, so that a pod over at once cannot end before
	 * the request is read. -1: none. */
	int await_fd;
};

/* How long the control socket stays quiet before quiet() is called, and
 * the least time between two calls (kubelet's exec probes through the CRI
 * come every few seconds: their pages stay). */
#define PP_SUP_QUIET_MS 500
#define PP_SUP_QUIET_MIN_INTERVAL_MS 10000

enum pp_pod_phase { PP_PHASE_SUCCEEDED = 0, PP_PHASE_FAILED, PP_PHASE_STOPPED };

struct pp_run_result {
	enum pp_pod_phase phase;
	int exit_code; /* 0, the first failed container's exit code, or 128+signal when stopped */
	const char *reason; /* e.g. "DeadlineExceeded", NULL otherwise */
};

/* Runs the pod until it completes or is stopped. */
int pp_supervisor_run(struct pp_pod_instance *pod, const struct pp_supervisor_callbacks *callbacks,
		      struct pp_run_result *res, struct pp_error **err);

/* ---- the detached supervisor (daemon.c) ---- */

/* Forks the pod's supervisor, detached from the caller (own session,
 * reparented to init): it creates the pod from spec (whose ownership it
 * takes: the caller frees its own copy) with the image store at store_root
 * (NULL: the default), keeps lock_fd (the pod's state lock) until it exits,
 * and reports on sync_fd once the pod is up or why it could not be; the
 * child closes parent_fd (the caller's end of that pipe). await_fd (-1:
 * none): the supervisor's end of a SOCK_SEQPACKET pair whose other end
 * the caller keeps, a control connection that awaits the pod's end with
 * its record's removal ("await remove", control.h). Returns the pid
 * of the intermediate child, which exits at once (to be waited for), or -1
 * with errno. With once, the supervisor is forked once, a child of the
 * caller until the caller exits (then of init, as it would have been): a
 * short-lived caller (the CLI) saves a process start and a wait on the
 * pod's way up; the pid returned is the supervisor's, not to be waited
 * for (a zombie at worst until the caller exits). */
pid_t pp_supervisor_spawn(struct pp_pod *spec, const char *store_root, int lock_fd, int sync_fd,
			  int parent_fd, int await_fd, bool once);

/* Reads the supervisor's report from fd until it is closed: 0 when the pod
 * is up, else its error (status ECHILD: it died without a word). */
int pp_supervisor_read_report(int fd, struct pp_error **err);

/* The supervisor's name in ps. */
#define PP_SUPERVISOR_NAME "peapod-sup"

#endif

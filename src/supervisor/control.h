/* The supervisor's control socket (<state dir>/ctl.sock, SOCK_SEQPACKET):
 * one request per message, one reply per request. Requests:
 *   "stop <grace seconds>"  delete: graceful stop (-1 = the pod's
 *                           terminationGracePeriodSeconds); 0 kills at once
 *   "exec {...}"            what exec needs (struct pp_ctl_exec_request):
 *                           the reply (struct pp_ctl_exec_reply) and, as
 *                           SCM_RIGHTS, the container's pidfd then its
 *                           cgroup.procs fds
 *   "attach <container>"    "ok" and, as SCM_RIGHTS, the write end of the
 *                           container's stdin (stdin: true; with stdinOnce
 *                           only once: its closing is the container's EOF)
 *   "debug {...}"           peapod debug: an ephemeral container added
 *                           (struct pp_ctl_debug_request); "ok" once it
 *                           is (it starts once its image is ready)
 *   "netcheck"              CNI CHECK of the pod's network: "ok", "none"
 *                           (no network) or the error
 *   "image <c> <image>"     apply's new image for app container c: it is
 *                           stopped and started again with it; "ok" at once
 *   "deadline <seconds>"    apply's new activeDeadlineSeconds, from the
 *                           pod's start
 *   "cri-create {...}"      a CRI sandbox's new container (struct
 *                           pp_ctl_cri_create): "ok" once created (not
 *                           started); its image must be in the store
 *   "cri-start <c>"         starts CRI container c: "ok" once it runs
 *   "cri-stop <t> <c>"      stops it: its stop signal, SIGKILL after t
 *                           seconds (0: at once); "ok" at once (the
 *                           caller watches status.json)
 *   "cri-remove <c>"        removes it (not running): its layer and cgroup
 *   "cri-reopen <c>"        reopens its log file (kubelet's rotation)
 *   "cri-update {...}"      new resources for it, in its cgroup now
 *   "await", "await remove"  `run`: no reply until the pod is over; then,
 *                           before its teardown, "finished {...}" (its
 *                           final exitCode, result and reason, as in
 *                           status.json's "peapod"). With "remove", the
 *                           pod's record and logs go with the teardown
 *                           (when it succeeds) before the connection
 *                           closes: the pod is gone, as delete would leave
 *                           it. A client that goes away before the end
 *                           takes its request with it. `run` gets such a
 *                           connection from apply instead, made before the
 *                           supervisor's fork (supervisor.h's await_fd): a
 *                           pod over at once cannot end before it asks.
 *   "freeze", "thaw"         freeze / thaw the pod's cgroup; "ok" once done
 *                           and recorded in status.json. A freeze waits
 *                           for the execs being set up (an exec's client
 *                           keeps its connection open until its process
 *                           has exec'd; supervisor/freeze.c)
 * Replies are "ok", "error <message>" or the JSON. A client that keeps its
 * connection open sees it close when the supervisor exits: that is how
 * `delete` and `run` wait for the end of a pod. */
#ifndef PEAPOD_CONTROL_H
#define PEAPOD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/identity.h"
#include "util/error.h"

#define PP_CTL_MAX_MSG 65536
#define PP_CTL_MAX_FDS 16

struct json_object;

/* The exec request (control_msg.c): the CLI starts the process itself, so
 * that its exit status and terminal come straight back; it asks the
 * supervisor only for what the container's own process got. */
struct pp_ctl_exec_request {
	const char *container;	 /* its name in the pod */
	struct json_object *doc; /* decoded: owns the strings */
};

/* The whole message, "exec " and its fields (free it). */
char *pp_ctl_exec_request_encode(const struct pp_ctl_exec_request *req);
/* Whether msg is an exec request (the supervisor's dispatch). */
bool pp_ctl_is_exec_request(const char *msg, size_t len);
/* Checks every field; an error names the one it refuses. */
int pp_ctl_exec_request_decode(const char *msg, size_t len, struct pp_ctl_exec_request *req,
			       struct pp_error **err);
void pp_ctl_exec_request_free(struct pp_ctl_exec_request *req);

/* The reply: what the container's own process got, and its fds. */
struct pp_ctl_exec_reply {
	char **env; /* NULL-terminated; decoded: owned */
	struct pp_identity identity;
	int oom_score_adj;
	/* where the supervisor keeps compiled seccomp filters (seccomp.h): the
	 * exec finds the container's there instead of compiling it, or NULL */
	const char *seccomp_cache;
	int container_pidfd; /* borrowed from the caller's fds */
	const int *cgroup_procs_fds;
	size_t n_cgroup_procs_fds;
	struct json_object *doc; /* decoded: owns the strings */
};

/* The message text (free it) and the fds to send with it (room for
 * PP_CTL_MAX_FDS): the pidfd, then the cgroup fds. */
int pp_ctl_exec_reply_encode(const struct pp_ctl_exec_reply *r, char **msg, int *fds, size_t *n_fds,
			     struct pp_error **err);
/* Checks every field, and that the fds that came are those announced; an
 * error names the field it refuses. The fds stay the caller's. */
int pp_ctl_exec_reply_decode(const char *msg, size_t len, const int *fds, size_t n_fds,
			     struct pp_ctl_exec_reply *r, struct pp_error **err);
/* Idempotent. */
void pp_ctl_exec_reply_free(struct pp_ctl_exec_reply *r);

/* The debug request (control_debug.c): kubectl debug's ephemeral
 * container. Encoded by the CLI; decoded strings are owned by doc. */
struct pp_ctl_debug_request {
	const char *name, *image;
	const char *target; /* NULL: none */
	char **command;	    /* NULL-terminated, NULL: the image's; owned when decoded */
	/* imagePullPolicy: "Always", "IfNotPresent", "Never", or NULL: the default */
	const char *pull_policy;
	bool stdin_open, tty;
	struct json_object *doc;
};
char *pp_ctl_debug_request_encode(const struct pp_ctl_debug_request *req);
bool pp_ctl_is_debug_request(const char *msg, size_t len);
int pp_ctl_debug_request_decode(const char *msg, size_t len, struct pp_ctl_debug_request *req,
				struct pp_error **err);
/* Idempotent. */
void pp_ctl_debug_request_free(struct pp_ctl_debug_request *req);

/* The CRI's requests (control_cri.c). "cri-create": {"container": a
 * Kubernetes container object (checked by the manifest parser),
 * "mounts": [{"hostPath", "containerPath", "readOnly", "propagation":
 * None|HostToContainer|Bidirectional}], "logPath": absolute}. */
#define PP_CTL_CRI_CREATE "cri-create"
#define PP_CTL_CRI_UPDATE "cri-update"
#define PP_CTL_CRI_MAX_MOUNTS 256
#define PP_CTL_CRI_MAX_DEVICES 256
#define PP_CTL_CRI_MAX_PATHS 256
struct pp_container;
struct pp_ctl_cri_create {
	struct pp_container *spec; /* owned */
	char *log_path;		   /* NULL: none */
};
int pp_ctl_cri_create_decode(const char *msg, size_t len, struct pp_ctl_cri_create *req,
			     struct pp_error **err);
void pp_ctl_cri_create_free(struct pp_ctl_cri_create *req);
/* "cri-update": {"name": the container's, "container": an object whose
 * resources are taken (its name and image are a manifest's needs). */
int pp_ctl_cri_update_decode(const char *msg, size_t len, char **name, struct pp_container **with,
			     struct pp_error **err);

/* Connects to the pod's supervisor (ECONNREFUSED/ENOENT when it is gone). */
int pp_ctl_connect(const char *uid, struct pp_error **err);

/* Sends req and reads the reply (NUL-terminated) and the fds that came
 * with it. A reply "error <msg>" becomes an error with that message. */
int pp_ctl_call(int fd, const char *req, char **reply, int *fds, size_t *n_fds,
		struct pp_error **err);

/* Waits until the supervisor closes the connection (it exited): 0, or -1
 * with ETIMEDOUT after timeout_ms (-1: no limit). */
int pp_ctl_wait_closed(int fd, int timeout_ms, struct pp_error **err);

/* Supervisor side: binds and listens on path (removing a stale socket). */
int pp_ctl_listen(const char *path, struct pp_error **err);

#endif

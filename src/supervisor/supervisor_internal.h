/* Shared by the files of the supervisor: the loop's state. */
#ifndef PEAPOD_SUPERVISOR_INTERNAL_H
#define PEAPOD_SUPERVISOR_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "runtime/exec.h"
#include "probe/grpc_probe.h"
#include "probe/net_probe.h"
#include "probe/tls.h"
#include "supervisor/backoff.h"
#include "supervisor/supervisor.h"
#include "util/clock.h"

/* kubelet's fallback message: the last 80 lines, at most 2048 bytes. */
#define PP_LOG_TAIL_BYTES 2048
#define PP_LOG_TAIL_LINES 80

struct line_buf {
	char *data;
	size_t len;
};

/* How a container's previous instance ended (lastState). */
struct ctr_termination {
	bool set;
	int exit_code, signal;
	const char *reason;
	char *message; /* owned */
	struct timespec started_at, finished_at;
};

/* The probes of a container, in the order they matter. */
enum probe_kind { PROBE_STARTUP = 0, PROBE_LIVENESS, PROBE_READINESS, N_PROBES };

/* ---- exec_path.c: the processes started in or for a container ---- */

/* What an exec into the running instance takes (exec probes and hooks),
 * kept from its first exec until it exits (exec_path.c). */
struct exec_cache {
	bool set;
	struct pp_exec_target target;
	char **env; /* the container's environment, NULL until first needed */
	/* `peapod exec`'s reply (control.c) for this instance, but its fds:
	 * the same at every exec; NULL until the first */
	char *reply;
	size_t reply_cgroups; /* the cgroup fds it announces */
	/* the container's peapod-exec (launcher.c), from its first exec
	 * probe: its socket, pid and pidfd; launcher_failed: it could not be
	 * made or broke, the probes exec the usual way */
	int launcher_sock;
	pid_t launcher_pid;
	int launcher_pidfd;
	bool launcher_failed;
	/* not its cgroup files: ~10 fds per container on a v1 host,
	 * which every exec child would then have to close, for as much CPU
	 * as opening them each time costs */
};
#define EXEC_CACHE_INIT                                                                            \
	((struct exec_cache){.target = {.root_fd = -1}, .launcher_sock = -1, .launcher_pidfd = -1})

/* A handler running as a child process (exec_path.c): an exec in the
 * container (through its launcher or as its own process) or a helper child
 * (httpGet and tcpSocket to a name). */
struct sup_child {
	pid_t pid;
	int pidfd;     /* its process, else -1 */
	int msg_fd;    /* the read end of its output, else -1 */
	int status_fd; /* started by the launcher: its exit status, else -1 */
};
#define SUP_CHILD_INIT ((struct sup_child){.pidfd = -1, .msg_fd = -1, .status_fd = -1})

/* ---- probe.c: a probe's runs, each through one transport (struct
 * probe_transport), which keeps its own state ---- */

/* tcpSocket, httpGet to an address and grpc: a connection of the
 * supervisor itself (probe_net.c). */
struct probe_conn {
	int sock;     /* its connection, else -1 */
	uint64_t tag; /* its epoll tag */
	bool reading; /* httpGet: the request is sent, the response comes */
	char *req;    /* httpGet: the request */
	size_t req_len, req_off;
	char *resp; /* httpGet: the start of the response */
	size_t resp_len;
	struct pp_grpc_probe *grpc;	/* grpc: the HTTP/2 exchange */
	struct pp_tls *tls;		/* httpGet with HTTPS: the TLS session */
	bool handshaken;		/* its handshake is done */
	struct pp_http_target redirect; /* httpGet: a redirect followed, else path NULL */
	int redirects;			/* how many were */
	uint32_t events;		/* what the connection is in the epoll for */
};

struct probe_transport;

struct probe_run {
	int64_t next_at;  /* monotonic ns of the next run, 0 = none scheduled */
	int64_t deadline; /* while one runs: when it times out */
	const struct probe_transport *transport; /* while one runs: its transport, else NULL */
	uint32_t gen;				 /* counts the fds watched, to tell a stale event */
	union {					 /* the transport's state, while one runs */
		struct sup_child child;
		struct probe_conn conn;
	} u;
	int successes, failures;
};
#define PROBE_RUN_INIT ((struct probe_run){.transport = NULL})

/* A lifecycle hook of the running instance (hooks.c). */
enum hook_kind { HOOK_NONE = 0, HOOK_POST_START, HOOK_PRE_STOP };

struct hook_run {
	enum hook_kind kind;	/* the one running, NONE when none */
	struct sup_child child; /* exec and httpGet: its process */
	int64_t sleep_until;	/* sleep: monotonic ns it ends at, else 0 */
};
#define HOOK_RUN_INIT ((struct hook_run){.child = SUP_CHILD_INIT})

/* A container whose image is not ready yet (image_pull.c). */
struct image_wait {
	bool waiting; /* its image is not prepared yet */
	/* why it waits, as kubelet says it: ErrImagePull, ImagePullBackOff,
	 * ErrImageNeverPull, CreateContainerConfigError; NULL before the
	 * first failure (ContainerCreating or PodInitializing) */
	const char *reason;
	char *message;	    /* owned, with reason */
	int64_t retry_at;   /* monotonic ns of the next attempt, 0 none */
	int64_t notice_at;  /* monotonic ns ErrImagePull becomes ImagePullBackOff, 0 none */
	int64_t queued_at;  /* when the attempt under way became due */
	int64_t backoff_ns; /* the last delay, 0 before a failure */
	bool just_pulled;   /* its first start says Pulled already */
};

/* The pod's pull under way: one at a time, as kubelet pulls serially, in a
 * child process that reports on a pipe (image_pull.c). */
struct pull_child {
	bool active;
	size_t ctr;
	pid_t pid;
	int pidfd;
	int fd; /* the read end of its report pipe */
	struct line_buf buf;
	int64_t began;
	char *id;    /* its result: the image id, */
	char *error; /* or why it failed */
};

struct ctr_run {
	struct image_wait img;
	int64_t start_at;   /* monotonic ns when a (re)start is due, 0 = none */
	int64_t backoff_ns; /* next restart delay */
	struct line_buf out, err;
	/* the instance's last output, for terminationMessagePolicy
	 * FallbackToLogsOnError */
	char tail[PP_LOG_TAIL_BYTES];
	size_t tail_len;
	struct ctr_termination last;
	bool ever_started;
	/* apply changed its image: once it has stopped, it starts again at
	 * once with the new image (sup_change_image) */
	bool image_changed;
	/* a restart found an object its env needs missing: start_at is the
	 * retry, img.reason/message say why (CreateContainerConfigError) */
	bool config_restart;
	/* probes of the running instance (probe.c) */
	struct probe_run probes[N_PROBES];
	int64_t probes_since; /* monotonic ns the instance started at */
	int64_t kill_at;      /* a probe killed it: SIGKILL due then, 0 = none */
	bool started, ready;  /* startup probe passed (or none); readiness */
	struct hook_run hook;
	struct exec_cache exec;
	bool stop_begun; /* the instance's preStop ran or its stop signal was sent */
	bool cri_start;	 /* a CRI container: StartContainer asked for its start */
};

enum stop_stage { STOP_NONE = 0, STOP_APPS, STOP_SIDECARS };

#define MAX_CLIENTS 64

/* How long a pause waits for the execs being set up (freeze.c) before it
 * is refused: a setup takes milliseconds; one that takes this long has a
 * caller that is stopped or stuck. */
#define SUP_PAUSE_WAIT_NS (5 * PP_NSEC_PER_SEC)

struct sup {
	struct pp_pod_instance *pod;
	const struct pp_supervisor_callbacks *callbacks;
	struct pp_backoff backoff; /* the crash-loop back-off's durations */
	struct ctr_run *run;
	size_t n_run; /* run's room */
	int epfd, sigfd, timerfd;
	size_t next_init; /* first init container not yet done (or started, for sidecars) */
	bool apps_started;
	size_t next_app; /* with postStart hooks, app containers start one at a time */
	enum stop_stage stopping;
	int64_t stop_deadline; /* 0 once everything left has been SIGKILLed */
	int64_t active_deadline;
	int64_t started_ns;  /* monotonic ns the pod started: its deadline's base */
	int stop_signal;     /* the signal that stopped us, 0 otherwise */
	bool stop_requested; /* a delete through the control socket */
	struct timespec deletion_time;
	int first_failure; /* exit code of the first failed container, -1 none */
	bool failed;
	const char *reason;
	bool finished;		  /* the loop is over: the status is final */
	struct pp_run_result res; /* how it ended, once finished */
	bool dirty;		  /* the status changed since it was last written */
	struct timespec created, started;
	int clients[MAX_CLIENTS]; /* control connections, -1 = free */
	/* pause and exec, one after the other (freeze.c): a client that got
	 * exec's reply and is still connected sets its process up (it closes
	 * the connection once the process has exec'd); a client waiting for
	 * its pause until they are done; when that wait ends, 0 none */
	bool exec_setup[MAX_CLIENTS];
	bool pause_waits[MAX_CLIENTS];
	/* "await" (control.c): told of the pod's end; "await remove": also
	 * asks for the record's removal with the teardown */
	bool awaits[MAX_CLIENTS], awaits_remove[MAX_CLIENTS];
	int64_t pause_deadline;
	/* callbacks->quiet: when it is due (0: not), and when it last ran */
	int64_t quiet_at, quiet_last;
	bool frozen;		/* the pod's cgroup is frozen (freeze.c) */
	bool apps_parallel;	/* the app containers set up at once (no postStart) */
	struct pull_child pull; /* the image pull under way (image_pull.c) */
	int64_t frozen_at;	/* monotonic ns it was frozen at */
	struct {
		int fd;	   /* inotify, -1 when the pod uses no object */
		int wd[2]; /* its configmaps/ and secrets/ directories */
	} objwatch;
};

/* What an epoll event is about: a kind and an index. */
enum tag_kind {
	TAG_SIGNAL = 1,
	TAG_TIMER,
	TAG_PIDFD,
	TAG_OUT,
	TAG_ERR,
	TAG_INFRA,
	TAG_CTL,
	TAG_CLIENT,
	TAG_PROBE,   /* index: container * N_PROBES + probe, its run's gen above */
	TAG_HOOK,    /* index: container */
	TAG_PULL,    /* the image pull's report pipe */
	TAG_OBJWATCH /* the inotify of the objects the pod uses (objwatch.c) */
};
/* The kind in the top byte, the index below. */
#define TAG_KIND_SHIFT 56
#define TAG_INDEX_MASK ((UINT64_C(1) << TAG_KIND_SHIFT) - 1)
#define TAG(kind, i) (((uint64_t)(kind) << TAG_KIND_SHIFT) | (uint64_t)(i))

int sup_watch(struct sup *s, int fd, uint64_t tag);
/* An event (kubectl-style) for the user; marks the status dirty. */
void sup_event(struct sup *s, enum pp_event_level level, const char *ctr, const char *reason,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Stops the pod: app containers first, then sidecars; SIGKILL after grace_s. */
void sup_begin_stop(struct sup *s, int64_t grace_s);
/* SIGKILL to everything still running. */
void sup_kill_all(struct sup *s);
/* Moves the pod forward (starts what is due, stops the next stage). */
void sup_advance(struct sup *s);

/* objwatch.c: the ConfigMaps and Secrets the pod uses, watched (inotify
 * on the store's directories of its namespace): a change rewrites the
 * volumes that use the object and wakes containers waiting for one. A
 * watch that cannot be made is a warning event, not a failure. */
void sup_objwatch_init(struct sup *s);
void sup_objwatch_event(struct sup *s);
void sup_objwatch_close(struct sup *s);
/* The object's name in a directory entry of the store (<name>.json, not a
 * hidden temporary file); false for anything else. Pure, for the tests. */
bool sup_objwatch_object_name(const char *file, char *name, size_t size);

/* status.c: status.json from the loop's state (when the status changed). */
void sup_write_status(struct sup *s);
/* The final outcome, once finished: {"exitCode", "result", "reason"} as in
 * status.json's "peapod" (free it). */
char *sup_outcome_json(const struct sup *s);
/* The pod's phase as Kubernetes computes it. */
const char *sup_phase(const struct sup *s);

/* probe.c: liveness, readiness and startup probes, scheduled the same way
 * whatever runs them. */
void sup_probes_init(struct sup *s);
/* Container i (re)started: its probes start from scratch. */
void sup_probes_reset(struct sup *s, size_t i);
/* Container i stopped (or the pod stops): no more probes, none running. */
void sup_probes_stop(struct sup *s, size_t i);
/* The earliest time a probe is due, times out or a kill escalates; 0 none. */
int64_t sup_probes_next(const struct sup *s);
void sup_probes_timer(struct sup *s, int64_t now);
/* Shifts the probes' clocks by d ns (the time the pod was paused). */
void sup_probes_shift(struct sup *s, int64_t d);
/* An fd of a probe's run is ready (TAG_PROBE's index). */
void sup_probe_event(struct sup *s, uint64_t index);
/* The spec of probe k of container i, NULL when it has none. */
const struct pp_probe *sup_probe_spec(const struct sup *s, size_t i, enum probe_kind k);

/* How a run of a probe is carried out: one table per transport. A run
 * starts with start; each event on the fds it watches (under
 * sup_probe_tag's tags) goes to on_event, until the transport hands its
 * result to sup_probe_finish; cancel lets it go early (a timeout, a stop). */
enum { PROBE_DECLINED = 1 };
struct probe_transport {
	/* Starts a run of probe k of container i: 0 under way; PROBE_DECLINED,
	 * not one this transport runs (nothing held); -1 it failed at once,
	 * err->msg the user's message. */
	int (*start)(struct sup *s, size_t i, enum probe_kind k, struct pp_error **err);
	void (*on_event)(struct sup *s, size_t i, enum probe_kind k);
	/* Lets go of what the run holds (idempotent). */
	void (*cancel)(struct sup *s, struct probe_run *p);
};
/* exec: through the container's launcher, else its own exec'd process. */
extern const struct probe_transport sup_probe_exec;
/* tcpSocket, httpGet and grpc to an address: a connection of the
 * supervisor in the pod's network namespace (probe_net.c). */
extern const struct probe_transport sup_probe_socket;
/* tcpSocket and httpGet to a name: a helper child in the pod's network
 * namespace. */
extern const struct probe_transport sup_probe_helper;

/* A new epoll tag for an fd of probe k's run (older ones go stale). */
uint64_t sup_probe_tag(struct sup *s, size_t i, enum probe_kind k);
/* The run of probe k is over: what it holds let go, then its result
 * counted (failures and successes in a row, events, kills). */
void sup_probe_finish(struct sup *s, size_t i, enum probe_kind k, bool ok, const char *msg);
/* kubelet's ProbeWarning event (a success with a warning). */
void sup_probe_warning(struct sup *s, size_t i, enum probe_kind k, const char *msg);

/* exec_path.c: every process the supervisor starts in or for a container
 * (exec probes, hooks, the launcher, the helper child), one way. */
/* Container i's instance exited: what its execs took is let go. */
void sup_exec_cache_clear(struct sup *s, size_t i);
/* The exec of container i as its own process gets it, argv aside. */
int sup_exec_config(struct sup *s, size_t i, char *const *argv, struct pp_exec_config *cfg,
		    struct pp_error **err);
/* pp_exec_start of cfg into container i's cgroups. */
int sup_exec_start(struct sup *s, size_t i, struct pp_exec_config *cfg,
		   struct pp_exec_process *proc, struct pp_error **err);
/* What a tcpSocket, httpGet or grpc handler connects to. */
int sup_net_params(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
		   struct pp_net_probe *np, struct pp_error **err);
/* Starts handler h of container i as child c, its output to c->msg_fd;
 * an exec through the container's launcher when via_launcher (and it has
 * one). The caller watches sup_child_fd(c). */
int sup_child_start(struct sup *s, size_t i, const struct pp_handler *h, int timeout_s,
		    bool via_launcher, struct sup_child *c, struct pp_error **err);
/* The fd that is readable once child c has ended. */
int sup_child_fd(const struct sup_child *c);
/* Child c has ended: its exit status (-1: lost) and what it printed, on
 * one line, in msg; all it held let go. */
int sup_child_finish(struct sup *s, struct sup_child *c, char *msg, size_t size);
/* Kills child c and lets go of what it held (idempotent). */
void sup_child_cancel(struct sup *s, struct sup_child *c);

/* launcher.c: exec probes through the container's peapod-exec. Starts argv
 * with its output to out_fd: 0 with its pid, pidfd and the read end of its
 * status pipe (sup_launcher_status once readable); 1 when there is no
 * launcher for the container (the caller execs the usual way); -1 on an
 * error of the probe's own (err). */
int sup_launcher_run(struct sup *s, size_t i, char *const *argv, int out_fd, pid_t *pid, int *pidfd,
		     int *status_fd, struct pp_error **err);
/* The exit status (as pp_exec_wait's) from a status pipe that is readable;
 * -1 when the launcher went away without one. */
int sup_launcher_status(int status_fd);
/* Ends the container's launcher (idempotent). */
void sup_launcher_stop(struct exec_cache *x);
/* Container i's environment for an exec, computed at the first and kept
 * while the instance runs (exec_path.c); NULL with *err on failure. */
char **sup_exec_env(struct sup *s, size_t i, struct pp_error **err);

/* hooks.c: postStart and preStop. */
void sup_hooks_init(struct sup *s);
/* Container i has just started: runs its postStart hook. True while the
 * hook runs (the container is not started until it ends). */
bool sup_post_start(struct sup *s, size_t i);
/* Whether any app container has a postStart hook. */
bool sup_apps_have_post_start(const struct sup *s);
/* Stops container i: its preStop hook, then its stop signal (once per
 * instance); force: SIGKILL now, any hook abandoned. */
void sup_stop_container(struct sup *s, size_t i, bool force);
/* Abandons container i's running hook, if any. */
void sup_hook_cancel(struct sup *s, size_t i);
/* The earliest time a sleep hook ends; 0 none. */
int64_t sup_hooks_next(const struct sup *s);
void sup_hooks_timer(struct sup *s, int64_t now);
/* The hook process of container i ended. */
void sup_hook_done(struct sup *s, size_t i);

/* image_pull.c: the images the containers wait for, pulled one at a time
 * by the pod's own child process, per the containers' pull policy, with
 * kubelet's reasons, events and back-off. */
void sup_pulls_init(struct sup *s);
/* pull_secrets.c: the credentials of the pod's imagePullSecrets for image,
 * best first (pointers into kr, which the caller clears; *creds freed);
 * a Secret missing is told in an event. -1 when one is malformed. */
struct pp_keyring;
struct pp_credential;
int sup_pull_credentials(struct sup *s, const char *image, struct pp_keyring *kr,
			 const struct pp_credential ***creds, size_t *n, struct pp_error **err);
/* Starts the next due attempt when none runs (and the pod runs on). */
void sup_pulls_kick(struct sup *s);
/* The earliest time an attempt or a notice is due; 0 none. */
int64_t sup_pulls_next(const struct sup *s);
void sup_pulls_timer(struct sup *s, int64_t now);
/* The pull's report pipe is readable. */
void sup_pull_event(struct sup *s);
/* The pod stops: the pull under way is killed (what it stored collected),
 * nothing more is tried. */
void sup_pulls_stop(struct sup *s);
/* Frees what the waits hold. */
void sup_pulls_free(struct sup *s);
/* A container whose first start cannot be configured (its env names a
 * ConfigMap or Secret that is not there): it waits as kubelet shows it,
 * CreateContainerConfigError and the message, and is tried again with the
 * pull back-off (as kubelet's next syncs do). */
void sup_config_error(struct sup *s, size_t i, const struct pp_error *err);
/* Whether container i waits for its image (then *reason and *message say
 * why, or are NULL while it is being pulled for the first time). */
bool sup_image_waiting(const struct sup *s, size_t i, const char **reason, const char **message);

/* supervisor.c: peapod debug: adds an ephemeral container to the running
 * pod (pod.h), started once its image is ready, never restarted. */
int sup_add_ephemeral(struct sup *s, const struct pp_ephemeral_request *req, struct pp_error **err);

/* The run of slot i, new (s->run grown when needed); sup_free_run lets go
 * of what a removed container's run held. */
struct ctr_run *sup_new_run(struct sup *s, size_t i);
void sup_free_run(struct sup *s, size_t i);

/* cri_containers.c: a CRI sandbox's containers (src/cri's CreateContainer
 * and the rest, through the control socket): created (image here,
 * prepared), started when asked, stopped with a timeout (SIGTERM, then
 * SIGKILL), removed; never restarted. The name is the container's in
 * the pod. */
struct pp_container;
int sup_cri_create(struct sup *s, struct pp_container *spec, const char *log_path,
		   struct pp_error **err);
int sup_cri_start(struct sup *s, const char *name, struct pp_error **err);
int sup_cri_stop(struct sup *s, const char *name, int64_t timeout_s, struct pp_error **err);
int sup_cri_remove(struct sup *s, const char *name, struct pp_error **err);
int sup_cri_reopen_log(struct sup *s, const char *name, struct pp_error **err);
/* UpdateContainerResources: the container's cgroup limits now. */
/* UpdateContainerResources: with's resources (with is taken) become the
 * container's, in its cgroup now. */
int sup_cri_update_resources(struct sup *s, const char *name, struct pp_container *with,
			     struct pp_error **err);

/* apply of a new image for app container name, as kubelet treats a changed
 * container spec: the container is stopped (its grace period), then started
 * again at once with the new image, pulled first as any image is
 * (restartCount + 1, whatever the restartPolicy). */
int sup_change_image(struct sup *s, const char *name, const char *image, struct pp_error **err);

/* apply of a new activeDeadlineSeconds (the API server allows only a
 * first one or a smaller one): counted from the pod's start, as before. */
int sup_set_deadline(struct sup *s, int64_t seconds, struct pp_error **err);

/* freeze.c: freezing the whole pod (podman pod pause). While paused no probe
 * runs and no container (re)starts; exec is refused; a stop thaws first. */
int sup_freeze(struct sup *s, struct pp_error **err);
int sup_thaw(struct sup *s, struct pp_error **err);
/* The control socket's pause and unpause from client k: a pause waits
 * (its reply deferred) while an exec is being set up, as an exec child
 * born into a frozen cgroup would never get to its exec; the reply once
 * done. */
void sup_pause_request(struct sup *s, size_t k);
void sup_unpause_request(struct sup *s, size_t k);
/* Why exec into the pod is refused now (paused, or a pause waits), else
 * NULL. */
const char *sup_exec_refusal(const struct sup *s);
/* Client k's connection closed: its exec setup (if any) is over, a pause
 * it waited for no longer answered; a waiting pause may go on. */
void sup_pause_client_gone(struct sup *s, size_t k);
/* The pause's wait ran out (on the timer): refused. */
void sup_pause_timer(struct sup *s, int64_t now);
/* A stop: a waiting pause is refused. */
void sup_pause_cancel(struct sup *s, const char *why);

/* control.c: the control socket. */
void sup_ctl_accept(struct sup *s);
void sup_ctl_request(struct sup *s, size_t client);
void sup_ctl_close_all(struct sup *s);
/* The loop is over (the status final): each "await" client gets the pod's
 * outcome. Whether one that is still connected asked for the record's
 * removal. */
bool sup_ctl_notify_finished(struct sup *s);
/* A connection made before the supervisor (callbacks->await_fd), added as
 * a client that sent "await remove"; closed when it cannot be. */
void sup_ctl_add_awaiting(struct sup *s, int fd);
/* Adds a client connection to the loop's epoll. */
int sup_watch_client(struct sup *s, int fd, size_t slot);
/* A reply on client k's connection: "ok", or "error <msg>" (msg not NULL). */
void sup_ctl_reply(struct sup *s, size_t k, const char *msg);

#endif

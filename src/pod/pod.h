/* src/pod: owns a pod instance: the typed spec plus images become the
 * cgroups, the sandbox, the volumes and the container configs, in a fixed
 * order, and their idempotent removal. Must not read YAML (it takes the
 * typed spec), run the event loop or keep status (src/supervisor does),
 * print or exit.
 *
 * A pod instance on this host: the spec, its resolved images, its cgroup,
 * sandbox, volumes and containers. This layer turns the typed Pod spec into
 * plain sandbox and container configs; it owns every resource it creates
 * and pp_pod_instance_destroy removes all of them (idempotently, also after a
 * failure half-way through pp_pod_instance_create). */
#ifndef PEAPOD_POD_H
#define PEAPOD_POD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "image/image.h"
#include "sandbox/sandbox.h"
#include "runtime/container.h"
#include "manifest/pod_spec.h"
#include "util/error.h"

enum pp_ctr_state { PP_CTR_WAITING = 0, PP_CTR_RUNNING, PP_CTR_TERMINATED };

/* kubelet reads at most this much of a termination message file. */
#define PP_TERMINATION_MESSAGE_MAX 4096

/* Ephemeral containers (peapod debug) a pod takes at most: their slots are
 * allocated with the pod's, so that adding one moves nothing. */
#define PP_POD_MAX_EPHEMERAL 8
/* The containers a CRI sandbox holds at once (kubelet adds and removes
 * them; a removed one's slot is taken again). */
#define PP_POD_MAX_CRI_CONTAINERS 128

/* Exit code of a container whose process could not be started (containerd's StartError). */
#define PP_EXIT_START_ERROR 128

struct pp_pod_container {
	const struct pp_container *spec;
	/* NULL until the container is prepared: its image in the store (and
	 * pinned), its identity worked out. A pod starts before every image
	 * is here: the supervisor pulls the missing ones and prepares their
	 * containers then (pp_pod_instance_prepare_container). */
	struct pp_image *image;
	bool is_sidecar;
	char *dir; /* <pod data dir>/containers/<name> */
	struct pp_cgroup *cgroup;
	enum pp_ctr_state state;
	pid_t pid;
	int pidfd;
	/* its last instance's mount namespace, held so that its exit does not
	 * wait for the mounts' teardown (runtime/container.h); let go of when
	 * it starts again, or by the pod's teardown, off the path */
	int mntns_fd;
	int out_fd, err_fd; /* read ends of the container's stdout and stderr */
	int in_fd;	    /* write end of its stdin with stdin: true (for attach), else -1 */
	int exit_code;
	int signal;	    /* terminating signal, 0 when it exited */
	const char *reason; /* Completed, Error, StartError */
	char *message;	    /* from its terminationMessagePath, NULL when empty */
	int restart_count;
	struct timespec started_at, finished_at;
	bool spawning; /* between spawn and finish_start */
	/* user, groups, working directory, capabilities, seccomp...: the
	 * container's and every exec's, worked out once when the pod is created */
	struct pp_identity identity;
	char *seccomp_profile; /* Localhost profile path, owned (identity points at it) */
	char *selinux_label;   /* owned, likewise */
	int oom_score_adj;     /* kubelet's value, raised to what this host allows */
	uint64_t oom_kills;    /* the cgroup's OOM kill count when it last started */
	struct pp_container_spawn spawn;
	/* An ephemeral container (peapod debug): its spec is owned here, it
	 * never restarts; with has_target it joins the PID namespace of
	 * container target (an index) */
	bool is_ephemeral;
	bool has_target;
	size_t target;
	struct pp_container *owned_spec;
	/* A CRI container's devices (spec->devices as the host has them:
	 * type, numbers, mode; paths borrowed from spec) */
	struct pp_device_spec *devices;
	size_t n_devices;
	/* A CRI container (CreateContainer, in the ephemeral slots of a CRI
	 * sandbox): started only when asked, never restarted; its log at
	 * log_path (owned) when set; removed: RemoveContainer freed it and
	 * its slot is free (it is in no list, no status) */
	bool cri;
	bool removed;
	char *log_path;
	struct timespec created_at;
};

struct pp_pod_volume {
	const struct pp_volume *spec;
	char *path; /* host directory (emptyDir on disk, hostPath) */
	int fd;	    /* detached tmpfs (emptyDir medium Memory), the root of its mount
		     * in the volumes namespace (in_volumes_ns), else -1 */
	bool is_dir;
	/* an emptyDir some container mounts with propagation: a shared mount
	 * at path in the pod's volumes namespace, cloned from there */
	bool in_volumes_ns;
	/* a configMap, secret or projected volume whose object (or a key of
	 * its items) is missing: kubelet's SetUp failure, the message naming
	 * the field; the volume is there, empty, and no container starts
	 * until a resync fills it (pp_pod_instance_resync_volume); NULL once
	 * set up */
	char *setup_error;
};

#define PP_POD_DISCARD_ALSO 2

struct pp_pod_instance {
	struct pp_pod *spec;
	struct pp_image_store *store; /* the caller's, open while the pod lives */
	char *uid;
	char *state_dir; /* /run/peapod/pods/<uid> */
	char *data_dir;	 /* <store root>/pods/<uid> */
	char *trash_dir; /* <store root>/trash/<uid>: data_dir on its way out */
	/* More directories to discard with data_dir, in the same child, once
	 * everything else of the pod is gone (pp_pod_instance_discard_also);
	 * also_discarded once they are (renamed away, or missing) */
	char *also[PP_POD_DISCARD_ALSO], *also_trash[PP_POD_DISCARD_ALSO];
	size_t n_also;
	bool also_discarded;
	struct pp_cgroup *cgroup;
	struct pp_sandbox *sandbox;
	/* hostUsers: false: ids 0..PP_IDRANGE_SIZE-1 of the pod are id_base..
	 * on the host (the range recorded under $PEAPOD_RUN, src/state/idrange.h) */
	bool userns;
	uint32_t id_base;
	struct pp_pod_volume *volumes;
	size_t n_volumes;
	/* the mount namespace holding the emptyDirs mounted with propagation
	 * (volumes.c), or -1 */
	int volumes_ns_fd;
	/* init containers first, then app containers, in spec order */
	struct pp_pod_container *containers;
	size_t n_containers;
	size_t n_init;
	/* then the ephemeral containers added to the running pod (peapod
	 * debug), at n_containers..: room for PP_POD_MAX_EPHEMERAL */
	size_t n_ephemeral;
	/* room for that many after n_containers: PP_POD_MAX_EPHEMERAL, or
	 * PP_POD_MAX_CRI_CONTAINERS in a CRI sandbox */
	size_t slots;
	enum pp_qos_class qos;
	/* What the pod asked for that this host does not do as asked (an
	 * oom_score_adj raised, a limit not enforced): for the pod's events. */
	char **warnings; /* NULL-terminated, or NULL */
};

/* Everything up to a running sandbox: the containers whose image is in the
 * store (and whose pull policy is not Always) prepared and hostPaths checked
 * first (so a refused container or a bad path creates nothing), then
 * directories, cgroup, volumes and the infra process. A container whose
 * image is missing is left unprepared (image NULL) for the supervisor to
 * pull. Takes ownership of spec (also on failure); store must outlive the
 * instance. */
int pp_pod_instance_create(struct pp_pod *spec, struct pp_image_store *store,
			   struct pp_pod_instance **out, struct pp_error **err);

/* Every container, the ephemeral ones (after n_containers) included. */
static inline size_t pp_pod_n_all(const struct pp_pod_instance *pod)
{
	return pod->n_containers + pod->n_ephemeral;
}

/* What `peapod debug` asks for: kubectl's ephemeral container. */
struct pp_ephemeral_request {
	const char *name;
	const char *image;
	char *const *command;		 /* NULL-terminated, or NULL: the image's */
	const char *target;		 /* a container whose PID namespace it joins, or NULL */
	enum pp_pull_policy pull_policy; /* PP_PULL_DEFAULT: kubelet's default */
	bool stdin_open, tty;
};

/* Adds an ephemeral container to the running pod (as the API server does:
 * its name unique among all the pod's containers, the target one of them;
 * never removed). Its cgroup is made, its image resolved when present
 * (prepared, as pp_pod_instance_prepare_container; else for the caller
 * to pull); *index is its index. Nothing changes on failure. */
int pp_pod_instance_add_ephemeral(struct pp_pod_instance *pod,
				  const struct pp_ephemeral_request *req, size_t *index,
				  struct pp_error **err);

/* A CRI container (CreateContainer) added to a running CRI sandbox: spec
 * is taken (also on failure; pp_container_free'd); its name unique among
 * the pod's containers; its image must be in the store (ENOENT: "image
 * ... not found"): prepared now. It takes a removed container's slot or a
 * new one; *index is its slot. Nothing changes on failure. */
int pp_pod_instance_add_cri_container(struct pp_pod_instance *pod, struct pp_container *spec,
				      const char *log_path, size_t *index, struct pp_error **err);

/* RemoveContainer: container i (a CRI one, not running) goes: its
 * writable layer, cgroup and spec; its log stays. Its slot is free. */
int pp_pod_instance_remove_cri_container(struct pp_pod_instance *pod, size_t i,
					 struct pp_error **err);

/* Whether slot i holds a container (not a removed CRI container's). */
static inline bool pp_pod_slot_used(const struct pp_pod_instance *pod, size_t i)
{
	return !pod->containers[i].removed;
}

/* The pull policy kubelet applies to a container: imagePullPolicy, else
 * Always for a ":latest" or untagged reference, IfNotPresent otherwise. */
enum pp_pull_policy pp_pod_pull_policy(const struct pp_container *spec);

/* Prepares container i once its image is in the store: the image found and
 * pinned with the pod's others, the container's identity from its
 * /etc/passwd and securityContext (kubelet's checks: runAsNonRoot, the
 * seccomp profile). Nothing changes on failure. No-op when prepared. */
int pp_pod_instance_prepare_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err);

/* Starts (or restarts, with a fresh writable layer) container i. It must
 * have been prepared. On failure
 * the container is left TERMINATED with reason StartError, exit code 128. */
int pp_pod_instance_start_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err);

/* The same in two halves (see pp_container_spawn): spawn several, then
 * finish each, and their setups run at once. After spawn, out_fd and err_fd
 * are open; after finish the container is RUNNING or TERMINATED as above. */
int pp_pod_instance_spawn_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err);
int pp_pod_instance_finish_start(struct pp_pod_instance *pod, size_t i, struct pp_error **err);

/* Records the exit of container i (its pidfd became readable). */
void pp_pod_instance_container_exited(struct pp_pod_instance *pod, size_t i);

/* Sends the container's stop signal (lifecycle.stopSignal, the image's
 * StopSignal, else SIGTERM), or SIGKILL when force. */
void pp_pod_instance_signal_container(struct pp_pod_instance *pod, size_t i, bool force);

/* Kills whatever still runs, removes the containers' layers, volumes, cgroups
 * and the data directory. The state directory (status, events, the files the
 * sandbox wrote there) belongs to the pod's record and is removed with it
 * (src/state). Safe to call on a half-created pod and twice. */
int pp_pod_instance_destroy(struct pp_pod_instance *pod, struct pp_error **err);
/* Directories that destroy discards with the data directory (in the same
 * child) when every step before succeeded: the pod's record and logs,
 * when they go with the pod (`run`). Takes the strings (at most
 * PP_POD_DISCARD_ALSO). */
void pp_pod_instance_discard_also(struct pp_pod_instance *pod, char **dirs, char **trashes,
				  size_t n);
void pp_pod_instance_free(struct pp_pod_instance *pod);

/* What a pod whose supervisor died leaves behind, removed without its
 * instance: every process in its cgroup (killed), its cgroups, its data
 * directory data_dir (writable layers, emptyDirs, image pins) and its user
 * namespace id range. Idempotent. */
int pp_pod_remove_leftovers(const char *data_dir, const char *uid, struct pp_error **err);

/* The cgroups peapod made under the parents kubelet gave CRI sandboxes
 * (the ledger, pod_cgroup_parent.c): those of pods whose record is gone,
 * with their processes, and the levels peapod made that are empty. */
int pp_pod_cgroup_parents_gc(struct pp_error **err);

/* What destroy moved aside and a crash kept from being removed: everything
 * under <store root>/trash. Idempotent; *removed counts the entries. */
int pp_pod_empty_trash(const char *store_root, int *removed, struct pp_error **err);

/* A new random RFC 4122 version 4 UUID, as the API server gives pods. */
char *pp_pod_new_uid(void);

/* The container's process as Kubernetes composes it (exposed for tests):
 * argv from command/args or the image's Entrypoint/Cmd, with $(VAR)
 * expansion; env = image env < HOSTNAME < the manifest's env (expanded in
 * order). Return NULL-terminated arrays. */
int pp_pod_container_argv(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			  char ***argv, struct pp_error **err);
int pp_pod_container_env(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			 char ***envp, struct pp_error **err);

/* volume_dapi.c: whether volume v's files come (in part) from the
 * ConfigMap (secret false) or Secret called name. */
bool pp_volume_uses_object(const struct pp_volume *v, bool secret, const char *name);
/* Rewrites the files of volume i (downwardAPI, projected, configMap or
 * secret) from the object store, in one switch of its ..data; *changed
 * (may be NULL) says whether anything did; a volume that waited for its
 * object is set up (setup_error cleared). On a failure (a non-optional
 * object or key gone) nothing changes: the volume keeps its last content,
 * as kubelet's; err names the field (no "volume" prefix). Must run in the supervisor (which holds
 * the volume's fd). */
int pp_pod_instance_resync_volume(struct pp_pod_instance *pod, size_t i, bool *changed,
				  struct pp_error **err);
/* Whether some volume waits for its object (its setup_error set). */
bool pp_pod_instance_volumes_pending(const struct pp_pod_instance *pod);

/* process.c: whether container i's env can be made now (its ConfigMaps
 * and Secrets there), kubelet's message when not. *warnings (may be NULL;
 * a strv the caller frees, left NULL when none) gets kubelet's
 * InvalidEnvironmentVariableNames messages: the envFrom keys skipped. */
int pp_pod_container_env_check(const struct pp_pod_instance *pod, size_t i, char ***warnings,
			       struct pp_error **err);

/* env_refs.c: a container env's references to ConfigMaps and Secrets
 * (objects/objects.h), as kubelet resolves them. The value of a
 * configMapKeyRef or secretKeyRef (*value NULL: an optional one that is
 * missing); a missing object is kubelet's `configmap "x" not found`, a
 * missing key `couldn't find key k in ConfigMap ns/x`. */
int pp_pod_env_key_value(const char *ns, const struct pp_env_var *e, char **value,
			 struct pp_error **err);
/* The variables of an envFrom (prefix applied), in key order; the keys
 * that are not valid variable names are skipped, and listed in *invalid
 * when invalid is not NULL (kubelet's InvalidEnvironmentVariableNames). */
int pp_pod_env_from_values(const char *ns, const struct pp_env_from *e, struct pp_kv **kv,
			   size_t *n, char ***invalid, struct pp_error **err);

#endif

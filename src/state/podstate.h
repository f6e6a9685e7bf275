/* src/state: owns the records on disk under PEAPOD_RUN (a pod's state
 * directory, lock, names index, status and events files) and the user
 * namespace id ranges; uses only src/util. Must not start or signal
 * processes, know the pod instance, print or exit.
 *
 * The on-disk record of the pods on this host, shared by the supervisors and
 * the CLI. No daemon: each pod's supervisor writes its pod's files, the CLI
 * reads them and talks to that one supervisor over its control socket.
 *
 *   $PEAPOD_RUN/pods/<uid>/          the pod's state directory
 *       lock         flock()ed exclusively by the supervisor for its whole
 *                    life (and by `apply` before it): free = nobody runs it
 *       status.json  the pod object, Kubernetes field names (written
 *                    atomically on every change)
 *       events       kubectl-style events, one JSON object per line
 *       ctl.sock     the supervisor's control socket
 *       manifest     the manifest as applied
 *   $PEAPOD_RUN/names/<namespace>/<name>   the uid of the pod of that name
 *                    (created with link(2), so only one claim wins)
 *   $PEAPOD_LOG_DIR/pods/<namespace>_<name>_<uid>/<container>/<restart>.log
 *
 * A pod's record outlives its supervisor when the pod completed (status
 * "finished": true): kubectl shows Completed/Error pods until deleted. */
#ifndef PEAPOD_PODSTATE_H
#define PEAPOD_PODSTATE_H

#include "util/fs.h"
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "util/error.h"

#define PP_STATE_LOCK "lock"
/* A record being made: pods/.new-<uid>, renamed to pods/<uid> once locked. */
#define PP_STATE_NEW_PREFIX ".new-"
#define PP_STATE_STATUS "status.json"
#define PP_STATE_EVENTS "events"
#define PP_STATE_SOCKET "ctl.sock"
#define PP_STATE_MANIFEST "manifest"

/* $PEAPOD_RUN or /run/peapod; $PEAPOD_LOG_DIR or /var/log/peapod. */
const char *pp_run_dir(void);
/* Removed records, logs and pod files wait for their unlinking in
 * <run dir>/trash, <log root>/trash, <store root>/trash (util/fs.h's
 * PP_TRASH_NAME). */
const char *pp_log_root(void);

/* New strings. */
char *pp_state_dir(const char *uid);
char *pp_state_file(const char *uid, const char *file);
char *pp_pod_log_dir(const char *ns, const char *name, const char *uid);

/* Creates the state directory of a new pod (it must not exist) and takes its
 * lock; *lock_fd keeps it (inherited across fork, so the supervisor keeps it). */
int pp_state_create(const char *uid, int *lock_fd, struct pp_error **err);

/* True when some process holds the pod's lock (its supervisor, or `apply`). */
bool pp_state_is_locked(const char *uid);

/* Takes the pod's lock, waiting for at most timeout_ms (-1: forever); used to
 * remove a record nobody runs. Returns the fd, -1 with EWOULDBLOCK on timeout. */
int pp_state_lock(const char *uid, int timeout_ms, struct pp_error **err);

/* Claims <namespace>/<name> for uid: fails with EEXIST ("pods \"x\" already
 * exists") when another pod has it. */
int pp_name_claim(const char *ns, const char *name, const char *uid, struct pp_error **err);
/* The uid of the pod of that name; ENOENT with kubectl's "pods \"x\" not found". */
int pp_name_lookup(const char *ns, const char *name, char **uid, struct pp_error **err);
/* Releases the name if it still belongs to uid. Idempotent. */
void pp_name_release(const char *ns, const char *name, const char *uid);

/* Reads the pod's status.json (NULL with ENOENT when there is none yet). */
int pp_state_read_status(const char *uid, struct json_object **out, struct pp_error **err);

/* Every pod record: (namespace, name, uid) triples from the names index;
 * ns NULL = all namespaces. Sorted by namespace then name. */
struct pp_pod_ref {
	char *ns, *name, *uid;
};
int pp_pod_list(const char *ns, struct pp_pod_ref **out, size_t *n, struct pp_error **err);
void pp_pod_refs_free(struct pp_pod_ref *refs, size_t n);

/* The records under pods/ that no name refers to (an apply that died
 * before it claimed the name, or between the name's release and the
 * record's removal), as uids; and the half-made pods/.new-<uid> records
 * whose maker died (lock free, or no lock file after a minute), removed.
 * NULL-terminated (strv_free). */
int pp_state_orphans(char ***uids, struct pp_error **err);

/* Removes a pod's record: state directory, logs, name. Idempotent. */
int pp_state_remove(const char *ns, const char *name, const char *uid, struct pp_error **err);

/* What pp_state_remove discards, for a caller that discards them itself
 * (with other directories, in one child: pp_discard_dirs): the logs and
 * the state directory, each with its path in the trash (free all four).
 * The name is then released with pp_name_release. */
#define PP_STATE_DISCARD_N 2
void pp_state_discard_paths(const char *ns, const char *name, const char *uid,
			    char *dirs[PP_STATE_DISCARD_N], char *trashes[PP_STATE_DISCARD_N]);

#endif

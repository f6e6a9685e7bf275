/* `peapod apply`: claims the pod's state directory (and its lock) and name,
 * starts its supervisor (supervisor/daemon.c) and waits for its word. */
#include "ops/apply.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "net/netconf.h"
#include "ops/claims.h"
#include "pod/pod.h"
#include "state/podstate.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fs.h"

#define MANIFEST_MODE 0600
/* A supervisor that died without a word is taken down once its lock is free. */
#define DEAD_LOCK_WAIT_MS 5000

/* The command line's -n and --network over the manifest's. */
static int apply_overrides(struct pp_pod *spec, const struct pp_apply_opts *o,
			   struct pp_error **err)
{
	const char *ns = o->namespace_;
	if (ns != NULL && strcmp(spec->namespace_, "default") == 0) {
		free(spec->namespace_);
		spec->namespace_ = xstrdup(ns);
	} else if (ns != NULL && strcmp(spec->namespace_, ns) != 0) {
		pp_error_set(err, 0,
			     "the namespace from the provided object \"%s\" does not match the "
			     "namespace \"%s\"",
			     spec->namespace_, ns);
		return PP_APPLY_BAD_REQUEST;
	}
	if (o->network != NULL)
		pp_net_set_network(spec, o->network);
	return 0;
}

static int write_manifest(const char *uid, const struct pp_apply_opts *opts, struct pp_error **err)
{
	if (opts->manifest == NULL)
		return 0;
	cleanup_free char *path = pp_state_file(uid, PP_STATE_MANIFEST);
	return pp_write_file_atomic(path, opts->manifest, opts->manifest_len, MANIFEST_MODE, err);
}

static int write_extra(const char *uid, const struct pp_apply_opts *opts, struct pp_error **err)
{
	if (opts->extra_file == NULL)
		return 0;
	cleanup_free char *path = pp_state_file(uid, opts->extra_file);
	return pp_write_file_atomic(path, opts->extra_data, opts->extra_len, MANIFEST_MODE, err);
}

/* A supervisor that died without a word left its pod half made: take it
 * down as gc would (its own failures clean up before they report). */
static void remove_half_made(const char *ns, const char *name, const char *uid,
			     const char *store_root)
{
	cleanup_close int dead = pp_state_lock(uid, DEAD_LOCK_WAIT_MS, NULL);
	if (dead < 0)
		return;
	struct pp_image_store *store = NULL;
	if (pp_image_store_open(store_root, &store, NULL) == 0) {
		cleanup_free char *data = xasprintf("%s/pods/%s", pp_image_store_root(store), uid);
		pp_pod_remove_leftovers(data, uid, NULL);
		pp_image_store_free(store);
	}
	pp_state_remove(ns, name, uid, NULL);
}

int pp_pod_apply(struct pp_pod *spec, const struct pp_apply_opts *opts, char **uid_out,
		 struct pp_error **err)
{
	int r = apply_overrides(spec, opts, err);
	if (r == 0 && pp_claims_check_pod(spec, err) < 0)
		r = PP_APPLY_BAD_REQUEST;
	if (r < 0) {
		pp_pod_free(spec);
		return r;
	}
	if (spec->uid == NULL)
		spec->uid = pp_pod_new_uid();
	cleanup_free char *uid = xstrdup(spec->uid);
	cleanup_free char *ns = xstrdup(spec->namespace_);
	cleanup_free char *name = xstrdup(spec->name);
	cleanup_close int lock = -1;
	int sync[2] = {-1, -1};
	if (pp_state_create(uid, &lock, err) < 0) {
		pp_pod_free(spec);
		return -1;
	}
	if (write_manifest(uid, opts, err) < 0 || write_extra(uid, opts, err) < 0 ||
	    pp_fault("apply record", err) < 0 || pp_name_claim(ns, name, uid, err) < 0 ||
	    pp_fault("apply name", err) < 0 || pipe2(sync, O_CLOEXEC) < 0) {
		if (sync[0] < 0 && (*err == NULL))
			pp_error_set(err, errno, "pipe");
		cleanup_free char *dir = pp_state_dir(uid);
		pp_rm_rf(dir, NULL);
		pp_name_release(ns, name, uid);
		pp_pod_free(spec);
		return -1;
	}
	bool once = opts->short_lived_caller;
	int await[2] = {-1, -1};
	if (opts->await_fd != NULL &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, await) < 0)
		await[0] = await[1] = -1; /* then run asks on a connection of its own */
	pid_t a =
	    pp_supervisor_spawn(spec, opts->store_root, lock, sync[1], sync[0], await[1], once);
	int fork_errno = errno;
	close(sync[1]);
	cleanup_closep(&await[1]);
	cleanup_close int await_rd = await[0];
	cleanup_close int rd = sync[0];
	pp_pod_free(spec);
	if (a < 0) {
		pp_state_remove(ns, name, uid, NULL);
		return pp_error_set(err, fork_errno, "fork");
	}
	while (!once && waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	/* Only the supervisor holds the lock now (and the intermediate
	 * process until it exits, at once). */
	cleanup_closep(&lock);
	if (pp_supervisor_read_report(rd, err) < 0) {
		if ((*err)->status == ECHILD)
			remove_half_made(ns, name, uid, opts->store_root);
		return -1;
	}
	if (uid_out != NULL)
		*uid_out = steal_ptr(&uid);
	if (opts->await_fd != NULL)
		*opts->await_fd = steal_fd(&await_rd);
	return 0;
}

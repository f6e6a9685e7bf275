/* A pod instance: creation in a fixed order, container starts, teardown. */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "net/podnet.h"
#include "objects/objects.h"
#include "pod/pod_internal.h"
#include "security/seccomp.h"
#include "state/idrange.h"
#include "state/podstate.h"
#include "util/cleanup.h"
#include "util/fault.h"
#include "util/fs.h"
#include "util/image_reference.h"
#include "util/proc.h"
#include "util/trace.h"

#define STATE_DIR_MODE 0700
#define DATA_DIR_MODE 0700

/* A random RFC 4122 version 4 UUID, as the API server gives pods. */
char *pp_pod_new_uid(void)
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
}

/* Errors about a manifest's content found here (an image not in the store,
 * a hostPath that fails its check) name the place in the file too. */
static int wrap_at(struct pp_error **err, const struct pp_pod *spec, struct pp_pos pos,
		   const char *field)
{
	return pp_error_wrap(err, "%s:%d:%d: %s", spec->source ? spec->source : "-", pos.line,
			     pos.col, field);
}

/* The policy kubelet applies: the manifest's, else Always for a :latest (or
 * untagged) reference, IfNotPresent for any other tag or a digest alone. */
enum pp_pull_policy pp_pod_pull_policy(const struct pp_container *spec)
{
	if (spec->pull_policy != PP_PULL_DEFAULT)
		return spec->pull_policy;
	struct pp_image_ref ref = {0};
	enum pp_pull_policy p = PP_PULL_IF_NOT_PRESENT;
	if (pp_image_ref_parse(spec->image, &ref, NULL) == 0 && ref.tag != NULL &&
	    strcmp(ref.tag, "latest") == 0)
		p = PP_PULL_ALWAYS;
	pp_image_ref_free(&ref);
	return p;
}

static char *container_field(const struct pp_pod_instance *pod, size_t i, const char *what)
{
	if (i >= pod->n_containers)
		return xasprintf("spec.ephemeralContainers[%zu].%s", i - pod->n_containers, what);
	bool init = i < pod->n_init;
	return xasprintf("spec.%s[%zu].%s", init ? "initContainers" : "containers",
			 init ? i : i - pod->n_init, what);
}

/* The pin keeps the images of every prepared container (the file is
 * rewritten whole each time one more is). */
static int pin_images(struct pp_pod_instance *pod, struct pp_error **err)
{
	struct pp_image **images = xmalloc(sizeof(*images) * (pp_pod_n_all(pod) + 1));
	size_t n = 0;
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (pod->containers[i].image != NULL)
			images[n++] = pod->containers[i].image;
	cleanup_free char *name = xasprintf("%s/%s", pod->spec->namespace_, pod->spec->name);
	int ret = n == 0 ? 0 : pp_image_pin(pod->store, pod->uid, name, images, n, err);
	free(images);
	return ret;
}

/* A container's image and who it runs as (the image's user, the
 * securityContext, with the checks kubelet makes before a start). On
 * failure the container has no image: c->image is set only when both are
 * done. */
static int prepare_container(struct pp_pod_instance *pod, size_t i, bool *missing,
			     struct pp_error **err)
{
	struct pp_pod_container *c = &pod->containers[i];
	struct pp_image *img = NULL;
	if (pp_image_get(pod->store, c->spec->image, &img, err) < 0) {
		*missing = true;
		return -1;
	}
	*missing = false;
	c->image = img;
	if (pp_pod_container_identity(pod, c, pp_image_store_root(pod->store), err) < 0) {
		c->image = NULL;
		pp_image_free(img);
		return -1;
	}
	return 0;
}

int pp_pod_instance_prepare_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err)
{
	struct pp_pod_container *c = &pod->containers[i];
	bool missing = false;
	if (c->image != NULL)
		return 0;
	if (prepare_container(pod, i, &missing, err) < 0)
		return -1;
	if (pin_images(pod, err) < 0) {
		pp_image_free(c->image);
		c->image = NULL;
		return -1;
	}
	return 0;
}

/* Step 1: the containers whose image is here already (and not to be pulled
 * again: Always) are prepared now, and a refused one (runAsNonRoot, a bad
 * seccomp profile) fails the pod before anything is created. The others
 * are prepared by the supervisor once their image is pulled. */
static int prepare_present(struct pp_pod_instance *pod, struct pp_error **err)
{
	/* Compiled seccomp filters are kept beside the images (see seccomp.h). */
	cleanup_free char *cache = xasprintf("%s/seccomp-cache", pp_image_store_root(pod->store));
	pp_seccomp_set_cache_dir(cache);
	for (size_t i = 0; i < pod->n_containers; i++) {
		struct pp_pod_container *c = &pod->containers[i];
		bool missing = false;
		if (pp_pod_pull_policy(c->spec) == PP_PULL_ALWAYS)
			continue;
		struct pp_error *e = NULL;
		if (prepare_container(pod, i, &missing, &e) == 0)
			continue;
		if (missing) {
			pp_error_free(&e);
			continue;
		}
		*err = e;
		cleanup_free char *field = container_field(pod, i, "securityContext");
		return wrap_at(err, pod->spec, c->spec->pos, field);
	}
	return 0;
}

/* A persistentVolumeClaim volume: the claim's directory, which the claim
 * made and which outlives the pod. */
static int claim_path(struct pp_pod_instance *pod, size_t i, struct pp_error **err)
{
	struct pp_pod_volume *pv = &pod->volumes[i];
	struct pp_config_object *claim = NULL;
	int r = pp_object_get(PP_OBJ_PVC, pod->spec->namespace_, pv->spec->claim_name, &claim, err);
	if (r == 0)
		r = pp_pvc_path(claim, &pv->path, err);
	pp_object_free(claim);
	cleanup_free char *field =
	    xasprintf("spec.volumes[%zu].persistentVolumeClaim.claimName", i);
	if (r < 0)
		return wrap_at(err, pod->spec, pv->spec->pos, field);
	struct stat st;
	errno = 0;
	if (stat(pv->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pp_error_set(err, errno ? errno : ENOTDIR, "the claim's directory %s", pv->path);
		return wrap_at(err, pod->spec, pv->spec->pos, field);
	}
	return 0;
}

/* Step 2: hostPath checks (and *OrCreate creations), still before anything of ours exists. */
static int check_host_paths(struct pp_pod_instance *pod, struct pp_error **err)
{
	for (size_t i = 0; i < pod->n_volumes; i++) {
		struct pp_pod_volume *pv = &pod->volumes[i];
		pv->fd = -1;
		pv->is_dir = true;
		if (pv->spec->kind == PP_VOLUME_PVC && claim_path(pod, i, err) < 0)
			return -1;
		if (pv->spec->kind != PP_VOLUME_HOST_PATH)
			continue;
		if (pp_pod_check_host_path(pv->spec, &pv->is_dir, err) < 0) {
			cleanup_free char *field = xasprintf("spec.volumes[%zu].hostPath", i);
			return wrap_at(err, pod->spec, pv->spec->pos, field);
		}
		pv->path = xstrdup(pv->spec->host_path);
	}
	return 0;
}

static void init_containers(struct pp_pod_instance *pod)
{
	const struct pp_pod *s = pod->spec;
	pod->n_init = s->n_init_containers;
	pod->n_containers = s->n_init_containers + s->n_containers;
	/* the ephemeral containers' slots too, set up when one is added */
	pod->n_ephemeral = 0;
	pod->slots = s->cri ? PP_POD_MAX_CRI_CONTAINERS : PP_POD_MAX_EPHEMERAL;
	pod->containers = xmalloc(sizeof(*pod->containers) * (pod->n_containers + pod->slots));
	for (size_t i = 0; i < pod->n_containers; i++) {
		struct pp_pod_container *c = &pod->containers[i];
		c->spec =
		    i < pod->n_init ? &s->init_containers[i] : &s->containers[i - pod->n_init];
		c->is_sidecar = c->spec->is_init && c->spec->has_restart_policy &&
				c->spec->restart_policy == PP_RESTART_ALWAYS;
		c->pidfd = c->mntns_fd = c->in_fd = c->out_fd = c->err_fd = -1;
		c->state = PP_CTR_WAITING;
		c->is_ephemeral = c->has_target = false;
		c->cri = c->removed = false;
		c->log_path = NULL;
		c->owned_spec = NULL;
	}
	pod->n_volumes = s->n_volumes;
	pod->volumes = xmalloc(sizeof(*pod->volumes) * (pod->n_volumes + 1));
	for (size_t i = 0; i < pod->n_volumes; i++) {
		pod->volumes[i].spec = &s->volumes[i];
		pod->volumes[i].fd = -1;
	}
}

/* Step 3: state and data directories (with the pin that keeps our images'
 * layers in the store while we run). */
static int create_dirs(struct pp_pod_instance *pod, struct pp_error **err)
{
	cleanup_free char *pods = xasprintf("%s/pods", pp_image_store_root(pod->store));
	cleanup_free char *groups =
	    xasprintf("%s/%s", pp_image_store_root(pod->store), PP_GROUPS_NAME);
	if (pp_mkdir_p(pod->state_dir, STATE_DIR_MODE, err) < 0 ||
	    pp_mkdir_p(pods, DATA_DIR_MODE, err) < 0 ||
	    pp_mkdir_grouped(pod->data_dir, groups, DATA_DIR_MODE, false, err) < 0)
		return -1;
	if (pin_images(pod, err) < 0)
		return -1;
	for (size_t i = 0; i < pod->n_containers; i++) {
		struct pp_pod_container *c = &pod->containers[i];
		c->dir = xasprintf("%s/containers/%s", pod->data_dir, c->spec->name);
	}
	return 0;
}

static bool in_user_namespace(const struct pp_pod_instance *pod)
{
	return pod->spec->has_host_users && !pod->spec->host_users;
}

/* What the sandbox is given of the pod; fds: where its infra process is
 * born (and moves itself). */
static struct pp_sandbox_config sandbox_config(const struct pp_pod_instance *pod, const int *fds,
					       size_t n)
{
	return (struct pp_sandbox_config){
	    .pod = pod->spec,
	    .uid = pod->uid,
	    .state_dir = pod->state_dir,
	    .cgroup_procs_fds = fds,
	    .n_cgroup_procs_fds = n,
	    .cgroup = pod->cgroup,
	    .id_base = pod->id_base,
	    .id_count = pod->userns ? PP_IDRANGE_SIZE : 0,
	};
}

/* Step 3b: the infra process, ahead: cloned as soon as the pod cgroup is
 * made where it is born (cgroup2), it makes the pod's namespaces (a
 * network namespace: ~0.4 ms here) on another CPU while this one makes
 * the pod's other cgroups, the containers', their limits (step 3c). Not in
 * a user namespace (made in it, by a child that waits for its maps), nor
 * under kubelet's cgroup parent (made in one step): then step 4 starts it. */
static int begin_sandbox(struct pp_pod_instance *pod, struct pp_error **err)
{
	if (in_user_namespace(pod))
		return 0;
	int r = pp_pod_cgroup_first(pod, err);
	if (r <= 0)
		return r;
	int *fds = NULL;
	size_t n = 0;
	if (pp_cgroup_infra_born_fds(pod->cgroup, &fds, &n, err) < 0)
		return -1;
	struct pp_sandbox_config cfg = sandbox_config(pod, fds, n);
	r = pp_sandbox_begin(&cfg, &pod->sandbox, err);
	pp_cgroup_procs_fds_close(fds, n);
	return r;
}

/* hostUsers: false: the pod's id range, recorded before anything uses it. */
static int alloc_id_range(struct pp_pod_instance *pod, struct pp_error **err)
{
	if (!pod->spec->has_host_users || pod->spec->host_users)
		return 0;
	/* a CRI sandbox's range is kubelet's choice */
	if (pod->spec->has_cri_id_base) {
		if (pp_idrange_claim(pod->uid, pod->spec->cri_id_base, err) < 0)
			return -1;
		pod->id_base = pod->spec->cri_id_base;
	} else if (pp_idrange_alloc(pod->uid, &pod->id_base, err) < 0) {
		return -1;
	}
	pod->userns = true;
	return 0;
}

/* Step 4: the sandbox (infra process, /dev/shm, /etc files). */
static int create_sandbox(struct pp_pod_instance *pod, int infra_adj, struct pp_error **err)
{
	int *fds = NULL;
	size_t n = 0;
	/* begun (step 3b): it moves itself into the pod's cgroups made since */
	int r = pod->sandbox != NULL ? pp_sandbox_cgroups_made(pod->sandbox, err)
				     : pp_cgroup_infra_procs_fds(pod->cgroup, &fds, &n, err);
	if (r < 0)
		return -1;
	struct pp_sandbox_config cfg = sandbox_config(pod, fds, n);
	cfg.infra_oom_score_adj = infra_adj;
	cfg.set_infra_oom_score_adj = true;
	int ret = pp_sandbox_create(&cfg, &pod->sandbox, err);
	pp_cgroup_procs_fds_close(fds, n);
	return ret;
}

int pp_pod_instance_create(struct pp_pod *spec, struct pp_image_store *store,
			   struct pp_pod_instance **out, struct pp_error **err)
{
	struct pp_pod_instance *pod = xmalloc(sizeof(*pod));
	pod->spec = spec;
	pod->store = store;
	pod->volumes_ns_fd = -1;
	pod->uid = spec->uid ? xstrdup(spec->uid) : pp_pod_new_uid();
	pod->state_dir = xasprintf("%s/pods/%s", pp_run_dir(), pod->uid);
	pod->data_dir = xasprintf("%s/pods/%s", pp_image_store_root(store), pod->uid);
	pod->trash_dir = xasprintf("%s/%s/%s", pp_image_store_root(store), PP_TRASH_NAME, pod->uid);
	init_containers(pod);

	/* Checks first: a pod that cannot run creates nothing. */
	if (prepare_present(pod, err) < 0 || check_host_paths(pod, err) < 0) {
		pp_pod_instance_free(pod);
		return -1;
	}
	/* Then every resource, each owned by pod and removed by destroy. */
	int infra_adj = 0;
	if (create_dirs(pod, err) < 0 || begin_sandbox(pod, err) < 0 ||
	    pp_pod_cgroups_create(pod, &infra_adj, err) < 0 || pp_fault("pod cgroups", err) < 0 ||
	    alloc_id_range(pod, err) < 0 || pp_fault("pod id range", err) < 0 ||
	    pp_pod_volumes_create(pod, err) < 0 || pp_fault("pod volumes", err) < 0 ||
	    create_sandbox(pod, infra_adj, err) < 0 || pp_fault("pod sandbox", err) < 0) {
		pp_pod_instance_destroy(pod, NULL);
		pp_pod_instance_free(pod);
		return -1;
	}
	*out = pod;
	return 0;
}

/* A fresh writable layer: a restarted container starts from the image again,
 * as a new container does in Kubernetes. */
static int fresh_layer(struct pp_pod_container *c, char **upper, char **work, char **rootfs,
		       struct pp_error **err)
{
	*upper = xasprintf("%s/upper", c->dir);
	*work = xasprintf("%s/work", c->dir);
	*rootfs = xasprintf("%s/rootfs", c->dir);
	if (pp_rm_rf(c->dir, err) < 0)
		return -1;
	if (pp_mkdir_p(*upper, 0755, err) < 0 || pp_mkdir_p(*work, 0700, err) < 0 ||
	    pp_mkdir_p(*rootfs, 0755, err) < 0)
		return -1;
	return 0;
}

static void close_stdio(struct pp_pod_container *c)
{
	cleanup_closep(&c->in_fd);
	cleanup_closep(&c->out_fd);
	cleanup_closep(&c->err_fd);
}

/* The terminated state's message is why, as containerd reports it. */
static void mark_start_error(struct pp_pod_container *c, const struct pp_error *err)
{
	free(c->message);
	c->message = NULL;
	if (err != NULL) {
		char buf[1024]; /* with its errno's text: exec's E2BIG, EACCES, ... */
		c->message = xstrdup(pp_error_text(err, buf, sizeof(buf)));
	}
	c->state = PP_CTR_TERMINATED;
	c->exit_code = PP_EXIT_START_ERROR;
	c->signal = 0;
	c->reason = "StartError";
	clock_gettime(CLOCK_REALTIME, &c->finished_at);
	/* It never ran: the restart back-off grows (a stale started_at made
	 * it look long-lived, and restarted at once, in a loop). */
	c->started_at = c->finished_at;
}

struct start_ctx {
	char **argv, **envp, **owned;
	char *upper, *work, *rootfs;
	struct pp_mount_spec *mounts;
	size_t n_mounts;
	int *cg_fds;
	size_t n_cg_fds;
	int out[2], errp[2], in; /* in: the container's stdin (read end, or /dev/null) */
	char *termlog;		 /* the file behind terminationMessagePath */
};

static void start_ctx_free(struct start_ctx *s)
{
	strv_free(s->argv);
	strv_free(s->envp);
	strv_free(s->owned);
	free(s->upper);
	free(s->work);
	free(s->rootfs);
	free(s->termlog);
	free(s->mounts);
	pp_cgroup_procs_fds_close(s->cg_fds, s->n_cg_fds);
	for (int i = 0; i < 2; i++) {
		cleanup_closep(&s->out[i]);
		cleanup_closep(&s->errp[i]);
	}
	cleanup_closep(&s->in);
}

/* terminationMessagePath: a file of the container's own directory,
 * bind-mounted at that path, so that what the container writes there is
 * still readable once it has exited (its mount namespace gone). */
static int add_termination_log(struct pp_pod_container *c, struct start_ctx *s,
			       struct pp_error **err)
{
	if (c->spec->termination_message_path == NULL)
		return 0;
	s->termlog = xasprintf("%s/termination-log", c->dir);
	cleanup_close int fd = open(s->termlog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 || fchmod(fd, 0666) < 0)
		return pp_error_set(err, errno, "create %s", s->termlog);
	s->mounts = xrealloc(s->mounts, sizeof(*s->mounts) * (s->n_mounts + 1));
	s->mounts[s->n_mounts++] =
	    (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
				   .source = s->termlog,
				   .target = c->spec->termination_message_path,
				   .target_is_file = true};
	return 0;
}

static int prepare_start(struct pp_pod_instance *pod, struct pp_pod_container *c,
			 struct start_ctx *s, struct pp_error **err)
{
	/* the fresh layer first: the image's volumes are made in its directory */
	if (fresh_layer(c, &s->upper, &s->work, &s->rootfs, err) < 0 ||
	    pp_fault("ctr writable layer", err) < 0 ||
	    pp_pod_container_env(pod, c, &s->envp, err) < 0 ||
	    pp_pod_container_argv(pod, c, &s->argv, err) < 0 ||
	    pp_pod_container_mounts(pod, c, s->envp, &s->mounts, &s->n_mounts, &s->owned, err) <
		0 ||
	    pp_cgroup_procs_fds(c->cgroup, &s->cg_fds, &s->n_cg_fds, err) < 0)
		return -1;
	/* The writable layer's root is the overlay's "/": the pod's root owns
	 * it, and what it writes there is its own ids on the host too. */
	if (pod->userns && chown(s->upper, pod->id_base, pod->id_base) < 0)
		return pp_error_set(err, errno, "chown %s", s->upper);
	if (add_termination_log(c, s, err) < 0)
		return -1;
	/* tty: true: the container's terminal carries all of its input and
	 * output (the pty master comes back from its start). */
	if (c->spec->tty)
		return 0;
	if (pipe2(s->out, O_CLOEXEC) < 0 || pipe2(s->errp, O_CLOEXEC) < 0)
		return pp_error_set(err, errno, "pipe");
	/* stdin: true: a pipe whose write end the supervisor keeps for attach;
	 * otherwise nothing to read. */
	if (c->spec->stdin_open) {
		int in[2];
		if (pipe2(in, O_CLOEXEC) < 0)
			return pp_error_set(err, errno, "pipe");
		s->in = in[0];
		c->in_fd = in[1];
		return 0;
	}
	s->in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->in < 0)
		return pp_error_set(err, errno, "open /dev/null");
	return 0;
}

int pp_pod_instance_spawn_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err)
{
	struct pp_pod_container *c = &pod->containers[i];
	struct start_ctx s = {.out = {-1, -1}, .errp = {-1, -1}, .in = -1};
	close_stdio(c);
	/* the last instance's mounts go before its layer is made again */
	cleanup_closep(&c->mntns_fd);
	if (c->image == NULL) {
		pp_error_set(err, 0, "container %s: image \"%s\" is not ready", c->spec->name,
			     c->spec->image);
		goto fail;
	}
	if (c->has_target && pod->containers[c->target].pidfd < 0) {
		pp_error_set(err, 0, "container %s: target container %s is not running",
			     c->spec->name, pod->containers[c->target].spec->name);
		goto fail;
	}
	if (prepare_start(pod, c, &s, err) < 0)
		goto fail;
	pp_trace("ctr %s prepared", c->spec->name);

	const char *lower[PP_IMAGE_MAX_LAYERS];
	size_t n_lower = 0;
	for (char **l = c->image->layers; l && *l && n_lower < PP_IMAGE_MAX_LAYERS; l++)
		lower[n_lower++] = *l;
	struct pp_container_config cfg = {
	    .name = c->spec->name,
	    .lower_dirs = lower,
	    .n_lower_dirs = n_lower,
	    .upper_dir = s.upper,
	    .work_dir = s.work,
	    .rootfs_dir = s.rootfs,
	    .ns_pidfd = pod->sandbox->infra_pidfd,
	    .join_ns = pod->sandbox->join_ns,
	    .new_pid_ns = pod->sandbox->own_pid_ns,
	    .join_target_pid_ns = c->has_target,
	    .target_pidfd = c->has_target ? pod->containers[c->target].pidfd : -1,
	    .userns = pod->userns,
	    .userns_fd = pod->sandbox->userns_fd,
	    .volumes_ns_fd = pod->volumes_ns_fd,
	    .id_base = pod->id_base,
	    .devices = c->devices,
	    .n_devices = c->n_devices,
	    .mounts = s.mounts,
	    .n_mounts = s.n_mounts,
	    .argv = s.argv,
	    .envp = s.envp,
	    .identity = c->identity,
	    .stdin_fd = s.in,
	    .stdout_fd = s.out[1],
	    .stderr_fd = s.errp[1],
	    .tty = c->spec->tty,
	    .cgroup_procs_fds = s.cg_fds,
	    .n_cgroup_procs_fds = s.n_cg_fds,
	    .set_oom_score_adj = true,
	    .oom_score_adj = c->oom_score_adj,
	};
	/* OOM kills are counted per cgroup, which outlives a restart. */
	c->oom_kills = pp_cgroup_oom_kills(c->cgroup);
	if (pp_container_spawn(&cfg, &c->spawn, err) < 0)
		goto fail;
	c->spawning = true;
	c->out_fd = steal_fd(&s.out[0]);
	c->err_fd = steal_fd(&s.errp[0]);
	start_ctx_free(&s);
	return 0;
fail:
	start_ctx_free(&s);
	mark_start_error(c, err ? *err : NULL);
	return -1;
}

int pp_pod_instance_finish_start(struct pp_pod_instance *pod, size_t i, struct pp_error **err)
{
	struct pp_pod_container *c = &pod->containers[i];
	struct pp_container_process proc;
	c->spawning = false;
	if (pp_container_spawn_finish(&c->spawn, &proc, err) < 0) {
		close_stdio(c);
		mark_start_error(c, err ? *err : NULL);
		return -1;
	}
	c->pid = proc.pid;
	c->pidfd = proc.pidfd;
	c->mntns_fd = proc.mntns_fd;
	if (proc.pty_master >= 0) {
		/* Everything it prints is its stdout (as kubelet logs a tty);
		 * with stdin: true, attach writes to the same terminal. */
		c->out_fd = proc.pty_master;
		if (c->spec->stdin_open)
			c->in_fd = fcntl(proc.pty_master, F_DUPFD_CLOEXEC, 3);
	}
	c->state = PP_CTR_RUNNING;
	c->reason = NULL;
	clock_gettime(CLOCK_REALTIME, &c->started_at);
	return 0;
}

int pp_pod_instance_start_container(struct pp_pod_instance *pod, size_t i, struct pp_error **err)
{
	if (pp_pod_instance_spawn_container(pod, i, err) < 0)
		return -1;
	return pp_pod_instance_finish_start(pod, i, err);
}

/* What the container left in its terminationMessagePath (kubelet reads at
 * most 4096 bytes). */
static void read_termination_message(struct pp_pod_container *c)
{
	free(c->message);
	c->message = NULL;
	if (c->spec->termination_message_path == NULL || c->dir == NULL)
		return;
	cleanup_free char *path = xasprintf("%s/termination-log", c->dir);
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[PP_TERMINATION_MESSAGE_MAX];
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), 0);
	if (n > 0)
		c->message = strndup(buf, (size_t)n);
}

void pp_pod_instance_container_exited(struct pp_pod_instance *pod, size_t i)
{
	struct pp_pod_container *c = &pod->containers[i];
	siginfo_t info = {0};
	if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &info, WEXITED) < 0)
		info.si_code = CLD_KILLED, info.si_status = SIGKILL;
	cleanup_closep(&c->pidfd);
	c->state = PP_CTR_TERMINATED;
	clock_gettime(CLOCK_REALTIME, &c->finished_at);
	if (info.si_code == CLD_EXITED) {
		c->exit_code = info.si_status;
		c->signal = 0;
	} else {
		/* Killed by a signal: exit code 128+signal, as the CRI reports it. */
		c->signal = info.si_status;
		c->exit_code = 128 + info.si_status;
	}
	c->reason = c->exit_code == 0 ? "Completed" : "Error";
	/* The kernel OOM-killed in the container's cgroup since it started:
	 * OOMKilled, whatever the exit code, as containerd reports it. Read
	 * once here, after the exit: no watcher, no race with the exit. */
	if (c->cgroup != NULL && pp_cgroup_oom_kills(c->cgroup) > c->oom_kills)
		c->reason = "OOMKilled";
	read_termination_message(c);
}

static int stop_signal(const struct pp_pod_container *c)
{
	const char *name = c->spec->lifecycle.stop_signal;
	if (name == NULL && c->image != NULL)
		name = c->image->config.stop_signal;
	if (name == NULL)
		return SIGTERM;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (int s = 1; s < NSIG; s++) {
		const char *abbrev = sigabbrev_np(s);
		if (abbrev && strcmp(abbrev, name) == 0)
			return s;
	}
	int n = atoi(name);
	return n > 0 && n < NSIG ? n : SIGTERM;
}

void pp_pod_instance_signal_container(struct pp_pod_instance *pod, size_t i, bool force)
{
	struct pp_pod_container *c = &pod->containers[i];
	if (c->state != PP_CTR_RUNNING || c->pidfd < 0)
		return;
	pp_pidfd_send_signal(c->pidfd, force ? SIGKILL : stop_signal(c));
}

int pp_pod_empty_trash(const char *store_root, int *removed, struct pp_error **err)
{
	cleanup_free char *root = xasprintf("%s/%s", store_root, PP_TRASH_NAME);
	return pp_empty_trash(root, removed, err);
}

int pp_pod_instance_destroy(struct pp_pod_instance *pod, struct pp_error **err)
{
	int ret = 0;
	/* Processes first: every container, then the infra process, then
	 * whatever is left in the pod cgroup (double-forked daemons). */
	for (size_t i = 0; i < pp_pod_n_all(pod); i++) {
		struct pp_pod_container *c = &pod->containers[i];
		if (c->spawning) {
			struct pp_error *e = NULL;
			if (pp_pod_instance_finish_start(pod, i, &e) < 0)
				pp_error_free(&e);
		}
		if (c->state == PP_CTR_RUNNING && c->pidfd >= 0) {
			pp_pidfd_kill_and_reap(c->pidfd);
			cleanup_closep(&c->pidfd);
			c->state = PP_CTR_TERMINATED;
		}
		close_stdio(c);
	}
	pp_trace("pod containers gone");
	/* A fault injected in teardown (util/fault.h) leaves that step's work
	 * undone, as if it had failed: gc must find and remove what is left. */
	if (pp_fault("teardown sandbox", ret < 0 ? NULL : err) < 0) {
		ret = -1;
	} else {
		/* The infra process's exit beside the containers' cgroups' removal. */
		if (pp_sandbox_stop(pod->sandbox, ret < 0 ? NULL : err) < 0)
			ret = -1; /* the network's record stays, for delete or gc */
		pp_pod_containers_cgroups_remove(pod);
		pp_sandbox_destroy(pod->sandbox);
	}
	pod->sandbox = NULL;
	pp_trace("pod sandbox gone");
	for (size_t i = 0; i < pod->n_volumes; i++)
		cleanup_closep(&pod->volumes[i].fd);
	if (pp_fault("teardown cgroups", ret < 0 ? NULL : err) < 0 ||
	    pp_pod_cgroups_destroy(pod, ret < 0 ? NULL : err) < 0)
		ret = -1;
	pp_trace("pod cgroups gone");
	/* Files last, a rename now, the unlinking by a short-lived child
	 * (util/fs.h). The mounts that use them go first, in that child: the
	 * last references to the containers' mount namespaces and to the
	 * volumes' are ours (the namespaces go, and every mount in them). */
	size_t n_ns = 0;
	int *ns = xmalloc(sizeof(*ns) * (pp_pod_n_all(pod) + 1));
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (pod->containers[i].mntns_fd >= 0)
			ns[n_ns++] = steal_fd(&pod->containers[i].mntns_fd);
	if (pod->volumes_ns_fd >= 0)
		ns[n_ns++] = steal_fd(&pod->volumes_ns_fd);
	/* With them, what goes with the pod when all else went (its record) */
	const char *dirs[1 + PP_POD_DISCARD_ALSO] = {pod->data_dir},
			     *trashes[1 + PP_POD_DISCARD_ALSO] = {pod->trash_dir};
	size_t n_dirs = 1;
	for (size_t i = 0; i < pod->n_also && ret == 0; i++, n_dirs++) {
		dirs[n_dirs] = pod->also[i];
		trashes[n_dirs] = pod->also_trash[i];
	}
	if (pp_fault("teardown files", ret < 0 ? NULL : err) < 0) {
		for (size_t i = 0; i < n_ns; i++)
			cleanup_closep(&ns[i]);
		ret = -1;
	} else if (pp_discard_dirs_after(dirs, trashes, n_dirs, ns, n_ns, ret < 0 ? NULL : err) <
		   0) {
		ret = -1;
	} else {
		pod->also_discarded = n_dirs > 1;
	}
	free(ns);
	pp_trace("pod files gone");
	/* The id range last: nothing of the pod's is left to use it. */
	if (pod->userns && pp_idrange_release(pod->uid, ret < 0 ? NULL : err) < 0)
		ret = -1;
	pod->userns = false;
	return ret;
}

void pp_pod_instance_discard_also(struct pp_pod_instance *pod, char **dirs, char **trashes,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pod->n_also == PP_POD_DISCARD_ALSO) {
			free(dirs[i]);
			free(trashes[i]);
			continue;
		}
		pod->also[pod->n_also] = dirs[i];
		pod->also_trash[pod->n_also++] = trashes[i];
	}
}

void pp_pod_instance_free(struct pp_pod_instance *pod)
{
	if (pod == NULL)
		return;
	for (size_t i = 0; i < pod->n_also; i++) {
		free(pod->also[i]);
		free(pod->also_trash[i]);
	}
	for (size_t i = 0; i < pp_pod_n_all(pod); i++) {
		struct pp_pod_container *c = &pod->containers[i];
		pp_pod_ephemeral_free(c);
		free(c->log_path);
		pp_image_free(c->image);
		pp_cgroup_free(c->cgroup);
		free(c->dir);
		free(c->message);
		free(c->seccomp_profile);
		free(c->selinux_label);
		cleanup_closep(&c->pidfd);
		cleanup_closep(&c->mntns_fd);
		close_stdio(c);
	}
	for (size_t i = 0; i < pod->n_volumes; i++) {
		free(pod->volumes[i].path);
		free(pod->volumes[i].setup_error);
		cleanup_closep(&pod->volumes[i].fd);
	}
	cleanup_closep(&pod->volumes_ns_fd);
	free(pod->volumes);
	free(pod->containers);
	pp_cgroup_free(pod->cgroup);
	strv_free(pod->warnings);
	pp_sandbox_destroy(pod->sandbox);
	pp_pod_free(pod->spec);
	free(pod->uid);
	free(pod->state_dir);
	free(pod->data_dir);
	free(pod->trash_dir);
	free(pod);
}

int pp_pod_remove_leftovers(const char *data_dir, const char *uid, struct pp_error **err)
{
	cleanup_free char *cgname = xasprintf("pod-%s", uid);
	cleanup_free char *state_dir = pp_state_dir(uid);
	/* The pod's processes are gone with its supervisor, and with them
	 * its network namespace: what is left of its network lives outside. */
	if (pp_pod_net_detach(state_dir, 0, err) < 0)
		return -1;
	int ret = pp_cgroup_remove_pod(cgname, err);
	if (pp_pod_cgroup_remove_at_parent(state_dir, cgname, ret < 0 ? NULL : err) < 0)
		ret = -1;
	if (data_dir != NULL && pp_rm_rf(data_dir, ret < 0 ? NULL : err) < 0)
		ret = -1;
	if (pp_idrange_release(uid, ret < 0 ? NULL : err) < 0)
		ret = -1;
	return ret;
}

/* Containers added to a running pod: the ephemeral ones (kubectl debug),
 * never restarted, never removed, gone with the pod; and the CRI's
 * (CreateContainer), never restarted either, removed when kubelet says.
 * Their slots come with the pod's containers array (pod->slots), so adding
 * one moves no container another part holds a pointer to; a removed CRI
 * container's slot is taken by the next one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_ops.h"
#include "manifest/k8s_names.h"
#include "pod/pod_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/image_reference.h"

static struct pp_pod_container *find(struct pp_pod_instance *pod, const char *name, size_t *index)
{
	for (size_t i = 0; i < pp_pod_n_all(pod); i++)
		if (pp_pod_slot_used(pod, i) && strcmp(pod->containers[i].spec->name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &pod->containers[i];
		}
	return NULL;
}

static int check_request(struct pp_pod_instance *pod, const struct pp_ephemeral_request *req,
			 size_t *target, struct pp_error **err)
{
	const char *pod_name = pod->spec->name;
	if (req->name == NULL || !pp_is_dns1123_label(req->name))
		return pp_error_set(err, EINVAL,
				    "ephemeral container name \"%s\": not a DNS-1123 label",
				    req->name ? req->name : "");
	if (find(pod, req->name, NULL) != NULL)
		return pp_error_set(err, EEXIST,
				    "pod %s already has a container named \"%s\": ephemeral "
				    "containers cannot be replaced or removed",
				    pod_name, req->name);
	struct pp_image_ref ref = {0};
	int r = req->image ? pp_image_ref_parse(req->image, &ref, err) : -1;
	pp_image_ref_free(&ref);
	if (r < 0)
		return req->image ? pp_error_wrap(err, "ephemeral container %s: image", req->name)
				  : pp_error_set(err, EINVAL, "ephemeral container %s: no image",
						 req->name);
	if (pod->n_ephemeral >= pod->slots)
		return pp_error_set(err, ENOSPC, "pod %s has %zu ephemeral containers already",
				    pod_name, pod->slots);
	if (req->target != NULL) {
		struct pp_pod_container *t = find(pod, req->target, target);
		if (t == NULL || t->is_ephemeral)
			return pp_error_set(err, ENOENT,
					    "target container \"%s\" not found in pod %s",
					    req->target, pod_name);
	}
	return 0;
}

/* kubectl's ephemeral container: no ports, probes, resources or mounts. */
static struct pp_container *make_spec(const struct pp_ephemeral_request *req)
{
	struct pp_container *c = xmalloc(sizeof(*c));
	*c = (struct pp_container){0};
	c->name = xstrdup(req->name);
	c->image = xstrdup(req->image);
	c->pull_policy = req->pull_policy;
	size_t n = 0;
	while (req->command != NULL && req->command[n] != NULL)
		n++;
	if (n > 0) {
		c->command = xmalloc(sizeof(char *) * (n + 1));
		for (size_t k = 0; k < n; k++)
			c->command[k] = xstrdup(req->command[k]);
		c->command[n] = NULL;
	}
	c->termination_message_policy = xstrdup("File");
	c->stdin_open = req->stdin_open;
	/* Our attach is its only client: its EOF is the container's. */
	c->stdin_once = req->stdin_open;
	c->tty = req->tty;
	return c;
}

static void free_spec(struct pp_container *c)
{
	pp_container_free(c);
}

int pp_pod_instance_add_ephemeral(struct pp_pod_instance *pod,
				  const struct pp_ephemeral_request *req, size_t *index,
				  struct pp_error **err)
{
	size_t target = 0;
	if (check_request(pod, req, &target, err) < 0)
		return -1;
	struct pp_container *spec = make_spec(req);
	struct pp_cgroup *cg = NULL;
	if (pp_cgroup_create(pod->cgroup, spec->name, &cg, err) < 0 ||
	    pp_cgroup_devices_apply(cg, false, err) < 0) {
		if (cg != NULL)
			pp_cgroup_destroy(cg, NULL);
		pp_cgroup_free(cg);
		free_spec(spec);
		return pp_error_wrap(err, "ephemeral container %s", req->name);
	}
	size_t i = pp_pod_n_all(pod);
	struct pp_pod_container *c = &pod->containers[i];
	*c = (struct pp_pod_container){
	    .spec = spec,
	    .owned_spec = spec,
	    .is_ephemeral = true,
	    .has_target = req->target != NULL,
	    .target = target,
	    .dir = xasprintf("%s/containers/%s", pod->data_dir, spec->name),
	    .cgroup = cg,
	    .state = PP_CTR_WAITING,
	    .pidfd = -1,
	    .mntns_fd = -1,
	    .in_fd = -1,
	    .out_fd = -1,
	    .err_fd = -1,
	    /* the pod's QoS class decides it: that of its other containers */
	    .oom_score_adj = pod->n_containers ? pod->containers[0].oom_score_adj : 0,
	};
	pod->n_ephemeral++;
	*index = i;
	return 0;
}

void pp_pod_ephemeral_free(struct pp_pod_container *c)
{
	free_spec(c->owned_spec);
	c->owned_spec = NULL;
	free(c->devices);
	c->devices = NULL;
	c->n_devices = 0;
}

/* The CRI's devices as the host has them: the nodes to make (*out) and
 * the cgroup's rules (*rules); a host path that is no device node is
 * refused, naming it. */
static int resolve_devices(const struct pp_container *spec, struct pp_device_spec **out,
			   struct pp_cgroup_device **rules, struct pp_error **err)
{
	*out = NULL;
	*rules = NULL;
	if (spec->n_devices == 0)
		return 0;
	struct pp_device_spec *d = xmalloc(sizeof(*d) * spec->n_devices);
	struct pp_cgroup_device *r = xmalloc(sizeof(*r) * spec->n_devices);
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct pp_cri_device *cd = &spec->devices[i];
		struct stat st;
		int bad = 0;
		if (stat(cd->host_path, &st) < 0)
			bad = errno;
		else if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			bad = ENODEV;
		if (bad) {
			free(d);
			free(r);
			return pp_error_set(err, bad,
					    "devices[%zu]: host_path %s: not a character or "
					    "block device",
					    i, cd->host_path);
		}
		d[i] = (struct pp_device_spec){.host_path = cd->host_path,
					       .path = cd->container_path,
					       .mode = st.st_mode & (S_IFMT | 07777),
					       .rdev = st.st_rdev};
		r[i] = (struct pp_cgroup_device){.type = S_ISBLK(st.st_mode) ? 'b' : 'c',
						 .major = major(st.st_rdev),
						 .minor = minor(st.st_rdev)};
		snprintf(r[i].access, sizeof(r[i].access), "%.*s", PP_DEVICE_ACCESS_MAX,
			 cd->permissions && *cd->permissions ? cd->permissions : "rwm");
	}
	*out = d;
	*rules = r;
	return 0;
}

/* A free slot: a removed container's, else the next one. */
static int free_slot(struct pp_pod_instance *pod, size_t *slot, struct pp_error **err)
{
	for (size_t i = pod->n_containers; i < pp_pod_n_all(pod); i++)
		if (pod->containers[i].removed) {
			*slot = i;
			return 0;
		}
	if (pod->n_ephemeral >= pod->slots)
		return pp_error_set(err, ENOSPC, "pod %s holds %zu containers already: remove some",
				    pod->spec->name, pod->slots);
	*slot = pp_pod_n_all(pod);
	return 0;
}

int pp_pod_instance_add_cri_container(struct pp_pod_instance *pod, struct pp_container *spec,
				      const char *log_path, size_t *index, struct pp_error **err)
{
	size_t i = 0;
	if (find(pod, spec->name, NULL) != NULL) {
		pp_error_set(err, EEXIST, "pod %s already has a container named \"%s\"",
			     pod->spec->name, spec->name);
		pp_container_free(spec);
		return -1;
	}
	if (free_slot(pod, &i, err) < 0) {
		pp_container_free(spec);
		return -1;
	}
	struct pp_cgroup *cg = NULL;
	struct pp_device_spec *devices = NULL;
	cleanup_free struct pp_cgroup_device *rules = NULL;
	if (resolve_devices(spec, &devices, &rules, err) < 0 ||
	    pp_cgroup_create(pod->cgroup, spec->name, &cg, err) < 0 ||
	    pp_cgroup_devices_apply_extra(cg, spec->security.privileged, rules, spec->n_devices,
					  err) < 0) {
		if (cg != NULL)
			pp_cgroup_destroy(cg, NULL);
		pp_cgroup_free(cg);
		free(devices);
		pp_error_wrap(err, "container %s", spec->name);
		pp_container_free(spec);
		return -1;
	}
	struct pp_pod_container *c = &pod->containers[i];
	*c = (struct pp_pod_container){
	    .spec = spec,
	    .owned_spec = spec,
	    .is_ephemeral = true,
	    .cri = true,
	    .log_path = log_path ? xstrdup(log_path) : NULL,
	    .dir = xasprintf("%s/containers/%s", pod->data_dir, spec->name),
	    .cgroup = cg,
	    .devices = devices,
	    .n_devices = spec->n_devices,
	    .state = PP_CTR_WAITING,
	    .pidfd = -1,
	    .mntns_fd = -1,
	    .in_fd = -1,
	    .out_fd = -1,
	    .err_fd = -1,
	    .oom_score_adj = 0,
	};
	clock_gettime(CLOCK_REALTIME, &c->created_at);
	bool appended = i == pp_pod_n_all(pod);
	if (appended)
		pod->n_ephemeral++;
	/* CreateContainer takes an image that is here (containerd's): it is
	 * prepared now, its user and seccomp profile checked */
	if (pp_pod_instance_prepare_container(pod, i, err) < 0) {
		pp_cgroup_destroy(c->cgroup, NULL);
		pp_cgroup_free(c->cgroup);
		free(c->dir);
		free(c->log_path);
		free(c->devices);
		pp_container_free(spec);
		*c = (struct pp_pod_container){.removed = true,
					       .pidfd = -1,
					       .mntns_fd = -1,
					       .in_fd = -1,
					       .out_fd = -1,
					       .err_fd = -1};
		if (appended)
			pod->n_ephemeral--;
		return -1;
	}
	*index = i;
	return 0;
}

int pp_pod_instance_remove_cri_container(struct pp_pod_instance *pod, size_t i,
					 struct pp_error **err)
{
	struct pp_pod_container *c = &pod->containers[i];
	if (!c->cri || c->removed)
		return 0;
	if (c->state == PP_CTR_RUNNING || c->spawning)
		return pp_error_set(err, EBUSY, "container %s is running: stop it first",
				    c->spec->name);
	int ret = 0;
	if (c->cgroup != NULL && pp_cgroup_destroy(c->cgroup, err) < 0)
		ret = -1;
	if (c->dir != NULL && pp_rm_rf(c->dir, ret < 0 ? NULL : err) < 0)
		ret = -1;
	pp_cgroup_free(c->cgroup);
	pp_image_free(c->image);
	free(c->dir);
	free(c->log_path);
	free(c->message);
	free(c->seccomp_profile);
	free(c->selinux_label);
	cleanup_closep(&c->pidfd);
	cleanup_closep(&c->mntns_fd);
	cleanup_closep(&c->in_fd);
	cleanup_closep(&c->out_fd);
	cleanup_closep(&c->err_fd);
	pp_container_free(c->owned_spec);
	free(c->devices);
	*c = (struct pp_pod_container){.removed = true,
				       .state = PP_CTR_TERMINATED,
				       .pidfd = -1,
				       .mntns_fd = -1,
				       .in_fd = -1,
				       .out_fd = -1,
				       .err_fd = -1};
	return ret;
}

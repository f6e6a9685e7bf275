/* Pod volumes: emptyDir (a directory under the pod's data dir, or a tmpfs
 * kept as a detached mount for medium: Memory; either one a shared mount in
 * a mount namespace of the pod's when a container mounts it with
 * propagation) and hostPath (with kubelet's type checks), downwardAPI and
 * projected (volume_dapi.c), and the container mounts that use them; the anonymous
 * volumes an image's config asks for (Volumes), as containerd's CRI makes
 * them. */
#include <fcntl.h>
#include <sys/mount.h>
#include <string.h>
#include <sys/stat.h>

#include "pod/pod_internal.h"
#include "manifest/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/mntns.h"
#include "util/path.h"

/* kubelet makes emptyDir world-writable so any container user can use it. */
#define EMPTYDIR_MODE 0777
#define HOSTPATH_DIR_MODE 0755
#define HOSTPATH_FILE_MODE 0644

static const char *host_path_type_name(enum pp_host_path_type t)
{
	switch (t) {
	case PP_HOSTPATH_DIRECTORY_OR_CREATE:
		return "DirectoryOrCreate";
	case PP_HOSTPATH_DIRECTORY:
		return "Directory";
	case PP_HOSTPATH_FILE_OR_CREATE:
		return "FileOrCreate";
	case PP_HOSTPATH_FILE:
		return "File";
	case PP_HOSTPATH_SOCKET:
		return "Socket";
	case PP_HOSTPATH_CHAR_DEVICE:
		return "CharDevice";
	case PP_HOSTPATH_BLOCK_DEVICE:
		return "BlockDevice";
	case PP_HOSTPATH_UNSET:
	default:
		return "";
	}
}

/* Creates what the *OrCreate types ask for, as kubelet does: a directory
 * with its parents (MkdirAll), a file only in an existing directory. */
static int host_path_create(const struct pp_volume *v, struct pp_error **err)
{
	if (v->host_path_type == PP_HOSTPATH_DIRECTORY_OR_CREATE) {
		struct stat st;
		if (lstat(v->host_path, &st) < 0 &&
		    pp_mkdir_p(v->host_path, HOSTPATH_DIR_MODE, err) < 0)
			return pp_error_wrap(err, "create hostPath directory");
	} else if (v->host_path_type == PP_HOSTPATH_FILE_OR_CREATE) {
		int fd = open(v->host_path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			      HOSTPATH_FILE_MODE);
		if (fd < 0 && errno != EISDIR && errno != ELOOP)
			return pp_error_set(err, errno, "create hostPath file %s", v->host_path);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static bool host_path_type_ok(enum pp_host_path_type t, mode_t m)
{
	switch (t) {
	case PP_HOSTPATH_DIRECTORY_OR_CREATE:
	case PP_HOSTPATH_DIRECTORY:
		return S_ISDIR(m);
	case PP_HOSTPATH_FILE_OR_CREATE:
	case PP_HOSTPATH_FILE:
		return S_ISREG(m);
	case PP_HOSTPATH_SOCKET:
		return S_ISSOCK(m);
	case PP_HOSTPATH_CHAR_DEVICE:
		return S_ISCHR(m);
	case PP_HOSTPATH_BLOCK_DEVICE:
		return S_ISBLK(m);
	case PP_HOSTPATH_UNSET:
	default:
		return true;
	}
}

/* kubelet's hostPath type checker: creation for the *OrCreate types, then
 * the type must match. Runs before anything of the pod exists. */
int pp_pod_check_host_path(const struct pp_volume *v, bool *is_dir, struct pp_error **err)
{
	if (host_path_create(v, err) < 0)
		return pp_error_wrap(err, "volume \"%s\"", v->name);
	struct stat st;
	if (stat(v->host_path, &st) < 0) {
		if (errno == ENOENT && v->host_path_type == PP_HOSTPATH_UNSET) {
			/* type "": no check, and like kubelet, a missing path is
			 * created as a directory by the bind mount. */
			if (pp_mkdir_p(v->host_path, HOSTPATH_DIR_MODE, err) < 0)
				return pp_error_wrap(err, "volume \"%s\"", v->name);
			*is_dir = true;
			return 0;
		}
		return pp_error_set(err, errno, "volume \"%s\": hostPath %s", v->name,
				    v->host_path);
	}
	if (!host_path_type_ok(v->host_path_type, st.st_mode))
		return pp_error_set(err, 0,
				    "volume \"%s\": hostPath type check failed: %s is not a %s",
				    v->name, v->host_path, host_path_type_name(v->host_path_type));
	*is_dir = S_ISDIR(st.st_mode);
	return 0;
}

/* fsGroup: kubelet gives an emptyDir to the group, setgid, so that files
 * created in it belong to the group too. */
#define FSGROUP_DIR_MODE (EMPTYDIR_MODE | S_ISGID)

/* hostUsers: false: an emptyDir belongs to the pod's root (its ids seen
 * from the host: id_base + id), so files the pod creates there are its own
 * unprivileged ids on the host too; fsGroup is a gid of the pod's. */
static long long volume_gid(const struct pp_pod_instance *pod)
{
	const struct pp_pod_security *ps = &pod->spec->security;
	long long base = pod->userns ? pod->id_base : 0;
	return ps->has_fs_group ? base + ps->fs_group : base;
}

/* emptyDir medium: Memory: a tmpfs never attached on the host (see /dev/shm). */
static int memory_empty_dir(const struct pp_pod_instance *pod, const struct pp_volume *v,
			    struct pp_error **err)
{
	const struct pp_pod_security *ps = &pod->spec->security;
	cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return pp_error_set(err, errno, "fsopen tmpfs");
	if (v->size_limit.set) {
		cleanup_free char *sz = xasprintf("%lld", (long long)v->size_limit.value);
		if (fsconfig(fs, FSCONFIG_SET_STRING, "size", sz, 0) < 0)
			return pp_error_set(err, errno, "tmpfs size %s", sz);
	}
	cleanup_free char *mode =
	    xasprintf("%o", ps->has_fs_group ? FSGROUP_DIR_MODE : EMPTYDIR_MODE);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0)
		return pp_error_set(err, errno, "create tmpfs");
	if (ps->has_fs_group || pod->userns) {
		cleanup_free char *gid = xasprintf("%lld", (long long)volume_gid(pod));
		if (fsconfig(fs, FSCONFIG_SET_STRING, "gid", gid, 0) < 0)
			return pp_error_set(err, errno, "tmpfs gid %s", gid);
	}
	if (pod->userns) {
		cleanup_free char *uid = xasprintf("%u", pod->id_base);
		if (fsconfig(fs, FSCONFIG_SET_STRING, "uid", uid, 0) < 0)
			return pp_error_set(err, errno, "tmpfs uid %s", uid);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pp_error_set(err, errno, "create tmpfs");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return pp_error_set(err, errno, "fsmount tmpfs");
	return mnt;
}

/* Whether a container mounts the volume with HostToContainer or Bidirectional. */
static bool volume_propagates(const struct pp_pod_instance *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_containers; i++) {
		const struct pp_container *ct = pod->containers[i].spec;
		for (size_t j = 0; j < ct->n_volume_mounts; j++)
			if (ct->volume_mounts[j].propagation != PP_PROPAGATION_NONE &&
			    ct->volume_mounts[j].name != NULL &&
			    strcmp(ct->volume_mounts[j].name, name) == 0)
				return true;
	}
	return false;
}

/* The volumes namespace, in it: nothing done here may reach the host, and
 * each volume gets a peer group of its own; pv->fd becomes the root of its
 * mount there (what containers clone, from inside the namespace). */
static int volumes_ns_populate(struct pp_pod_instance *pod, struct pp_error **err)
{
	/* EINVAL: in a chroot "/" is no mount point; its creator chose. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 && errno != EINVAL)
		return pp_error_set(err, errno, "make / private");
	for (size_t i = 0; i < pod->n_volumes; i++) {
		struct pp_pod_volume *pv = &pod->volumes[i];
		if (!pv->in_volumes_ns)
			continue;
		/* a medium Memory tmpfs moves in; pv->fd still holds it */
		int r = pv->fd >= 0
			    ? move_mount(pv->fd, "", AT_FDCWD, pv->path, MOVE_MOUNT_F_EMPTY_PATH)
			    : mount(pv->path, pv->path, NULL, MS_BIND, NULL);
		if (r < 0 || mount(NULL, pv->path, NULL, MS_PRIVATE, NULL) < 0 ||
		    mount(NULL, pv->path, NULL, MS_SHARED, NULL) < 0)
			return pp_error_set(err, errno, "volume \"%s\": shared mount",
					    pv->spec->name);
		if (pv->fd < 0 && (pv->fd = open(pv->path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return pp_error_set(err, errno, "volume \"%s\": open", pv->spec->name);
	}
	return 0;
}

/* The emptyDirs some container mounts with propagation live, each a shared
 * mount, in a mount namespace of the pod's own that only an fd holds (kubelet
 * gets the same from its rshared root directory, on the host): every
 * container's mount of one is cloned from there, so a Bidirectional
 * container's mounts reach it, and through it the containers that mount it
 * HostToContainer, started or restarted later too, never the host. The
 * namespace, and every mount in it, goes with its fd (a detached tree would
 * not do: nothing propagates into one). Made by the supervisor in passing. */
static int volumes_ns_create(struct pp_pod_instance *pod, struct pp_error **err)
{
	cleanup_mntns_visit struct pp_mntns_visit v = PP_MNTNS_VISIT_INIT;
	if (pp_mntns_enter(&v, -1, err) < 0)
		return pp_error_wrap(err, "the pod's volumes namespace");
	if (volumes_ns_populate(pod, err) < 0)
		return -1;
	pod->volumes_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (pod->volumes_ns_fd < 0)
		return pp_error_set(err, errno, "open the volumes mount namespace");
	return 0;
}

int pp_pod_volumes_create(struct pp_pod_instance *pod, struct pp_error **err)
{
	bool any_shared = false;
	for (size_t i = 0; i < pod->n_volumes; i++) {
		struct pp_pod_volume *pv = &pod->volumes[i];
		const struct pp_volume *v = pv->spec;
		if (pp_volume_is_projected(v)) {
			if (pp_pod_projected_volume_create(pod, pv, err) < 0)
				return -1;
			continue;
		}
		if (v->kind != PP_VOLUME_EMPTY_DIR)
			continue;
		if (v->medium_memory) {
			pv->fd = memory_empty_dir(pod, v, err);
			if (pv->fd < 0)
				return pp_error_wrap(err, "volume \"%s\"", v->name);
		}
		pv->path = xasprintf("%s/volumes/%s", pod->data_dir, v->name);
		pv->in_volumes_ns = volume_propagates(pod, v->name);
		if (v->medium_memory) {
			/* its mount point in the volumes namespace */
			if (pv->in_volumes_ns && pp_mkdir_p(pv->path, EMPTYDIR_MODE, err) < 0)
				return pp_error_wrap(err, "volume \"%s\"", v->name);
			any_shared |= pv->in_volumes_ns;
			continue;
		}
		if (pp_mkdir_p(pv->path, EMPTYDIR_MODE, err) < 0)
			return pp_error_wrap(err, "volume \"%s\"", v->name);
		const struct pp_pod_security *ps = &pod->spec->security;
		uid_t owner = pod->userns ? (uid_t)pod->id_base : (uid_t)-1;
		if ((ps->has_fs_group || pod->userns) &&
		    chown(pv->path, owner, (gid_t)volume_gid(pod)) < 0)
			return pp_error_set(err, errno, "volume \"%s\": owner", v->name);
		if (chmod(pv->path, ps->has_fs_group ? FSGROUP_DIR_MODE : EMPTYDIR_MODE) < 0)
			return pp_error_set(err, errno, "volume \"%s\": chmod", v->name);
		any_shared |= pv->in_volumes_ns;
	}
	return any_shared ? volumes_ns_create(pod, err) : 0;
}

static const char *subpath_lookup(void *ctx, const char *name)
{
	char **env = ctx;
	size_t len = strlen(name);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* kubelet creates a missing subPath directory in the volume before the
 * mount. It is created inside the volume (no symlink can send the mkdir
 * elsewhere); the runtime then refuses a subPath that leaves the volume. */
static int ensure_subpath(const struct pp_pod_instance *pod, const struct pp_pod_volume *pv,
			  const char *sub, struct pp_error **err)
{
	cleanup_close int own = -1;
	int volfd = pv->fd;
	if (volfd < 0) {
		if (!pv->is_dir)
			return pp_error_set(
			    err, ENOTDIR,
			    "subPath \"%s\" in volume \"%s\", which is not a directory", sub,
			    pv->spec->name);
		own = open(pv->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (own < 0)
			return pp_error_set(err, errno, "open volume %s", pv->path);
		volfd = own;
	}
	struct pp_error *probe = NULL;
	int fd = pp_path_open_beneath(volfd, sub, O_PATH, &probe);
	bool missing = fd < 0 && probe && probe->status == ENOENT;
	pp_error_free(&probe);
	if (fd >= 0 || !missing) {
		if (fd >= 0)
			close(fd);
		return 0; /* exists, or an error the runtime reports when it mounts */
	}
	fd = pp_path_open_in_root(volfd, sub, O_PATH, HOSTPATH_DIR_MODE, false, err);
	if (fd < 0)
		return pp_error_wrap(err, "create subPath \"%s\" in volume \"%s\"", sub,
				     pv->spec->name);
	/* In a user namespace, a subPath made in the pod's own emptyDir is
	 * its root's, as the emptyDir is. */
	int r = 0;
	if (pod->userns && pv->spec->kind == PP_VOLUME_EMPTY_DIR &&
	    fchownat(fd, "", pod->id_base, (gid_t)volume_gid(pod), AT_EMPTY_PATH) < 0)
		r = pp_error_set(err, errno, "subPath \"%s\" in volume \"%s\": owner", sub,
				 pv->spec->name);
	close(fd);
	return r;
}

static struct pp_pod_volume *find_volume(struct pp_pod_instance *pod, const char *name)
{
	for (size_t i = 0; i < pod->n_volumes; i++)
		if (strcmp(pod->volumes[i].spec->name, name) == 0)
			return &pod->volumes[i];
	return NULL;
}

/* A path the container gets a mount at anyway (pp_pod_container_mounts'
 * fixed ones, its termination log, its volumeMounts). */
static bool mount_covers(const struct pp_pod_container *c, const char *path)
{
	static const char *const fixed[] = {"/dev/shm", "/etc/hosts", "/etc/hostname",
					    "/etc/resolv.conf"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(fixed[i], path) == 0)
			return true;
	const char *termlog = c->spec->termination_message_path;
	for (size_t j = 0; j <= c->spec->n_volume_mounts; j++) {
		const char *t =
		    j < c->spec->n_volume_mounts ? c->spec->volume_mounts[j].mount_path : termlog;
		if (t == NULL)
			continue;
		cleanup_free char *clean = pp_path_clean(t);
		if (strcmp(clean, path) == 0)
			return true;
	}
	return false;
}

static size_t count_strv(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

/* The image's Volumes that no mount of the container covers, as
 * containerd's CRI does: each an anonymous directory of the container's
 * (<container dir>/volumes/<n>, gone with its writable layer, so a restart
 * starts afresh like containerd's new container), seeded from the image by
 * the runtime and mounted read-write, before the container's own mounts
 * (which may sit below it). The whole root ("/") is no volume. */
static int image_volumes(const struct pp_pod_instance *pod, const struct pp_pod_container *c,
			 struct pp_mount_spec *m, size_t *k, char **own, size_t *n_owned,
			 struct pp_error **err)
{
	char **vols = c->image ? c->image->config.volumes : NULL;
	for (size_t i = 0; vols && vols[i]; i++) {
		cleanup_free char *path = pp_path_clean(vols[i]);
		if (strcmp(path, "/") == 0 || mount_covers(c, path))
			continue;
		char *src = xasprintf("%s/volumes/%zu", c->dir, i);
		own[(*n_owned)++] = src;
		if (pp_mkdir_p(src, HOSTPATH_DIR_MODE, err) < 0)
			return pp_error_wrap(err, "image volume %s", vols[i]);
		/* in a user namespace, the pod's root owns what the image has
		 * not got (the seed copies the image's owners over it) */
		if (pod->userns && chown(src, pod->id_base, pod->id_base) < 0)
			return pp_error_set(err, errno, "image volume %s: owner", vols[i]);
		own[(*n_owned)++] = steal_ptr(&path);
		m[(*k)++] = (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
						   .source = src,
						   .target = own[*n_owned - 1],
						   .seed_from_root = true};
	}
	return 0;
}

/* kubelet's translateMountPropagation, and the rslave / rshared the CRI
 * asks runc for. */
static enum pp_mount_propagation_mode mount_propagation(enum pp_mount_propagation p)
{
	switch (p) {
	case PP_PROPAGATION_HOST_TO_CONTAINER:
		return PP_MOUNT_RSLAVE;
	case PP_PROPAGATION_BIDIRECTIONAL:
		return PP_MOUNT_RSHARED;
	case PP_PROPAGATION_NONE:
	default:
		return PP_MOUNT_RPRIVATE;
	}
}

/* A CRI Mount: the host path itself, a file or a directory as it is now. */
static struct pp_mount_spec host_path_mount(const struct pp_volume_mount *vm)
{
	struct stat st;
	bool is_file = stat(vm->host_path, &st) == 0 && !S_ISDIR(st.st_mode);
	return (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
				      .source = vm->host_path,
				      .target = vm->mount_path,
				      .target_is_file = is_file,
				      .read_only = vm->read_only,
				      .propagation = mount_propagation(vm->propagation)};
}

/* The container's mounts: the image's Volumes, /dev/shm and the /etc files
 * of the sandbox, then its volumeMounts in order. Strings in *out point
 * into pod and *owned. */
int pp_pod_container_mounts(struct pp_pod_instance *pod, const struct pp_pod_container *c,
			    char **env, struct pp_mount_spec **out, size_t *n, char ***owned,
			    struct pp_error **err)
{
	const struct pp_sandbox *sb = pod->sandbox;
	size_t n_image = c->image ? count_strv(c->image->config.volumes) : 0;
	size_t cap = c->spec->n_volume_mounts + 4 + n_image, k = 0, n_owned = 0;
	struct pp_mount_spec *m = xmalloc(sizeof(*m) * cap);
	char **own = xmalloc(sizeof(char *) * (c->spec->n_volume_mounts + 2 * n_image + 1));
	if (image_volumes(pod, c, m, &k, own, &n_owned, err) < 0) {
		own[n_owned] = NULL;
		strv_free(own);
		free(m);
		return pp_error_wrap(err, "container \"%s\"", c->spec->name);
	}
	if (sb->shm_fd >= 0)
		m[k++] = (struct pp_mount_spec){
		    .kind = PP_MOUNT_FD, .source_fd = sb->shm_fd, .target = "/dev/shm"};
	else
		m[k++] = (struct pp_mount_spec){
		    .kind = PP_MOUNT_BIND, .source = "/dev/shm", .target = "/dev/shm"};
	m[k++] = (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
					.source = sb->hosts_path,
					.target = "/etc/hosts",
					.target_is_file = true};
	m[k++] = (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
					.source = sb->hostname_path,
					.target = "/etc/hostname",
					.target_is_file = true};
	m[k++] = (struct pp_mount_spec){.kind = PP_MOUNT_BIND,
					.source = sb->resolv_path,
					.target = "/etc/resolv.conf",
					.target_is_file = true};
	for (size_t i = 0; i < c->spec->n_volume_mounts; i++) {
		const struct pp_volume_mount *vm = &c->spec->volume_mounts[i];
		if (vm->host_path != NULL) {
			m[k++] = host_path_mount(vm);
			continue;
		}
		struct pp_pod_volume *pv = find_volume(pod, vm->name);
		struct pp_mount_spec *s = &m[k++];
		/* kubelet's API data volumes (downwardAPI, projected, configMap,
		 * secret) are read-only */
		bool api_data = pp_volume_is_projected(pv->spec);
		bool claim_ro = pv->spec->kind == PP_VOLUME_PVC && pv->spec->claim_read_only;
		*s = (struct pp_mount_spec){.target = vm->mount_path,
					    .read_only = vm->read_only || api_data || claim_ro,
					    .propagation = mount_propagation(vm->propagation)};
		if (pv->fd >= 0) {
			s->in_volumes_ns = pv->in_volumes_ns;
			s->kind = PP_MOUNT_FD;
			s->source_fd = pv->fd;
		} else {
			s->kind = PP_MOUNT_BIND;
			s->source = pv->path;
			s->target_is_file = !pv->is_dir;
		}
		s->source_subpath = vm->sub_path;
		if (vm->sub_path_expr) {
			char *p = pp_expand_vars(vm->sub_path_expr, subpath_lookup, env);
			own[n_owned++] = p;
			if (p[0] == '/' || strstr(p, "..")) {
				own[n_owned] = NULL;
				strv_free(own);
				free(m);
				return pp_error_set(
				    err, EINVAL,
				    "container \"%s\": subPathExpr \"%s\" expands to \"%s\", which "
				    "is not a relative path inside the volume",
				    c->spec->name, vm->sub_path_expr, p);
			}
			s->source_subpath = p;
		}
		if (s->source_subpath && ensure_subpath(pod, pv, s->source_subpath, err) < 0) {
			own[n_owned] = NULL;
			strv_free(own);
			free(m);
			return pp_error_wrap(err, "container \"%s\"", c->spec->name);
		}
	}
	own[n_owned] = NULL;
	*out = m;
	*n = k;
	*owned = own;
	return 0;
}

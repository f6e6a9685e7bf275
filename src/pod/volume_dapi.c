/* downwardAPI and projected volumes, as kubelet's downwardapi and
 * projected plugins make them: a memory-backed directory (here a detached
 * tmpfs, never attached on the host, as emptyDir medium: Memory) whose
 * files the atomic writer lays out (util/atomic_writer.h). Containers get
 * it read-only (volumes.c). configMap and secret volumes and sources are
 * read from the object store (src/objects) by project_object. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "objects/objects.h"
#include "pod/pod_internal.h"
#include "util/atomic_writer.h"
#include "util/cleanup.h"

/* kubelet's memory-backed emptyDir: a fresh tmpfs keeps its 1777 (it only
 * chmods when the permission bits differ from 0777). */
#define PROJECTED_TMPFS_MODE "1777"

static int projected_tmpfs(const struct pp_pod_instance *pod, struct pp_error **err)
{
	cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return pp_error_set(err, errno, "fsopen tmpfs");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", PROJECTED_TMPFS_MODE, 0) < 0)
		return pp_error_set(err, errno, "tmpfs mode");
	if (pod->userns) {
		/* the pod's root owns the directory, as it owns its emptyDirs */
		cleanup_free char *id = xasprintf("%u", pod->id_base);
		if (fsconfig(fs, FSCONFIG_SET_STRING, "uid", id, 0) < 0 ||
		    fsconfig(fs, FSCONFIG_SET_STRING, "gid", id, 0) < 0)
			return pp_error_set(err, errno, "tmpfs owner %s", id);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return pp_error_set(err, errno, "create tmpfs");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return pp_error_set(err, errno, "fsmount tmpfs");
	return mnt;
}

/* A growing payload whose data strings it owns. */
struct payload {
	struct pp_aw_file *files;
	char **data;
	size_t n;
	char **paths; /* the paths it copied (an object's keys go with it) */
	size_t n_paths;
};

/* kubelet's SetVolumeOwnership for a read-only volume: with fsGroup, every
 * file is the group's and readable by it (mode | 0440). data is the
 * payload's from now on (len bytes, a NUL after them). */
static void payload_add_len(const struct pp_pod_instance *pod, struct payload *p, const char *path,
			    char *data, size_t len, int32_t mode)
{
	const struct pp_pod_security *ps = &pod->spec->security;
	gid_t gid = 0;
	if (ps->has_fs_group) {
		gid = (gid_t)((pod->userns ? pod->id_base : 0) + ps->fs_group);
		mode |= 0440;
	}
	p->files = xrealloc(p->files, sizeof(*p->files) * (p->n + 1));
	p->data = xrealloc(p->data, sizeof(char *) * (p->n + 2));
	p->files[p->n] = (struct pp_aw_file){
	    .path = path, .data = data, .len = len, .mode = (mode_t)mode, .gid = gid};
	p->data[p->n++] = data;
	p->data[p->n] = NULL;
}

static void payload_add(const struct pp_pod_instance *pod, struct payload *p, const char *path,
			char *data, int32_t mode)
{
	payload_add_len(pod, p, path, data, strlen(data), mode);
}

/* A copy of path and of len bytes (an object's key and value, which may
 * hold NULs): the object may be freed before the payload is written. */
static void payload_add_bytes(const struct pp_pod_instance *pod, struct payload *p,
			      const char *path, const unsigned char *bytes, size_t len,
			      int32_t mode)
{
	char *data = xmalloc(len + 1);
	memcpy(data, bytes, len);
	p->paths = xrealloc(p->paths, sizeof(char *) * (p->n_paths + 2));
	p->paths[p->n_paths] = xstrdup(path);
	p->paths[++p->n_paths] = NULL;
	payload_add_len(pod, p, p->paths[p->n_paths - 1], data, len, mode);
}

static void payload_free(struct payload *p)
{
	free(p->files);
	strv_free(p->data);
	strv_free(p->paths);
}

static int project_downward_api(const struct pp_pod_instance *pod, const struct pp_volume *v,
				const struct pp_projection *s, struct payload *out,
				struct pp_error **err)
{
	for (size_t i = 0; i < s->n_files; i++) {
		const struct pp_dapi_file *f = &s->files[i];
		char *value = NULL;
		int r = f->field_path
			    ? pp_pod_field_ref_value(pod, f->field_path, &value, err)
			    : pp_pod_resource_ref_value(pod, f->container_name, f->resource,
							&f->divisor, &value, err);
		if (r < 0)
			return pp_error_wrap(err, "%s.items[%zu]", s->field, i);
		payload_add(pod, out, f->path, value, f->has_mode ? f->mode : v->default_mode);
	}
	return 0;
}

/* configMap and secret sources, from the object store as kubelet reads
 * them from the API server: every key (a file each, named by the key) or
 * the items' keys to their paths. A missing object or key fails the volume
 * with kubelet's message, unless the source is optional (then it adds
 * nothing). */
static int project_object(const struct pp_pod_instance *pod, const struct pp_volume *v,
			  const struct pp_projection *s, struct payload *out, struct pp_error **err)
{
	bool secret = s->kind == PP_PROJECTION_SECRET;
	struct pp_config_object *o = NULL;
	int r = pp_object_get(secret ? PP_OBJ_SECRET : PP_OBJ_CONFIGMAP, pod->spec->namespace_,
			      s->name, &o, err);
	if (r == PP_OBJECT_NOT_FOUND) {
		if (s->optional) {
			pp_error_free(err);
			return 0;
		}
		pp_error_free(err);
		return pp_error_set(err, ENOENT, "%s: %s \"%s\" not found", s->field,
				    secret ? "secret" : "configmap", s->name);
	}
	if (r < 0)
		return pp_error_wrap(err, "%s", s->field);
	if (s->n_items == 0)
		for (size_t i = 0; i < o->n_items; i++)
			payload_add_bytes(pod, out, o->items[i].key, o->items[i].value,
					  o->items[i].len, v->default_mode);
	for (size_t i = 0; i < s->n_items && r == 0; i++) {
		const struct pp_key_to_path *k = &s->items[i];
		const struct pp_data_item *it = pp_object_find(o, k->key);
		if (it == NULL) {
			if (!s->optional)
				r = pp_error_set(
				    err, ENOENT,
				    "%s.items[%zu]: %s references non-existent %s key: %s",
				    s->field, i, secret ? "secret" : "configmap",
				    secret ? "secret" : "config", k->key);
			continue;
		}
		payload_add_bytes(pod, out, k->path, it->value, it->len,
				  k->has_mode ? k->mode : v->default_mode);
	}
	pp_object_free(o);
	return r;
}

/* The payload from the sources, written over the volume (made first if
 * need be); err without the volume's name. */
static int sync_payload(struct pp_pod_instance *pod, struct pp_pod_volume *pv, bool *changed,
			struct pp_error **err)
{
	const struct pp_volume *v = pv->spec;
	struct payload p = {0};
	int r = 0;
	if (changed)
		*changed = false;
	for (size_t i = 0; i < v->n_sources && r == 0; i++) {
		const struct pp_projection *s = &v->sources[i];
		r = s->kind == PP_PROJECTION_DOWNWARD_API ? project_downward_api(pod, v, s, &p, err)
							  : project_object(pod, v, s, &p, err);
	}
	if (r == 0 && pv->fd < 0) {
		pv->fd = projected_tmpfs(pod, err);
		r = pv->fd < 0 ? -1 : 0;
	}
	if (r == 0)
		r = pp_atomic_write_fd(pv->fd, p.files, p.n, changed, err);
	payload_free(&p);
	if (r < 0)
		return -1;
	pv->is_dir = true;
	return 0;
}

int pp_pod_projected_volume_sync(struct pp_pod_instance *pod, struct pp_pod_volume *pv,
				 bool *changed, struct pp_error **err)
{
	if (sync_payload(pod, pv, changed, err) < 0)
		return pp_error_wrap(err, "volume \"%s\"", pv->spec->name);
	return 0;
}

int pp_pod_projected_volume_create(struct pp_pod_instance *pod, struct pp_pod_volume *pv,
				   struct pp_error **err)
{
	if (sync_payload(pod, pv, NULL, err) == 0)
		return 0;
	/* Only a missing object or key (project_object's ENOENT) waits. */
	if (*err == NULL || (*err)->status != ENOENT || pv->fd >= 0)
		return pp_error_wrap(err, "volume \"%s\"", pv->spec->name);
	pv->setup_error = xstrdup((*err)->msg);
	pp_error_free(err);
	pv->fd = projected_tmpfs(pod, err);
	if (pv->fd < 0)
		return pp_error_wrap(err, "volume \"%s\"", pv->spec->name);
	pv->is_dir = true;
	return 0;
}

bool pp_volume_uses_object(const struct pp_volume *v, bool secret, const char *name)
{
	if (!pp_volume_is_projected(v))
		return false;
	enum pp_projection_kind want = secret ? PP_PROJECTION_SECRET : PP_PROJECTION_CONFIG_MAP;
	for (size_t i = 0; i < v->n_sources; i++)
		if (v->sources[i].kind == want && v->sources[i].name != NULL &&
		    strcmp(v->sources[i].name, name) == 0)
			return true;
	return false;
}

int pp_pod_instance_resync_volume(struct pp_pod_instance *pod, size_t i, bool *changed,
				  struct pp_error **err)
{
	struct pp_pod_volume *pv = &pod->volumes[i];
	if (changed)
		*changed = false;
	/* Made at the pod's creation: a resync only ever rewrites it. */
	if (!pp_volume_is_projected(pv->spec) || pv->fd < 0)
		return 0;
	if (sync_payload(pod, pv, changed, err) < 0) {
		if (pv->setup_error != NULL) {
			free(pv->setup_error);
			pv->setup_error = xstrdup((*err)->msg);
		}
		return -1;
	}
	free(pv->setup_error);
	pv->setup_error = NULL;
	return 0;
}

bool pp_pod_instance_volumes_pending(const struct pp_pod_instance *pod)
{
	for (size_t i = 0; i < pod->n_volumes; i++)
		if (pod->volumes[i].setup_error != NULL)
			return true;
	return false;
}

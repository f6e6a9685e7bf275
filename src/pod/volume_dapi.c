/* downwardAPI and projected volumes, as kubelet's downwardapi and
 * projected plugins make them: a memory-backed directory (here a detached
 * tmpfs, never attached on the host, as emptyDir medium: Memory) whose
 * files the atomic writer lays out (util/atomic_writer.h). Containers get
 * it read-only (volumes.c). configMap and secret sources are resolved by
 * project_object, the one place that needs the object store. */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>

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
};

/* kubelet's SetVolumeOwnership for a read-only volume: with fsGroup, every
 * file is the group's and readable by it (mode | 0440). */
static void payload_add(const struct pp_pod_instance *pod, struct payload *p, const char *path,
			char *data, int32_t mode)
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
	    .path = path, .data = data, .len = strlen(data), .mode = (mode_t)mode, .gid = gid};
	p->data[p->n++] = data;
	p->data[p->n] = NULL;
}

static void payload_free(struct payload *p)
{
	free(p->files);
	strv_free(p->data);
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

/* configMap and secret sources. The hook for the object store: until it
 * is wired in, a pod that projects an object fails to start, naming the
 * source. */
static int project_object(const struct pp_pod_instance *pod, const struct pp_volume *v,
			  const struct pp_projection *s, struct payload *out, struct pp_error **err)
{
	const char *kind = s->kind == PP_PROJECTION_SECRET ? "secret" : "configMap";
	return pp_error_set(err, ENOTSUP, "%s: %s \"%s\": peapod cannot resolve %s objects yet",
			    s->field, kind, s->name, kind);
}

int pp_pod_projected_volume_sync(struct pp_pod_instance *pod, struct pp_pod_volume *pv,
				 bool *changed, struct pp_error **err)
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
		return pp_error_wrap(err, "volume \"%s\"", v->name);
	pv->is_dir = true;
	return 0;
}

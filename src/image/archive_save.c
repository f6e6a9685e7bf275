/* `image save` (archive.h): images of the store written as one
 * docker-archive or oci-archive, a plain tar written here (ustar headers:
 * every member name is short), layers rebuilt from their tar-split
 * records. The store lock is held shared throughout, so no removal takes a
 * layer away while it is read. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/image_internal.h"
#include "image/oci.h"
#include "image/tar_split.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/fs.h"
#include "util/image_reference.h"

#define TAR_BLOCK 512
#define TAR_COPY_BUF (256 * 1024)
#define TAR_NAME_LEN 100
#define TAR_FILE_MODE 0644
#define TAR_OCTAL_SIZE_MAX 077777777777LL
#define SAVE_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

struct out {
	int fd;
	char **written; /* member names already in the archive */
	int64_t *sizes; /* and their sizes */
	size_t n_written;
};

static int out_write(struct out *o, const void *data, size_t len, struct pp_error **err)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(o->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return pp_error_set(err, errno, "write the archive");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int out_pad(struct out *o, int64_t size, struct pp_error **err)
{
	static const char zeros[TAR_BLOCK];
	size_t pad = (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
	return out_write(o, zeros, pad, err);
}

/* A ustar header of a regular file (base-256 size beyond 8 GiB). */
static int out_header(struct out *o, const char *name, int64_t size, struct pp_error **err)
{
	unsigned char h[TAR_BLOCK] = {0};
	if (strlen(name) >= TAR_NAME_LEN)
		return pp_error_set(err, ENAMETOOLONG, "%s: name too long", name);
	memcpy(h, name, strlen(name));
	snprintf((char *)h + 100, 8, "%07o", TAR_FILE_MODE);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	if (size <= TAR_OCTAL_SIZE_MAX) {
		snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	} else {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)((uint64_t)size >> (8 * i));
	}
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return out_write(o, h, sizeof(h), err);
}

/* True (and *size) when name was written already; else notes it. */
static bool out_has(struct out *o, const char *name, int64_t size, int64_t *got)
{
	for (size_t i = 0; i < o->n_written; i++)
		if (strcmp(o->written[i], name) == 0) {
			if (got != NULL)
				*got = o->sizes[i];
			return true;
		}
	o->sizes = xrealloc(o->sizes, (o->n_written + 1) * sizeof(*o->sizes));
	o->sizes[o->n_written] = size;
	image_strv_append(&o->written, &o->n_written, name);
	return false;
}

static int out_file(struct out *o, const char *name, const void *data, size_t len,
		    struct pp_error **err)
{
	if (out_has(o, name, (int64_t)len, NULL))
		return 0;
	if (out_header(o, name, (int64_t)len, err) < 0 || out_write(o, data, len, err) < 0)
		return -1;
	return out_pad(o, (int64_t)len, err);
}

struct layer_sink {
	struct out *o;
	const char *name;
	int64_t size;
};

static int layer_size_cb(void *ctx, int64_t size, struct pp_error **err)
{
	struct layer_sink *s = ctx;
	s->size = size;
	return out_header(s->o, s->name, size, err);
}

static int layer_write_cb(void *ctx, const void *data, size_t len, struct pp_error **err)
{
	return out_write(((struct layer_sink *)ctx)->o, data, len, err);
}

/* A rebuilt layer's tar, from its file. */
static int out_tar_file(struct out *o, int fd, const char *name, int64_t *size,
			struct pp_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return pp_error_set(err, errno, "%s", name);
	if (out_header(o, name, st.st_size, err) < 0)
		return -1;
	cleanup_free char *buf = xmalloc(TAR_COPY_BUF);
	int64_t left = st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, buf, TAR_COPY_BUF);
		if (n <= 0)
			return pp_error_set(err, n < 0 ? errno : EIO, "read %s", name);
		if (out_write(o, buf, (size_t)n, err) < 0)
			return -1;
		left -= n;
	}
	o->sizes[o->n_written - 1] = st.st_size;
	*size = st.st_size;
	return out_pad(o, st.st_size, err);
}

/* The layer's tar as member name (once): rebuilt (tar >= 0) or from its
 * tar-split record; *size gets its length. */
static int out_layer(struct out *o, const struct pp_image_store *s, const char *diff_id, int tar,
		     const char *name, int64_t *size, struct pp_error **err)
{
	if (out_has(o, name, 0, size))
		return 0;
	if (tar >= 0)
		return out_tar_file(o, tar, name, size, err);
	const char *hex = strchr(diff_id, ':') + 1;
	cleanup_free char *dir = xasprintf("%s/%s", s->digest_layers_dir, hex);
	struct layer_sink ls = {.o = o, .name = name};
	struct tar_split_sink sink = {
	    .size_cb = layer_size_cb, .write_cb = layer_write_cb, .ctx = &ls};
	if (tar_split_reassemble(dir, diff_id, &sink, err) < 0 || out_pad(o, ls.size, err) < 0)
		return -1;
	o->sizes[o->n_written - 1] = ls.size;
	*size = ls.size;
	return 0;
}

/* One image to save. */
struct saved {
	char *id;   /* of the config saved (another when a layer was rebuilt) */
	char *name; /* the whole reference ("docker.io/library/busybox:1.36"), NULL if untagged */
	char **stored;	 /* the layers' diff IDs in the store */
	char **diff_ids; /* those of the tars saved */
	int *tars;	 /* a rebuilt layer's tar (image_layer_tar), else -1 */
	char *config;
	size_t config_len;
};

static void saved_clear(struct saved *v)
{
	free(v->id);
	free(v->name);
	for (size_t i = 0; v->tars != NULL && v->stored[i] != NULL; i++)
		if (v->tars[i] >= 0)
			close(v->tars[i]);
	free(v->tars);
	strv_free(v->stored);
	strv_free(v->diff_ids);
	free(v->config);
}

/* A layer without a tar-split record: its tree written as a tar to an
 * unlinked file of the store; *diff_id gets the tar's digest. */
static int rebuild_layer(const struct pp_image_store *s, const char *stored, int *fd,
			 char **diff_id, struct pp_error **err)
{
	cleanup_free char *tree = image_layer_tree(s, strchr(stored, ':') + 1);
	cleanup_free char *tmp =
	    xasprintf("%s/%s%d-save-XXXXXX", s->root, IMAGE_TMP_PREFIX, (int)getpid());
	*fd = mkostemp(tmp, O_CLOEXEC);
	if (*fd < 0)
		return pp_error_set(err, errno, "create %s", tmp);
	unlink(tmp);
	struct pp_digest *d = NULL;
	int ret = image_layer_tar(tree, *fd, err);
	if (ret == 0 && lseek(*fd, 0, SEEK_SET) < 0)
		ret = pp_error_set(err, errno, "seek %s", tmp);
	if (ret == 0)
		ret = pp_digest_begin(PP_DIGEST_SHA256, &d, err);
	cleanup_free char *buf = xmalloc(TAR_COPY_BUF);
	ssize_t n = 0;
	while (ret == 0 && (n = read(*fd, buf, TAR_COPY_BUF)) > 0)
		ret = pp_digest_update(d, buf, (size_t)n, err);
	if (ret == 0 && n < 0)
		ret = pp_error_set(err, errno, "read %s", tmp);
	char digest[PP_DIGEST_STRING_MAX];
	if (ret == 0)
		ret = pp_digest_end_string(d, digest, err);
	pp_digest_free(d);
	if (ret < 0)
		return pp_error_wrap(err, "layer %s", stored);
	*diff_id = xstrdup(digest);
	return 0;
}

/* The config with the rebuilt layers' diff IDs: a new config, a new id. */
static int rewrite_config(struct saved *v, struct pp_error **err)
{
	struct pp_oci_config *c = NULL;
	if (pp_oci_parse_config(v->config, v->config_len, &c, err) < 0)
		return pp_error_wrap(err, "config sha256:%s", v->id);
	size_t n = 0;
	while (v->diff_ids[n] != NULL)
		n++;
	if (c->n_diff_ids != n) {
		pp_oci_config_free(c);
		return pp_error_set(err, EINVAL, "config sha256:%s: %zu diff_ids for %zu layers",
				    v->id, c->n_diff_ids, n);
	}
	for (size_t i = 0; i < n; i++) {
		free(c->diff_ids[i]);
		c->diff_ids[i] = xstrdup(v->diff_ids[i]);
	}
	free(v->config);
	v->config = pp_oci_config_to_json(c);
	v->config_len = strlen(v->config);
	pp_oci_config_free(c);
	char hex[PP_SHA256_HEX_LEN + 1];
	if (pp_digest_hex(PP_DIGEST_SHA256, v->config, v->config_len, hex, err) < 0)
		return -1;
	free(v->id);
	v->id = xstrdup(hex);
	return 0;
}

/* Each layer: its tar-split record, else (none, or one that cannot
 * rebuild it) rebuilt from its tree. */
static int saved_layers(const struct pp_image_store *s, struct saved *v, struct pp_error **err)
{
	size_t n = 0;
	bool rebuilt = false;
	while (v->stored[n] != NULL)
		n++;
	v->tars = xmalloc((n + 1) * sizeof(*v->tars));
	v->diff_ids = xmalloc((n + 1) * sizeof(*v->diff_ids));
	memset(v->diff_ids, 0, (n + 1) * sizeof(*v->diff_ids));
	for (size_t i = 0; i < n; i++)
		v->tars[i] = -1;
	for (size_t i = 0; i < n; i++) {
		const char *hex = strchr(v->stored[i], ':') + 1;
		cleanup_free char *dir = xasprintf("%s/%s", s->digest_layers_dir, hex);
		struct pp_error *check_err = NULL;
		int usable = tar_split_check(dir, &check_err);
		pp_error_free(&check_err);
		if (usable == 0) {
			v->diff_ids[i] = xstrdup(v->stored[i]);
			continue;
		}
		if (rebuild_layer(s, v->stored[i], &v->tars[i], &v->diff_ids[i], err) < 0)
			return -1;
		rebuilt = true;
	}
	return rebuilt ? rewrite_config(v, err) : 0;
}

static int saved_get(struct pp_image_store *s, const char *ref, struct saved *v,
		     struct pp_error **err)
{
	struct pp_image *img = NULL;
	cleanup_strv char **blobs = NULL;
	if (pp_image_get(s, ref, &img, err) < 0)
		return -1;
	v->id = xstrdup(img->id);
	if (img->ref != NULL) {
		struct pp_image_ref parsed;
		if (pp_image_ref_parse(img->ref, &parsed, NULL) == 0) {
			v->name = pp_image_ref_string(&parsed);
			pp_image_ref_free(&parsed);
		}
	}
	pp_image_free(img);
	if (image_json_refs(s, v->id, &blobs, &v->stored, err) < 0)
		return -1;
	if (v->stored == NULL || v->stored[0] == NULL)
		return pp_error_set(err, ENOTSUP,
				    "%s: an image `image import` made before the layered store: "
				    "it has no config to save",
				    ref);
	cleanup_free char *path = xasprintf("%s/%s", s->blobs_dir, v->id);
	if (pp_read_file(path, PP_OCI_CONFIG_MAX, &v->config, &v->config_len, err) < 0)
		return -1;
	return saved_layers(s, v, err);
}

/* docker-archive: layers and config, then manifest.json. */
static int save_docker(struct out *o, const struct pp_image_store *s, struct saved *v, size_t n,
		       struct pp_error **err)
{
	struct json_object *manifest = json_object_new_array();
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct json_object *e = json_object_new_object();
		struct json_object *layers = json_object_new_array();
		struct json_object *tags = json_object_new_array();
		cleanup_free char *config = xasprintf("%s.json", v[i].id);
		json_object_array_add(manifest, e);
		json_object_object_add(e, "Config", json_object_new_string(config));
		json_object_object_add(e, "RepoTags", tags);
		json_object_object_add(e, "Layers", layers);
		if (v[i].name != NULL)
			json_object_array_add(tags, json_object_new_string(v[i].name));
		for (size_t j = 0; ret == 0 && v[i].diff_ids[j]; j++) {
			const char *d = v[i].diff_ids[j];
			cleanup_free char *name = xasprintf("%s.tar", strchr(d, ':') + 1);
			int64_t size;
			json_object_array_add(layers, json_object_new_string(name));
			ret = out_layer(o, s, d, v[i].tars[j], name, &size, err);
		}
		if (ret == 0)
			ret = out_file(o, config, v[i].config, v[i].config_len, err);
	}
	if (ret == 0) {
		const char *text = json_object_to_json_string_ext(manifest, SAVE_JSON_FLAGS);
		ret = out_file(o, "manifest.json", text, strlen(text), err);
	}
	json_object_put(manifest);
	return ret;
}

/* oci-archive: one image's layers, config and manifest; *d gets the
 * manifest's descriptor (its index.json entry). */
static int save_oci_image(struct out *o, const struct pp_image_store *s, struct saved *v,
			  struct pp_oci_descriptor *d, struct pp_error **err)
{
	size_t n = 0;
	while (v->diff_ids[n])
		n++;
	struct pp_oci_manifest m = {
	    .media_type = PP_OCI_MT_MANIFEST,
	    .config = {.media_type = PP_OCI_MT_CONFIG,
		       .digest = xasprintf("sha256:%s", v->id),
		       .size = (int64_t)v->config_len},
	    .layers = xmalloc((n + 1) * sizeof(*m.layers)),
	    .n_layers = n,
	};
	memset(m.layers, 0, (n + 1) * sizeof(*m.layers));
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		cleanup_free char *name =
		    xasprintf("blobs/sha256/%s", strchr(v->diff_ids[i], ':') + 1);
		m.layers[i].desc.media_type = PP_OCI_MT_LAYER;
		m.layers[i].desc.digest = v->diff_ids[i];
		ret =
		    out_layer(o, s, v->diff_ids[i], v->tars[i], name, &m.layers[i].desc.size, err);
	}
	cleanup_free char *config = xasprintf("blobs/sha256/%s", v->id);
	if (ret == 0)
		ret = out_file(o, config, v->config, v->config_len, err);
	cleanup_free char *json = ret == 0 ? pp_oci_manifest_to_json(&m) : NULL;
	char hex[PP_SHA256_HEX_LEN + 1];
	if (ret == 0)
		ret = pp_digest_hex(PP_DIGEST_SHA256, json, strlen(json), hex, err);
	if (ret == 0) {
		cleanup_free char *name = xasprintf("blobs/sha256/%s", hex);
		ret = out_file(o, name, json, strlen(json), err);
		d->media_type = xstrdup(PP_OCI_MT_MANIFEST);
		d->digest = xasprintf("sha256:%s", hex);
		d->size = (int64_t)strlen(json);
	}
	free(m.config.digest);
	free(m.layers);
	return ret;
}

static int save_oci(struct out *o, const struct pp_image_store *s, struct saved *v, size_t n,
		    struct pp_error **err)
{
	struct pp_oci_index idx = {.media_type = PP_OCI_MT_INDEX, .n_manifests = n};
	idx.manifests = xmalloc((n + 1) * sizeof(*idx.manifests));
	memset(idx.manifests, 0, (n + 1) * sizeof(*idx.manifests));
	int ret = out_file(o, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), err);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct pp_oci_descriptor *d = &idx.manifests[i];
		ret = save_oci_image(o, s, &v[i], d, err);
		if (ret == 0 && v[i].name != NULL) {
			d->annotations = xmalloc(2 * sizeof(*d->annotations));
			d->annotations[0] =
			    (struct pp_oci_kv){(char *)ANN_CONTAINERD_NAME, v[i].name};
			d->annotations[1] = (struct pp_oci_kv){(char *)ANN_REF_NAME, v[i].name};
			d->n_annotations = 2;
		}
	}
	if (ret == 0) {
		cleanup_free char *json = pp_oci_index_to_json(&idx);
		ret = out_file(o, "index.json", json, strlen(json), err);
	}
	for (size_t i = 0; i < n; i++) {
		free(idx.manifests[i].media_type);
		free(idx.manifests[i].digest);
		free(idx.manifests[i].annotations);
	}
	free(idx.manifests);
	return ret;
}

int pp_image_save(struct pp_image_store *store, const char *const *refs, size_t n,
		  enum pp_image_archive_format format, int fd, struct pp_error **err)
{
	static const char end[2 * TAR_BLOCK];
	struct saved *v = xmalloc((n + 1) * sizeof(*v));
	memset(v, 0, (n + 1) * sizeof(*v));
	struct out o = {.fd = fd};
	cleanup_close int lock = -1;
	int ret = image_store_lock(store, LOCK_SH, &lock, err);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = saved_get(store, refs[i], &v[i], err);
	if (ret == 0 && format == PP_IMAGE_ARCHIVE_OCI)
		ret = save_oci(&o, store, v, n, err);
	else if (ret == 0)
		ret = save_docker(&o, store, v, n, err);
	if (ret == 0)
		ret = out_write(&o, end, sizeof(end), err);
	for (size_t i = 0; i < n; i++)
		saved_clear(&v[i]);
	free(v);
	strv_free(o.written);
	free(o.sizes);
	return ret < 0 ? pp_error_wrap(err, "save") : 0;
}

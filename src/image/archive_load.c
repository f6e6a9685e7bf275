/* `image load` (archive.h): an OCI layout or a docker-archive, from a
 * directory or a tar file, into the store. Every image is added first
 * (blobs and layers, checked), and all are committed only after the last
 * one is whole: a bad archive leaves nothing any tag reaches, and the
 * collection that follows removes what it stored. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/image_internal.h"
#include "image/layer.h"
#include "image/oci.h"
#include "image/store.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/path.h"
#include "util/settings.h"

/* Indexes nested deeper are refused (real ones: one level). */
#define LOAD_INDEX_DEPTH_MAX 4
#define MAGIC_LEN 4

static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

/* An image added, waiting for its commit. */
struct pending {
	struct pp_image_add *add;
	char *config_digest;
	struct pp_oci_config *cfg;
	char **tags;
	size_t n_tags;
};

struct load {
	struct pp_image_store *store;
	int rootfd; /* the layout or the extracted archive */
	struct pp_oci_platform host;
	struct pending *images;
	size_t n_images;
};

static int read_member(struct load *l, const char *name, size_t max, char **data, size_t *len,
		       struct pp_error **err)
{
	cleanup_close int fd = pp_path_open_in_root(l->rootfd, name, O_RDONLY, 0, false, err);
	if (fd < 0 || pp_read_fd(fd, max, data, len, err) < 0)
		return pp_error_wrap(err, "%s", name);
	return 0;
}

static char *blob_name(const char *digest)
{
	const char *colon = strchr(digest, ':');
	return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

/* A blob of an OCI layout: its bytes, checked against the descriptor. */
static int read_blob(struct load *l, const struct pp_oci_descriptor *d, size_t max, char **data,
		     size_t *len, struct pp_error **err)
{
	cleanup_free char *name = blob_name(d->digest);
	enum pp_digest_algo algo;
	const char *hex;
	char got[PP_DIGEST_MAX_HEX + 1];
	if (d->size > (int64_t)max)
		return pp_error_set(err, EFBIG, "%s: %lld bytes, more than %zu", name,
				    (long long)d->size, max);
	if (read_member(l, name, max, data, len, err) < 0)
		return -1;
	int ret = 0;
	if ((int64_t)*len != d->size)
		ret = pp_error_set(err, EBADMSG, "%s: %zu bytes, not the %lld of its descriptor",
				   name, *len, (long long)d->size);
	else if (pp_digest_parse(d->digest, &algo, &hex, err) < 0 ||
		 pp_digest_hex(algo, *data, *len, got, err) < 0)
		ret = -1;
	else if (strcmp(got, hex) != 0)
		ret = pp_error_set(err, EBADMSG, "%s: its bytes hash to %s:%s", name,
				   pp_digest_algo_name(algo), got);
	if (ret < 0) {
		free(*data);
		*data = NULL;
	}
	return ret;
}

struct layer_job {
	const char *member;
	const char *digest; /* NULL when the archive does not say */
	int64_t size;	    /* -1 when unknown */
	const char *diff_id;
	bool detect; /* compression from the bytes (docker-archive) */
	enum pp_oci_compression compression;
};

static enum pp_oci_compression sniff(int fd)
{
	unsigned char m[MAGIC_LEN] = {0};
	if (pread(fd, m, sizeof(m), 0) < (ssize_t)sizeof(m))
		return PP_OCI_COMPRESSION_NONE;
	if (memcmp(m, gzip_magic, sizeof(gzip_magic)) == 0)
		return PP_OCI_COMPRESSION_GZIP;
	if (memcmp(m, zstd_magic, sizeof(zstd_magic)) == 0)
		return PP_OCI_COMPRESSION_ZSTD;
	return PP_OCI_COMPRESSION_NONE;
}

/* The store's unpacker (pp_layer_unpack_fn): fd is the member. */
static int unpack_member(void *ctx, int fd, int dst_dirfd, const char *dst,
			 char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	struct layer_job *j = ctx;
	cleanup_free char *split = pp_image_layer_split_path(dst);
	struct pp_layer_source src = {
	    .fd = fd,
	    .compression = j->detect ? sniff(fd) : j->compression,
	    .digest = j->digest,
	    .size = j->size,
	    .diff_id = j->diff_id,
	    .limits = {.max_bytes = pp_settings()->image_max_bytes,
		       .max_entries = PP_LAYER_MAX_ENTRIES_DEFAULT},
	    .split_path = split,
	};
	struct pp_layer_result res = {0};
	int ret = pp_layer_unpack(dst_dirfd, &src, &res, err);
	if (ret == 0)
		snprintf(diff_id, PP_DIGEST_STRING_MAX, "%s", res.diff_id);
	pp_layer_result_clear(&res);
	return ret;
}

static int add_layer(struct load *l, struct pending *p, struct layer_job *j, struct pp_error **err)
{
	cleanup_close int fd = pp_path_open_in_root(l->rootfd, j->member, O_RDONLY, 0, false, err);
	if (fd < 0)
		return pp_error_wrap(err, "%s", j->member);
	if (pp_image_add_layer(p->add, j->diff_id, j->digest, fd, unpack_member, j, err) < 0)
		return pp_error_wrap(err, "%s", j->member);
	return 0;
}

static struct pending *new_pending(struct load *l, struct pp_error **err)
{
	struct pp_image_add *add;
	if (pp_image_add_begin(l->store, &add, err) < 0)
		return NULL;
	l->images = xrealloc(l->images, (l->n_images + 1) * sizeof(*l->images));
	struct pending *p = &l->images[l->n_images++];
	memset(p, 0, sizeof(*p));
	p->add = add;
	return p;
}

static void pending_tag(struct pending *p, const char *tag)
{
	image_strv_append(&p->tags, &p->n_tags, tag);
}

/* The config, parsed and kept: *p gets it and its digest. */
static int take_config(struct pending *p, const char *digest, const char *data, size_t len,
		       size_t n_layers, struct pp_error **err)
{
	if (pp_oci_parse_config(data, len, &p->cfg, err) < 0 ||
	    pp_image_add_blob(p->add, digest, data, len, err) < 0)
		return -1;
	if (p->cfg->n_diff_ids != n_layers)
		return pp_error_set(err, EINVAL, "%zu layers but %zu diff_ids in the config",
				    n_layers, p->cfg->n_diff_ids);
	if (n_layers == 0)
		return pp_error_set(err, EINVAL, "an image of no layers");
	p->config_digest = xstrdup(digest);
	return 0;
}

/* OCI layout */

static int load_oci_manifest(struct load *l, struct pending *p, const struct pp_oci_manifest *m,
			     struct pp_error **err)
{
	cleanup_free char *cfg = NULL;
	size_t len;
	if (read_blob(l, &m->config, PP_OCI_CONFIG_MAX, &cfg, &len, err) < 0)
		return -1;
	if (take_config(p, m->config.digest, cfg, len, m->n_layers, err) < 0)
		return pp_error_wrap(err, "config %s", m->config.digest);
	for (size_t i = 0; i < m->n_layers; i++) {
		cleanup_free char *member = blob_name(m->layers[i].desc.digest);
		struct layer_job j = {
		    .member = member,
		    .digest = m->layers[i].desc.digest,
		    .size = m->layers[i].desc.size,
		    .diff_id = p->cfg->diff_ids[i],
		    .compression = m->layers[i].compression,
		};
		if (add_layer(l, p, &j, err) < 0)
			return -1;
	}
	return 0;
}

/* The document d names (through indexes, the host's platform) into p. */
static int load_oci_entry(struct load *l, struct pending *p, const struct pp_oci_descriptor *top,
			  struct pp_error **err)
{
	const struct pp_oci_descriptor *d = top;
	struct pp_oci_document *doc = NULL;
	for (int depth = 0;; depth++) {
		cleanup_free char *data = NULL;
		size_t len;
		if (depth > LOAD_INDEX_DEPTH_MAX)
			return pp_error_set(err, EINVAL, "indexes nested more than %d deep",
					    LOAD_INDEX_DEPTH_MAX);
		if (read_blob(l, d, PP_OCI_MANIFEST_MAX, &data, &len, err) < 0)
			break;
		struct pp_oci_document *next = NULL;
		if (pp_oci_parse_manifest(data, len, d->media_type, &next, err) < 0 ||
		    pp_image_add_blob(p->add, d->digest, data, len, err) < 0) {
			pp_oci_document_free(next);
			pp_error_wrap(err, "%s", d->digest);
			break;
		}
		pp_oci_document_free(doc);
		doc = next;
		if (doc->manifest != NULL) {
			int ret = load_oci_manifest(l, p, doc->manifest, err);
			pp_oci_document_free(doc);
			return ret < 0 ? pp_error_wrap(err, "manifest %s", d->digest) : 0;
		}
		if (pp_oci_index_select(doc->index, &l->host, &d, err) < 0)
			break;
	}
	pp_oci_document_free(doc);
	return -1;
}

/* The names an index.json entry gives: io.containerd.image.name, else
 * org.opencontainers.image.ref.name when it is a whole reference (a bare
 * "latest" names no image). */
static int oci_entry_tags(struct pending *p, const struct pp_oci_descriptor *d,
			  struct pp_error **err)
{
	const char *containerd = NULL, *ref = NULL;
	for (size_t i = 0; i < d->n_annotations; i++) {
		if (strcmp(d->annotations[i].key, "io.containerd.image.name") == 0)
			containerd = d->annotations[i].value;
		else if (strcmp(d->annotations[i].key, "org.opencontainers.image.ref.name") == 0)
			ref = d->annotations[i].value;
	}
	const char *name = containerd;
	if (name == NULL && ref != NULL && strpbrk(ref, ":/@") != NULL)
		name = ref;
	if (name == NULL)
		return 0;
	cleanup_free char *tag = pp_image_normalize_ref(name);
	if (tag == NULL)
		return pp_error_set(err, EINVAL, "index.json: \"%s\" is not an image reference",
				    name);
	pending_tag(p, tag);
	return 0;
}

static int load_oci(struct load *l, struct pp_error **err)
{
	cleanup_free char *data = NULL;
	size_t len;
	struct pp_oci_document *doc = NULL;
	if (read_member(l, "index.json", PP_OCI_MANIFEST_MAX, &data, &len, err) < 0)
		return -1;
	if (pp_oci_parse_manifest(data, len, PP_OCI_MT_INDEX, &doc, err) < 0)
		return pp_error_wrap(err, "index.json");
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < doc->index->n_manifests; i++) {
		const struct pp_oci_descriptor *d = &doc->index->manifests[i];
		if (pp_oci_descriptor_is_attestation(d))
			continue;
		struct pending *p = new_pending(l, err);
		if (p == NULL || oci_entry_tags(p, d, err) < 0 || load_oci_entry(l, p, d, err) < 0)
			ret = pp_error_wrap(err, "index.json manifests[%zu]", i);
	}
	pp_oci_document_free(doc);
	return ret;
}

/* docker-archive */

/* The digest a member's name gives: "blobs/sha256/<hex>" (Docker 25+) or
 * "<hex>.json" (the config, older form); NULL when none. */
static char *digest_from_name(const char *member)
{
	const char *slash = strrchr(member, '/');
	const char *base = slash ? slash + 1 : member;
	size_t n = strspn(base, "0123456789abcdef");
	if (n != PP_SHA256_HEX_LEN)
		return NULL;
	if ((strncmp(member, "blobs/sha256/", 13) == 0 && base[n] == '\0') ||
	    (slash == NULL && strcmp(base + n, ".json") == 0))
		return xasprintf("sha256:%.*s", (int)n, base);
	return NULL;
}

/* The file a member is (symlinks resolved inside the archive). */
static bool member_stat(struct load *l, const char *name, struct stat *st)
{
	struct pp_error *e = NULL;
	cleanup_close int fd = pp_path_open_in_root(l->rootfd, name, O_RDONLY, 0, false, &e);
	pp_error_free(&e);
	return fd >= 0 && fstat(fd, st) == 0;
}

/* The older form's names for an image without RepoTags: the repositories
 * entries whose id's <id>/layer.tar is the image's top layer (the same file,
 * or a symlink to it). */
static void repositories_tags(struct load *l, struct pending *p,
			      const struct pp_docker_archive_image *img)
{
	cleanup_free char *data = NULL;
	size_t len, n = 0;
	struct pp_docker_archive_repo *r = NULL;
	struct pp_error *e = NULL;
	struct stat top, st;
	if (!member_stat(l, img->layers[img->n_layers - 1], &top) ||
	    faccessat(l->rootfd, "repositories", F_OK, AT_SYMLINK_NOFOLLOW) < 0 ||
	    read_member(l, "repositories", PP_ARCHIVE_MANIFEST_MAX, &data, &len, &e) < 0 ||
	    pp_docker_archive_parse_repositories(data, len, &r, &n, &e) < 0) {
		pp_error_free(&e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *tag = pp_image_normalize_ref(r[i].name);
		cleanup_free char *member = xasprintf("%s/layer.tar", r[i].id);
		if (tag != NULL && pp_archive_member_name_ok(member) &&
		    member_stat(l, member, &st) && st.st_dev == top.st_dev &&
		    st.st_ino == top.st_ino)
			pending_tag(p, tag);
	}
	pp_docker_archive_repos_free(r, n);
}

static int load_docker_image(struct load *l, struct pending *p,
			     const struct pp_docker_archive_image *img, struct pp_error **err)
{
	cleanup_free char *cfg = NULL;
	size_t len;
	char hex[PP_SHA256_HEX_LEN + 1];
	for (char **t = img->repo_tags; t && *t; t++) {
		cleanup_free char *tag = pp_image_normalize_ref(*t);
		if (tag == NULL)
			return pp_error_set(err, EINVAL,
					    "RepoTags: \"%s\" is not an image reference", *t);
		pending_tag(p, tag);
	}
	if (p->n_tags == 0 && img->n_layers > 0)
		repositories_tags(l, p, img);
	if (read_member(l, img->config, PP_OCI_CONFIG_MAX, &cfg, &len, err) < 0 ||
	    pp_digest_hex(PP_DIGEST_SHA256, cfg, len, hex, err) < 0)
		return -1;
	cleanup_free char *digest = xasprintf("sha256:%s", hex);
	cleanup_free char *named = digest_from_name(img->config);
	if (named != NULL && strcmp(named, digest) != 0)
		return pp_error_set(err, EBADMSG, "%s: its bytes hash to %s", img->config, digest);
	if (take_config(p, digest, cfg, len, img->n_layers, err) < 0)
		return pp_error_wrap(err, "%s", img->config);
	for (size_t i = 0; i < img->n_layers; i++) {
		cleanup_free char *ldigest = digest_from_name(img->layers[i]);
		struct layer_job j = {
		    .member = img->layers[i],
		    .digest = ldigest,
		    .size = -1,
		    .diff_id = p->cfg->diff_ids[i],
		    .detect = true,
		};
		if (add_layer(l, p, &j, err) < 0)
			return -1;
	}
	return 0;
}

static int load_docker(struct load *l, struct pp_error **err)
{
	cleanup_free char *data = NULL;
	size_t len;
	struct pp_docker_archive_manifest *m = NULL;
	if (read_member(l, "manifest.json", PP_ARCHIVE_MANIFEST_MAX, &data, &len, err) < 0 ||
	    pp_docker_archive_parse_manifest(data, len, &m, err) < 0)
		return -1;
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < m->n_images; i++) {
		struct pending *p = new_pending(l, err);
		if (p == NULL || load_docker_image(l, p, &m->images[i], err) < 0)
			ret = pp_error_wrap(err, "manifest.json [%zu]", i);
	}
	pp_docker_archive_manifest_free(m);
	return ret;
}

/* Which kind the layout is: manifest.json (docker-archive, also beside an
 * index.json: its RepoTags name the images), else index.json. */
static int load_layout(struct load *l, struct pp_error **err)
{
	if (faccessat(l->rootfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_docker(l, err);
	if (faccessat(l->rootfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_oci(l, err);
	return pp_error_set(err, EINVAL,
			    "neither manifest.json (docker-archive) nor index.json (OCI layout)");
}

static int commit_all(struct load *l, struct pp_image_loaded **out, size_t *n,
		      struct pp_error **err)
{
	struct pp_image_loaded *res = xmalloc((l->n_images + 1) * sizeof(*res));
	memset(res, 0, (l->n_images + 1) * sizeof(*res));
	for (size_t i = 0; i < l->n_images; i++) {
		struct pending *p = &l->images[i];
		/* an image the archive does not name: kept untagged, as
		 * podman's <none>, until image prune or rm of its id */
		struct pp_image_add_names names = {.tags = (const char *const *)p->tags,
						   .dangling = p->n_tags == 0};
		if (pp_image_add_commit(p->add, p->config_digest, &p->cfg->config, &names,
					&res[i].id, err) < 0) {
			pp_image_loaded_free(res, i);
			return -1;
		}
		res[i].tags = steal_ptr(&p->tags);
	}
	*out = res;
	*n = l->n_images;
	return 0;
}

/* A directory as it is; anything else is a tar file, extracted first into
 * *tmp (a temporary of the store, removed by the caller). */
static int open_input(struct load *l, const char *input, char **tmp, struct pp_error **err)
{
	cleanup_close int fd = -1;
	struct stat st;
	if (strcmp(input, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(input, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return pp_error_set(err, errno, "open %s", input);
	if (S_ISDIR(st.st_mode)) {
		l->rootfd = steal_fd(&fd);
		return 0;
	}
	*tmp = xasprintf("%s/%s%d-load-XXXXXX", l->store->digest_layers_dir, IMAGE_TMP_PREFIX,
			 (int)getpid());
	if (mkdtemp(*tmp) == NULL) {
		free(steal_ptr(tmp));
		return pp_error_set(err, errno, "mkdtemp in %s", l->store->digest_layers_dir);
	}
	if (image_archive_extract(fd, *tmp, err) < 0)
		return -1;
	l->rootfd = open(*tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->rootfd < 0)
		return pp_error_set(err, errno, "open %s", *tmp);
	return 0;
}

static void load_release(struct load *l)
{
	for (size_t i = 0; i < l->n_images; i++) {
		pp_image_add_free(l->images[i].add);
		free(l->images[i].config_digest);
		pp_oci_config_free(l->images[i].cfg);
		strv_free(l->images[i].tags);
	}
	free(l->images);
	pp_oci_platform_clear(&l->host);
	if (l->rootfd >= 0)
		close(l->rootfd);
}

int pp_image_load(struct pp_image_store *store, const char *input, struct pp_image_loaded **out,
		  size_t *n, struct pp_error **err)
{
	struct load l = {.store = store, .rootfd = -1};
	cleanup_free char *tmp = NULL;
	int ret = pp_oci_platform_host(&l.host, err);
	if (ret == 0)
		ret = open_input(&l, input, &tmp, err);
	if (ret == 0)
		ret = load_layout(&l, err);
	if (ret == 0)
		ret = commit_all(&l, out, n, err);
	load_release(&l);
	if (tmp != NULL) {
		struct pp_error *rm_err = NULL;
		pp_rm_rf(tmp, &rm_err);
		pp_error_free(&rm_err);
	}
	/* As a pull: what a failed load stored goes now. */
	struct pp_error *gc_err = NULL;
	pp_image_store_gc(store, &gc_err);
	pp_error_free(&gc_err);
	return ret < 0 ? pp_error_wrap(err, "load %s", input) : 0;
}

void pp_image_loaded_free(struct pp_image_loaded *l, size_t n)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(l[i].id);
		strv_free(l[i].tags);
	}
	free(l);
}

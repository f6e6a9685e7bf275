/* Image archives: `image load` and `image save`.
 *
 * Load reads, from a directory or a tar file (any compression libarchive
 * detects: gzip, zstd, xz, bzip2...; "-" for stdin):
 *  - an OCI image layout (oci-layout, index.json, blobs/<algo>/<hex>): each
 *    entry of index.json is an image (an index entry: the host's platform
 *    of it), named by its io.containerd.image.name annotation, else by
 *    org.opencontainers.image.ref.name when that is a whole reference (a
 *    bare tag such as "latest" names nothing);
 *  - a docker-archive (docker save, podman save): manifest.json's entries,
 *    named by their RepoTags (without any: by the repositories file's
 *    entries whose <id>/layer.tar is the image's top layer); the older
 *    form (<id>/layer.tar, <id>.json) and Docker 25+'s (an OCI layout
 *    with manifest.json beside index.json: manifest.json wins, for its
 *    RepoTags).
 *
 * A tar file is first extracted into a private temporary directory of the
 * store (as the layers are, so one file system) with every entry name
 * checked (no absolute path, no "..", no path through a symlink); members
 * are then opened inside that directory only (RESOLVE_IN_ROOT). Every blob
 * is checked against its digest and size, every layer against the config's
 * diff ID; images are committed only once all of them are whole, so a bad
 * archive leaves nothing in the store.
 *
 * Save writes a docker-archive (as podman's: manifest.json with RepoTags,
 * <config hex>.json, <diff id hex>.tar) or an oci-archive (oci-layout,
 * index.json with each tag as org.opencontainers.image.ref.name and
 * io.containerd.image.name, blobs/sha256/), layers uncompressed. Each
 * layer's tar is rebuilt byte for byte from its tar-split record
 * (tar_split.h), so the config is written as it was stored and the image
 * keeps its id. A layer without a record (from `image import`, or unpacked
 * before records existed) is rebuilt from its tree, deterministically
 * (layer_tar.c): its tar is another one, so the config is rewritten with
 * the new diff IDs and the saved image has another id. */
#ifndef PEAPOD_IMAGE_ARCHIVE_H
#define PEAPOD_IMAGE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "image/image.h"
#include "util/error.h"

/* Bounds on an archive's metadata documents. */
#define PP_ARCHIVE_MANIFEST_MAX (4u << 20) /* manifest.json, index.json */
#define PP_ARCHIVE_IMAGES_MAX 1024	   /* images in one archive */
#define PP_ARCHIVE_TAGS_MAX 1024	   /* RepoTags of one image */
#define PP_ARCHIVE_JSON_DEPTH 32	   /* nesting (real ones: 3) */

/* One image of a docker-archive's manifest.json. */
struct pp_docker_archive_image {
	char *config;	  /* member name of the config */
	char **repo_tags; /* NULL-terminated, as written (may be empty) */
	char **layers;	  /* member names, bottom first, NULL-terminated */
	size_t n_layers;
};

struct pp_docker_archive_manifest {
	struct pp_docker_archive_image *images;
	size_t n_images;
};

/* Parses manifest.json (pure: fuzzed by fuzz/fuzz_archive_manifest.c).
 * Member names are checked: relative, no "..", no empty component. */
int pp_docker_archive_parse_manifest(const void *data, size_t len,
				     struct pp_docker_archive_manifest **out,
				     struct pp_error **err);
void pp_docker_archive_manifest_free(struct pp_docker_archive_manifest *m);

/* A docker-archive's repositories file ({"repo": {"tag": "<id>"}}, what
 * names an image without RepoTags): pairs "repo:tag" -> id, sorted by name
 * (pure: fuzzed with manifest.json). */
struct pp_docker_archive_repo {
	char *name; /* "repo:tag" */
	char *id;   /* the v1 id of the image's top layer: its directory */
};
int pp_docker_archive_parse_repositories(const void *data, size_t len,
					 struct pp_docker_archive_repo **out, size_t *n,
					 struct pp_error **err);
void pp_docker_archive_repos_free(struct pp_docker_archive_repo *r, size_t n);

/* A member name an archive's document gives is safe: not empty, relative,
 * no ".." component. */
bool pp_archive_member_name_ok(const char *name);

struct pp_image_loaded {
	char *id;    /* hex of the config digest */
	char **tags; /* normalized, NULL-terminated; NULL when none */
};

/* Loads every image of input (a directory, a tar file, or "-": stdin).
 * *out gets one entry per image. */
int pp_image_load(struct pp_image_store *store, const char *input, struct pp_image_loaded **out,
		  size_t *n, struct pp_error **err);
void pp_image_loaded_free(struct pp_image_loaded *l, size_t n);

enum pp_image_archive_format {
	PP_IMAGE_ARCHIVE_DOCKER,
	PP_IMAGE_ARCHIVE_OCI,
};

/* Writes refs (names or id prefixes, as pp_image_get takes them) to fd as
 * one archive. On failure fd holds a partial archive: the caller removes
 * the file. */
int pp_image_save(struct pp_image_store *store, const char *const *refs, size_t n,
		  enum pp_image_archive_format format, int fd, struct pp_error **err);

#endif

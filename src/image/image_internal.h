/* Internals of the image store, shared by the files of src/image only.
 * The on-disk layout is documented in store.h. */
#ifndef PEAPOD_IMAGE_INTERNAL_H
#include <stdbool.h>
#define PEAPOD_IMAGE_INTERNAL_H

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/image.h"

#define IMAGE_JSON_MAX (16u << 20)
#define IMAGE_ID_MIN_PREFIX 4
#define IMAGE_LAYER_ID_BYTES 32
#define IMAGE_TMP_PREFIX ".tmp-"
#define IMAGE_DIR_MODE 0700
#define IMAGE_FILE_MODE 0600
/* An image record of the layered store (legacy ones have no "version"). */
#define IMAGE_RECORD_VERSION 2
#define IMAGE_LAYER_TREE "diff"
#define IMAGE_LAYER_META "layer.json"
#define IMAGE_LOCK_SUFFIX ".lock"
/* What pp_write_file_atomic names its temporaries: "<file>.tmp.<pid>". */
#define IMAGE_ATOMIC_TMP_INFIX ".tmp."

struct pp_image_store {
	char *root;
	char *layers_dir;
	char *images_dir;
	char *containers_dir;
	char *repos_path;
	char *lock_path;
	char *add_lock_path;
	char *blobs_dir;	 /* blobs/sha256 */
	char *digest_layers_dir; /* layers/sha256 */
};

/* An add in progress (store.h). */
struct pp_image_add {
	struct pp_image_store *store;
	int add_lock; /* add.lock, held shared */
	/* The chain, lowest first, NULL-terminated: a slot per layer, filled
	 * in any order (pp_image_add_layer_at), NULL until its layer is in. */
	char **diff_ids;
	int64_t *layer_sizes; /* the slots' layer.json sizes */
	size_t n_layers;
	char **blobs; /* digests of the blobs added, NULL-terminated */
	size_t n_blobs;
};

/* The size of the distinct layers of an add's chain. */
int64_t image_add_size(const struct pp_image_add *a);

/* Appends a digest to a NULL-terminated vector of n entries. */
void image_strv_append(char ***v, size_t *n, const char *s);

/* layers/sha256/<hex>/diff, the tree of a layer of the layered store. */
char *image_layer_tree(const struct pp_image_store *s, const char *hex);

/* True when name is <prefix><pid>-... (or <file>.tmp.<pid>) and <pid> is
 * gone: a temporary of a process that died. */
bool image_tmp_is_stale(const char *name);

/* Removes the ".tmp-<pid>-..." entries of dir whose <pid> is gone (safe
 * without any lock: nobody else writes them). */
void image_remove_stale_tmp(const char *dir);

/* flock(op) on path (created if absent); *fd is closed to release it. */
int image_lock_file(const char *path, int op, int *fd, struct pp_error **err);

/* Takes the store lock (LOCK_SH or LOCK_EX); *fd is closed to release it. */
int image_store_lock(const struct pp_image_store *s, int op, int *fd, struct pp_error **err);

/* The pin file of a pod, relative to the store root. */
#define IMAGE_PODS_DIR "pods"
#define IMAGE_PIN_FILE "images"
/* next to it: "namespace/name" of the pod, for messages */
#define IMAGE_PIN_OWNER_FILE "pod"
#define IMAGE_POD_NAME_MAX 1024

/* True when some pod pins image id; *pod_uid (if not NULL) gets which. */
bool image_is_pinned(const struct pp_image_store *s, const char *id, char **pod_uid);

/* Removes untagged images no pod pins, layers no image uses, and temp
 * dirs of dead importers. Call with the exclusive lock held. */
int image_store_gc_locked(const struct pp_image_store *s, struct pp_error **err);

/* How many pods pin image id. */
size_t image_pin_count(const struct pp_image_store *s, const char *id);

/* The ids of images/<id>.json (tagged or not). */
int image_list_ids(const struct pp_image_store *s, char ***out, size_t *n, struct pp_error **err);

/* Every tag of repositories.json that points at id, sorted, NULL-terminated. */
char **image_tags_of(struct json_object *repos, const char *id);

/* The size layer.json of a stored layer gives, or -1 when the layer is
 * absent or not complete. */
int64_t image_layer_size(const struct pp_image_store *s, const char *hex);

/* image_json.c: images/<id>.json and repositories.json */
/* A version 2 record: diff_ids lowest first ("sha256:<hex>"). Legacy
 * records are read, never written. */
/* A string member (nothing when v is NULL), an array of strings (nothing
 * when v is NULL): the image JSON files' and the OCI documents' writers. */
void image_json_put_str(struct json_object *obj, const char *key, const char *v);
void image_json_put_strv(struct json_object *obj, const char *key, char *const *v);

char *image_json_build(const struct pp_image_config *cfg, char *const *diff_ids,
		       const char *const *repo_digests, char *const *blobs, int64_t size,
		       time_t created);
/* The digests of the blobs a record keeps (its config's, and "blobs"), and
 * its diff IDs ("sha256:<hex>"), for the collection. Legacy records: none. */
int image_json_refs(const struct pp_image_store *s, const char *id, char ***blobs, char ***diff_ids,
		    struct pp_error **err);
int image_json_load(const struct pp_image_store *s, const char *id, struct pp_image **out,
		    struct pp_error **err);
int image_repos_load(const struct pp_image_store *s, struct json_object **out,
		     struct pp_error **err);
int image_repos_save(const struct pp_image_store *s, struct json_object *repos,
		     struct pp_error **err);
/* dangling.json: the ids of the untagged images kept until image prune
 * (podman's dangling images: what image load brought that its archive does
 * not name), a JSON object of id: true; read and written under the store
 * lock. The ids, NULL-terminated (*ids NULL when there are none). */
#define IMAGE_DANGLING_FILE "dangling.json"
int image_dangling_load(const struct pp_image_store *s, char ***ids, struct pp_error **err);
/* Adds id to the set (keep) or takes it out; the file goes when empty. */
int image_dangling_set(const struct pp_image_store *s, const char *id, bool keep,
		       struct pp_error **err);

/* image_tar.c: extracts a tar archive (any compression) into the existing
 * directory dst, refusing absolute paths, ".." and symlink traversal. */
int image_extract_tar(const char *archive, const char *dst, struct pp_error **err);

/* archive_extract.c: the tar read from in_fd (any compression) into the
 * existing empty directory dst, every entry's name checked (image load). */
int image_archive_extract(int in_fd, const char *dst, struct pp_error **err);

/* layer_tar.c: the layer tree (an overlay lower dir) written to out_fd as
 * an image layer's tar, deterministically (image save of a layer without a
 * tar-split record). */
int image_layer_tar(const char *tree, int out_fd, struct pp_error **err);

/* Apparent size of the tree (hardlinked files counted once). */
int64_t image_tree_size(const char *dir);

#endif

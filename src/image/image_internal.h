/* Internals of the image store, shared by the files of src/image only.
 *
 * Layout under the store root (default /var/lib/peapod):
 *
 *   lock               flock(2) target: shared for reads, exclusive for any change
 *   repositories.json  {"busybox:1.36": "<image id>", ...}   (normalized ref -> id)
 *   images/<id>.json   OCI-image-config-like: created, config {Entrypoint, Cmd, Env,
 *                      WorkingDir, User, StopSignal}, rootfs.layers (layer ids,
 *                      topmost first), size; <id> is the sha256 of the file's bytes
 *   layers/<layer id>/ one layer: a directory tree used read-only as an overlay
 *                      lowerdir; <layer id> is 64 hex digits (random for imports)
 *   layers/.tmp-<pid>-XXXXXX  an import in progress (removed on failure, and by
 *                      the next garbage collection once <pid> is gone)
 *   containers/        per-container writable layers, owned by the runtime
 *
 * Every file is replaced atomically (write + rename). Untagged images are not
 * kept: an image whose last tag goes is removed, then every layer no image uses. */
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

struct pp_image_store {
	char *root;
	char *layers_dir;
	char *images_dir;
	char *containers_dir;
	char *repos_path;
	char *lock_path;
};

/* Takes the store lock (LOCK_SH or LOCK_EX); *fd is closed to release it. */
int image_store_lock(const struct pp_image_store *s, int op, int *fd, struct pp_error **err);

/* The pin file of a pod, relative to the store root. */
#define IMAGE_PODS_DIR "pods"
#define IMAGE_PIN_FILE "images"

/* True when some pod pins image id; *pod_uid (if not NULL) gets which. */
bool image_is_pinned(const struct pp_image_store *s, const char *id, char **pod_uid);

/* Removes untagged images no pod pins, layers no image uses, and temp
 * dirs of dead importers. Call with the exclusive lock held. */
int image_store_gc_locked(const struct pp_image_store *s, struct pp_error **err);

/* image_json.c: images/<id>.json and repositories.json */
char *image_json_build(const struct pp_image_config *cfg, char *const *layer_ids, int64_t size,
		       time_t created);
int image_json_load(const struct pp_image_store *s, const char *id, struct pp_image **out,
		    struct pp_error **err);
int image_repos_load(const struct pp_image_store *s, struct json_object **out,
		     struct pp_error **err);
int image_repos_save(const struct pp_image_store *s, struct json_object *repos,
		     struct pp_error **err);

/* image_copy.c: copies the tree at src into the existing directory dst,
 * preserving modes, owners, times, symlinks (never followed), hardlinks,
 * device nodes and (best-effort) xattrs. Mount points below src are copied
 * as empty directories. */
int image_copy_tree(const char *src, const char *dst, struct pp_error **err);

/* image_tar.c: extracts a tar archive (any compression) into the existing
 * directory dst, refusing absolute paths, ".." and symlink traversal. */
int image_extract_tar(const char *archive, const char *dst, struct pp_error **err);

/* Apparent size of the tree (hardlinked files counted once). */
int64_t image_tree_size(const char *dir);

#endif

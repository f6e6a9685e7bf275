/* src/image: owns the local image store under PEAPOD_ROOT (refs, image
 * configs, layers, pins, import, garbage collection), the parsers of the
 * JSON documents images come as (oci.h) and the unpacker of their layers
 * (layer.h); uses only src/util.
 * Must not know pods or pod manifests, nor touch a pod's writable layers
 * (src/pod's), print or exit.
 *
 * Local image store under a root directory (default /var/lib/peapod).
 * An image is an ordered list of layers (read-only directories, used as
 * overlay lower dirs) plus a config (what an OCI image config holds for
 * running: entrypoint, cmd, env, workdir, user, stop signal). Import makes
 * an image of one layer per directory or tar; adding images layer by layer
 * (pull, load) is store.h's, which also documents the layout. */
#ifndef PEAPOD_IMAGE_H
#define PEAPOD_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

/* The kernel's limit on overlay lower layers (fs/overlayfs/params.h,
 * OVL_MAX_STACK): an image with more distinct layers cannot run, and the
 * store refuses to load one. */
#define PP_IMAGE_MAX_LAYERS 500

/* One label of an image config: keys are free text (may hold '='), hence
 * pairs rather than "key=value" strings. */
struct pp_image_label {
	char *key;
	char *value;
};

struct pp_image_config {
	char **entrypoint; /* NULL-terminated, NULL when unset */
	char **cmd;
	char **env; /* "NAME=value" */
	char *working_dir;
	char *user;	   /* "name", "uid", "uid:gid", "name:group" */
	char *stop_signal; /* e.g. "SIGTERM" */
	/* From an OCI/Docker image config (src/image/oci.c), kept in the
	 * store's images/<id>.json by a pull; NULL / 0 for imported images
	 * (no flag sets them) and for records written before. Nothing runs
	 * with them yet: image inspect and the CRI's Volumes will. */
	/* container paths as the image wrote them, sorted, NULL-terminated;
	 * a relative one is the image's mistake, which containerd's CRI
	 * takes from the root: the user of this field must too */
	char **volumes;
	char **exposed_ports;	       /* "80/tcp", "53/udp", sorted, NULL-terminated */
	struct pp_image_label *labels; /* sorted by key */
	size_t n_labels;
};

/* Frees what cfg holds (not cfg itself) and zeroes it. */
void pp_image_config_clear(struct pp_image_config *cfg);

struct pp_image {
	char *id;  /* hex of the config's digest (before the layered store:
		    * of the image's JSON file) */
	char *ref; /* normalized "name:tag", e.g. "busybox:1.36"; NULL if untagged */
	/* absolute paths of layer directories, topmost first, each once (see
	 * image_json.c), at most PP_IMAGE_MAX_LAYERS, NULL-terminated */
	char **layers;
	struct pp_image_config config;
	int64_t size; /* bytes on disk */
	time_t created;
	/* Read back from the record (NULL for the records `image import` made
	 * before the layered store): "name@sha256:..." the image was pulled
	 * by, and the diff IDs "sha256:<hex>", lowest first. */
	char **repo_digests;
	char **diff_ids;
	/* Every tag of the image, sorted (pp_image_get and pp_image_list). */
	char **tags;
	/* From the image's config blob: pp_image_read_platform fills them
	 * (NULL before, and for the images of before the layered store). */
	char *os;
	char *architecture;
	char *variant;
};

struct pp_image_store;

/* root NULL = $PEAPOD_ROOT or /var/lib/peapod. Creates the layout if absent:
 * layers/, images/, repositories.json, lock, and containers/ (the place for
 * per-container writable layers, which the runtime creates and removes; see
 * image_internal.h for the whole layout). */
int pp_image_store_open(const char *root, struct pp_image_store **out, struct pp_error **err);
void pp_image_store_free(struct pp_image_store *store);
const char *pp_image_store_root(const struct pp_image_store *store);

/* Imports a root filesystem directory or a tar archive (plain or compressed)
 * as image ref. cfg may be NULL. Replaces the tag if it exists. Nothing is
 * left behind on failure. */
int pp_image_import(struct pp_image_store *store, const char *src, const char *ref,
		    const struct pp_image_config *cfg, struct pp_image **out,
		    struct pp_error **err);

/* The same with several sources, lowest layer first (as a Dockerfile
 * stacks them): one layer each, the last one on top. */
int pp_image_import_layers(struct pp_image_store *store, const char *const *srcs, size_t n,
			   const char *ref, const struct pp_image_config *cfg,
			   struct pp_image **out, struct pp_error **err);

/* Finds by ref ("busybox" means "busybox:latest"; "docker.io/library/busybox:1.36"
 * matches "busybox:1.36") or by a unique id prefix (at least 4 hex digits,
 * "sha256:" allowed). A tag wins over an id prefix spelled the same. */
int pp_image_get(struct pp_image_store *store, const char *ref, struct pp_image **out,
		 struct pp_error **err);

/* One entry per tag, newest first. Free with pp_image_list_free. */
int pp_image_list(struct pp_image_store *store, struct pp_image ***out, size_t *n,
		  struct pp_error **err);
/* Removes the tag ref (by id prefix: every tag of that image); the image and
 * any layer no other image uses go with its last tag. */
int pp_image_remove(struct pp_image_store *store, const char *ref, struct pp_error **err);
/* The same even when a running pod uses the image: the tags go now, the
 * image and its layers stay while a pod pins them (a running container's
 * lower dirs never vanish) and go with the first collection after. */
int pp_image_remove_force(struct pp_image_store *store, const char *ref, struct pp_error **err);

/* A pod pins the images it runs from so that neither `image rm` nor the
 * garbage collection after an import removes a layer under a running
 * container: the ids go to <root>/pods/<pod_uid>/images, written under the
 * store lock after checking each image still exists. The pin goes with that
 * directory (the pod's data directory, removed when the pod is). pod_name
 * ("namespace/name", may be NULL) goes next to it, for `image rm` to say
 * which pod holds an image. */
int pp_image_pin(struct pp_image_store *store, const char *pod_uid, const char *pod_name,
		 struct pp_image *const *images, size_t n, struct pp_error **err);

/* Fills img's os, architecture and variant from its config blob (what the
 * pull or the import stored under the image's id), so records need no
 * copy of them. An image of before the layered store has no config blob:
 * they stay NULL. */
int pp_image_read_platform(struct pp_image_store *store, struct pp_image *img,
			   struct pp_error **err);

/* Points the tag target (normalized; a digest reference or an invalid one
 * is refused) at the image source names (a tag or an id prefix), moving it
 * if it named another image (which then goes if nothing else keeps it). */
int pp_image_tag(struct pp_image_store *store, const char *source, const char *target,
		 struct pp_error **err);

/* What the store holds and what is shared (`peapod system df`). A layer
 * that several images use is counted once in every total. */
struct pp_image_usage_entry {
	char *id;
	char **tags; /* sorted, NULL-terminated; empty for an untagged image */
	time_t created;
	int64_t size;	     /* its layers */
	int64_t shared_size; /* of its layers another image uses too */
	size_t n_pods;	     /* pods that run it */
};

struct pp_image_usage {
	struct pp_image_usage_entry *images; /* newest first */
	size_t n_images;
	size_t n_active;	/* images some pod runs */
	size_t n_layers;	/* distinct layers */
	size_t n_shared_layers; /* used by two images or more */
	int64_t size;		/* every distinct layer once */
	int64_t shared_size;	/* the layers used by two images or more, once each */
	int64_t reclaimable;	/* the layers no running pod's image uses */
	size_t n_containers;	/* containers' writable layers under pods/ */
	int64_t containers_size;
};

int pp_image_store_usage(struct pp_image_store *store, struct pp_image_usage *out,
			 struct pp_error **err);
void pp_image_usage_clear(struct pp_image_usage *u);

void pp_image_free(struct pp_image *img);
void pp_image_list_free(struct pp_image **imgs, size_t n);

/* The format of the store's image records (their "version"), for
 * `peapod version`. */
int pp_image_store_format(void);

/* Normalizes an image reference to the store's key, the short form docker and
 * podman show (util/image_reference.h's grammar):
 * "busybox" -> "busybox:latest", "docker.io/library/busybox:1.36" ->
 * "busybox:1.36". NULL when ref is not a valid reference. Caller frees. */
char *pp_image_normalize_ref(const char *ref);

#endif

/* The layered, content-addressed image store: how images come in (pull,
 * `image load`, `image import` all add through this API) and the layout on
 * disk. Reading, listing, removal and pins are image.h's.
 *
 * Layout under the store root (default /var/lib/peapod):
 *
 *   lock                   flock(2): shared for reads, exclusive for any change
 *                          of images/ or repositories.json (held briefly)
 *   add.lock               flock(2): shared by every add in progress, from
 *                          begin to commit; the collection of layers and blobs
 *                          takes it exclusive without waiting and skips those
 *                          sweeps when an add runs (a layer just added is
 *                          referenced by no image yet, so it would look unused)
 *   repositories.json      {"busybox:1.36": "<image id>", ...}: the repo tags
 *   dangling.json          {"<image id>": true, ...}: untagged images kept until
 *                          image prune (image load of an unnamed image); absent
 *                          when there are none
 *   blobs/sha256/<hex>     manifests and configs, as they came (bytes unchanged,
 *                          so their digests stay verifiable); written to
 *                          .tmp-<pid>-XXXXXX then renamed
 *   layers/sha256/<hex>/   one layer by diff ID (the digest of its uncompressed
 *                          tar): diff/ the unpacked tree (an overlay lower dir:
 *                          whiteouts as 0/0 char devices, opaque dirs by xattr),
 *                          layer.json {diff_id, compressed_digest, size,
 *                          complete: true}, tar-split (what image save
 *                          rebuilds the layer's identical tar from: its
 *                          headers and padding, the contents by reference to
 *                          diff/, so the layer's diff ID and the image's id
 *                          stay; absent for imported layers and those
 *                          unpacked before it existed: save rebuilds those
 *                          from diff/, another tar, another image id).
 *                          A layer is stored once, shared by every image
 *                          that has it.
 *   layers/sha256/.tmp-<pid>-XXXXXX/  a layer being unpacked; renamed to its
 *                          digest once diff/ and layer.json (written last) are
 *                          complete, so a directory under its digest name is
 *                          always whole. Removed by the collection once <pid>
 *                          is gone.
 *   layers/sha256/<hex>.lock  flock(2) per layer: two adders of one diff ID
 *                          unpack it once, the second waits and finds it
 *   images/<id>.json       an image record; <id> is the hex of its config's
 *                          digest (as podman and containerd), version 2:
 *                          {version, created, config (what runs), layers (diff
 *                          IDs, lowest first), repo_digests, blobs (the
 *                          manifests it keeps), size}
 *   layers/<64 hex>/, images/<id>.json without "version"
 *                          the one-layer images `image import` made before
 *                          this layout: read as they are, never rewritten (no
 *                          migration step that a crash could leave half done);
 *                          they go when their last tag does
 *   containers/            per-container writable layers, owned by the runtime
 *
 * Every file is replaced atomically (temporary name, then rename): a process
 * killed at any moment leaves nothing that looks complete, only temporaries
 * that the next collection removes. Not fsync'ed: a power loss may lose the
 * last add (its layers then look absent, not broken, except a torn file that
 * the loader refuses). */
#ifndef PEAPOD_IMAGE_STORE_H
#define PEAPOD_IMAGE_STORE_H

#include <stddef.h>

#include <stdbool.h>

#include "image/image.h"
#include "util/digest.h"

/* An image being added. */
struct pp_image_add;

/* Where an unpacker given the tree dst keeps the layer's tar-split record
 * (pp_layer_source.split_path, image/tar_split.h): beside the tree. The
 * caller frees. */
char *pp_image_layer_split_path(const char *dst);

/* Fills the empty directory dst (dst_dirfd open on it) with the layer read
 * from fd. When it hashed the uncompressed tar, it writes "sha256:<hex>" to
 * diff_id (else leaves it ""), which the store checks against the diff ID
 * the caller announced. The store gives the unpacker a private directory: it
 * need not clean up on failure. */
typedef int (*pp_layer_unpack_fn)(void *ctx, int fd, int dst_dirfd, const char *dst,
				  char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err);

/* Starts an add (takes add.lock shared until pp_image_add_free). */
int pp_image_add_begin(struct pp_image_store *store, struct pp_image_add **out,
		       struct pp_error **err);

/* Stores a blob (manifest, config) under its digest after checking the
 * bytes hash to it. Already present: nothing to do. */
int pp_image_add_blob(struct pp_image_add *add, const char *digest, const void *data, size_t len,
		      struct pp_error **err);

/* Appends a layer to the image's chain (call lowest first): reserves its
 * slot, then pp_image_add_layer_at. diff_id
 * "sha256:<hex>", or NULL when nobody knows it (a directory import): the
 * layer then gets a random name in the same namespace, never shared.
 * compressed_digest (the blob it came as) goes to layer.json; may be NULL.
 * When the layer is stored already, fd is not read. */
int pp_image_add_layer(struct pp_image_add *add, const char *diff_id, const char *compressed_digest,
		       int fd, pp_layer_unpack_fn unpack, void *ctx, struct pp_error **err);

/* Appends n empty slots to the chain and returns the index of the first:
 * their layers are then added in any order, each by one caller, with
 * pp_image_add_layer_at; the chain stays in slot order (lowest first).
 * Not concurrent with other calls on add. */
size_t pp_image_add_reserve(struct pp_image_add *add, size_t n);

/* pp_image_add_layer into the reserved slot index. Calls for distinct
 * slots may run at once from several threads (nothing else on add
 * meanwhile): each takes its own layer's lock and unpacks into its own
 * private directory; two slots of one diff ID unpack it once (the second
 * waits on the layer's lock, as a second process does). A slot left empty
 * fails the commit. */
int pp_image_add_layer_at(struct pp_image_add *add, size_t index, const char *diff_id,
			  const char *compressed_digest, int fd, pp_layer_unpack_fn unpack,
			  void *ctx, struct pp_error **err);

/* Names and records of a commit. tags: normalized refs ("busybox:1.36"),
 * NULL-terminated, may be NULL; repo_digests: "name@sha256:...", likewise. */
struct pp_image_add_names {
	const char *const *tags;
	const char *const *repo_digests;
	/* No tags: kept untagged (podman's dangling image, "<none>" in image
	 * ls) until image prune or image rm of its id, not collected at once */
	bool dangling;
};

/* Writes the image record (id = config_digest's hex; the config blob must
 * have been added) with cfg (what runs), then points the tags at it. *id_out
 * (may be NULL) gets the id. A tag that pointed elsewhere moves; the image it
 * left is collected once it has no tag and no pod pins it. */
int pp_image_add_commit(struct pp_image_add *add, const char *config_digest,
			const struct pp_image_config *cfg, const struct pp_image_add_names *names,
			char **id_out, struct pp_error **err);

/* Ends the add (committed or not) and releases add.lock. Layers and blobs of
 * an add never committed stay until a collection finds them unused. */
void pp_image_add_free(struct pp_image_add *add);

/* Collects untagged unpinned images (not the dangling ones), unused layers
 * and blobs, and stale temporaries (what image rm does after untagging). */
int pp_image_store_gc(struct pp_image_store *store, struct pp_error **err);
/* The same, the dangling images too (image prune). */
int pp_image_store_prune(struct pp_image_store *store, struct pp_error **err);

/* The ready unpackers of today: ctx is the path of a directory to copy or
 * of a tar archive file (any compression) to extract; fd is not used.
 * Neither computes a diff ID. */
int pp_layer_unpack_dir(void *ctx, int fd, int dst_dirfd, const char *dst,
			char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err);
int pp_layer_unpack_tar_file(void *ctx, int fd, int dst_dirfd, const char *dst,
			     char diff_id[PP_DIGEST_STRING_MAX], struct pp_error **err);

#endif

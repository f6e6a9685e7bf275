/* Typed, validating parsers for the JSON documents of an image as a registry
 * or an archive gives them: OCI image index and Docker manifest list, OCI
 * image manifest and Docker schema2 manifest, OCI and Docker image configs;
 * the choice of an index entry for a platform; and the serialization back to
 * JSON of the documents peapod writes itself (image save). Pure code over
 * json-c: no I/O, no store.
 *
 * Every document is parsed whole into structs and validated there; an error
 * names the field ("layers[3].digest: ..."). Unknown fields are ignored, as
 * the image spec requires. Schema 1 manifests are refused. */
#ifndef PEAPOD_IMAGE_OCI_H
#define PEAPOD_IMAGE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"
#include "util/error.h"

/* Limits. A manifest or an index larger than containerd's default (4 MiB) is
 * refused before parsing, so is a config larger than 8 MiB (real ones are a
 * few KiB; the history of huge images stays far below). */
#define PP_OCI_MANIFEST_MAX (4u << 20)
#define PP_OCI_CONFIG_MAX (8u << 20)
/* At most 128 layers in an image from a registry or an archive: Docker's
 * own bound (127 + 1, from aufs) that every real image keeps, and far from
 * the kernel's 500 lower layers (PP_IMAGE_MAX_LAYERS; rootfs.c appends them
 * with fsconfig's lowerdir+, so the mount options' page size is no limit):
 * a document with more is hostile or broken, refused before any download. */
#define PP_OCI_LAYERS_MAX 128
#define PP_OCI_INDEX_MAX 1024	    /* entries of an index (real ones: a few dozen) */
#define PP_OCI_HISTORY_MAX 1024	    /* history entries, empty layers included */
#define PP_OCI_ENV_MAX 4096	    /* Env entries */
#define PP_OCI_ARGS_MAX 4096	    /* Entrypoint, Cmd entries */
#define PP_OCI_LABELS_MAX 1024	    /* Labels */
#define PP_OCI_ANNOTATIONS_MAX 1024 /* annotations of one descriptor or document */
#define PP_OCI_MAP_MAX 1024	    /* Volumes, ExposedPorts, os.features, urls */
#define PP_OCI_MEDIA_TYPE_MAX 255   /* RFC 6838: 127 for type, 127 for subtype, '/' */
#define PP_OCI_JSON_DEPTH 32	    /* nesting of any document; real ones use 5 */

/* Media types */
#define PP_OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define PP_OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define PP_OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define PP_OCI_MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define PP_OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define PP_OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define PP_OCI_MT_LAYER_ND "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define PP_OCI_MT_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define PP_OCI_MT_LAYER_ND_ZSTD "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define PP_DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define PP_DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PP_DOCKER_MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define PP_DOCKER_MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define PP_DOCKER_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define PP_DOCKER_MT_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define PP_DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define PP_DOCKER_MT_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* What the registry should be asked for (an Accept header's list), best first. */
#define PP_OCI_ACCEPT                                                                              \
	PP_OCI_MT_INDEX ", " PP_DOCKER_MT_LIST ", " PP_OCI_MT_MANIFEST ", " PP_DOCKER_MT_MANIFEST

/* The annotation BuildKit puts on the index entries of attestations. */
#define PP_OCI_ANN_REFERENCE_TYPE "vnd.docker.reference.type"
#define PP_OCI_REFERENCE_ATTESTATION "attestation-manifest"

struct pp_oci_kv {
	char *key;
	char *value;
};

struct pp_oci_platform {
	char *os;	    /* "linux" */
	char *architecture; /* "amd64", "arm64", "arm", ... */
	char *variant;	    /* "v7", "v8"; NULL when none */
	char *os_version;   /* "os.version", NULL when absent */
	char **os_features; /* "os.features", NULL-terminated, NULL when absent */
};

struct pp_oci_descriptor {
	char *media_type;
	char *digest; /* "sha256:<64 hex>" or "sha512:<128 hex>", lowercase */
	int64_t size;
	char **urls; /* NULL-terminated, NULL when absent */
	struct pp_oci_kv *annotations;
	size_t n_annotations;
	struct pp_oci_platform *platform; /* index entries only; NULL when absent */
};

enum pp_oci_compression {
	PP_OCI_COMPRESSION_NONE,
	PP_OCI_COMPRESSION_GZIP,
	PP_OCI_COMPRESSION_ZSTD,
};

struct pp_oci_layer {
	struct pp_oci_descriptor desc;
	enum pp_oci_compression compression;
	/* A non-distributable (OCI) or foreign (Docker) layer: an ordinary tar
	 * layer that a registry may not hold (historically Windows base layers).
	 * It is accepted and applied like any other; the pull asks the registry
	 * first and then desc.urls; image save writes it into the archive. */
	bool foreign;
};

/* An OCI image manifest or a Docker schema2 manifest. */
struct pp_oci_manifest {
	char *media_type; /* as the document or the Content-Type says */
	struct pp_oci_descriptor config;
	struct pp_oci_layer *layers; /* bottom first, as in the document */
	size_t n_layers;
	struct pp_oci_kv *annotations;
	size_t n_annotations;
};

/* An OCI image index or a Docker manifest list. */
struct pp_oci_index {
	char *media_type;
	struct pp_oci_descriptor *manifests;
	size_t n_manifests;
	struct pp_oci_kv *annotations;
	size_t n_annotations;
};

enum pp_oci_kind {
	PP_OCI_KIND_INDEX,	     /* OCI image index */
	PP_OCI_KIND_MANIFEST,	     /* OCI image manifest */
	PP_OCI_KIND_DOCKER_LIST,     /* Docker manifest list (an index) */
	PP_OCI_KIND_DOCKER_MANIFEST, /* Docker schema2 (a manifest) */
};

struct pp_oci_document {
	enum pp_oci_kind kind;
	struct pp_oci_index *index;	  /* set for the two index kinds */
	struct pp_oci_manifest *manifest; /* set for the two manifest kinds */
};

/* An image config: what an image runs with (config, reusing the store's
 * struct) plus its platform, creation time, diff IDs and history. */
struct pp_oci_history {
	char *created;
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct pp_oci_config {
	char *architecture;
	char *os;
	char *variant;	  /* NULL when absent */
	char *os_version; /* "os.version", NULL when absent */
	char *created;	  /* RFC 3339 as written; NULL when absent */
	struct pp_image_config config;
	char **diff_ids; /* rootfs.diff_ids, bottom first, NULL-terminated */
	size_t n_diff_ids;
	struct pp_oci_history *history; /* NULL when the document has none */
	size_t n_history;
};

/* Parses a manifest or an index of len bytes. content_type is the HTTP
 * Content-Type (parameters ignored) or the type an archive's descriptor gave;
 * NULL, "" or a generic type (application/json, application/octet-stream,
 * text/plain) let the document's own mediaType decide, and without one its
 * shape ("manifests" for an index, "config" and "layers" for a manifest), as
 * containerd does. The document's mediaType, when present, gives the kind (an
 * OCI type may come as its Docker twin); an index sent as a manifest or the
 * reverse, schema 1 and any other type are refused. */
int pp_oci_parse_manifest(const void *data, size_t len, const char *content_type,
			  struct pp_oci_document **out, struct pp_error **err);
void pp_oci_document_free(struct pp_oci_document *doc);

/* Parses an image config of either media type (the caller knows it from the
 * manifest's config descriptor: both read the same). */
int pp_oci_parse_config(const void *data, size_t len, struct pp_oci_config **out,
			struct pp_error **err);
void pp_oci_config_free(struct pp_oci_config *cfg);

/* The config fits the manifest: as many diff IDs as layers. */
int pp_oci_check_image(const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		       struct pp_error **err);

/* "sha256:" + 64 or "sha512:" + 128 lowercase hex digits. */
bool pp_oci_digest_valid(const char *digest);

/* Platforms. Normalization as containerd's platforms package: os and
 * architecture lowercased; x86_64/x86-64 -> amd64 (v1 = no variant),
 * i386 -> 386, aarch64 -> arm64 (no variant = v8), armhf -> arm/v7,
 * armel -> arm/v6, arm with no variant -> arm/v7, a bare digit variant
 * gets its "v". */
void pp_oci_platform_normalize(struct pp_oci_platform *p);
/* "os/arch[/variant]" (--platform), normalized. */
int pp_oci_platform_parse(const char *spec, struct pp_oci_platform *out, struct pp_error **err);
/* The platform of `uname -m` (machine) on Linux: x86_64, aarch64, armv7l... */
int pp_oci_platform_from_machine(const char *machine, struct pp_oci_platform *out,
				 struct pp_error **err);
/* This host's, from uname(2). */
int pp_oci_platform_host(struct pp_oci_platform *out, struct pp_error **err);
/* "linux/arm/v7"; the caller frees. */
char *pp_oci_platform_format(const struct pp_oci_platform *p);
void pp_oci_platform_clear(struct pp_oci_platform *p);

/* An index entry that is not an image: a BuildKit attestation (annotation
 * vnd.docker.reference.type = attestation-manifest, or platform
 * unknown/unknown). */
bool pp_oci_descriptor_is_attestation(const struct pp_oci_descriptor *d);

/* The entry of idx to run on want (normalized): the exact platform first,
 * then the compatible ones in containerd's order (arm64 -> arm/v8..v5,
 * arm/vN -> arm/vN-1..v5, amd64/vN -> amd64/vN-1..v1 -> 386), then an entry
 * without a platform; attestations and entries of other media types never.
 * The first entry wins a tie. The entry may itself be an index (nested
 * indexes are allowed): the caller fetches it and selects again. When none
 * fits, the error lists the platforms offered. */
int pp_oci_index_select(const struct pp_oci_index *idx, const struct pp_oci_platform *want,
			const struct pp_oci_descriptor **out, struct pp_error **err);

/* A single-platform image (a manifest without an index) runs on want: its
 * config's os/architecture/variant is one of want's compatible platforms,
 * as containerd checks before unpacking. */
int pp_oci_config_check_platform(const struct pp_oci_config *c, const struct pp_oci_platform *want,
				 struct pp_error **err);

/* Compact JSON of a manifest, an index or a config, with the fields in a fixed
 * order and maps sorted by key, so that the same struct always gives the same
 * bytes (and the same digest). For documents peapod makes (image save); a
 * pulled document's bytes are kept as they came. The caller frees. */
char *pp_oci_manifest_to_json(const struct pp_oci_manifest *m);
char *pp_oci_index_to_json(const struct pp_oci_index *idx);
char *pp_oci_config_to_json(const struct pp_oci_config *c);

/* The "config" member of an image config (what runs: User, ExposedPorts,
 * Env, Entrypoint, Cmd, Volumes, WorkingDir, Labels, StopSignal; unset
 * fields left out), which is also the Config that `image inspect` shows as
 * podman and docker do. A new json-c object; the caller puts it. */
struct json_object;
struct json_object *pp_oci_run_config_json(const struct pp_image_config *cfg);

#endif

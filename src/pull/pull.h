/* src/pull: owns the pull of an image from a registry into the local store:
 * it joins the registry client (src/registry) and the layered store's add
 * API (src/image/store.h), under the host's registry settings
 * (registries_conf.h: mirrors, insecure and blocked registries;
 * certs_dir.h: a registry's CAs). Above both, since src/registry already uses
 * src/image's parsers and src/image must not know registries.
 * Must not print or exit: what happens is told through a callback, one
 * event at a time, and the caller (the CLI, later a pod's supervisor)
 * shows it. */
#ifndef PEAPOD_PULL_H
#define PEAPOD_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"
#include "util/error.h"

/* An index entry may itself be an index (the image spec allows nesting;
 * real registries serve one level): followed at most this deep. */
#define PP_PULL_INDEX_DEPTH_MAX 4
/* A layer's download, next to the store's layers (same file system, so no
 * copy across devices); unlinked as soon as it is open, so a killed pull
 * leaves nothing behind. */
#define PP_PULL_TMP_PREFIX ".tmp-pull-"

enum pp_pull_event_kind {
	PP_PULL_EV_START,	 /* text: the reference, normalized in full */
	PP_PULL_EV_BLOB,	 /* digest, size: a layer being downloaded */
	PP_PULL_EV_BLOB_SKIPPED, /* digest: a layer the store has already (by diff ID) */
	PP_PULL_EV_WARNING,	 /* text: an entry of a layer skipped, and why */
	PP_PULL_EV_WRITING,	 /* digest: the image's config (its id) being recorded */
};

struct pp_pull_event {
	enum pp_pull_event_kind kind;
	const char *text;
	const char *digest;
	int64_t size;
};

struct pp_pull_options {
	/* "os/arch[/variant]" to pick from an index; NULL: this host's */
	const char *platform;
	/* Credentials for the reference's registry (--creds); NULL: anonymous */
	const char *username;
	const char *password;
	/* Talk to the reference's registry (and its mirrors) in plain HTTP
	 * (--tls-verify=false): never implied, not even for 127.0.0.1 or
	 * localhost, but by registries.conf's insecure = true */
	bool plain_http;
	/* HTTPS even where registries.conf says insecure (--tls-verify=true) */
	bool tls_verify;
	/* containers-registries.conf(5) file (and its drop-ins, FILE.d/\*.conf):
	 * mirrors, insecure and blocked registries; NULL: the setting
	 * (PEAPOD_REGISTRIES_CONF). A missing file means no settings. */
	const char *registries_conf;
	void (*progress)(void *ctx, const struct pp_pull_event *ev); /* may be NULL */
	void *progress_ctx;
};

/* Pulls ref ("busybox:1.36", "quay.io/a/b@sha256:...") into store, from
 * where registries.conf says (a blocked registry is refused: EACCES;
 * mirrors first, each that fails falls through to the next): the
 * manifest (from an index, the entry for the platform), the config (checked
 * against the manifest and the platform), then each layer the store does
 * not have yet by diff ID, downloaded to an unlinked temporary file (its
 * digest checked) and unpacked from it (its diff ID checked). The image is
 * tagged with the familiar form of ref (how pp_image_get finds it) and keeps
 * repository@manifest-digest as its repo digest. *id_out (may be NULL) gets
 * the image id (hex of the config's digest). The error names ref and the
 * step; on failure the store is left as it was (what the pull added is
 * collected before returning). */
int pp_pull_image(struct pp_image_store *store, const char *ref, const struct pp_pull_options *opts,
		  char **id_out, struct pp_error **err);

#endif

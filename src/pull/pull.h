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
/* Layers downloaded and unpacked at once (as containerd's default of 3):
 * each by its own thread and registry client. */
#define PP_PULL_PARALLEL_LAYERS 3
/* A layer starts over (a fresh private directory) when a resumed
 * download comes back whole and the stream already unpacked cannot be
 * rewound: at most this many times in all. */
#define PP_PULL_LAYER_ATTEMPTS 3
/* PP_PULL_EV_PROGRESS at most this often per layer. */
#define PP_PULL_PROGRESS_INTERVAL_MS 200

/* What a pull tells its caller, in this order: START; then per layer
 * either BLOB_SKIPPED, or BLOB, PROGRESS..., (RESTART, PROGRESS...)...,
 * BLOB_DONE, with several layers' events interleaved (they download at
 * once); WARNINGs as they come; WRITING last. Layers are named by their
 * compressed digest (as podman's "Copying blob"). */
enum pp_pull_event_kind {
	PP_PULL_EV_START,	 /* text: the reference, normalized in full */
	PP_PULL_EV_BLOB,	 /* digest, size: a layer's download begins */
	PP_PULL_EV_BLOB_SKIPPED, /* digest, size: a layer the store has already (by diff ID) */
	PP_PULL_EV_PROGRESS,	 /* digest, done of size bytes received so far */
	PP_PULL_EV_BLOB_RESTART, /* digest, text (why): the layer starts over from byte 0 */
	PP_PULL_EV_BLOB_DONE,	 /* digest, done = size: downloaded, unpacked, verified */
	PP_PULL_EV_WARNING,	 /* text; digest (NULL: a mirror failed): what was skipped */
	PP_PULL_EV_WRITING,	 /* digest: the image's config (its id) being recorded */
};

struct pp_pull_event {
	enum pp_pull_event_kind kind;
	const char *text;   /* or NULL */
	const char *digest; /* or NULL */
	int64_t size;	    /* the blob's size from its descriptor, bytes */
	int64_t done;	    /* PROGRESS, BLOB_DONE: bytes received */
};

struct pp_pull_options {
	/* "os/arch[/variant]" to pick from an index; NULL: this host's */
	const char *platform;
	/* Credentials for the reference's registry (--creds); NULL: those of
	 * the files users keep (credentials.h), else anonymous */
	const char *username;
	const char *password;
	/* The credentials file (--authfile), the only one read; NULL:
	 * $REGISTRY_AUTH_FILE, else podman's and docker's places */
	const char *authfile;
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
	/* Called on the thread that called pp_pull_image, one event at a time
	 * (never from the pull's own threads); the event's strings live for
	 * the call only. May be NULL. */
	void (*progress)(void *ctx, const struct pp_pull_event *ev);
	void *progress_ctx;
};

/* Pulls ref ("busybox:1.36", "quay.io/a/b@sha256:...") into store, from
 * where registries.conf says (a blocked registry is refused: EACCES;
 * mirrors first, each that fails falls through to the next): the
 * manifest (from an index, the entry for the platform), the config (checked
 * against the manifest and the platform), then each layer the store does
 * not have yet by diff ID, PP_PULL_PARALLEL_LAYERS at a time, unpacked as
 * its bytes arrive (streamed through a socket pair from the downloading
 * thread to the unpacking one, into the store's private directory for it);
 * its digest and its diff ID are checked at the end of the stream, and a
 * mismatch discards the unpacked tree. The image is
 * tagged with the familiar form of ref (how pp_image_get finds it) and keeps
 * repository@manifest-digest as its repo digest. *id_out (may be NULL) gets
 * the image id (hex of the config's digest). The error names ref and the
 * step; on failure the store is left as it was (what the pull added is
 * collected before returning). Runs up to 2 * PP_PULL_PARALLEL_LAYERS
 * threads of its own (they inherit the caller's signal mask; all are
 * joined before it returns). */
int pp_pull_image(struct pp_image_store *store, const char *ref, const struct pp_pull_options *opts,
		  char **id_out, struct pp_error **err);

/* Whether the image store has for ref is the registry's current one, as a
 * pull policy of Always asks (kubelet through containerd: the manifest
 * resolved, nothing more fetched when its content is here): the stored
 * image's repo digest for ref's repository compared with the digest the
 * registry gives for ref (a HEAD of the manifest; mirrors, insecure
 * registries, CAs and credentials as pp_pull_image). 1 when they are the
 * same (*id_out, which may be NULL: the image's id), 0 when not or when
 * the store has no such image (then the registry is not asked), -1 when
 * the registry could not say (the error names ref). */
int pp_pull_check_current(struct pp_image_store *store, const char *ref,
			  const struct pp_pull_options *opts, char **id_out, struct pp_error **err);

#endif

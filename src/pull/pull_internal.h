/* What the pull's files share: the pull in progress (pull.c: reference,
 * manifest, config, commit) and its layers (pull_layers.c: parallel,
 * streamed downloads). Not for use outside src/pull. */
#ifndef PEAPOD_PULL_INTERNAL_H
#define PEAPOD_PULL_INTERNAL_H

#include "image/oci.h"
#include "image/store.h"
#include "pull/pull.h"
#include "registry/registry.h"
#include "util/image_reference.h"

struct pull {
	struct pp_image_store *store;
	const struct pp_pull_options *opts;
	struct pp_registry_client *client; /* the calling thread's */
	struct pp_image_ref ref;
	const char *host; /* the API host */
	struct pp_oci_platform want;
	struct pp_image_add *add;
	char top_digest[PP_DIGEST_STRING_MAX]; /* what the reference names: index or manifest */
};

/* Tells the caller (opts->progress); on the calling thread only. */
void pull_emit(const struct pull *p, enum pp_pull_event_kind kind, const char *text,
	       const char *digest, int64_t size, int64_t done);

/* A registry client for p's registry, as p->client (each thread its own). */
int pull_client_new(const struct pull *p, struct pp_registry_client **out, struct pp_error **err);

/* Adds m's layers (c's diff IDs) to p->add, in parallel (pull_layers.c). */
int pull_layers(struct pull *p, const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		struct pp_error **err);

#endif

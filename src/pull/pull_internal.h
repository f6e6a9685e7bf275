/* What the pull's files share: the pull in progress (pull.c: reference,
 * manifest, config, commit) and its layers (pull_layers.c: parallel,
 * streamed downloads). Not for use outside src/pull. */
#ifndef PEAPOD_PULL_INTERNAL_H
#define PEAPOD_PULL_INTERNAL_H

#include <pthread.h>

#include "image/oci.h"
#include "image/store.h"
#include "pull/pull.h"
#include "pull/registries_conf.h"
#include "registry/registry.h"
#include "util/image_reference.h"

struct pull {
	struct pp_image_store *store;
	const struct pp_pull_options *opts;
	struct pp_registry_client *client; /* the calling thread's */
	struct pp_image_ref ref;
	/* Where to pull from, in order (registries.conf: mirrors, then the
	 * registry), and the one that answered: its API host and repository */
	struct pp_pull_endpoint *endpoints;
	size_t n_endpoints;
	const char *host;
	const char *repo;
	const struct pp_pull_endpoint *endpoint;
	/* The credentials files' answer for cred_host (looked up once: a
	 * Basic registry asks on every request), under cred_lock: the
	 * layers' clients ask from their threads */
	pthread_mutex_t cred_lock;
	char *cred_host, *cred_user, *cred_password;
	int cred_found;
	struct pp_oci_platform want;
	struct pp_image_add *add;
	char top_digest[PP_DIGEST_STRING_MAX]; /* what the reference names: index or manifest */
};

/* Tells the caller (opts->progress); on the calling thread only. */
void pull_emit(const struct pull *p, enum pp_pull_event_kind kind, const char *text,
	       const char *digest, int64_t size, int64_t done);

/* Adds m's layers (c's diff IDs) to p->add, in parallel (pull_layers.c). */
int pull_layers(struct pull *p, const struct pp_oci_manifest *m, const struct pp_oci_config *c,
		struct pp_error **err);

#endif

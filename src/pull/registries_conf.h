/* containers-registries.conf(5), version 2: the per-registry settings
 * podman, skopeo and buildah read (/etc/containers/registries.conf and the
 * drop-ins of registries.conf.d), so that a host set up for them pulls the
 * same way with peapod: mirrors, plain-HTTP (insecure) registries, blocked
 * registries, a registry's location rewritten. Short names are not looked
 * up in unqualified-search-registries or [aliases]: they mean docker.io,
 * as for kubelet (those settings are accepted and ignored). */
#ifndef PEAPOD_PULL_REGISTRIES_CONF_H
#define PEAPOD_PULL_REGISTRIES_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "util/image_reference.h"

/* The drop-in directory: the file's path with this appended */
#define PP_REGISTRIES_CONF_DROPIN_SUFFIX ".d"
/* Drop-ins read at most (a directory of thousands is a mistake) */
#define PP_REGISTRIES_CONF_DROPINS_MAX 256

enum pp_pull_from_mirror {
	PP_PULL_FROM_MIRROR_ALL,
	PP_PULL_FROM_MIRROR_DIGEST_ONLY,
	PP_PULL_FROM_MIRROR_TAG_ONLY,
};

struct pp_registries_mirror {
	char *location;
	bool insecure;
	enum pp_pull_from_mirror pull_from;
};

struct pp_registries_entry {
	char *prefix;	/* "host[:port][/namespace...]" or "*.domain" */
	char *location; /* NULL: the prefix itself (always NULL for a wildcard) */
	bool insecure;
	bool blocked;
	struct pp_registries_mirror *mirrors;
	size_t n_mirrors;
	char *where; /* "FILE:LINE" of its [[registry]], for messages */
};

struct pp_registries_conf {
	struct pp_registries_entry *entries;
	size_t n;
};

/* Reads path (missing: nothing) then the drop-ins path.d/\*.conf in
 * lexical order; an entry of a later file replaces the one of the same
 * prefix. Errors name FILE:LINE[:COL]. */
int pp_registries_conf_load(const char *path, struct pp_registries_conf *conf,
			    struct pp_error **err);

/* Adds one file's text (named file in errors) to conf, as a drop-in. */
int pp_registries_conf_parse(const char *data, size_t len, const char *file,
			     struct pp_registries_conf *conf, struct pp_error **err);

void pp_registries_conf_clear(struct pp_registries_conf *conf);

/* A place to pull from: an API host, the repository there. */
struct pp_pull_endpoint {
	char *host; /* as in references ("docker.io", "127.0.0.1:5000") */
	char *repo;
	bool insecure; /* plain HTTP */
	bool mirror;
};

/* Where to pull ref from, in order: the mirrors of the longest matching
 * prefix (those that serve this kind of reference: by digest or by tag),
 * then its location (or ref's own registry when no prefix matches). An
 * error (EACCES) when that registry is blocked. */
int pp_registries_conf_endpoints(const struct pp_registries_conf *conf,
				 const struct pp_image_ref *ref, struct pp_pull_endpoint **out,
				 size_t *n_out, struct pp_error **err);

void pp_pull_endpoints_free(struct pp_pull_endpoint *e, size_t n);

#endif

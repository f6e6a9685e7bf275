/* Registry credentials from where users already keep them, in podman's
 * order (containers-auth.json(5)): --authfile, else $REGISTRY_AUTH_FILE,
 * else ${XDG_RUNTIME_DIR}/containers/auth.json (or
 * /run/containers/<uid>/auth.json), $HOME/.config/containers/auth.json,
 * $DOCKER_CONFIG/config.json (or $HOME/.docker/config.json); the first file
 * with an answer for the registry gives it. In a file: credHelpers for the
 * host, then the most specific "auths" key (host/namespace/repo, ...,
 * host; "https://index.docker.io/v1/" is docker.io), then credsStore.
 * A helper is docker's protocol: `docker-credential-NAME get`, the server
 * on stdin, JSON on stdout. */
#ifndef PEAPOD_PULL_CREDENTIALS_H
#define PEAPOD_PULL_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* A credentials file is refused beyond this size, a helper's answer too */
#define PP_CREDENTIALS_FILE_MAX (1024 * 1024)
#define PP_CREDENTIALS_HELPER_OUTPUT_MAX (64 * 1024)
/* Docker Hub's key in docker's config.json */
#define PP_CREDENTIALS_DOCKER_HUB_KEY "https://index.docker.io/v1/"

struct pp_credentials_query {
	const char *authfile; /* --authfile: this file only; NULL: the usual places */
	const char *host;     /* as in references: "docker.io", "127.0.0.1:5000" */
	const char *repo;     /* "library/busybox"; NULL: the host's credentials */
};

/* 1 with *user and *password (malloc'ed), 0 when no file has any for the
 * registry, -1 when a file or a helper fails (the error names which). */
int pp_credentials_lookup(const struct pp_credentials_query *q, char **user, char **password,
			  struct pp_error **err);

/* The same from one file's text (file names it in errors). */
int pp_credentials_parse(const char *data, size_t len, const char *file,
			 const struct pp_credentials_query *q, char **user, char **password,
			 struct pp_error **err);

/* ---- kubelet's keyring, for a pod's imagePullSecrets ----
 * As k8s.io/kubernetes/pkg/credentialprovider: each "auths" key (a
 * Secret's .dockerconfigjson's, or the whole .dockercfg map) made
 * schemeless ("https://" and "http://" cut, a "/v1/" or "/v2/" path cut,
 * the path cleaned: "host[:port][/path]"); an image matches a key whose
 * host has as many dot-separated parts, each matching as a glob, the same
 * port, and whose path is a string prefix of the image's; the keys tried
 * in reverse sorted order (most specific first), the credentials of one
 * key in the order they were added; none matching, a Docker Hub image gets
 * the key "index.docker.io"'s. */

struct pp_credential {
	char *key; /* schemeless, as above */
	char *user;
	char *password;
};

struct pp_keyring {
	struct pp_credential *creds;
	size_t n;
};

/* Adds the entries of one document: bare (a .dockercfg) is the auths map
 * itself, else {"auths": {...}} (a .dockerconfigjson). An entry has "auth"
 * (base64 of user:password) or "username" and "password"; one with neither
 * is skipped. what names the document in errors (never a value of it). */
int pp_keyring_add(struct pp_keyring *kr, const char *data, size_t len, bool bare, const char *what,
		   struct pp_error **err);

/* The credentials for image ("host[:port]/repo", normalized as
 * pp_image_ref_repository() says: "docker.io/library/busybox"), best
 * first: pointers into kr, in *out (malloc'ed; *n may be 0). */
void pp_keyring_lookup(const struct pp_keyring *kr, const char *image,
		       const struct pp_credential ***out, size_t *n);

void pp_keyring_clear(struct pp_keyring *kr);

#endif

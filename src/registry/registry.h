/* src/registry: owns the registry client: talking to an image registry over
 * the OCI distribution API (Docker Registry HTTP API v2): manifests by tag or
 * digest, blobs by digest, the token and Basic authentication, redirects to
 * blob storage, retries and resumption. Uses src/util and src/image's
 * parsers (oci.h's media types and limits, auth_challenge.h); libcurl is
 * loaded on the first transfer (curl_api.h).
 * Must not touch the image store (it hands bytes to its caller: a buffer, a
 * file descriptor or a callback), know pods, print or exit. Blocking and
 * single-threaded: one client is used by one thread at a time; a caller
 * that wants transfers side by side runs several clients (or processes).
 *
 * Every error names the registry, the repository and what was asked for:
 * "127.0.0.1:5000/team/app: manifest latest: unauthorized: authentication
 * required". */
#ifndef PEAPOD_REGISTRY_H
#define PEAPOD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

/* Defaults of struct pp_registry_options' zero fields. */
#define PP_REGISTRY_USER_AGENT "peapod"
#define PP_REGISTRY_CONNECT_TIMEOUT_S 30
/* No byte received for this long ends a transfer with an error. */
#define PP_REGISTRY_STALL_TIMEOUT_S 60
/* A manifest or token request, all of it. */
#define PP_REGISTRY_REQUEST_TIMEOUT_S 60
/* Retries (429, 5xx, a dropped connection) stop once an operation has
 * gone this long without receiving a byte of what it asked for. */
#define PP_REGISTRY_RETRY_TIME_LIMIT_S 300
/* The first back-off; it doubles up to the maximum (a Retry-After header
 * overrides it). */
#define PP_REGISTRY_BACKOFF_INITIAL_MS 500
#define PP_REGISTRY_BACKOFF_MAX_MS 16000
/* Attempts of one operation, all causes together: the time limit bounds a
 * slow registry, this one a fast-failing one. */
#define PP_REGISTRY_ATTEMPTS_MAX 10
/* Redirects followed for one request (distribution: one, to storage). */
#define PP_REGISTRY_REDIRECTS_MAX 5
/* A token's life when the token server does not say (the token spec's
 * default) */
#define PP_REGISTRY_TOKEN_DEFAULT_TTL_S 60
/* Token responses and error bodies read at most this much. */
#define PP_REGISTRY_SMALL_BODY_MAX (64u * 1024)
/* Credentials and tokens quoted into headers are refused beyond this. */
#define PP_REGISTRY_SECRET_MAX 8192

/* What a manifest request accepts: the OCI and Docker v2 types, and
 * schema1 so that a registry holding only schema1 answers with it and the
 * parser (image/oci.h) refuses it by name rather than the registry with a
 * bare 404. */
#define PP_REGISTRY_ACCEPT_SCHEMA1                                                                 \
	"application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5, "                        \
	"application/vnd.docker.distribution.manifest.v1+json;q=0.5"

/* Credentials for host (as in a reference: "quay.io", "127.0.0.1:5000"):
 * return 1 with *user and *password set (malloc'ed, the client frees
 * them), 0 when there are none, -1 with err on failure. */
typedef int (*pp_registry_credentials_fn)(void *ctx, const char *host, char **user, char **password,
					  struct pp_error **err);

struct pp_registry_options {
	const char *user_agent; /* NULL: PP_REGISTRY_USER_AGENT */
	/* Hosts ("host:port" as in references) spoken to in plain HTTP,
	 * NULL-terminated; every other one in HTTPS, its certificate checked */
	const char *const *insecure_hosts;
	const char *ca_file; /* NULL: libcurl's default bundle */
	const char *ca_dir;
	/* CA certificates (PEM) used instead of the above (a registry's
	 * certs.d directory with the system bundle); NULL: none */
	const char *ca_pem;
	size_t ca_pem_len;
	/* Asked on a registry's first challenge; before the static ones */
	pp_registry_credentials_fn credentials;
	void *credentials_ctx;
	/* Static credentials, for this host only (NULL: none) */
	const char *static_host;
	const char *username;
	const char *password;
	/* 0: the PP_REGISTRY_* defaults */
	unsigned connect_timeout_s;
	unsigned stall_timeout_s;
	unsigned request_timeout_s;
	unsigned retry_time_limit_s;
	unsigned backoff_initial_ms;
};

struct pp_registry_client;

/* Copies what it needs from opts (which may be freed after). Loads no
 * library: libcurl is loaded by the first transfer. */
int pp_registry_client_new(const struct pp_registry_options *opts, struct pp_registry_client **out,
			   struct pp_error **err);
void pp_registry_client_free(struct pp_registry_client *c);

/* A new client with c's settings and what it learnt (its live tokens, the
 * hosts that want Basic credentials), for another thread: a pull's layers
 * then ask the token server no more than its manifest did. Its own
 * connections. */
struct pp_registry_client *pp_registry_client_clone(const struct pp_registry_client *c);

static inline void cleanup_registry_clientp(struct pp_registry_client **c)
{
	pp_registry_client_free(*c);
	*c = NULL;
}
#define cleanup_registry_client __attribute__((cleanup(cleanup_registry_clientp)))

/* A manifest or index as the registry sent it. */
struct pp_registry_manifest {
	void *data; /* the bytes as received (their digest is the digest), a NUL after */
	size_t len;
	char *media_type;		   /* the Content-Type, parameters cut; "" when absent */
	char digest[PP_DIGEST_STRING_MAX]; /* "sha256:<hex>" */
};
void pp_registry_manifest_free(struct pp_registry_manifest *m);

/* GETs /v2/<repo>/manifests/<reference> of host (the API host:
 * pp_image_ref_api_host, "registry-1.docker.io" for Docker Hub), reference a
 * tag or a digest. At most PP_OCI_MANIFEST_MAX bytes. The digest is checked:
 * a digest reference against the bytes (its algorithm), and a
 * Docker-Content-Digest header when the registry sends one. */
int pp_registry_get_manifest(struct pp_registry_client *c, const char *host, const char *repo,
			     const char *reference, struct pp_registry_manifest *out,
			     struct pp_error **err);

/* HEAD of the same: the digest only (what a pull policy of Always compares
 * with the stored one), from Docker-Content-Digest; a registry that sends
 * none is asked with a GET. */
int pp_registry_head_manifest(struct pp_registry_client *c, const char *host, const char *repo,
			      const char *reference, char digest[PP_DIGEST_STRING_MAX],
			      struct pp_error **err);

/* Where a blob's bytes go. write takes every byte once, in order; rewind
 * (NULL when the sink cannot) drops all written so far, for a registry that
 * answers a resumption's Range request with the whole blob. */
struct pp_registry_sink {
	int (*write)(void *ctx, const void *data, size_t len, struct pp_error **err);
	int (*rewind)(void *ctx, struct pp_error **err);
	void *ctx;
};

/* GETs /v2/<repo>/blobs/<digest> into sink, digest verified on the fly and
 * size (-1: unknown) enforced: a longer blob is cut at size + 1 bytes. A
 * dropped connection is resumed with a Range request; 429 and 5xx are
 * retried with back-off; an error when the bytes do not match (EBADMSG). */
int pp_registry_get_blob(struct pp_registry_client *c, const char *host, const char *repo,
			 const char *digest, int64_t size, const struct pp_registry_sink *sink,
			 struct pp_error **err);

/* The same into fd from its current offset; rewinding truncates fd back to
 * it (a regular file then; a pipe cannot rewind). */
int pp_registry_get_blob_fd(struct pp_registry_client *c, const char *host, const char *repo,
			    const char *digest, int64_t size, int fd, struct pp_error **err);

#endif

/* What the registry client's files share: the client object, one
 * operation (a manifest or blob request, with its retries), and the HTTP
 * exchange they run on. Not for use outside src/registry. */
#ifndef PEAPOD_REGISTRY_INTERNAL_H
#define PEAPOD_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "registry/curl_api.h"
#include "registry/registry.h"

/* A Bearer token, for one registry host and repository. */
struct pp_registry_token {
	struct pp_registry_token *next;
	char *host;
	char *repo;
	char *token;
	int64_t expires_ms; /* pp_monotonic_ms() */
};

/* A host that answered with a Basic challenge: Basic credentials are sent
 * to it from then on, without waiting for a 401 each time. */
struct pp_registry_basic_host {
	struct pp_registry_basic_host *next;
	char *host;
};

struct pp_registry_client {
	char *user_agent;
	char **insecure_hosts;
	char *ca_file;
	char *ca_dir;
	char *ca_pem;
	size_t ca_pem_len;
	pp_registry_credentials_fn credentials;
	void *credentials_ctx;
	char *static_host;
	char *username;
	char *password;
	unsigned connect_timeout_s;
	unsigned stall_timeout_s;
	unsigned request_timeout_s;
	unsigned retry_time_limit_s;
	unsigned backoff_initial_ms;
	const struct pp_curl_api *api; /* NULL until the first transfer */
	CURL *curl;		       /* one handle, reset per request: its connections kept */
	struct pp_registry_token *tokens;
	struct pp_registry_basic_host *basic_hosts;
};

/* One operation: what errors name, and its time budget. */
struct pp_registry_op {
	struct pp_registry_client *c;
	const char *host;
	const char *repo;
	const char *what; /* "manifest latest", "blob sha256:..." */
	int64_t deadline_ms;
};

/* What one response said; reset for each response (redirects, retries). */
struct pp_registry_response {
	long status;
	char *content_type;
	char *docker_digest;
	char *www_authenticate; /* several headers joined with ", " */
	char *retry_after;
	char *content_range;
	char *error_body; /* a non-2xx body, at most PP_REGISTRY_SMALL_BODY_MAX */
	size_t error_len;
	int64_t body_bytes;	   /* bytes of a 2xx body handed over in this response */
	struct pp_error *body_err; /* why the body callback stopped the transfer */
	CURLcode code;
	char curl_error[CURL_ERROR_SIZE];
};

struct pp_registry_request {
	const char *url;
	bool head;
	bool registry; /* to the registry: its authentication applies */
	const char *accept;
	const char *authorization; /* a fixed Authorization (token requests), else NULL */
	int64_t range_from;	   /* > 0: "Range: bytes=N-" */
	long timeout_s;		   /* the whole exchange; 0: only the stall limit */
	/* Before each attempt (may set range_from); NULL: nothing */
	void (*attempt)(void *ctx, struct pp_registry_request *req);
	/* A 2xx body's bytes; resp->body_bytes is 0 for its first call of a
	 * response. -1 with err stops the transfer. */
	int (*body)(void *ctx, const struct pp_registry_response *resp, const void *data,
		    size_t len, struct pp_error **err);
	void *ctx;
};

void pp_registry_response_clear(struct pp_registry_response *r);

/* Runs req to its end: redirects, authentication (a 401 answered once),
 * retries with back-off, resumption (when attempt sets range_from). 0 with
 * resp filled for a 2xx; else -1 with an error naming op. */
int pp_registry_perform(struct pp_registry_op *op, struct pp_registry_request *req,
			struct pp_registry_response *resp, struct pp_error **err);

/* Sets err to "<host>/<repo>: <what>: <message>" and returns -1. */
int pp_registry_op_error(const struct pp_registry_op *op, struct pp_error **err, int errnum,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "http" for the client's insecure hosts, else "https". */
const char *pp_registry_scheme(const struct pp_registry_client *c, const char *host);

/* The Authorization header value for a request to the registry (a live
 * token for op's repository, or Basic credentials for a host that asked
 * for them), malloc'ed; NULL for none. */
int pp_registry_auth_header(struct pp_registry_op *op, char **out, struct pp_error **err);

/* Answers a 401's challenge: gets a token (cached) or marks the host for
 * Basic credentials. -1 with an "unauthorized" error when it cannot. */
int pp_registry_authenticate(struct pp_registry_op *op, const struct pp_registry_response *resp,
			     struct pp_error **err);

#endif

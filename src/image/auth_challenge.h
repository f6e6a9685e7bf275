/* The WWW-Authenticate header of a registry's 401 (RFC 7235 challenges, as
 * the Docker token spec and OCI registries send them):
 *
 *   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
 *          scope="repository:library/busybox:pull"
 *
 * parsed into challenges, each a scheme and its parameters, and the Bearer
 * challenge's realm, service and scopes picked out for the token request. */
#ifndef PEAPOD_AUTH_CHALLENGE_H
#define PEAPOD_AUTH_CHALLENGE_H

#include <stddef.h>

#include "util/error.h"

/* Longest header value accepted (registries send a few hundred bytes; the
 * limit keeps a hostile one from costing memory). */
#define PP_AUTH_HEADER_MAX 8192
/* At most this many challenges in one header, parameters in one challenge,
 * and scopes in one scope parameter. */
#define PP_AUTH_CHALLENGES_MAX 16
#define PP_AUTH_PARAMS_MAX 32
#define PP_AUTH_SCOPES_MAX 32

struct pp_auth_param {
	char *name;  /* as sent; compared case-insensitively */
	char *value; /* a quoted-string's unescaped content, or the token */
};

struct pp_auth_challenge {
	char *scheme;  /* as sent ("Bearer", "basic"); compared case-insensitively */
	char *token68; /* "Negotiate abc==" form, else NULL (then params) */
	struct pp_auth_param *params;
	size_t n_params;
};

struct pp_auth_challenges {
	struct pp_auth_challenge *items;
	size_t n;
};

/* Parses the header value (len bytes, not NUL-terminated necessarily):
 * challenges separated by commas, parameters NAME=token or
 * NAME="quoted, \"escaped\"", whitespace around every separator, empty list
 * elements skipped. A parameter named twice in one challenge, a missing
 * value, a bad character or too much of anything is an error (*out zeroed). */
int pp_auth_challenges_parse(const char *header, size_t len, struct pp_auth_challenges *out,
			     struct pp_error **err);
void pp_auth_challenges_free(struct pp_auth_challenges *c);

/* The first challenge of that scheme (case-insensitive), or NULL. */
const struct pp_auth_challenge *pp_auth_challenge_find(const struct pp_auth_challenges *c,
						       const char *scheme);
/* The value of parameter name (case-insensitive), or NULL. */
const char *pp_auth_challenge_param(const struct pp_auth_challenge *ch, const char *name);

/* What a Bearer challenge asks the client to get a token with. */
struct pp_auth_bearer {
	char *realm;   /* the token endpoint's URL */
	char *service; /* NULL when absent */
	char **scopes; /* NULL-terminated, empty when there is no scope */
	size_t n_scopes;
};

/* Fills *out from the first Bearer challenge of c: an error when there is
 * none or it has no realm. scope may hold several space-separated scopes. */
int pp_auth_bearer_get(const struct pp_auth_challenges *c, struct pp_auth_bearer *out,
		       struct pp_error **err);
void pp_auth_bearer_free(struct pp_auth_bearer *b);

#endif

/* What a registry's answers hold, parsed without any I/O (hence fuzzed:
 * fuzz/fuzz_registry.c): the token server's JSON, the errors body of a
 * failed request, Retry-After and Content-Range headers, and the origin of
 * a URL (which decides where credentials may go). */
#ifndef PEAPOD_REGISTRY_RESPONSE_H
#define PEAPOD_REGISTRY_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* At most this many of an errors body's entries are quoted. */
#define PP_REGISTRY_ERRORS_QUOTED 3
/* Each of their code and message cut at this many bytes. */
#define PP_REGISTRY_ERROR_FIELD_MAX 256
/* The longest origin: "https://", a bracketed IPv6 or a DNS name, ":65535" */
#define PP_REGISTRY_ORIGIN_MAX 300
/* Retry-After seconds above this are taken as this (the caller's time
 * limit decides anyway). */
#define PP_REGISTRY_RETRY_AFTER_MAX (24 * 3600)

/* The token server's answer ({"token": ..., "access_token": ...,
 * "expires_in": N}): the token (token wins, as docker reads it) into
 * *token (malloc'ed) and its life in seconds into *ttl_s (0 when absent:
 * the caller's default). An error for anything else (no token, wrong
 * types, a token with characters a header cannot carry). */
int pp_registry_token_parse(const char *body, size_t len, char **token, int64_t *ttl_s,
			    struct pp_error **err);

/* The distribution errors body ({"errors":[{"code":"UNAUTHORIZED",
 * "message":"authentication required"}]}) as one line: "unauthorized:
 * authentication required" (codes lowercased, '_' as ' '; several joined
 * with "; "), or NULL when body holds no such thing. Control characters of
 * the registry's text are replaced. */
char *pp_registry_errors_text(const char *body, size_t len);

/* Retry-After in delta-seconds form into *seconds; -1 for anything else
 * (an HTTP date is left to the caller's back-off). */
int pp_registry_retry_after(const char *value, int64_t *seconds);

/* The first byte of "bytes FIRST-LAST/LENGTH" (LENGTH may be '*'); -1
 * when malformed. */
int pp_registry_content_range_start(const char *value, int64_t *first);

/* "scheme://host:port" of an http or https URL, scheme and host
 * lowercased, the default port made explicit; -1 for another scheme, user
 * info, or an empty or overlong authority. */
int pp_registry_url_origin(const char *url, char out[PP_REGISTRY_ORIGIN_MAX]);

/* Base64 (RFC 4648, padded) of len bytes, malloc'ed. */
char *pp_registry_base64(const void *data, size_t len);

#endif

/* libcurl through dlopen: loaded on the first registry transfer, never at
 * start-up. peapod is linked with -z now and every CLI verb pays for each
 * library it links; only a process that pulls needs libcurl (~1.5 ms and
 * its TLS stack), so only that process loads it. The table keeps curl.h's
 * types: calls are checked as direct calls would be. */
#ifndef PEAPOD_REGISTRY_CURL_API_H
#define PEAPOD_REGISTRY_CURL_API_H

/* curl.h's gcc type checks are macros named like the functions: they would
 * replace the table's members in api->curl_easy_setopt(...) */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "util/error.h"

#define PP_CURL_SONAME "libcurl.so.4"
#define PP_CURL_DEBIAN_PACKAGE "libcurl4"

#define PP_CURL_FUNCS(X)                                                                           \
	X(curl_global_init)                                                                        \
	X(curl_easy_init)                                                                          \
	X(curl_easy_reset)                                                                         \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_easy_escape)                                                                        \
	X(curl_free)                                                                               \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

struct pp_curl_api {
#define PP_CURL_DECL(f) __typeof__(f) *f;
	PP_CURL_FUNCS(PP_CURL_DECL)
#undef PP_CURL_DECL
};

/* The table, libcurl loaded (and curl_global_init called) on the first
 * call, kept for the process's life; thread-safe; an error naming the
 * Debian package when it is missing. */
const struct pp_curl_api *pp_curl_api(struct pp_error **err);

#endif

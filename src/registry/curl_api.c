/* libcurl loaded on first use (see curl_api.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "registry/curl_api.h"

static struct pp_curl_api api;
static int loaded;
/* Clients of several threads may load it at once (a pull's layers). */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct pp_curl_api *load(struct pp_error **err)
{
	if (loaded)
		return &api;
	void *h = dlopen(PP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		pp_error_set(err, 0, "load %s (install Debian's package %s): %s", PP_CURL_SONAME,
			     PP_CURL_DEBIAN_PACKAGE, dlerror());
		return NULL;
	}
#define PP_CURL_LOAD(f)                                                                            \
	if ((*(void **)&api.f = dlsym(h, #f)) == NULL) {                                           \
		dlclose(h);                                                                        \
		pp_error_set(err, 0, "%s lacks %s (libcurl too old)", PP_CURL_SONAME, #f);         \
		return NULL;                                                                       \
	}
	PP_CURL_FUNCS(PP_CURL_LOAD)
#undef PP_CURL_LOAD
	/* curl_easy_init would call it on first use, but it is not thread-safe
	 * in every libcurl (CURL_VERSION_THREADSAFE is 7.84's): called here,
	 * once, under the lock. */
	CURLcode code = api.curl_global_init(CURL_GLOBAL_DEFAULT);
	if (code != CURLE_OK) {
		pp_error_set(err, 0, "curl_global_init: %s", api.curl_easy_strerror(code));
		return NULL;
	}
	loaded = 1;
	return &api;
}

const struct pp_curl_api *pp_curl_api(struct pp_error **err)
{
	pthread_mutex_lock(&load_lock);
	const struct pp_curl_api *r = load(err);
	pthread_mutex_unlock(&load_lock);
	return r;
}

/* libcurl loaded on first use (see curl_api.h). */
#include <dlfcn.h>
#include <stddef.h>

#include "registry/curl_api.h"

static struct pp_curl_api api;
static int loaded;

const struct pp_curl_api *pp_curl_api(struct pp_error **err)
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
	loaded = 1;
	return &api;
}

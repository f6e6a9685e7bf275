#include "image/archive_api.h"

#include <dlfcn.h>
#include <pthread.h>

#define LIBARCHIVE_SONAME "libarchive.so.13"

static int load(const struct pp_archive_api **out, struct pp_error **err)
{
	static struct pp_archive_api api;
	static void *lib;
	if (lib == NULL) {
		void *h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL)
			return pp_error_set(err, 0, "load %s (Debian package libarchive13): %s",
					    LIBARCHIVE_SONAME, dlerror());
#define PP_ARCHIVE_LOAD(f)                                                                         \
	if ((*(void **)&api.f = dlsym(h, #f)) == NULL) {                                           \
		dlclose(h);                                                                        \
		return pp_error_set(err, 0, "%s lacks %s", LIBARCHIVE_SONAME, #f);                 \
	}
		PP_ARCHIVE_FUNCS(PP_ARCHIVE_LOAD)
#undef PP_ARCHIVE_LOAD
		lib = h;
	}
	*out = &api;
	return 0;
}

/* Layers are unpacked by several threads at once (a pull's). */
int pp_archive_api(const struct pp_archive_api **out, struct pp_error **err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	int r = load(out, err);
	pthread_mutex_unlock(&lock);
	return r;
}

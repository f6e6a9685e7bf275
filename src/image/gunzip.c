/* isa-l's inflate behind image/gunzip.h; libisal2 loaded on first use. */
#include "image/gunzip.h"

#include <dlfcn.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define GZIP_MAGIC0 0x1f

#define PP_ISAL_FUNCS(X)                                                                           \
	X(isal_inflate_init)                                                                       \
	X(isal_inflate_reset)                                                                      \
	X(isal_inflate)

static struct {
#define PP_ISAL_DECL(f) __typeof__(f) *f;
	PP_ISAL_FUNCS(PP_ISAL_DECL)
#undef PP_ISAL_DECL
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;

static void load(void)
{
	void *h = dlopen(PP_GUNZIP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return;
#define PP_ISAL_LOAD(f)                                                                            \
	if ((*(void **)&api.f = dlsym(h, #f)) == NULL) {                                           \
		dlclose(h);                                                                        \
		return;                                                                            \
	}
	PP_ISAL_FUNCS(PP_ISAL_LOAD)
#undef PP_ISAL_LOAD
	loaded = true;
}

enum gunzip_phase {
	IN_MEMBER, /* inflating a member */
	BETWEEN,   /* after a member: another one, or the end */
	TRAILING,  /* bytes after the last member: ignored */
};

struct pp_gunzip {
	struct inflate_state st;
	enum gunzip_phase phase;
};

struct pp_gunzip *pp_gunzip_new(void)
{
	pthread_once(&load_once, load);
	if (!loaded)
		return NULL;
	struct pp_gunzip *z = xmalloc(sizeof(*z));
	memset(z, 0, sizeof(*z));
	api.isal_inflate_init(&z->st);
	z->st.crc_flag = ISAL_GZIP; /* header parsed, CRC and size checked */
	z->phase = IN_MEMBER;
	return z;
}

void pp_gunzip_free(struct pp_gunzip *z)
{
	free(z);
}

void pp_gunzip_input(struct pp_gunzip *z, const void *in, size_t len)
{
	z->st.next_in = (uint8_t *)in;
	z->st.avail_in = (uint32_t)len;
}

static const char *isal_error(int r)
{
	switch (r) {
	case ISAL_INVALID_WRAPPER:
		return "not a gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "gzip: not deflate";
	case ISAL_INCORRECT_CHECKSUM:
		return "gzip: the CRC does not match";
	case ISAL_NEED_DICT:
		return "gzip: a preset dictionary";
	default:
		return "gzip: invalid deflate data";
	}
}

/* After a member: another begins (0x1f), or the rest is ignored. */
static void next_member(struct pp_gunzip *z)
{
	if (z->st.avail_in == 0)
		return;
	if (z->st.next_in[0] != GZIP_MAGIC0) {
		z->phase = TRAILING;
		return;
	}
	api.isal_inflate_reset(&z->st);
	z->st.crc_flag = ISAL_GZIP;
	z->phase = IN_MEMBER;
}

ssize_t pp_gunzip_read(struct pp_gunzip *z, void *out, size_t cap, struct pp_error **err)
{
	for (;;) {
		if (z->phase == BETWEEN)
			next_member(z);
		if (z->phase == TRAILING)
			z->st.avail_in = 0;
		if (z->phase != IN_MEMBER)
			return 0; /* the input tells what comes next, or the end */
		uint32_t in_before = z->st.avail_in;
		z->st.next_out = out;
		z->st.avail_out = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
		int r = api.isal_inflate(&z->st);
		if (r < 0)
			return pp_error_set(err, EBADMSG, "%s", isal_error(r));
		size_t n = (size_t)(z->st.next_out - (uint8_t *)out);
		if (z->st.block_state == ISAL_BLOCK_FINISH)
			z->phase = BETWEEN;
		if (n > 0)
			return (ssize_t)n;
		if (z->phase == IN_MEMBER && z->st.avail_in == 0)
			return 0; /* wants input */
		if (z->phase == IN_MEMBER && z->st.avail_in == in_before)
			return pp_error_set(err, EBADMSG, "gzip: no progress");
	}
}

int pp_gunzip_end(struct pp_gunzip *z, struct pp_error **err)
{
	if (z->phase == IN_MEMBER)
		return pp_error_set(err, EBADMSG, "gzip: the stream is cut short");
	return 0;
}

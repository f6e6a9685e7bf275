/* libcrypto through dlopen (see digest.h): the table keeps <openssl/evp.h>'s
 * types, so calls are checked as direct calls would be. */
#include "util/digest.h"

#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

#define LIBCRYPTO_SONAME "libcrypto.so.3"
#define SSL_ERROR_TEXT_MAX 256

#define PP_CRYPTO_FUNCS(X)                                                                         \
	X(OPENSSL_init_crypto)                                                                     \
	X(EVP_sha256)                                                                              \
	X(EVP_sha512)                                                                              \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_DigestInit_ex)                                                                       \
	X(EVP_DigestUpdate)                                                                        \
	X(EVP_DigestFinal_ex)                                                                      \
	X(ERR_get_error)                                                                           \
	X(ERR_error_string_n)                                                                      \
	X(ERR_clear_error)

static struct {
#define PP_CRYPTO_DECL(f) __typeof__(f) *f;
	PP_CRYPTO_FUNCS(PP_CRYPTO_DECL)
#undef PP_CRYPTO_DECL
} api;
static void *lib; /* kept once loaded: libcrypto cannot be unloaded (NODELETE) */

struct pp_digest {
	EVP_MD_CTX *ctx;
	enum pp_digest_algo algo;
	bool ended;
};

static const struct {
	const char *name;
	size_t len;
} algos[] = {
    [PP_DIGEST_SHA256] = {"sha256", PP_SHA256_LEN},
    [PP_DIGEST_SHA512] = {"sha512", PP_SHA512_LEN},
};

static int load_unlocked(struct pp_error **err)
{
	if (lib != NULL)
		return 0;
	void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return pp_error_set(err, 0, "load %s (Debian package libssl3): %s",
				    LIBCRYPTO_SONAME, dlerror());
#define PP_CRYPTO_LOAD(f)                                                                          \
	if ((*(void **)&api.f = dlsym(h, #f)) == NULL) {                                           \
		dlclose(h);                                                                        \
		return pp_error_set(err, 0, "%s lacks %s", LIBCRYPTO_SONAME, #f);                  \
	}
	PP_CRYPTO_FUNCS(PP_CRYPTO_LOAD)
#undef PP_CRYPTO_LOAD
	/* Digests need no configuration: reading openssl.cnf (and the
	 * providers it may name) would only cost time. */
	if (api.OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return pp_error_set(err, 0, "%s: initialisation failed", LIBCRYPTO_SONAME);
	lib = h;
	return 0;
}

/* Digests are computed by several threads at once (a pull's layers). */
static int load(struct pp_error **err)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	int r = load_unlocked(err);
	pthread_mutex_unlock(&lock);
	return r;
}

/* libcrypto's own reason, then its error queue emptied. */
static int crypto_error(struct pp_error **err, const char *what)
{
	char why[SSL_ERROR_TEXT_MAX] = "unknown error";
	unsigned long e = api.ERR_get_error();
	if (e != 0)
		api.ERR_error_string_n(e, why, sizeof(why));
	api.ERR_clear_error();
	return pp_error_set(err, 0, "%s: %s", what, why);
}

const char *pp_digest_algo_name(enum pp_digest_algo algo)
{
	return algos[algo].name;
}

size_t pp_digest_len(enum pp_digest_algo algo)
{
	return algos[algo].len;
}

void pp_digest_free(struct pp_digest *d)
{
	if (d == NULL)
		return;
	api.EVP_MD_CTX_free(d->ctx);
	free(d);
}

int pp_digest_begin(enum pp_digest_algo algo, struct pp_digest **out, struct pp_error **err)
{
	if (load(err) < 0)
		return -1;
	cleanup_digest struct pp_digest *d = xmalloc(sizeof(*d));
	d->algo = algo;
	d->ctx = api.EVP_MD_CTX_new();
	if (d->ctx == NULL)
		return crypto_error(err, "new digest");
	const EVP_MD *md = algo == PP_DIGEST_SHA512 ? api.EVP_sha512() : api.EVP_sha256();
	if (api.EVP_DigestInit_ex(d->ctx, md, NULL) != 1)
		return crypto_error(err, pp_digest_algo_name(algo));
	*out = steal_ptr(&d);
	return 0;
}

int pp_digest_update(struct pp_digest *d, const void *data, size_t len, struct pp_error **err)
{
	if (d->ended)
		return pp_error_set(err, EINVAL, "%s digest already ended", algos[d->algo].name);
	if (len > 0 && api.EVP_DigestUpdate(d->ctx, data, len) != 1)
		return crypto_error(err, algos[d->algo].name);
	return 0;
}

int pp_digest_end(struct pp_digest *d, uint8_t out[PP_DIGEST_MAX_LEN], struct pp_error **err)
{
	if (d->ended)
		return pp_error_set(err, EINVAL, "%s digest already ended", algos[d->algo].name);
	d->ended = true;
	unsigned int n = 0;
	if (api.EVP_DigestFinal_ex(d->ctx, out, &n) != 1 || n != algos[d->algo].len)
		return crypto_error(err, algos[d->algo].name);
	return 0;
}

int pp_digest_end_string(struct pp_digest *d, char out[PP_DIGEST_STRING_MAX], struct pp_error **err)
{
	uint8_t sum[PP_DIGEST_MAX_LEN];
	if (pp_digest_end(d, sum, err) < 0)
		return -1;
	size_t n = strlen(algos[d->algo].name);
	memcpy(out, algos[d->algo].name, n);
	out[n] = ':';
	pp_hex_encode(sum, algos[d->algo].len, out + n + 1);
	return 0;
}

int pp_digest_parse(const char *s, enum pp_digest_algo *algo, const char **hex,
		    struct pp_error **err)
{
	const char *colon = strchr(s, ':');
	for (size_t a = 0; colon != NULL && a < sizeof(algos) / sizeof(algos[0]); a++) {
		if (strlen(algos[a].name) != (size_t)(colon - s) ||
		    strncmp(s, algos[a].name, (size_t)(colon - s)) != 0)
			continue;
		const char *h = colon + 1;
		size_t n = strspn(h, "0123456789abcdefABCDEF");
		if (n != 2 * algos[a].len || h[n] != '\0')
			return pp_error_set(err, EINVAL, "%s: not %zu hex digits after \"%s:\"", s,
					    2 * algos[a].len, algos[a].name);
		*algo = (enum pp_digest_algo)a;
		*hex = h;
		return 0;
	}
	return pp_error_set(err, EINVAL, "%s: not a sha256:<hex> or sha512:<hex> digest", s);
}

int pp_digest_end_verify(struct pp_digest *d, const char *expected, struct pp_error **err)
{
	enum pp_digest_algo algo;
	const char *want;
	if (pp_digest_parse(expected, &algo, &want, err) < 0)
		return -1;
	if (algo != d->algo)
		return pp_error_set(err, EINVAL, "%s: a %s digest was computed", expected,
				    algos[d->algo].name);
	char got[PP_DIGEST_STRING_MAX];
	if (pp_digest_end_string(d, got, err) < 0)
		return -1;
	if (strcasecmp(got + strlen(algos[algo].name) + 1, want) != 0)
		return pp_error_set(err, EBADMSG, "digest mismatch: want %s, got %s", expected,
				    got);
	return 0;
}

int pp_digest_hex(enum pp_digest_algo algo, const void *data, size_t len, char *hex,
		  struct pp_error **err)
{
	cleanup_digest struct pp_digest *d = NULL;
	uint8_t sum[PP_DIGEST_MAX_LEN];
	if (pp_digest_begin(algo, &d, err) < 0 || pp_digest_update(d, data, len, err) < 0 ||
	    pp_digest_end(d, sum, err) < 0)
		return -1;
	pp_hex_encode(sum, algos[algo].len, hex);
	return 0;
}

void pp_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * len] = '\0';
}

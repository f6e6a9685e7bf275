/* Digests (SHA-256, SHA-512) through OpenSSL's libcrypto, in the form image
 * references and registries spell them: "sha256:<hex>". libcrypto is loaded
 * (dlopen) on the first digest, not at start-up: most peapod processes never
 * hash, and loading it costs ~2 ms and ~3 MB of PSS. */
#ifndef PEAPOD_DIGEST_H
#define PEAPOD_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum pp_digest_algo {
	PP_DIGEST_SHA256,
	PP_DIGEST_SHA512,
};

#define PP_SHA256_LEN 32
#define PP_SHA256_HEX_LEN (2 * PP_SHA256_LEN)
#define PP_SHA512_LEN 64
#define PP_DIGEST_MAX_LEN PP_SHA512_LEN
#define PP_DIGEST_MAX_HEX (2 * PP_DIGEST_MAX_LEN)
/* "sha512:", the hex digits and a NUL */
#define PP_DIGEST_STRING_MAX (sizeof("sha512:") + PP_DIGEST_MAX_HEX)

/* "sha256", "sha512" */
const char *pp_digest_algo_name(enum pp_digest_algo algo);

/* Bytes of a digest: 32, 64. */
size_t pp_digest_len(enum pp_digest_algo algo);

/* A digest being computed over data given piece by piece. */
struct pp_digest;

int pp_digest_begin(enum pp_digest_algo algo, struct pp_digest **out, struct pp_error **err);
int pp_digest_update(struct pp_digest *d, const void *data, size_t len, struct pp_error **err);

/* Ends the digest (no update after), its bytes into out (pp_digest_len). */
int pp_digest_end(struct pp_digest *d, uint8_t out[PP_DIGEST_MAX_LEN], struct pp_error **err);

/* Ends the digest, "<algo>:<hex>" into out. */
int pp_digest_end_string(struct pp_digest *d, char out[PP_DIGEST_STRING_MAX],
			 struct pp_error **err);

/* Ends the digest and compares it with expected ("<algo>:<hex>", the
 * algorithm d began with; hex case ignored): 0 when equal, -1 with EBADMSG
 * when not, EINVAL when expected is no such digest string. */
int pp_digest_end_verify(struct pp_digest *d, const char *expected, struct pp_error **err);

void pp_digest_free(struct pp_digest *d);

static inline void cleanup_digestp(struct pp_digest **d)
{
	pp_digest_free(*d);
	*d = NULL;
}
#define cleanup_digest __attribute__((cleanup(cleanup_digestp)))

/* One-shot: the lowercase hex digest of data (no "<algo>:" prefix) into
 * hex, 2 * pp_digest_len(algo) + 1 bytes. */
int pp_digest_hex(enum pp_digest_algo algo, const void *data, size_t len, char *hex,
		  struct pp_error **err);

/* Splits "<algo>:<hex>" (hex of the algorithm's length): *hex points into s.
 * EINVAL for an unknown algorithm or a malformed hex part. */
int pp_digest_parse(const char *s, enum pp_digest_algo *algo, const char **hex,
		    struct pp_error **err);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void pp_hex_encode(const uint8_t *bytes, size_t len, char *out);

#endif

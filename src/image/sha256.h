/* Self-contained SHA-256 (FIPS 180-4), used for image ids. */
#ifndef PEAPOD_SHA256_H
#define PEAPOD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PP_SHA256_LEN 32
#define PP_SHA256_HEX_LEN (2 * PP_SHA256_LEN)
#define PP_SHA256_BLOCK 64

struct pp_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	uint8_t buf[PP_SHA256_BLOCK];
	size_t used;
};

void pp_sha256_init(struct pp_sha256 *ctx);
void pp_sha256_update(struct pp_sha256 *ctx, const void *data, size_t len);
void pp_sha256_final(struct pp_sha256 *ctx, uint8_t out[PP_SHA256_LEN]);

/* One-shot: writes 64 lowercase hex digits and a NUL to hex. */
void pp_sha256_hex(const void *data, size_t len, char hex[PP_SHA256_HEX_LEN + 1]);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void pp_hex_encode(const uint8_t *bytes, size_t len, char *out);

#endif

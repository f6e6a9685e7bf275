/* Self-contained SHA-512 (FIPS 180-4), one-shot: the CNI plugins name a
 * pod's chains after the SHA-512 of network name and container id. */
#ifndef PEAPOD_SHA512_H
#define PEAPOD_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define PP_SHA512_LEN 64

void pp_sha512(const void *data, size_t len, uint8_t out[PP_SHA512_LEN]);

#endif

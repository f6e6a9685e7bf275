/* Self-contained SHA-512 (FIPS 180-4), one-shot: the CNI plugins name a
 * pod's chains after the SHA-512 of network name and container id. The one
 * hash not done by util/digest.h (libcrypto), on purpose: it is computed on
 * every networked pod start, in the supervisor, and loading libcrypto there
 * would cost ~2 ms of that start and ~3 MB of the supervisor's PSS for the
 * life of the pod. tests/unit/test_net.c checks both agree. */
#ifndef PEAPOD_SHA512_H
#define PEAPOD_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define PP_SHA512_LEN 64

void pp_sha512(const void *data, size_t len, uint8_t out[PP_SHA512_LEN]);

#endif

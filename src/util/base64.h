/* Standard base64 (RFC 4648, with padding), as Go's encoding/base64
 * StdEncoding that the API server uses for a Secret's data and a
 * ConfigMap's binaryData. */
#ifndef PEAPOD_BASE64_H
#define PEAPOD_BASE64_H

#include <stddef.h>

#include "util/error.h"

/* A new NUL-terminated string. */
char *pp_base64_encode(const void *data, size_t len);

/* Decodes text (NUL-terminated); *out gets len bytes plus a NUL. Errors as
 * Go's: "illegal base64 data at input byte N". */
int pp_base64_decode(const char *text, unsigned char **out, size_t *len, struct pp_error **err);

#endif

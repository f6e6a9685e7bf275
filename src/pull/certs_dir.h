/* The per-registry CA directories of podman and docker:
 * <dir>/<host[:port]>/\*.crt, the first of the settings' directories
 * (PEAPOD_CERTS_DIRS) that has one for the host. Its certificates are
 * trusted for that registry beside the system's. Client certificates
 * (*.cert, *.key) are not used. */
#ifndef PEAPOD_PULL_CERTS_DIR_H
#define PEAPOD_PULL_CERTS_DIR_H

#include <stddef.h>

#include "util/error.h"

/* The system's CA bundle (Debian's ca-certificates), read first so that
 * the directory's certificates add to it as they do for podman. */
#define PP_CERTS_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* A directory's certificates, together, at most */
#define PP_CERTS_DIR_MAX_BYTES (4u * 1024 * 1024)

/* dirs: ':'-separated. *pem (malloc'ed, *len bytes) the system bundle and
 * the host's *.crt files in lexical order; NULL when no directory has the
 * host or it has no *.crt. */
int pp_certs_dir_ca(const char *dirs, const char *host, char **pem, size_t *len,
		    struct pp_error **err);

#endif

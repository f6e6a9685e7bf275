/* gzip decompression with isa-l's igzip (Debian's libisal2), loaded by
 * dlopen when a gzip layer is unpacked: ~3-4x faster than zlib, which
 * libarchive's gzip filter uses (bench/RESULTS.md: inflating took a third
 * of a pull's CPU). Without libisal2 the unpacker keeps libarchive's
 * filter. Internal to src/image (layer_unpack.c). */
#ifndef PEAPOD_IMAGE_GUNZIP_H
#define PEAPOD_IMAGE_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define PP_GUNZIP_SONAME "libisal.so.2"

/* One gzip stream (members one after the other, as gzip -d takes them). */
struct pp_gunzip;

/* NULL when libisal2 cannot be loaded (then libarchive inflates). */
struct pp_gunzip *pp_gunzip_new(void);
void pp_gunzip_free(struct pp_gunzip *z);

/* The next compressed bytes: in[0..len) must stay valid until
 * pp_gunzip_read asks for more. */
void pp_gunzip_input(struct pp_gunzip *z, const void *in, size_t len);

/* Inflates into out (at most cap bytes): > 0 bytes written; 0 when it
 * needs more input (pp_gunzip_input, or pp_gunzip_end at the end of the
 * blob); -1 with err on bad data. Members follow one another as gzip -d
 * takes them; bytes after the last member that do not begin a member
 * (0x1f) are ignored, as libarchive ignores them. */
ssize_t pp_gunzip_read(struct pp_gunzip *z, void *out, size_t cap, struct pp_error **err);

/* The blob ended: an error unless its last member was whole. */
int pp_gunzip_end(struct pp_gunzip *z, struct pp_error **err);

#endif

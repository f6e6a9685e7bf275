/* The tar-split record of a layer (as podman's storage keeps one): while a
 * layer is unpacked, the bytes of its uncompressed tar stream that are not
 * the contents of regular files (headers, pax records, padding, the end
 * blocks) are kept in a small side file, layers/sha256/<hex>/tar-split,
 * with a reference (path, size) in place of each file's contents. `image
 * save` reassembles the byte-identical tar from it and the files in diff/,
 * so a saved layer keeps its diff ID and the image its id.
 *
 * The file, little-endian:
 *   "PPTS1\n"
 *   'H' u32 n, n bytes      bytes of the stream as they were
 *   'F' u64 size, u16 n, n bytes of path   size bytes of diff/<path>
 *   'E' u64 total           the stream's length; nothing follows
 * Internal to src/image. */
#ifndef PEAPOD_IMAGE_TAR_SPLIT_H
#define PEAPOD_IMAGE_TAR_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define TAR_SPLIT_FILE "tar-split"
#define TAR_SPLIT_MAGIC "PPTS1\n"
/* An 'H' record's longest run of bytes (the writer cuts longer runs). */
#define TAR_SPLIT_CHUNK_MAX (1u << 20)

struct tar_split_writer;

/* Creates path (the record of a layer being unpacked). */
int tar_split_writer_open(const char *path, struct tar_split_writer **out, struct pp_error **err);
/* The next bytes of the tar stream, in order. */
void tar_split_feed(struct tar_split_writer *w, const void *buf, size_t len);
/* An entry whose header ends at data_start (the position after its header
 * blocks) holds size bytes of contents that diff/<path> keeps: path NULL
 * when they are to be kept in the record itself. */
void tar_split_entry(struct tar_split_writer *w, int64_t data_start, int64_t size,
		     const char *path);
/* After the stream's last byte: writes the end and closes. A record that
 * could not be kept whole (a write error, positions out of order) is
 * removed: the layer is then saved as any layer without one is. */
void tar_split_writer_close(struct tar_split_writer *w, bool ok);

/* The layer's record can rebuild its tar: present, whole, every file it
 * references in diff/ with its size, none twice. (Only the reassembly's
 * digest proves the bytes.) */
int tar_split_check(const char *layer_dir, struct pp_error **err);

/* Gives up the record of a layer it cannot describe (a sparse entry). */
void tar_split_abandon(struct tar_split_writer *w);

/* Reassembles the tar of the layer whose directory is layer_dir (holding
 * tar-split and diff/): first *size (the stream's length) through
 * size_cb, then the bytes through write_cb; checks they hash to diff_id.
 * ENOENT when the layer has no record. */
struct tar_split_sink {
	int (*size_cb)(void *ctx, int64_t size, struct pp_error **err);
	int (*write_cb)(void *ctx, const void *data, size_t len, struct pp_error **err);
	void *ctx;
};
int tar_split_reassemble(const char *layer_dir, const char *diff_id,
			 const struct tar_split_sink *sink, struct pp_error **err);

#endif

/* What the two halves of the layer unpacker share: the stream side
 * (layer_unpack.c: reading, decompressing, digests, bounds) and the
 * filesystem side (layer_apply.c: one tar entry applied to the layer's
 * directory). Internal to src/image. */
#ifndef PEAPOD_IMAGE_LAYER_INTERNAL_H
#define PEAPOD_IMAGE_LAYER_INTERNAL_H

#include <time.h>

#include "image/archive_api.h"
#include "image/layer.h"

/* A directory whose mtime is set once the whole layer is written: creating
 * its entries changes it. */
struct layer_dir_time {
	char *path; /* normalized, "" for the root */
	struct timespec mtime;
};

struct layer_unpack {
	const struct pp_archive_api *A;
	const struct pp_layer_source *src;
	struct pp_layer_result *res;
	int rootfd;
	struct archive *tar; /* where an entry's data is read from */
	/* The error of a read callback: libarchive only sees "-1". */
	struct pp_error *stream_err;
	/* The last parent directory opened: tar entries come grouped by
	 * directory, so most entries reuse it. */
	char *parent_path;
	int parent_fd;
	struct layer_dir_time *dirs;
	size_t n_dirs, cap_dirs;
};

/* Creates one entry (read from u->tar) in the layer. */
int layer_apply_entry(struct layer_unpack *u, struct archive_entry *entry, struct pp_error **err);

/* Sets the directories' mtimes, last. */
int layer_apply_dir_times(struct layer_unpack *u, struct pp_error **err);

/* Frees the parent cache and the directory list. */
void layer_apply_release(struct layer_unpack *u);

/* Adds "fmt..." to the result's warnings (counted beyond the maximum). */
void layer_warn(struct layer_unpack *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

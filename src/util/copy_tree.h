/* Copies a directory tree like `cp -a --one-file-system`: modes, owners,
 * times, symlinks (never followed), hardlinks, device nodes and (best
 * effort) xattrs kept; mount points below the source copied as empty
 * directories. Used by `image import` of a directory and by the image
 * Volumes a container gets seeded from its image. */
#ifndef PEAPOD_UTIL_COPY_TREE_H
#define PEAPOD_UTIL_COPY_TREE_H

#include "util/error.h"

/* Copies the tree at src into the existing directory dst. */
int pp_copy_tree(const char *src, const char *dst, struct pp_error **err);

/* The same with both directories open (O_RDONLY or O_PATH); what names
 * the source in errors. */
int pp_copy_tree_at(int src_fd, int dst_fd, const char *what, struct pp_error **err);

/* Copies what is left of sfd to dfd (copy_file_range where the two
 * allow it, else read and write); rel names the file in errors. */
int pp_copy_data(int sfd, int dfd, const char *rel, struct pp_error **err);

#endif

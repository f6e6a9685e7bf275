/* libarchive, loaded when an image is imported from a tarball or a layer
 * unpacked (image/layer.h), and only then:
 * linked in, it and its dependencies (libxml2, ICU, libstdc++, compressors:
 * a dozen libraries) would load with every CLI command and stay mapped in
 * every pod's supervisor, which never needs them. The table keeps
 * <archive.h>'s types, so calls are checked as direct calls would be. */
#ifndef PEAPOD_ARCHIVE_API_H
#define PEAPOD_ARCHIVE_API_H

#include <archive.h>
#include <archive_entry.h>

#include "util/error.h"

#define PP_ARCHIVE_FUNCS(X)                                                                        \
	X(archive_read_new)                                                                        \
	X(archive_read_free)                                                                       \
	X(archive_read_support_filter_all)                                                         \
	X(archive_read_support_format_tar)                                                         \
	X(archive_read_support_format_gnutar)                                                      \
	X(archive_read_open_fd)                                                                    \
	X(archive_read_next_header)                                                                \
	X(archive_read_data_block)                                                                 \
	X(archive_write_disk_new)                                                                  \
	X(archive_write_disk_set_options)                                                          \
	X(archive_write_header)                                                                    \
	X(archive_write_data_block)                                                                \
	X(archive_write_finish_entry)                                                              \
	X(archive_write_close)                                                                     \
	X(archive_write_free)                                                                      \
	X(archive_error_string)                                                                    \
	X(archive_entry_pathname)                                                                  \
	X(archive_entry_size)                                                                      \
	X(archive_entry_filetype)                                                                  \
	X(archive_read_support_filter_gzip)                                                        \
	X(archive_read_support_filter_zstd)                                                        \
	X(archive_read_support_format_raw)                                                         \
	X(archive_read_open)                                                                       \
	X(archive_filter_code)                                                                     \
	X(archive_entry_perm)                                                                      \
	X(archive_entry_uid)                                                                       \
	X(archive_entry_gid)                                                                       \
	X(archive_entry_mtime)                                                                     \
	X(archive_entry_mtime_nsec)                                                                \
	X(archive_entry_symlink)                                                                   \
	X(archive_entry_hardlink)                                                                  \
	X(archive_entry_xattr_reset)                                                               \
	X(archive_entry_xattr_next)                                                                \
	X(archive_filter_bytes)                                                                    \
	X(archive_write_new)                                                                       \
	X(archive_write_set_format_pax_restricted)                                                 \
	X(archive_write_open_fd)                                                                   \
	X(archive_write_data)                                                                      \
	X(archive_entry_new)                                                                       \
	X(archive_entry_free)                                                                      \
	X(archive_entry_set_pathname)                                                              \
	X(archive_entry_set_filetype)                                                              \
	X(archive_entry_set_perm)                                                                  \
	X(archive_entry_set_uid)                                                                   \
	X(archive_entry_set_gid)                                                                   \
	X(archive_entry_set_mtime)                                                                 \
	X(archive_entry_set_size)                                                                  \
	X(archive_entry_set_symlink)                                                               \
	X(archive_entry_set_hardlink)                                                              \
	X(archive_entry_xattr_add_entry)                                                           \
	X(archive_entry_sparse_count)

struct pp_archive_api {
#define PP_ARCHIVE_DECL(f) __typeof__(f) *f;
	PP_ARCHIVE_FUNCS(PP_ARCHIVE_DECL)
#undef PP_ARCHIVE_DECL
};

/* Loads libarchive (once per process). */
int pp_archive_api(const struct pp_archive_api **out, struct pp_error **err);

#endif

/* Unpacking one OCI/Docker image layer (a tar stream, gzip- or
 * zstd-compressed or not) into an empty directory that overlayfs then takes
 * as a lower layer; and the classification of a layer entry's path, pure
 * so it can be fuzzed alone.
 *
 * The stream is read once, from an fd (a download in progress, an archive
 * member), through libarchive (loaded by dlopen, image/archive_api.h): one
 * reader undoes the compression ("raw" format), a second one reads the tar.
 * Both digests are computed as the bytes pass: the compressed blob's (the
 * manifest's descriptor digest) and the tar stream's (the config's diff_id).
 *
 * How entries land, as overlayfs expects of a lower layer:
 *  - regular files, directories, symlinks (any target: resolved inside the
 *    container later), hardlinks (to an earlier entry of the layer), fifos;
 *    numeric owners, modes with setuid/setgid/sticky, mtimes (directories'
 *    after their contents), xattrs (security.capability included);
 *  - ".wh.NAME" -> a whiteout: a 0/0 character device NAME;
 *    ".wh..wh..opq" -> its directory marked opaque (trusted.overlay.opaque=y);
 *    any other ".wh." name is refused;
 *  - character and block devices are skipped with a warning: a device node
 *    in a layer would open the host's devices to whoever reads it. (Image
 *    import refuses them; here the node is skipped rather than the whole
 *    image refused, as rootless containerd does: old base images carry
 *    /dev nodes.) Fifos are created, as image import creates them;
 *  - xattrs in trusted.overlay.* and user.overlay.* are skipped with a
 *    warning (an image may not plant overlay metadata: redirects, opaque
 *    marks outside whiteouts), so are xattrs outside user.*, security.*,
 *    trusted.* (ACLs as system.posix_acl_* among them); libarchive's own
 *    ACL records are not applied (image layers do not carry them);
 *  - paths: "./" prefixes, "." components and duplicate slashes dropped;
 *    ".." resolved by name, refused if it would leave the layer; absolute
 *    paths refused. Every file is created relative to the layer's fd, its
 *    parents opened with RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH, so an entry
 *    can never be written through a symlink an earlier entry made (the
 *    layer is refused instead);
 *  - an entry replacing an earlier one of the same path wins, as tar
 *    extraction does (a directory over a directory keeps its contents).
 *
 * Must run with CAP_CHOWN, CAP_FOWNER, CAP_MKNOD and CAP_SYS_ADMIN
 * (trusted.* xattrs): as root. */
#ifndef PEAPOD_IMAGE_LAYER_H
#define PEAPOD_IMAGE_LAYER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/oci.h"
#include "util/digest.h"
#include "util/error.h"

/* Default bounds on one layer (a tar bomb stops there). Bytes count the tar
 * stream after decompression and, separately, the compressed stream; an
 * entry declaring more is refused before any of it is read. The largest
 * real layers (CUDA, ML frameworks) are a few GiB and a few 100k entries. */
#define PP_LAYER_MAX_BYTES_DEFAULT (64LL << 30) /* PEAPOD_IMAGE_MAX_BYTES' default */
#define PP_LAYER_MAX_ENTRIES_DEFAULT 1000000LL	/* as image import */
/* Warnings kept in a result; more are only counted. */
#define PP_LAYER_WARNINGS_MAX 64
/* A path's bytes, the kernel's bounds. */
#define PP_LAYER_PATH_MAX PATH_MAX
#define PP_LAYER_NAME_MAX NAME_MAX
#define PP_LAYER_WHITEOUT_PREFIX ".wh."
#define PP_LAYER_OPAQUE_NAME ".wh..wh..opq"
#define PP_LAYER_OPAQUE_XATTR "trusted.overlay.opaque"

/* What a layer entry's path asks for. */
enum pp_layer_path_action {
	PP_LAYER_PATH_ENTRY,	/* create path (the layer's root when "") */
	PP_LAYER_PATH_WHITEOUT, /* hide path of the lower layers */
	PP_LAYER_PATH_OPAQUE,	/* hide the lower layers' contents of path ("": root) */
	PP_LAYER_PATH_REFUSED,	/* the layer is refused: reason */
};

struct pp_layer_path {
	enum pp_layer_path_action action;
	/* normalized: no leading or trailing '/', no "." or ".." components, no
	 * empty ones; for a whiteout, the path hidden (without ".wh."); for an
	 * opaque mark, its directory */
	char path[PP_LAYER_PATH_MAX];
	const char *reason; /* static text, PP_LAYER_PATH_REFUSED only */
};

/* Classifies a tar entry's name. Pure: no I/O, no allocation. */
void pp_layer_path_classify(const char *name, struct pp_layer_path *out);

struct pp_layer_limits {
	int64_t max_bytes;   /* > 0 */
	int64_t max_entries; /* > 0 */
};

#define PP_LAYER_LIMITS_DEFAULT                                                                    \
	{                                                                                          \
		.max_bytes = PP_LAYER_MAX_BYTES_DEFAULT,                                           \
		.max_entries = PP_LAYER_MAX_ENTRIES_DEFAULT                                        \
	}

struct pp_layer_source {
	int fd; /* read to its end; not closed */
	/* The descriptor's: only its decompressor is enabled (libarchive would
	 * otherwise guess among a dozen), so a compressed blob declared plain
	 * fails as no tar; one declared compressed but plain is taken. */
	enum pp_oci_compression compression;
	/* The descriptor's digest and size; digest NULL when unknown (an
	 * uncompressed archive member: then it is the diff_id), size < 0 when
	 * unknown. The digest's algorithm is the one computed. */
	const char *digest;
	int64_t size;
	/* The config's rootfs.diff_ids entry: required. */
	const char *diff_id;
	/* The caller checks the bytes against digest itself as they pass (a
	 * registry download does): a compressed blob is not hashed twice, and
	 * the result's digest is then digest as given. */
	bool digest_checked;
	struct pp_layer_limits limits;
	/* Where to keep the layer's tar-split record (tar_split.h: what image
	 * save rebuilds the identical tar from); NULL: none. */
	const char *split_path;
};

struct pp_layer_result {
	char digest[PP_DIGEST_STRING_MAX];  /* of the bytes read from fd */
	char diff_id[PP_DIGEST_STRING_MAX]; /* of the tar stream */
	int64_t compressed_size;	    /* bytes read from fd */
	int64_t size;			    /* bytes of the tar stream */
	int64_t entries;
	/* The compression the stream turned out to have: a layer declared
	 * compressed but sent plain is taken, as containerd takes it. */
	enum pp_oci_compression compression;
	char **warnings; /* entries skipped, "path: why"; NULL-terminated, NULL when none */
	size_t n_warnings;
	size_t warnings_dropped; /* beyond PP_LAYER_WARNINGS_MAX */
};

/* Unpacks src into dirfd, which must be an empty directory (opened
 * O_RDONLY | O_DIRECTORY; not closed), and fills *res (freed with
 * pp_layer_result_clear, also after a failure). Fails on a read error, a
 * malformed stream, a refused entry, a bound exceeded, or a digest or size
 * different from the expected ones (EBADMSG): the stream is read to its end
 * first, so a digest is only known good after everything was written. On
 * any failure the directory holds a partial, untrusted layer: the caller
 * removes it (pp_rm_rf) and never uses it. Nothing is fsynced: the store
 * syncs (syncfs) before it records a layer as complete. */
int pp_layer_unpack(int dirfd, const struct pp_layer_source *src, struct pp_layer_result *res,
		    struct pp_error **err);

void pp_layer_result_clear(struct pp_layer_result *res);

#endif

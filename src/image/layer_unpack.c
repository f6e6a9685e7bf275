/* The stream side of the layer unpacker (image/layer.h): the blob read from
 * the caller's fd and hashed as read (the descriptor's digest), its
 * compression undone by a first libarchive reader in "raw" format, the tar
 * stream that comes out hashed (the diff_id) and read as a tar by a second
 * reader, whose entries layer_apply.c writes. Both digests and the sizes
 * are checked once the stream has been read to its end. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "image/gunzip.h"
#include "image/layer_internal.h"
#include "image/tar_split.h"
#include "util/cleanup.h"

/* Bytes read from the fd at a time: large enough that the syscalls and the
 * digest updates cost little next to inflating. */
#define LAYER_READ_BUF (256 * 1024)

/* Where the tar stream comes from. */
enum tar_source {
	FROM_LIBARCHIVE, /* the raw reader's filter (zstd; gzip without libisal2) */
	FROM_GUNZIP,	 /* isa-l (gzip, libisal2 loaded: image/gunzip.h) */
	FROM_BLOB,	 /* the blob itself: declared gzip, sent plain */
};

/* What the read callbacks work with. */
struct layer_stream {
	struct layer_unpack *u;
	enum tar_source from;
	struct archive *raw;  /* FROM_LIBARCHIVE: decompressed bytes come out of it */
	struct pp_gunzip *gz; /* FROM_GUNZIP */
	char *out;	      /* FROM_GUNZIP: what it inflated */
	size_t first_len;     /* FROM_BLOB: the bytes the sniffing read, in buf */
	struct pp_digest *blob_digest, *tar_digest;
	/* A plain layer's tar stream is its blob, byte for byte: hashed once
	 * (SHA-256 costs ~0.1 s per 200 MB). */
	bool tar_is_blob;
	/* The blob's digest is computed here (not when the caller checks it
	 * and the tar stream is not the blob). */
	bool hash_blob;
	char *buf;
	struct tar_split_writer *split; /* NULL when not recorded */
};

static void stream_fail(struct layer_stream *s, int errnum, const char *msg)
{
	if (s->u->stream_err == NULL)
		pp_error_set(&s->u->stream_err, errnum, "%s", msg);
}

/* ARCHIVE_WARN is a note (a pax keyword unknown, a name not in the
 * locale's charset); ARCHIVE_RETRY (a damaged header libarchive would skip
 * over) is refused with the failures: a layer is whole or not used. */
static bool archive_ok(int r)
{
	return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

/* The next bytes of the blob, hashed and counted; 0 at its end. */
static ssize_t read_blob(struct layer_stream *s)
{
	struct layer_unpack *u = s->u;
	if (u->stream_err != NULL)
		return -1;
	ssize_t n;
	do
		n = read(u->src->fd, s->buf, LAYER_READ_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		stream_fail(s, errno, "read the layer");
		return -1;
	}
	u->res->compressed_size += n;
	if (u->res->compressed_size > u->src->limits.max_bytes) {
		stream_fail(s, EFBIG, "the layer's blob is larger than the bound");
		return -1;
	}
	if (u->src->size >= 0 && u->res->compressed_size > u->src->size) {
		stream_fail(s, EBADMSG, "the layer's blob is larger than its descriptor's size");
		return -1;
	}
	if (s->hash_blob && pp_digest_update(s->blob_digest, s->buf, (size_t)n, &u->stream_err) < 0)
		return -1;
	return n;
}

static la_ssize_t blob_callback(struct archive *a, void *data, const void **buf)
{
	struct layer_stream *s = data;
	*buf = s->buf;
	return read_blob(s);
}

/* The next bytes of the tar stream from libarchive's filter; 0 at its end. */
static ssize_t next_from_libarchive(struct layer_stream *s, const void **buf)
{
	struct layer_unpack *u = s->u;
	size_t len;
	la_int64_t off;
	int r = u->A->archive_read_data_block(s->raw, buf, &len, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (!archive_ok(r)) {
		const char *e = u->A->archive_error_string(s->raw);
		stream_fail(s, EBADMSG, e ? e : "decompressing the layer failed");
		return -1;
	}
	return (ssize_t)len;
}

/* The next bytes isa-l inflates, the blob read as it needs it. */
static ssize_t next_from_gunzip(struct layer_stream *s, const void **buf)
{
	for (;;) {
		ssize_t n = pp_gunzip_read(s->gz, s->out, LAYER_READ_BUF, &s->u->stream_err);
		if (n != 0) {
			*buf = s->out;
			return n;
		}
		n = read_blob(s);
		if (n < 0)
			return -1;
		if (n == 0)
			return pp_gunzip_end(s->gz, &s->u->stream_err);
		pp_gunzip_input(s->gz, s->buf, (size_t)n);
	}
}

static ssize_t next_from_blob(struct layer_stream *s, const void **buf)
{
	*buf = s->buf;
	if (s->first_len > 0) {
		ssize_t n = (ssize_t)s->first_len;
		s->first_len = 0;
		return n;
	}
	return read_blob(s);
}

/* The next bytes of the tar stream, hashed and counted; 0 at its end. */
static ssize_t read_tar(struct layer_stream *s, const void **buf)
{
	struct layer_unpack *u = s->u;
	if (u->stream_err != NULL)
		return -1;
	ssize_t n = s->from == FROM_GUNZIP ? next_from_gunzip(s, buf)
		    : s->from == FROM_BLOB ? next_from_blob(s, buf)
					   : next_from_libarchive(s, buf);
	if (n <= 0)
		return n;
	size_t len = (size_t)n;
	u->res->size += (int64_t)len;
	if (u->res->size > u->src->limits.max_bytes) {
		stream_fail(s, EFBIG, "the layer's tar stream is larger than the bound");
		return -1;
	}
	if (!s->tar_is_blob && pp_digest_update(s->tar_digest, *buf, len, &u->stream_err) < 0)
		return -1;
	if (s->split != NULL)
		tar_split_feed(s->split, *buf, len);
	return (ssize_t)len;
}

static la_ssize_t tar_callback(struct archive *a, void *data, const void **buf)
{
	return read_tar(data, buf);
}

/* A libarchive failure, or the callback's error behind it. */
static int archive_fail(struct layer_unpack *u, struct archive *a, const char *what,
			struct pp_error **err)
{
	if (u->stream_err != NULL)
		return pp_error_set(err, u->stream_err->status, "%s", u->stream_err->msg);
	const char *e = a ? u->A->archive_error_string(a) : NULL;
	return pp_error_set(err, EBADMSG, "%s: %s", what, e ? e : "failed");
}

/* The first reader: only the declared compression's filter (none for a
 * plain tar), never one that would run an external program (libarchive
 * says ARCHIVE_WARN then). */
static int open_raw(struct layer_stream *s, struct pp_error **err)
{
	struct layer_unpack *u = s->u;
	const struct pp_archive_api *A = u->A;
	int r = ARCHIVE_OK;
	if (u->src->compression == PP_OCI_COMPRESSION_GZIP)
		r = A->archive_read_support_filter_gzip(s->raw);
	else if (u->src->compression == PP_OCI_COMPRESSION_ZSTD)
		r = A->archive_read_support_filter_zstd(s->raw);
	if (r != ARCHIVE_OK)
		return pp_error_set(err, ENOTSUP, "libarchive cannot decompress this layer itself");
	A->archive_read_support_format_raw(s->raw);
	if (A->archive_read_open(s->raw, s, NULL, blob_callback, NULL) != ARCHIVE_OK)
		return archive_fail(u, s->raw, "open the layer", err);
	struct archive_entry *entry;
	r = A->archive_read_next_header(s->raw, &entry);
	if (r == ARCHIVE_EOF)
		return pp_error_set(err, EBADMSG, "the layer is empty");
	if (!archive_ok(r))
		return archive_fail(u, s->raw, "read the layer", err);
	switch (A->archive_filter_code(s->raw, 0)) {
	case ARCHIVE_FILTER_GZIP:
		u->res->compression = PP_OCI_COMPRESSION_GZIP;
		break;
	case ARCHIVE_FILTER_ZSTD:
		u->res->compression = PP_OCI_COMPRESSION_ZSTD;
		break;
	default:
		u->res->compression = PP_OCI_COMPRESSION_NONE;
		break;
	}
	return 0;
}

/* A gzip layer with libisal2: the first bytes tell gzip (inflated by
 * isa-l) from a plain tar sent for one (taken as it is). */
static int open_gunzip(struct layer_stream *s, struct pp_error **err)
{
	struct layer_unpack *u = s->u;
	ssize_t n = read_blob(s);
	if (n < 0)
		return archive_fail(u, NULL, "read the layer", err);
	if (n == 0)
		return pp_error_set(err, EBADMSG, "the layer is empty");
	const unsigned char *b = (const unsigned char *)s->buf;
	if (b[0] == 0x1f && (n < 2 || b[1] == 0x8b)) {
		s->from = FROM_GUNZIP;
		s->out = xmalloc(LAYER_READ_BUF);
		pp_gunzip_input(s->gz, s->buf, (size_t)n);
		u->res->compression = PP_OCI_COMPRESSION_GZIP;
	} else {
		s->from = FROM_BLOB;
		s->first_len = (size_t)n;
		u->res->compression = PP_OCI_COMPRESSION_NONE;
	}
	return 0;
}

/* The tar-split record: a plain file's contents are those diff/<path>
 * will hold; any other entry's (a hardlink's with data) stay in it. The
 * header was just read: the reader's position is where the contents start. */
static void split_entry(struct layer_stream *s, struct archive_entry *entry)
{
	const struct pp_archive_api *A = s->u->A;
	if (s->split == NULL)
		return;
	struct pp_layer_path p;
	const char *path = NULL;
	pp_layer_path_classify(A->archive_entry_pathname(entry), &p);
	if (A->archive_entry_filetype(entry) == AE_IFREG &&
	    A->archive_entry_hardlink(entry) == NULL && p.action == PP_LAYER_PATH_ENTRY &&
	    p.path[0] != '\0')
		path = p.path;
	/* a sparse file's stored bytes are not its contents: no record */
	if (A->archive_entry_sparse_count(entry) > 0)
		tar_split_abandon(s->split);
	tar_split_entry(s->split, A->archive_filter_bytes(s->u->tar, 0),
			A->archive_entry_size(entry), path);
}

static int read_entries(struct layer_stream *s, struct pp_error **err)
{
	struct layer_unpack *u = s->u;
	const struct pp_archive_api *A = u->A;
	/* tar only: format_all would also take mtree, whose entries can name
	 * host files. */
	A->archive_read_support_format_tar(u->tar);
	if (A->archive_read_open(u->tar, s, NULL, tar_callback, NULL) != ARCHIVE_OK)
		return archive_fail(u, u->tar, "read the layer's tar", err);
	struct archive_entry *entry;
	int r;
	while ((r = A->archive_read_next_header(u->tar, &entry)) != ARCHIVE_EOF) {
		if (!archive_ok(r))
			return archive_fail(u, u->tar, "read the layer's tar", err);
		if (++u->res->entries > u->src->limits.max_entries)
			return pp_error_set(err, EFBIG, "the layer has more than %lld entries",
					    (long long)u->src->limits.max_entries);
		if (A->archive_entry_size(entry) > u->src->limits.max_bytes)
			return pp_error_set(err, EFBIG, "%s: larger than the bound",
					    A->archive_entry_pathname(entry));
		split_entry(s, entry);
		if (layer_apply_entry(u, entry, err) < 0)
			return -1;
	}
	return layer_apply_dir_times(u, err);
}

/* The digests cover the whole streams: what follows the tar's end-of-archive
 * blocks, and the blob after the compressed data, is read and hashed too. */
static int drain(struct layer_stream *s, struct pp_error **err)
{
	const void *buf;
	ssize_t n;
	while ((n = read_tar(s, &buf)) > 0)
		;
	while (n == 0 && (n = read_blob(s)) > 0)
		;
	if (n < 0)
		return archive_fail(s->u, s->from == FROM_LIBARCHIVE ? s->raw : NULL,
				    "read the layer", err);
	return 0;
}

static int check_digest(const char *what, const char *got, const char *want, struct pp_error **err)
{
	if (want != NULL && strcasecmp(got, want) != 0)
		return pp_error_set(err, EBADMSG, "the layer's %s is %s, not %s", what, got, want);
	return 0;
}

static int finish(struct layer_stream *s, struct pp_error **err)
{
	struct layer_unpack *u = s->u;
	struct pp_layer_result *res = u->res;
	if (!s->hash_blob)
		snprintf(res->digest, sizeof(res->digest), "%s", u->src->digest);
	else if (pp_digest_end_string(s->blob_digest, res->digest, err) < 0)
		return -1;
	if (s->tar_is_blob)
		memcpy(res->diff_id, res->digest, sizeof(res->diff_id));
	else if (pp_digest_end_string(s->tar_digest, res->diff_id, err) < 0)
		return -1;
	if (u->src->size >= 0 && res->compressed_size != u->src->size)
		return pp_error_set(err, EBADMSG, "the layer's blob has %lld bytes, not %lld",
				    (long long)res->compressed_size, (long long)u->src->size);
	if (check_digest("digest", res->digest, u->src->digest, err) < 0)
		return -1;
	return check_digest("diff_id", res->diff_id, u->src->diff_id, err);
}

static int check_source(const struct pp_layer_source *src, enum pp_digest_algo *blob_algo,
			enum pp_digest_algo *tar_algo, struct pp_error **err)
{
	const char *hex;
	if (src->limits.max_bytes <= 0 || src->limits.max_entries <= 0)
		return pp_error_set(err, EINVAL, "layer limits must be positive");
	if (src->diff_id == NULL)
		return pp_error_set(err, EINVAL, "a layer needs its diff_id");
	if (pp_digest_parse(src->diff_id, tar_algo, &hex, err) < 0)
		return pp_error_wrap(err, "diff_id");
	*blob_algo = PP_DIGEST_SHA256;
	if (src->digest != NULL && pp_digest_parse(src->digest, blob_algo, &hex, err) < 0)
		return pp_error_wrap(err, "digest");
	return 0;
}

/* The layer directory is empty: a hardlink may only name an entry of this
 * layer, which holds only if nothing else is there. */
static int check_empty(int dirfd, struct pp_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open the layer directory");
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return pp_error_set(err, errno, "read the layer directory");
	}
	struct dirent *de;
	int ret = 0;
	while (ret == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			ret = pp_error_set(err, ENOTEMPTY, "the layer directory is not empty");
	closedir(d);
	return ret;
}

int pp_layer_unpack(int dirfd, const struct pp_layer_source *src, struct pp_layer_result *res,
		    struct pp_error **err)
{
	memset(res, 0, sizeof(*res));
	enum pp_digest_algo blob_algo, tar_algo;
	const struct pp_archive_api *A;
	if (check_source(src, &blob_algo, &tar_algo, err) < 0 || check_empty(dirfd, err) < 0 ||
	    pp_archive_api(&A, err) < 0)
		return -1;
	struct layer_unpack u = {.A = A, .src = src, .res = res, .rootfd = dirfd, .parent_fd = -1};
	cleanup_free char *buf = xmalloc(LAYER_READ_BUF);
	/* a plain layer's blob is its tar: hashed once for both */
	bool hash_blob = !src->digest_checked || src->digest == NULL ||
			 src->compression == PP_OCI_COMPRESSION_NONE;
	struct layer_stream s = {.u = &u, .buf = buf, .hash_blob = hash_blob};
	int ret = -1;
	if (pp_digest_begin(blob_algo, &s.blob_digest, err) < 0 ||
	    pp_digest_begin(tar_algo, &s.tar_digest, err) < 0)
		goto out;
	u.tar = A->archive_read_new();
	if (u.tar == NULL)
		abort();
	if (src->split_path != NULL && tar_split_writer_open(src->split_path, &s.split, err) < 0)
		goto out;
	if (src->compression == PP_OCI_COMPRESSION_GZIP && (s.gz = pp_gunzip_new()) != NULL) {
		if (open_gunzip(&s, err) < 0)
			goto out;
	} else {
		if ((s.raw = A->archive_read_new()) == NULL)
			abort();
		if (open_raw(&s, err) < 0)
			goto out;
	}
	s.tar_is_blob =
	    s.hash_blob && res->compression == PP_OCI_COMPRESSION_NONE && blob_algo == tar_algo;
	if (read_entries(&s, err) < 0 || drain(&s, err) < 0 || finish(&s, err) < 0)
		goto out;
	ret = 0;
out:
	tar_split_writer_close(s.split, ret == 0);
	if (u.tar != NULL)
		A->archive_read_free(u.tar);
	if (s.raw != NULL)
		A->archive_read_free(s.raw);
	pp_gunzip_free(s.gz);
	free(s.out);
	pp_digest_free(s.blob_digest);
	pp_digest_free(s.tar_digest);
	pp_error_free(&u.stream_err);
	layer_apply_release(&u);
	return ret;
}

void pp_layer_result_clear(struct pp_layer_result *res)
{
	strv_free(res->warnings);
	memset(res, 0, sizeof(*res));
}

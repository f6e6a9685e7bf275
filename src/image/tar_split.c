/* The tar-split record (tar_split.h): written while a layer is unpacked,
 * read back by image save. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/tar_split.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/path.h"

#define TAR_SPLIT_PATH_MAX 4096
#define TAR_SPLIT_COPY_BUF (256 * 1024)

struct tar_split_writer {
	FILE *f;
	char *path;
	bool failed;
	int64_t delivered; /* the stream's bytes fed so far */
	int64_t decided;   /* bytes before it are recorded or skipped */
	/* bytes [decided, delivered): not known yet to be headers or contents */
	char *pending;
	size_t n_pending, cap_pending;
	int64_t skip_start, skip_end; /* the current entry's contents */
};

static void put_le(FILE *f, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		fputc((int)((v >> (8 * i)) & 0xff), f);
}

static void write_bytes(struct tar_split_writer *w, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = n < TAR_SPLIT_CHUNK_MAX ? n : TAR_SPLIT_CHUNK_MAX;
		fputc('H', w->f);
		put_le(w->f, k, 4);
		fwrite(p, 1, k, w->f);
		p += k;
		n -= k;
	}
}

/* Drops the pending bytes that are the current entry's contents. */
static void drop_skipped(struct tar_split_writer *w)
{
	if (w->decided < w->skip_start || w->decided >= w->skip_end)
		return;
	int64_t end = w->skip_end < w->delivered ? w->skip_end : w->delivered;
	size_t k = (size_t)(end - w->decided);
	memmove(w->pending, w->pending + k, w->n_pending - k);
	w->n_pending -= k;
	w->decided = end;
}

/* Records the pending bytes before offset as they are. */
static void record_until(struct tar_split_writer *w, int64_t offset)
{
	size_t k = (size_t)(offset - w->decided);
	write_bytes(w, w->pending, k);
	memmove(w->pending, w->pending + k, w->n_pending - k);
	w->n_pending -= k;
	w->decided = offset;
}

int tar_split_writer_open(const char *path, struct tar_split_writer **out, struct pp_error **err)
{
	FILE *f = fopen(path, "wxe");
	if (f == NULL)
		return pp_error_set(err, errno, "create %s", path);
	struct tar_split_writer *w = xmalloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->path = xstrdup(path);
	fputs(TAR_SPLIT_MAGIC, f);
	*out = w;
	return 0;
}

void tar_split_feed(struct tar_split_writer *w, const void *buf, size_t len)
{
	const char *p = buf;
	if (w->failed)
		return;
	/* contents arriving after everything before them was decided: never
	 * copied */
	if (w->n_pending == 0 && w->decided == w->delivered && w->decided >= w->skip_start &&
	    w->decided < w->skip_end) {
		size_t k = (size_t)(w->skip_end - w->decided) < len
			       ? (size_t)(w->skip_end - w->decided)
			       : len;
		p += k;
		len -= k;
		w->decided += (int64_t)k;
		w->delivered += (int64_t)k;
	}
	if (w->n_pending + len > w->cap_pending) {
		w->cap_pending = (w->n_pending + len) * 2;
		w->pending = xrealloc(w->pending, w->cap_pending);
	}
	memcpy(w->pending + w->n_pending, p, len);
	w->n_pending += len;
	w->delivered += (int64_t)len;
}

void tar_split_entry(struct tar_split_writer *w, int64_t data_start, int64_t size, const char *path)
{
	if (w->failed)
		return;
	drop_skipped(w);
	size_t n = path ? strlen(path) : 0;
	if (data_start < w->decided || data_start > w->delivered || n > TAR_SPLIT_PATH_MAX) {
		w->failed = true;
		return;
	}
	if (path == NULL || size <= 0)
		return;
	record_until(w, data_start);
	fputc('F', w->f);
	put_le(w->f, (uint64_t)size, 8);
	put_le(w->f, n, 2);
	fwrite(path, 1, n, w->f);
	w->skip_start = data_start;
	w->skip_end = data_start + size;
	drop_skipped(w);
}

void tar_split_abandon(struct tar_split_writer *w)
{
	w->failed = true;
}

void tar_split_writer_close(struct tar_split_writer *w, bool ok)
{
	if (w == NULL)
		return;
	if (ok && !w->failed) {
		drop_skipped(w);
		/* contents promised but never delivered: not a whole stream */
		if (w->skip_end > w->delivered)
			w->failed = true;
		else
			record_until(w, w->delivered);
		fputc('E', w->f);
		put_le(w->f, (uint64_t)w->delivered, 8);
	}
	if (fclose(w->f) != 0 || !ok || w->failed)
		unlink(w->path);
	free(w->path);
	free(w->pending);
	free(w);
}

/* Reading it back. */

struct reader {
	FILE *f;
	const char *path;
};

static int get_le(struct reader *r, int bytes, uint64_t *v, struct pp_error **err)
{
	*v = 0;
	for (int i = 0; i < bytes; i++) {
		int c = fgetc(r->f);
		if (c == EOF)
			return pp_error_set(err, EBADMSG, "%s: truncated", r->path);
		*v |= (uint64_t)c << (8 * i);
	}
	return 0;
}

struct pass {
	const struct tar_split_sink *sink; /* NULL on the first pass: only sums */
	int difd;
	struct pp_digest *digest;
	int64_t total;
	char *buf;
	/* the first pass: the files referenced, to check them */
	char **names;
	size_t n_names;
	int64_t *sizes;
};

static int emit(struct pass *p, const void *data, size_t len, struct pp_error **err)
{
	p->total += (int64_t)len;
	if (p->sink == NULL)
		return 0;
	if (pp_digest_update(p->digest, data, len, err) < 0)
		return -1;
	return p->sink->write_cb(p->sink->ctx, data, len, err);
}

static int copy_file(struct pass *p, const char *name, uint64_t size, struct pp_error **err)
{
	if (p->sink == NULL) {
		p->total += (int64_t)size;
		p->sizes = xrealloc(p->sizes, (p->n_names + 1) * sizeof(*p->sizes));
		p->sizes[p->n_names] = (int64_t)size;
		p->names = xrealloc(p->names, (p->n_names + 2) * sizeof(*p->names));
		p->names[p->n_names++] = xstrdup(name);
		p->names[p->n_names] = NULL;
		return 0;
	}
	cleanup_close int fd = pp_path_open_beneath(p->difd, name, O_RDONLY | O_NOFOLLOW, err);
	struct stat st;
	if (fd < 0)
		return pp_error_wrap(err, "diff/%s", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return pp_error_set(err, EBADMSG,
				    "diff/%s: not the file of %llu bytes the layer had", name,
				    (unsigned long long)size);
	while (size > 0) {
		size_t want = size < TAR_SPLIT_COPY_BUF ? (size_t)size : TAR_SPLIT_COPY_BUF;
		ssize_t n = read(fd, p->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pp_error_set(err, n < 0 ? errno : EBADMSG, "read diff/%s", name);
		if (emit(p, p->buf, (size_t)n, err) < 0)
			return -1;
		size -= (uint64_t)n;
	}
	return 0;
}

static int one_record(struct reader *r, struct pass *p, int type, struct pp_error **err)
{
	uint64_t n, size;
	if (type == 'H') {
		if (get_le(r, 4, &n, err) < 0)
			return -1;
		if (n > TAR_SPLIT_CHUNK_MAX || fread(p->buf, 1, n, r->f) != n)
			return pp_error_set(err, EBADMSG, "%s: a bad 'H' record", r->path);
		return emit(p, p->buf, n, err);
	}
	if (type != 'F')
		return pp_error_set(err, EBADMSG, "%s: unknown record '%c'", r->path, type);
	char name[TAR_SPLIT_PATH_MAX + 1];
	if (get_le(r, 8, &size, err) < 0 || get_le(r, 2, &n, err) < 0)
		return -1;
	if (n == 0 || n > TAR_SPLIT_PATH_MAX || fread(name, 1, n, r->f) != n ||
	    memchr(name, '\0', n) != NULL || size > INT64_MAX)
		return pp_error_set(err, EBADMSG, "%s: a bad 'F' record", r->path);
	name[n] = '\0';
	return copy_file(p, name, size, err);
}

static int run_pass(const char *path, struct pass *p, struct pp_error **err)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	if (f == NULL)
		return pp_error_set(err, errno, "open %s", path);
	struct reader r = {.f = f, .path = path};
	char magic[sizeof(TAR_SPLIT_MAGIC) - 1];
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, TAR_SPLIT_MAGIC, sizeof(magic)) != 0)
		return pp_error_set(err, EBADMSG, "%s: not a tar-split record", path);
	p->total = 0;
	for (;;) {
		int type = fgetc(f);
		uint64_t total;
		if (type == EOF)
			return pp_error_set(err, EBADMSG, "%s: truncated", path);
		if (type != 'E') {
			if (one_record(&r, p, type, err) < 0)
				return -1;
			continue;
		}
		if (get_le(&r, 8, &total, err) < 0)
			return -1;
		if (total != (uint64_t)p->total || fgetc(f) != EOF)
			return pp_error_set(err, EBADMSG, "%s: its end does not add up", path);
		return 0;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* After the first pass: each file there, a regular file of its size, and
 * no path twice (an entry a later one replaced: its contents are gone). */
static int check_files(struct pass *p, struct pp_error **err)
{
	for (size_t i = 0; i < p->n_names; i++) {
		struct stat st;
		cleanup_close int fd =
		    pp_path_open_beneath(p->difd, p->names[i], O_PATH | O_NOFOLLOW, err);
		if (fd < 0)
			return pp_error_wrap(err, "diff/%s", p->names[i]);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != p->sizes[i])
			return pp_error_set(err, EBADMSG, "diff/%s: not the file the layer had",
					    p->names[i]);
	}
	if (p->n_names > 1)
		qsort(p->names, p->n_names, sizeof(*p->names), cmp_str);
	for (size_t i = 1; i < p->n_names; i++)
		if (strcmp(p->names[i - 1], p->names[i]) == 0)
			return pp_error_set(err, EBADMSG, "%s: twice in the layer", p->names[i]);
	return 0;
}

static int first_pass(const char *layer_dir, struct pass *p, struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", layer_dir, TAR_SPLIT_FILE);
	cleanup_free char *diff = xasprintf("%s/diff", layer_dir);
	if (access(path, F_OK) < 0)
		return pp_error_set(err, ENOENT, "%s: the layer has no tar-split record",
				    layer_dir);
	p->difd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->difd < 0)
		return pp_error_set(err, errno, "open %s", diff);
	if (run_pass(path, p, err) < 0 || check_files(p, err) < 0)
		return -1;
	return 0;
}

static void pass_release(struct pass *p)
{
	if (p->difd >= 0)
		close(p->difd);
	strv_free(p->names);
	free(p->sizes);
}

int tar_split_check(const char *layer_dir, struct pp_error **err)
{
	cleanup_free char *buf = xmalloc(TAR_SPLIT_CHUNK_MAX);
	struct pass p = {.difd = -1, .buf = buf};
	int ret = first_pass(layer_dir, &p, err);
	pass_release(&p);
	return ret;
}

int tar_split_reassemble(const char *layer_dir, const char *diff_id,
			 const struct tar_split_sink *sink, struct pp_error **err)
{
	cleanup_free char *path = xasprintf("%s/%s", layer_dir, TAR_SPLIT_FILE);
	cleanup_free char *buf = xmalloc(
	    TAR_SPLIT_COPY_BUF > TAR_SPLIT_CHUNK_MAX ? TAR_SPLIT_COPY_BUF : TAR_SPLIT_CHUNK_MAX);
	enum pp_digest_algo algo;
	const char *hex;
	if (pp_digest_parse(diff_id, &algo, &hex, err) < 0)
		return -1;
	struct pass p = {.difd = -1, .buf = buf};
	int ret = first_pass(layer_dir, &p, err);
	if (ret == 0)
		ret = sink->size_cb(sink->ctx, p.total, err);
	p.sink = sink;
	if (ret == 0)
		ret = pp_digest_begin(algo, &p.digest, err);
	if (ret == 0)
		ret = run_pass(path, &p, err);
	if (ret == 0)
		ret = pp_digest_end_verify(p.digest, diff_id, err);
	pp_digest_free(p.digest);
	pass_release(&p);
	if (ret < 0)
		return pp_error_wrap(err, "layer %s", diff_id);
	return 0;
}

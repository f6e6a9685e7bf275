/* The writer: records buffered in memory and written in as few write(2)
 * calls as possible; rotation by size as kubelet does it. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logs/crilog_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/settings.h"

#define WRITER_BUF_SIZE (256 * 1024)
#define LOG_FILE_MODE 0640
#define MIN_MAX_FILES 2

struct pp_log_writer {
	int fd;
	int dirfd;
	char *base; /* name of the current file in dirfd */
	struct pp_log_opts opts;
	int64_t size; /* bytes written to the current file */
	char *buf;
	size_t len, cap;
	/* One clock read per flush: the records of one batch share it. */
	char stamp[PP_LOG_TIME_LEN + 1];
	bool have_stamp;
	/* A write failed (ENOSPC...): nothing is tried before retry_at
	 * (monotonic ns); what comes meanwhile is dropped and counted. */
	bool failing, reported_failing;
	int errnum;
	int64_t retry_at;
	uint64_t dropped;
	/* Bytes at the file's end of a record not written whole: cut off at
	 * close if its rest never made it. */
	int64_t torn;
};

#define RETRY_NS (1000LL * 1000 * 1000)

static int failed(struct pp_log_writer *w, struct pp_error **err)
{
	w->failing = true;
	w->errnum = errno;
	w->retry_at = pp_monotonic_ns() + RETRY_NS;
	return pp_error_set(err, errno, "write log %s", w->base);
}

void pp_log_opts_default(struct pp_log_opts *o)
{
	o->max_size = pp_settings()->log_max_size;
	o->max_files = pp_settings()->log_max_files;
}

static int write_all(struct pp_log_writer *w, const char *data, size_t len, struct pp_error **err)
{
	while (len > 0) {
		ssize_t n = write(w->fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return failed(w, err);
		}
		data += n;
		len -= (size_t)n;
		w->size += n;
	}
	return 0;
}

int pp_log_writer_flush(struct pp_log_writer *w, struct pp_error **err)
{
	if (w->failing && pp_monotonic_ns() < w->retry_at)
		return pp_error_set(err, w->errnum, "write log %s: waiting to try again", w->base);
	size_t done = 0;
	int ret = 0;
	while (done < w->len) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = failed(w, err);
			break;
		}
		done += (size_t)n;
		w->size += n;
	}
	if (ret == 0)
		w->failing = false;
	/* The bytes written past the last whole record: a record cut short. */
	if (done > 0) {
		const char *nl = memrchr(w->buf, '\n', done);
		w->torn = nl ? (int64_t)(w->buf + done - nl - 1) : w->torn + (int64_t)done;
	}
	/* What could not be written stays buffered, in order, for the next try. */
	memmove(w->buf, w->buf + done, w->len - done);
	w->len -= done;
	w->have_stamp = false;
	return ret;
}

static int open_current(struct pp_log_writer *w, struct pp_error **err)
{
	int fd =
	    openat(w->dirfd, w->base, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, LOG_FILE_MODE);
	if (fd < 0)
		return pp_error_set(err, errno, "open log %s", w->base);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return pp_error_set(err, errno, "stat log %s", w->base);
	}
	w->fd = fd;
	w->size = st.st_size;
	return 0;
}

/* Renames the current file to "<base>.<YYYYmmdd-HHMMSS>[.N]". Names must sort
 * in rotation order (the reader and follower rely on it): the stamp is in
 * UTC, whatever the local time zone does; within one second, or when the
 * clock went back, the name follows the newest rotated file with the next N
 * (a name freed by pruning is never reused: it would sort first). */
static int rename_current(struct pp_log_writer *w, const struct crilog_rotated *newest,
			  struct pp_error **err)
{
	time_t t = (time_t)(pp_realtime_ns() / PP_NSEC_PER_SEC);
	struct tm tm;
	char stamp[32];
	unsigned long seq = 0;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (newest != NULL && strcmp(newest->stamp, stamp) >= 0) {
		memcpy(stamp, newest->stamp, sizeof(newest->stamp));
		seq = newest->seq + 1;
	}
	for (;; seq++) {
		cleanup_free char *name = seq == 0 ? xasprintf("%s.%s", w->base, stamp)
						   : xasprintf("%s.%s.%lu", w->base, stamp, seq);
		if (renameat2(w->dirfd, w->base, w->dirfd, name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL)
			return pp_error_set(err, errno, "rotate log %s to %s", w->base, name);
		/* A filesystem without RENAME_NOREPLACE: check, then rename. */
		if (faccessat(w->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (renameat(w->dirfd, w->base, w->dirfd, name) < 0)
			return pp_error_set(err, errno, "rotate log %s to %s", w->base, name);
		return 0;
	}
}

static int rotate(struct pp_log_writer *w, struct pp_error **err)
{
	struct crilog_rotated *r = NULL;
	size_t n = 0;
	if (crilog_list_rotated(w->dirfd, w->base, &r, &n, err) < 0)
		return -1;
	/* After the rename: max_files-1 rotated files and the new current one.
	 * The oldest go first, before the flush: on a disk our own logs
	 * filled, that is the room the flush needs. */
	size_t keep = (size_t)w->opts.max_files - 2;
	int ret = 0;
	for (size_t i = 0; i + keep < n && ret == 0; i++)
		if (unlinkat(w->dirfd, r[i].name, 0) < 0 && errno != ENOENT)
			ret = pp_error_set(err, errno, "remove rotated log %s", r[i].name);
	if (ret == 0)
		ret = pp_log_writer_flush(w, err);
	if (ret == 0)
		ret = rename_current(w, n > 0 ? &r[n - 1] : NULL, err);
	crilog_rotated_free(r, n);
	if (ret < 0)
		return -1;
	close(w->fd);
	w->fd = -1;
	w->torn = 0;
	return open_current(w, err);
}

int pp_log_writer_open(const char *path, const struct pp_log_opts *opts, struct pp_log_writer **out,
		       struct pp_error **err)
{
	cleanup_free char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (*base == '\0')
		return pp_error_set(err, EINVAL, "log path %s names no file", path);
	if (slash == dir)
		dir[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");

	struct pp_log_writer *w = xmalloc(sizeof(*w));
	w->fd = -1;
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	w->base = xstrdup(base);
	if (opts != NULL)
		w->opts = *opts;
	else
		pp_log_opts_default(&w->opts);
	/* kubelet refuses fewer than 2 (the current file and one rotated). */
	if (w->opts.max_files < MIN_MAX_FILES)
		w->opts.max_files = MIN_MAX_FILES;
	w->cap = WRITER_BUF_SIZE;
	w->buf = xmalloc(w->cap);
	if (w->dirfd < 0) {
		pp_error_set(err, errno, "open log directory %s", dir);
		pp_log_writer_close(w);
		return -1;
	}
	if (open_current(w, err) < 0) {
		pp_error_wrap(err, "%s", path);
		pp_log_writer_close(w);
		return -1;
	}
	*out = w;
	return 0;
}

static size_t put_header(struct pp_log_writer *w, char *p, enum pp_log_stream stream, bool partial)
{
	if (!w->have_stamp) {
		pp_log_format_time(pp_realtime_ns(), w->stamp);
		w->have_stamp = true;
	}
	memcpy(p, w->stamp, PP_LOG_TIME_LEN);
	memcpy(p + PP_LOG_TIME_LEN, stream == PP_LOG_STDERR ? " stderr " : " stdout ", 8);
	p[PP_LOG_TIME_LEN + 8] = partial ? 'P' : 'F';
	p[PP_LOG_TIME_LEN + 9] = ' ';
	return CRILOG_HEADER_LEN;
}

/* A record larger than the buffer goes out on its own. */
static int write_big(struct pp_log_writer *w, enum pp_log_stream stream, const char *line,
		     size_t len, bool partial, struct pp_error **err)
{
	char head[CRILOG_HEADER_LEN];
	put_header(w, head, stream, partial);
	int64_t before = w->size;
	if (write_all(w, head, sizeof(head), err) < 0 || write_all(w, line, len, err) < 0 ||
	    write_all(w, "\n", 1, err) < 0) {
		/* no record cut short in the file: what was written goes */
		if (ftruncate(w->fd, before) == 0)
			w->size = before;
		return -1;
	}
	w->failing = false;
	return 0;
}

int pp_log_writer_append(struct pp_log_writer *w, enum pp_log_stream stream, const char *line,
			 size_t len, bool partial, struct pp_error **err)
{
	size_t rec = CRILOG_HEADER_LEN + len + 1;
	/* Failing (a full disk): kept while the buffer has room, else
	 * dropped, until the next try. */
	bool waiting = w->failing && pp_monotonic_ns() < w->retry_at;
	if (waiting && rec > w->cap - w->len) {
		w->dropped++;
		return pp_error_set(err, w->errnum, "log %s: a record dropped", w->base);
	}
	int64_t pending = w->size + (int64_t)w->len;
	if (!waiting && w->opts.max_size > 0 && pending > 0 &&
	    pending + (int64_t)rec > w->opts.max_size && rotate(w, err) < 0) {
		w->dropped++;
		return -1;
	}
	if (rec > w->cap - w->len && pp_log_writer_flush(w, err) < 0) {
		w->dropped++;
		return -1;
	}
	if (rec > w->cap)
		return write_big(w, stream, line, len, partial, err);
	char *p = w->buf + w->len;
	p += put_header(w, p, stream, partial);
	memcpy(p, line, len);
	p[len] = '\n';
	w->len += rec;
	return 0;
}

void pp_log_writer_close(struct pp_log_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0 && w->len > 0) {
		struct pp_error *err = NULL;
		pp_log_writer_flush(w, &err);
		pp_error_free(&err);
		if (w->len > 0 && w->torn > 0 && ftruncate(w->fd, w->size - w->torn) == 0)
			w->size -= w->torn;
	}
	cleanup_closep(&w->fd);
	cleanup_closep(&w->dirfd);
	free(w->base);
	free(w->buf);
	free(w);
}

bool pp_log_writer_changed(struct pp_log_writer *w, bool *failing, int *errnum, uint64_t *dropped)
{
	if (w == NULL || w->failing == w->reported_failing)
		return false;
	w->reported_failing = w->failing;
	*failing = w->failing;
	*errnum = w->errnum;
	*dropped = w->dropped;
	if (!w->failing)
		w->dropped = 0;
	return true;
}

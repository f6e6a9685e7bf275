/* The files of one container instance: its rotated files found and sorted,
 * opened in order with the current file last, the start moved for a tail,
 * and complete lines read out of them. Shared by the reader and follower. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logs/crilog_internal.h"
#include "util/cleanup.h"
#include "util/dir.h"

#define MAX_SEQ_DIGITS 9

/* "<stamp>" or "<stamp>.<N>" after "<base>.": YYYYmmdd-HHMMSS. */
static bool parse_suffix(const char *s, struct crilog_rotated *r)
{
	for (int i = 0; i < CRILOG_STAMP_LEN; i++) {
		bool dash = i == 8;
		if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	}
	memcpy(r->stamp, s, CRILOG_STAMP_LEN);
	r->stamp[CRILOG_STAMP_LEN] = '\0';
	r->seq = 0;
	s += CRILOG_STAMP_LEN;
	if (*s == '\0')
		return true;
	if (*s++ != '.' || *s == '\0' || strlen(s) > MAX_SEQ_DIGITS)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	r->seq = strtoul(s, NULL, 10);
	return true;
}

static int cmp_rotated(const void *a, const void *b)
{
	const struct crilog_rotated *x = a, *y = b;
	int c = strcmp(x->stamp, y->stamp);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void crilog_rotated_free(struct crilog_rotated *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].name);
	free(r);
}

int crilog_list_rotated(int dirfd, const char *base, struct crilog_rotated **out, size_t *n,
			struct pp_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pp_error_set(err, errno, "open log directory");
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	if (pp_dir_open_fd(&d, fd, "log directory", err) < 0)
		return -1;
	size_t blen = strlen(base), cnt = 0, cap = 0;
	struct crilog_rotated *v = NULL;
	struct dirent *de;
	int more;
	while ((more = pp_dir_next(&d, &de, err)) > 0) {
		struct crilog_rotated r;
		if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] != '.' ||
		    !parse_suffix(de->d_name + blen + 1, &r))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		r.name = xstrdup(de->d_name);
		v[cnt++] = r;
	}
	if (more < 0) {
		crilog_rotated_free(v, cnt);
		return -1;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_rotated);
	*out = v;
	*n = cnt;
	return 0;
}

void crilog_srcs_push(struct crilog_srcs *s, int fd, const struct stat *st)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = (struct crilog_src){
	    .fd = fd, .pos = 0, .end = st->st_size, .dev = st->st_dev, .ino = st->st_ino};
}

void crilog_srcs_shift(struct crilog_srcs *s)
{
	if (s->n == 0)
		return;
	cleanup_closep(&s->v[0].fd);
	memmove(s->v, s->v + 1, (s->n - 1) * sizeof(*s->v));
	s->n--;
}

void crilog_srcs_clear(struct crilog_srcs *s)
{
	for (size_t i = 0; i < s->n; i++)
		cleanup_closep(&s->v[i].fd);
	free(s->v);
	*s = (struct crilog_srcs){0};
}

static int open_log(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, st) < 0)
		cleanup_closep(&fd);
	return fd;
}

/* The index of the rotated file with inode ino, or n. */
static size_t find_ino(int dirfd, const struct crilog_rotated *r, size_t n, ino_t ino)
{
	struct stat st;
	for (size_t i = 0; ino != 0 && i < n; i++)
		if (fstatat(dirfd, r[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == ino)
			return i;
	return n;
}

int crilog_open_chain(int dirfd, int restart, ino_t after_ino, struct crilog_srcs *s,
		      struct pp_error **err)
{
	char base[32];
	snprintf(base, sizeof(base), "%d.log", restart);
	/* The current file first: whatever rotates after this is newer than it
	 * and found later, so the list below cannot skip a file. */
	struct stat cur_st;
	int cur = open_log(dirfd, base, &cur_st);
	if (cur < 0) {
		if (errno == ENOENT)
			return 0;
		return pp_error_set(err, errno, "open log %s", base);
	}
	struct crilog_rotated *r = NULL;
	size_t n = 0;
	if (crilog_list_rotated(dirfd, base, &r, &n, err) < 0) {
		close(cur);
		return -1;
	}
	size_t first = find_ino(dirfd, r, n, after_ino);
	first = first == n ? 0 : first + 1;
	/* When the current file was itself rotated meanwhile, it ends the list. */
	size_t last = find_ino(dirfd, r, n, cur_st.st_ino);
	for (size_t i = first; i < last; i++) {
		struct stat st;
		int fd = open_log(dirfd, r[i].name, &st);
		if (fd < 0 && errno == ENOENT)
			continue; /* removed by rotation meanwhile: it was the oldest */
		if (fd < 0) {
			pp_error_set(err, errno, "open log %s", r[i].name);
			crilog_rotated_free(r, n);
			close(cur);
			return -1;
		}
		crilog_srcs_push(s, fd, &st);
	}
	crilog_rotated_free(r, n);
	crilog_srcs_push(s, cur, &cur_st);
	return 1;
}

/* Scans one file backwards from its last complete line; returns 1 and sets
 * pos when the tail starts in it (*left records counted down to 0), 0 when
 * it holds fewer records than *left. tail 0 (*left == 0 on entry) starts
 * after the last complete line. */
static int tail_in_file(struct crilog_src *src, int64_t *left, int64_t since_ns,
			struct pp_error **err)
{
	size_t size = (size_t)(src->end - src->pos);
	if (size == 0)
		return *left == 0;
	char *map = mmap(NULL, (size_t)src->end, PROT_READ, MAP_PRIVATE, src->fd, 0);
	if (map == MAP_FAILED)
		return pp_error_set(err, errno, "map log file");
	const char *begin = map + src->pos;
	const char *line_end = memrchr(begin, '\n', size); /* the newline ending the line */
	int found = 0;
	if (*left == 0) {
		src->pos += line_end ? line_end + 1 - begin : 0;
		found = 1;
	}
	while (!found && line_end != NULL) {
		const char *prev = memrchr(begin, '\n', (size_t)(line_end - begin));
		const char *start = prev ? prev + 1 : begin;
		struct pp_log_record rec;
		if (crilog_parse_line(start, (size_t)(line_end - start), &rec) == 0 &&
		    rec.time_ns >= since_ns && --*left == 0) {
			src->pos = start - map;
			found = 1;
		}
		line_end = prev;
	}
	munmap(map, (size_t)src->end);
	return found;
}

int crilog_seek_tail(struct crilog_srcs *s, int64_t tail, int64_t since_ns, struct pp_error **err)
{
	if (tail < 0)
		return 0;
	int64_t left = tail;
	for (size_t i = s->n; i-- > 0;) {
		int r = tail_in_file(&s->v[i], &left, since_ns, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			while (i-- > 0)
				crilog_srcs_shift(s);
			return 0;
		}
	}
	return 0;
}

void crilog_linebuf_reset(struct crilog_linebuf *lb)
{
	lb->off = lb->len = lb->scan = 0;
}

void crilog_linebuf_free(struct crilog_linebuf *lb)
{
	free(lb->buf);
	*lb = (struct crilog_linebuf){0};
}

/* Delivers the complete lines in lb; 1 when fn stopped. */
static int deliver_buffered(struct crilog_linebuf *lb, crilog_line_fn fn, void *ctx)
{
	for (;;) {
		if (lb->scan < lb->off)
			lb->scan = lb->off;
		char *nl = memchr(lb->buf + lb->scan, '\n', lb->len - lb->scan);
		if (nl == NULL) {
			lb->scan = lb->len;
			return 0;
		}
		size_t start = lb->off;
		lb->off = lb->scan = (size_t)(nl - lb->buf) + 1;
		if (fn(ctx, lb->buf + start, (size_t)(nl - lb->buf) - start) != 0)
			return 1;
	}
}

int crilog_read_lines(struct crilog_src *src, int64_t end, struct crilog_linebuf *lb,
		      crilog_line_fn fn, void *ctx, struct pp_error **err)
{
	if (lb->buf == NULL) {
		lb->cap = CRILOG_READ_CHUNK;
		lb->buf = xmalloc(lb->cap);
	}
	for (;;) {
		if (deliver_buffered(lb, fn, ctx))
			return 1;
		if (src->pos >= end)
			return 0;
		/* Keep the partial line at the start, growing for long lines. */
		memmove(lb->buf, lb->buf + lb->off, lb->len - lb->off);
		lb->len -= lb->off;
		lb->scan -= lb->off;
		lb->off = 0;
		if (lb->len == lb->cap) {
			lb->cap *= 2;
			lb->buf = xrealloc(lb->buf, lb->cap);
		}
		size_t want = lb->cap - lb->len;
		if ((int64_t)want > end - src->pos)
			want = (size_t)(end - src->pos);
		ssize_t n = pread(src->fd, lb->buf + lb->len, want, src->pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pp_error_set(err, errno, "read log file");
		if (n == 0)
			return 0; /* shorter than it was: nothing more to read */
		lb->len += (size_t)n;
		src->pos += n;
	}
}

int crilog_deliver_line(void *ctx, const char *line, size_t len)
{
	struct crilog_deliver *d = ctx;
	struct pp_log_record rec;
	if (crilog_parse_line(line, len, &rec) < 0 || rec.time_ns < d->since_ns)
		return 0; /* malformed lines are skipped */
	return d->fn(d->ctx, d->container, &rec);
}

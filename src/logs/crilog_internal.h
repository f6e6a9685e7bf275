/* Shared between the writer, the reader and the follower of CRI logs. */
#ifndef PEAPOD_CRILOG_INTERNAL_H
#define PEAPOD_CRILOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "logs/crilog.h"

/* "<timestamp> <stdout|stderr> <P|F> ": the part of a record before the text. */
#define CRILOG_HEADER_LEN (PP_LOG_TIME_LEN + 1 + 6 + 1 + 1 + 1)
/* A line whose header does not end within this many bytes is malformed. */
#define CRILOG_MAX_HEADER 128
/* "YYYYmmdd-HHMMSS", the suffix of a rotated file. */
#define CRILOG_STAMP_LEN 15
/* Initial size of a reader's line buffer (it grows for longer lines). */
#define CRILOG_READ_CHUNK (256 * 1024)

/* Parses one line (without its newline). Returns -1 when malformed. */
int crilog_parse_line(const char *line, size_t len, struct pp_log_record *rec);

/* ---- rotated files ---- */

struct crilog_rotated {
	char *name;
	char stamp[CRILOG_STAMP_LEN + 1];
	unsigned long seq; /* the ".N" suffix, 0 when absent */
};

/* Lists the rotated files of base ("<base>.<stamp>[.N]") in dirfd, oldest
 * first. */
int crilog_list_rotated(int dirfd, const char *base, struct crilog_rotated **out, size_t *n,
			struct pp_error **err);
void crilog_rotated_free(struct crilog_rotated *r, size_t n);

/* ---- sources: the files of one container instance, read in order ---- */

struct crilog_src {
	int fd;
	int64_t pos; /* next byte to read */
	int64_t end; /* snapshot of the size: read up to here */
	dev_t dev;
	ino_t ino;
};

struct crilog_srcs {
	struct crilog_src *v;
	size_t n, cap;
};

void crilog_srcs_push(struct crilog_srcs *s, int fd, const struct stat *st);
/* Closes and removes the first one. */
void crilog_srcs_shift(struct crilog_srcs *s);
void crilog_srcs_clear(struct crilog_srcs *s);

/* Opens <restart>.log in dirfd and then its rotated files; appends to s the
 * rotated files newer than the one with inode after_ino (all when 0 or not
 * found) and older than the current file, then the current file (last).
 * Returns 1 when done, 0 when <restart>.log does not exist. */
int crilog_open_chain(int dirfd, int restart, ino_t after_ino, struct crilog_srcs *s,
		      struct pp_error **err);

/* Moves the start of s so that only the last tail records at or after since
 * remain (tail < 0: all); sources left with nothing before them are closed. */
int crilog_seek_tail(struct crilog_srcs *s, int64_t tail, int64_t since_ns, struct pp_error **err);

/* ---- reading lines ---- */

struct crilog_linebuf {
	char *buf;
	size_t off;  /* first byte not yet delivered */
	size_t len;  /* bytes in buf */
	size_t scan; /* no newline in buf[off, scan) */
	size_t cap;
};

void crilog_linebuf_reset(struct crilog_linebuf *lb);
void crilog_linebuf_free(struct crilog_linebuf *lb);

/* Called for each complete line (without its newline); non-zero stops. */
typedef int (*crilog_line_fn)(void *ctx, const char *line, size_t len);

/* Reads src from its pos up to end, calling fn for each complete line; a
 * partial last line stays in lb. Returns 1 when fn stopped it (the rest
 * stays in lb for the next call), 0 at end, -1 on error. */
int crilog_read_lines(struct crilog_src *src, int64_t end, struct crilog_linebuf *lb,
		      crilog_line_fn fn, void *ctx, struct pp_error **err);

/* Passes a parsed record through the since filter to the caller's fn. */
struct crilog_deliver {
	const char *container;
	int64_t since_ns;
	pp_log_record_fn fn;
	void *ctx;
};
int crilog_deliver_line(void *ctx, const char *line, size_t len);

#endif

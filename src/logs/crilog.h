/* src/logs: owns the CRI log files: writing with rotation (for the
 * supervisor), reading and following (for the CLI). Must not know the
 * supervisor or the pods' records (it takes paths), print or exit.
 *
 * Container logs in the CRI format, at the kubelet's layout.
 *
 * One file per container per restart: <pod log dir>/<container>/<restart>.log,
 * each record "<RFC3339Nano UTC, 9 digits> <stdout|stderr> <P|F> <text>\n".
 * F ends a line; P is part of a line that was split (too long, or the stream
 * ended without a newline). Rotation by size as kubelet does it
 * (containerLogMaxSize 10Mi, containerLogMaxFiles 5): the current file is
 * renamed to "<restart>.log.<YYYYmmdd-HHMMSS>" (stamp in UTC; a ".N" suffix,
 * N from 1, when rotating again within the newest rotated file's second, so
 * that the names always sort in rotation order) and the oldest rotated files
 * beyond max_files-1 are removed. The writer is used by the supervisor; the reader and follower by
 * the CLI (logs, logs -f, run). */
#ifndef PEAPOD_CRILOG_H
#define PEAPOD_CRILOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/settings.h"

enum pp_log_stream { PP_LOG_STDOUT = 0, PP_LOG_STDERR };

#define PP_LOG_DEFAULT_MAX_SIZE PP_SETTING_LOG_MAX_SIZE_DEFAULT
#define PP_LOG_DEFAULT_MAX_FILES PP_SETTING_LOG_MAX_FILES_DEFAULT

struct pp_log_opts {
	int64_t max_size; /* bytes before rotation; <= 0: no rotation */
	int max_files;	  /* current + rotated files kept, >= 2 */
};

/* The defaults, overridden by $PEAPOD_LOG_MAX_SIZE (a quantity: "10Mi",
 * "1Gi", bytes; "0" turns rotation off) and $PEAPOD_LOG_MAX_FILES (>= 2). An
 * invalid value leaves that default. */
void pp_log_opts_default(struct pp_log_opts *o);

/* ---- writer (supervisor) ---- */

struct pp_log_writer;

/* Creates or appends to path (parent directory must exist; mode 0640).
 * opts NULL: pp_log_opts_default(); max_files below 2 counts as 2. */
int pp_log_writer_open(const char *path, const struct pp_log_opts *opts, struct pp_log_writer **out,
		       struct pp_error **err);

/* Buffers one record (line without its newline; partial = P). The
 * timestamp is taken by the writer, once per flush: the records of one read
 * chunk share it. Rotates when the file would exceed max_size (a record
 * larger than max_size gets a file of its own). Writes when its buffer
 * (256 KiB) fills. On a write error what was not written stays buffered. */
int pp_log_writer_append(struct pp_log_writer *w, enum pp_log_stream stream, const char *line,
			 size_t len, bool partial, struct pp_error **err);

/* Writes what is buffered. Called after each chunk read from a container. */
int pp_log_writer_flush(struct pp_log_writer *w, struct pp_error **err);

/* Flushes and closes; NULL is fine. A record that could not be written
 * whole (a full disk) is cut off the file: every line of a log file is a
 * whole record. */
void pp_log_writer_close(struct pp_log_writer *w);

/* A full disk (or any write error): the writer keeps what it buffered
 * (256 KiB) and drops what comes after, trying again each second; the
 * container never waits for its log. When that starts (failing true, errnum
 * the write's errno) and when it ends (failing false, dropped: the records
 * lost meanwhile), the next call returns true, once per change. */
bool pp_log_writer_changed(struct pp_log_writer *w, bool *failing, int *errnum, uint64_t *dropped);

/* ---- reader (CLI) ---- */

struct pp_log_record {
	int64_t time_ns;       /* since the epoch, UTC */
	const char *time_text; /* the timestamp as written (not NUL-terminated: time_len) */
	size_t time_len;
	enum pp_log_stream stream;
	bool partial;
	const char *text; /* not NUL-terminated */
	size_t len;
};

/* Returns 0 to go on, non-zero to stop reading. rec and the text it points
 * to are only valid during the call. */
typedef int (*pp_log_record_fn)(void *ctx, const char *container, const struct pp_log_record *rec);

struct pp_log_read_opts {
	int64_t tail;	  /* only the last N records (of those since since_ns); < 0: all */
	int64_t since_ns; /* only records at or after this time; 0: all */
};

/* Reads one container instance's log: the rotated files of <dir>/<restart>.log
 * oldest first, then the current file, each as it was when opened (a partial
 * last line is not a record yet). Malformed lines are skipped. A missing
 * <restart>.log is an error (ENOENT). fn stopping the reading is not. */
int pp_log_read(const char *dir, int restart, const char *container,
		const struct pp_log_read_opts *opts, pp_log_record_fn fn, void *ctx,
		struct pp_error **err);

/* ---- follower (CLI: logs -f, run) ---- */

struct pp_log_follow;

int pp_log_follow_new(struct pp_log_follow **out, struct pp_error **err);

/* Follows the container whose logs are in dir, from its file <restart>.log
 * (honouring opts for what is already there, its rotated files included),
 * and then each later <restart+1>.log ... as restarts create them; rotation
 * is followed (the old file is read to its end before the new one). dir need
 * not exist yet (nor its parents). When <restart>.log is gone but a later
 * one exists, following starts at the first later one. Assumes, as the
 * supervisor does, that the writer of restart N is closed before N+1.log is
 * created. The fd is readable after an add: what is there already is read
 * on the next pp_log_follow_read. */
int pp_log_follow_add(struct pp_log_follow *f, const char *dir, int restart, const char *container,
		      const struct pp_log_read_opts *opts, struct pp_error **err);

/* An fd that becomes readable (poll/epoll) when there may be new records. */
int pp_log_follow_fd(const struct pp_log_follow *f);

/* Reads every complete new record of every followed container, calling fn.
 * Never blocks. A record is only passed on once its newline is written.
 * When fn stops it, returns 0 and the fd stays readable: the rest comes on
 * the next call. Each file is read up to its size when looked at: a call
 * does not chase a writer that keeps writing (the fd says there is more). */
int pp_log_follow_read(struct pp_log_follow *f, pp_log_record_fn fn, void *ctx,
		       struct pp_error **err);

void pp_log_follow_free(struct pp_log_follow *f);

/* Formats a CLOCK_REALTIME time as the log's timestamp ("...T...Z", 30
 * bytes + NUL); parses one back. Exposed for tests and `logs --since-time`. */
#define PP_LOG_TIME_LEN 30
void pp_log_format_time(int64_t time_ns, char out[PP_LOG_TIME_LEN + 1]);
int pp_log_parse_time(const char *text, size_t len, int64_t *time_ns);

#endif

/* The reader: one container instance's log as it is now, rotated files
 * oldest first, then the current file. */
#include <fcntl.h>
#include <unistd.h>

#include "logs/crilog_internal.h"
#include "util/cleanup.h"

int pp_log_read(const char *dir, int restart, const char *container,
		const struct pp_log_read_opts *opts, pp_log_record_fn fn, void *ctx,
		struct pp_error **err)
{
	struct pp_log_read_opts all = {.tail = -1, .since_ns = 0};
	if (opts == NULL)
		opts = &all;
	cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pp_error_set(err, errno, "open log directory %s", dir);
	struct crilog_srcs srcs = {0};
	struct crilog_linebuf lb = {0};
	struct crilog_deliver d = {
	    .container = container, .since_ns = opts->since_ns, .fn = fn, .ctx = ctx};
	int ret = crilog_open_chain(dirfd, restart, 0, &srcs, err);
	if (ret == 0)
		ret = pp_error_set(err, ENOENT, "%s/%d.log: no such log", dir, restart);
	if (ret > 0)
		ret = crilog_seek_tail(&srcs, opts->tail, opts->since_ns, err);
	/* Each file up to its size when opened: a snapshot of the log. */
	for (size_t i = 0; ret >= 0 && i < srcs.n; i++) {
		crilog_linebuf_reset(&lb); /* a partial line does not continue in the next file */
		ret =
		    crilog_read_lines(&srcs.v[i], srcs.v[i].end, &lb, crilog_deliver_line, &d, err);
		if (ret > 0)
			break; /* fn asked to stop */
	}
	crilog_linebuf_free(&lb);
	crilog_srcs_clear(&srcs);
	return ret < 0 ? -1 : 0;
}

/* libFuzzer entry for the CRI log reader: whatever a log file holds (it is
 * written by containers' output through the supervisor, but a file on disk
 * may be anything), reading it, with or without --tail, must never crash,
 * hang or leak; each line either parses into a record or is skipped. */
#include <limits.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logs/crilog.h"
#include "logs/crilog_internal.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX];

static int count(void *ctx, const char *container, const struct pp_log_record *rec)
{
	size_t *n = ctx;
	/* Touch every byte the record points at. */
	volatile char sink = 0;
	for (size_t i = 0; i < rec->len; i++)
		sink = (char)(sink ^ rec->text[i]);
	for (size_t i = 0; i < rec->time_len; i++)
		sink = (char)(sink ^ rec->time_text[i]);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/peapod-fuzz-crilog.%d", fuzz_tmpdir(),
			 (int)getpid());
		mkdir(dir, 0700);
	}
	/* Every line through the record parser and the time parser. */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct pp_log_record rec;
		(void)crilog_parse_line(p, len, &rec);
		int64_t t;
		(void)pp_log_parse_time(p, len < 40 ? len : 40, &t);
		p += len + 1;
	}
	/* The same bytes as a container's log file, read whole and with a tail. */
	char path[96];
	snprintf(path, sizeof(path), "%s/0.log", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	struct pp_error *err = NULL;
	size_t n = 0;
	struct pp_log_read_opts all = {.tail = -1};
	(void)pp_log_read(dir, 0, "c", &all, count, &n, &err);
	pp_error_free(&err);
	struct pp_log_read_opts tail = {.tail = size ? data[0] % 8 : 1, .since_ns = 0};
	(void)pp_log_read(dir, 0, "c", &tail, count, &n, &err);
	pp_error_free(&err);
	return 0;
}

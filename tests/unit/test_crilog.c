/* CRI logs: the record format, rotation, the reader (tail, since, rotated
 * files) and the follower (appends, partial lines, rotation, restarts, a
 * directory created later), on real files under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logs/crilog.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/settings.h"

#define POLL_MS 2000

/* ---- helpers ---- */

static char *make_tmpdir(void)
{
	char *dir = xstrdup("/tmp/peapod-crilog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_tmpdir(char *dir)
{
	struct pp_error *err = NULL;
	assert_int_equal(pp_rm_rf(dir, &err), 0);
	free(dir);
}

static void check(int ret, struct pp_error *err)
{
	if (ret < 0) {
		char buf[512];
		fail_msg("%s", pp_error_text(err, buf, sizeof(buf)));
	}
}

static struct pp_log_writer *open_writer(const char *dir, int restart, int64_t max_size,
					 int max_files)
{
	struct pp_log_opts o = {.max_size = max_size, .max_files = max_files};
	struct pp_log_writer *w = NULL;
	struct pp_error *err = NULL;
	char *path = xasprintf("%s/%d.log", dir, restart);
	check(pp_log_writer_open(path, &o, &w, &err), err);
	free(path);
	return w;
}

static void append(struct pp_log_writer *w, enum pp_log_stream s, const char *text, bool partial)
{
	struct pp_error *err = NULL;
	check(pp_log_writer_append(w, s, text, strlen(text), partial, &err), err);
}

static void append_seq(struct pp_log_writer *w, int from, int to)
{
	char line[64];
	for (int i = from; i < to; i++) {
		snprintf(line, sizeof(line), "record %08d", i);
		append(w, PP_LOG_STDOUT, line, false);
	}
}

static void flush(struct pp_log_writer *w)
{
	struct pp_error *err = NULL;
	check(pp_log_writer_flush(w, &err), err);
}

/* Records received, as "container:stream:P|F:text". */
struct got {
	char **v;
	size_t n, cap;
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, const char *container, const struct pp_log_record *rec)
{
	struct got *g = ctx;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n++] = xasprintf("%s:%s:%c:%.*s", container,
				 rec->stream == PP_LOG_STDERR ? "stderr" : "stdout",
				 rec->partial ? 'P' : 'F', (int)rec->len, rec->text);
	return g->stop_after != 0 && g->n % g->stop_after == 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	*g = (struct got){0};
}

/* Checks that got holds "c:stdout:F:record N" for N in [from, to), in order. */
static void expect_seq(const struct got *g, size_t at, const char *container, int from, int to)
{
	char want[128];
	if (g->n < at + (size_t)(to - from))
		fail_msg("%zu records, want at least %zu", g->n, at + (size_t)(to - from));
	for (int i = from; i < to; i++) {
		snprintf(want, sizeof(want), "%s:stdout:F:record %08d", container, i);
		if (strcmp(g->v[at + (size_t)(i - from)], want) != 0)
			fail_msg("record %zu is \"%s\", want \"%s\"", at + (size_t)(i - from),
				 g->v[at + (size_t)(i - from)], want);
	}
}

static void read_all(const char *dir, int restart, int64_t tail, int64_t since, struct got *g)
{
	struct pp_log_read_opts o = {.tail = tail, .since_ns = since};
	struct pp_error *err = NULL;
	check(pp_log_read(dir, restart, "c", &o, collect, g, &err), err);
}

static size_t count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void write_file(const char *dir, const char *name, const char *data, int flags)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	free(path);
}

/* ---- timestamps ---- */

static void expect_time(const char *text, int64_t want)
{
	int64_t t = 0;
	if (pp_log_parse_time(text, strlen(text), &t) != 0 || t != want)
		fail_msg("%s: %lld, want %lld", text, (long long)t, (long long)want);
}

static void test_time(void **state)
{
	(void)state;
	char buf[PP_LOG_TIME_LEN + 1];
	pp_log_format_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	/* 2026-11-26T15:04:05Z */
	int64_t base = 1795705445LL * 1000000000LL;
	pp_log_format_time(base + 123456789, buf);
	assert_string_equal(buf, "2026-11-26T15:04:05.123456789Z");
	assert_int_equal(strlen(buf), PP_LOG_TIME_LEN);
	expect_time("2026-11-26T15:04:05.123456789Z", base + 123456789);
	expect_time("2026-11-26T15:04:05Z", base);
	expect_time("2026-11-26T15:04:05.5Z", base + 500000000);
	expect_time("2026-11-26T16:04:05.123+01:00", base + 123000000);
	expect_time("2026-11-26T10:34:05-04:30", base);
	expect_time("2024-02-29T00:00:00Z", 1709164800LL * 1000000000LL);
	expect_time("1969-12-31T23:59:59.999999999Z", -1);
	for (int64_t t = -5000000000123LL; t < 3000000000000000000LL;
	     t = (t < 0 ? -t : t * 3) + 987654321) {
		int64_t back = 0;
		pp_log_format_time(t, buf);
		assert_int_equal(pp_log_parse_time(buf, PP_LOG_TIME_LEN, &back), 0);
		assert_true(back == t);
	}
	static const char *const junk[] = {
	    "",
	    "junk",
	    "2026-11-26T15:04:05",
	    "2026-11-26 15:04:05Z",
	    "2026-13-26T15:04:05Z",
	    "2026-02-29T15:04:05Z",
	    "2026-11-26T24:04:05Z",
	    "2026-11-26T15:60:05Z",
	    "2026-11-26T15:04:60Z",
	    "2026-11-26T15:04:05.Z",
	    "2026-11-26T15:04:05.1Zx",
	    "2026-11-26T15:04:05+0100",
	    "2026-11-26T15:04:05+01",
	    "20261126T150405Z",
	    "9999-12-31T23:59:59Z", /* beyond int64 nanoseconds */
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int64_t t;
		if (pp_log_parse_time(junk[i], strlen(junk[i]), &t) == 0)
			fail_msg("\"%s\" parsed", junk[i]);
	}
}

/* ---- writer ---- */

static void test_format(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t before = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	struct pp_log_writer *w = open_writer(dir, 0, 0, 5);
	append(w, PP_LOG_STDOUT, "hello world", false);
	append(w, PP_LOG_STDERR, "a long line, first part", true);
	append(w, PP_LOG_STDERR, "", false);
	append(w, PP_LOG_STDOUT, "", false);
	pp_log_writer_close(w);
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t after = ts.tv_sec * 1000000000LL + ts.tv_nsec;

	char *path = xasprintf("%s/0.log", dir), *data = NULL;
	size_t len = 0;
	struct pp_error *err = NULL;
	check(pp_read_file(path, 1 << 20, &data, &len, &err), err);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	static const char *const want[] = {" stdout F hello world",
					   " stderr P a long line, first part", " stderr F ",
					   " stdout F "};
	const char *p = data;
	for (size_t i = 0; i < 4; i++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_int_equal(nl - p, PP_LOG_TIME_LEN + strlen(want[i]));
		assert_memory_equal(p + PP_LOG_TIME_LEN, want[i], strlen(want[i]));
		assert_int_equal(p[PP_LOG_TIME_LEN - 1], 'Z');
		assert_int_equal(p[19], '.');
		int64_t t;
		assert_int_equal(pp_log_parse_time(p, PP_LOG_TIME_LEN, &t), 0);
		assert_true(t >= before && t <= after);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');

	struct got g = {0};
	read_all(dir, 0, -1, 0, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.v[0], "c:stdout:F:hello world");
	assert_string_equal(g.v[1], "c:stderr:P:a long line, first part");
	assert_string_equal(g.v[2], "c:stderr:F:");
	assert_string_equal(g.v[3], "c:stdout:F:");
	got_free(&g);

	/* Reopening appends. */
	w = open_writer(dir, 0, 0, 5);
	append(w, PP_LOG_STDOUT, "again", false);
	pp_log_writer_close(w);
	read_all(dir, 0, -1, 0, &g);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.v[4], "c:stdout:F:again");
	got_free(&g);
	free(data);
	free(path);
	remove_tmpdir(dir);
}

static void test_opts_default(void **state)
{
	(void)state;
	struct pp_log_opts o;
	unsetenv("PEAPOD_LOG_MAX_SIZE");
	unsetenv("PEAPOD_LOG_MAX_FILES");
	assert_int_equal(pp_settings_load(NULL), 0);
	pp_log_opts_default(&o);
	assert_int_equal(o.max_size, 10 * 1024 * 1024);
	assert_int_equal(o.max_files, 5);
	setenv("PEAPOD_LOG_MAX_SIZE", "1Mi", 1);
	setenv("PEAPOD_LOG_MAX_FILES", "3", 1);
	assert_int_equal(pp_settings_load(NULL), 0);
	pp_log_opts_default(&o);
	assert_int_equal(o.max_size, 1024 * 1024);
	assert_int_equal(o.max_files, 3);
	setenv("PEAPOD_LOG_MAX_SIZE", "lots", 1);
	setenv("PEAPOD_LOG_MAX_FILES", "1", 1);
	/* malformed: an error naming the variable; the default stays */
	assert_int_equal(pp_settings_load(NULL), -1);
	pp_log_opts_default(&o);
	assert_int_equal(o.max_size, PP_LOG_DEFAULT_MAX_SIZE);
	assert_int_equal(o.max_files, PP_LOG_DEFAULT_MAX_FILES);
	setenv("PEAPOD_LOG_MAX_SIZE", "-1Ki", 1);
	setenv("PEAPOD_LOG_MAX_FILES", "4x", 1);
	assert_int_equal(pp_settings_load(NULL), -1);
	pp_log_opts_default(&o);
	assert_int_equal(o.max_size, PP_LOG_DEFAULT_MAX_SIZE);
	assert_int_equal(o.max_files, PP_LOG_DEFAULT_MAX_FILES);
	unsetenv("PEAPOD_LOG_MAX_SIZE");
	unsetenv("PEAPOD_LOG_MAX_FILES");
	pp_settings_load(NULL);
}

/* Each record "<30> stdout F record NNNNNNNN\n" is 56 bytes. */
#define REC_SIZE 56

static bool rotated_name_ok(const char *name)
{
	/* 0.log.YYYYmmdd-HHMMSS or 0.log.YYYYmmdd-HHMMSS.N */
	if (strncmp(name, "0.log.", 6) != 0 || strlen(name) < 21 || name[14] != '-')
		return false;
	for (int i = 6; i < 21; i++)
		if (i != 14 && (name[i] < '0' || name[i] > '9'))
			return false;
	if (name[21] == '\0')
		return true;
	if (name[21] != '.' || name[22] == '\0')
		return false;
	for (const char *p = name + 22; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void test_rotation(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	/* 10 records per file, at most 4 files. */
	struct pp_log_writer *w = open_writer(dir, 0, 10 * REC_SIZE, 4);
	append_seq(w, 0, 200);
	pp_log_writer_close(w);
	assert_int_equal(count_files(dir, "0.log"), 4);
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 10 * REC_SIZE);
		if (strcmp(de->d_name, "0.log") != 0 && !rotated_name_ok(de->d_name))
			fail_msg("rotated file named %s", de->d_name);
		free(path);
	}
	closedir(d);
	/* The last 4 files: records 160..199, in order. */
	struct got g = {0};
	read_all(dir, 0, -1, 0, &g);
	assert_int_equal(g.n, 40);
	expect_seq(&g, 0, "c", 160, 200);
	got_free(&g);
	remove_tmpdir(dir);

	/* Enough files: nothing lost, across flushes and reopenings. */
	dir = make_tmpdir();
	w = open_writer(dir, 0, 7 * REC_SIZE + 3, 1000);
	append_seq(w, 0, 500);
	flush(w);
	append_seq(w, 500, 1000);
	pp_log_writer_close(w);
	w = open_writer(dir, 0, 7 * REC_SIZE + 3, 1000);
	append_seq(w, 1000, 1500);
	pp_log_writer_close(w);
	assert_int_equal(count_files(dir, "0.log"), (1500 + 6) / 7);
	read_all(dir, 0, -1, 0, &g);
	assert_int_equal(g.n, 1500);
	expect_seq(&g, 0, "c", 0, 1500);
	got_free(&g);

	/* A record bigger than max_size gets a file of its own. */
	w = open_writer(dir, 1, 100, 3);
	append(w, PP_LOG_STDOUT, "short", false);
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	append(w, PP_LOG_STDOUT, big, false);
	append(w, PP_LOG_STDOUT, "after", false);
	pp_log_writer_close(w);
	assert_int_equal(count_files(dir, "1.log"), 3);
	read_all(dir, 1, -1, 0, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.v[2], "c:stdout:F:after");
	got_free(&g);
	remove_tmpdir(dir);
}

/* ---- reader ---- */

static void test_read_tail_since(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct pp_log_writer *w = open_writer(dir, 0, 10 * REC_SIZE, 1000);
	append_seq(w, 0, 95);
	pp_log_writer_close(w);
	struct got g = {0};
	read_all(dir, 0, 25, 0, &g); /* across three files */
	assert_int_equal(g.n, 25);
	expect_seq(&g, 0, "c", 70, 95);
	got_free(&g);
	read_all(dir, 0, 1, 0, &g);
	assert_int_equal(g.n, 1);
	expect_seq(&g, 0, "c", 94, 95);
	got_free(&g);
	read_all(dir, 0, 0, 0, &g);
	assert_int_equal(g.n, 0);
	read_all(dir, 0, 1000, 0, &g);
	assert_int_equal(g.n, 95);
	expect_seq(&g, 0, "c", 0, 95);
	got_free(&g);
	/* fn stops the reading */
	g.stop_after = 7;
	read_all(dir, 0, -1, 0, &g);
	assert_int_equal(g.n, 7);
	got_free(&g);
	remove_tmpdir(dir);

	/* Known times, rotated files sorted by suffix (".10" after ".2"), a
	 * malformed line, a partial last line not yet a record. */
	dir = make_tmpdir();
	write_file(dir, "0.log.20260101-000000",
		   "2026-01-01T00:00:01.000000000Z stdout F one\n"
		   "garbage\n"
		   "2026-01-01T00:00:02.000000000Z stdout F two\n",
		   O_EXCL);
	write_file(dir, "0.log.20260101-000000.2",
		   "2026-01-01T00:00:03.000000000Z stderr F three\n", O_EXCL);
	write_file(dir, "0.log.20260101-000000.10",
		   "2026-01-01T00:00:04.000000000Z stdout P four\n"
		   "2026-01-01T00:00:04.5Z stdout F five\n",
		   O_EXCL);
	write_file(dir, "0.log.other", "2026-01-01T00:00:00.000000000Z stdout F not a log\n",
		   O_EXCL);
	write_file(dir, "0.log",
		   "2026-01-01T00:00:06.000000000Z stdout F six\n"
		   "2026-01-01T00:00:07.000000000Z bogus F seven\n"
		   "2026-01-01T00:00:08.000000000Z stdout F eight\n"
		   "2026-01-01T00:00:09.000000000Z stdout F nine",
		   O_EXCL);
	int64_t t3;
	assert_int_equal(pp_log_parse_time("2026-01-01T00:00:03Z", 20, &t3), 0);
	read_all(dir, 0, -1, 0, &g);
	static const char *const all[] = {"c:stdout:F:one",  "c:stdout:F:two",	"c:stderr:F:three",
					  "c:stdout:P:four", "c:stdout:F:five", "c:stdout:F:six",
					  "c:stdout:F:eight"};
	assert_int_equal(g.n, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(g.v[i], all[i]);
	got_free(&g);
	read_all(dir, 0, -1, t3, &g);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.v[0], "c:stderr:F:three");
	got_free(&g);
	read_all(dir, 0, 4, 0, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.v[0], "c:stdout:P:four");
	got_free(&g);
	read_all(dir, 0, 10, t3 + 1, &g); /* tail counts only records since */
	assert_int_equal(g.n, 4);
	assert_string_equal(g.v[0], "c:stdout:P:four");
	got_free(&g);

	struct pp_error *err = NULL;
	assert_int_equal(pp_log_read(dir, 3, "c", NULL, collect, &g, &err), -1);
	assert_int_equal(err->status, ENOENT);
	pp_error_free(&err);
	remove_tmpdir(dir);
}

/* ---- follower ---- */

static struct pp_log_follow *new_follow(void)
{
	struct pp_log_follow *f = NULL;
	struct pp_error *err = NULL;
	check(pp_log_follow_new(&f, &err), err);
	return f;
}

static void follow_add(struct pp_log_follow *f, const char *dir, int restart, const char *name,
		       int64_t tail)
{
	struct pp_log_read_opts o = {.tail = tail, .since_ns = 0};
	struct pp_error *err = NULL;
	check(pp_log_follow_add(f, dir, restart, name, &o, &err), err);
}

static bool readable(struct pp_log_follow *f, int ms)
{
	struct pollfd p = {.fd = pp_log_follow_fd(f), .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

/* Waits for the fd and reads, until got holds want records. */
static void follow_until(struct pp_log_follow *f, struct got *g, size_t want)
{
	struct pp_error *err = NULL;
	while (g->n < want) {
		if (!readable(f, POLL_MS))
			fail_msg("no event: %zu records, want %zu", g->n, want);
		check(pp_log_follow_read(f, collect, g, &err), err);
	}
	assert_int_equal(g->n, want);
}

static void test_follow_append(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct pp_log_writer *w = open_writer(dir, 0, 0, 5);
	append_seq(w, 0, 10);
	flush(w);
	struct pp_log_follow *f = new_follow();
	follow_add(f, dir, 0, "c", 3);
	struct got g = {0};
	follow_until(f, &g, 3); /* what exists, after the tail */
	expect_seq(&g, 0, "c", 7, 10);
	append_seq(w, 10, 20);
	flush(w);
	follow_until(f, &g, 13);
	expect_seq(&g, 3, "c", 10, 20);
	/* Nothing new: not readable, and reading gives nothing (never blocks). */
	struct pp_error *err = NULL;
	check(pp_log_follow_read(f, collect, &g, &err), err);
	assert_false(readable(f, 0));
	assert_int_equal(g.n, 13);

	/* fn stopping: the rest comes on the next reads. */
	append_seq(w, 20, 40);
	flush(w);
	g.stop_after = 4;
	follow_until(f, &g, 33);
	expect_seq(&g, 3, "c", 10, 40);
	got_free(&g);
	pp_log_follow_free(f);
	pp_log_writer_close(w);
	remove_tmpdir(dir);
}

static void test_follow_partial(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char ts[PP_LOG_TIME_LEN + 1];
	pp_log_format_time(1795705445LL * 1000000000LL, ts);
	char *rec = xasprintf("%s stdout F first\n%s stderr F sec", ts, ts);
	write_file(dir, "0.log", rec, O_EXCL);
	struct pp_log_follow *f = new_follow();
	follow_add(f, dir, 0, "c", -1);
	struct got g = {0};
	follow_until(f, &g, 1);
	assert_string_equal(g.v[0], "c:stdout:F:first");
	write_file(dir, "0.log", "ond half", O_APPEND);
	struct pp_error *err = NULL;
	assert_true(readable(f, POLL_MS));
	check(pp_log_follow_read(f, collect, &g, &err), err);
	assert_int_equal(g.n, 1); /* no newline yet */
	write_file(dir, "0.log", "\n", O_APPEND);
	follow_until(f, &g, 2);
	assert_string_equal(g.v[1], "c:stderr:F:second half");
	got_free(&g);
	pp_log_follow_free(f);
	free(rec);
	remove_tmpdir(dir);
}

static void test_follow_rotation(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct pp_log_writer *w = open_writer(dir, 0, 10 * REC_SIZE, 10000);
	append_seq(w, 0, 25);
	flush(w);
	struct pp_log_follow *f = new_follow();
	follow_add(f, dir, 0, "c", -1);
	struct got g = {0};
	follow_until(f, &g, 25); /* rotated files included */
	expect_seq(&g, 0, "c", 0, 25);
	/* Batches that rotate several times between two reads. */
	for (int i = 25; i < 3000; i += 37) {
		int to = i + 37 < 3000 ? i + 37 : 3000;
		append_seq(w, i, to);
		flush(w);
		follow_until(f, &g, (size_t)to);
	}
	expect_seq(&g, 0, "c", 0, 3000);
	got_free(&g);
	pp_log_follow_free(f);
	pp_log_writer_close(w);
	remove_tmpdir(dir);
}

static void test_follow_restart(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct pp_log_writer *w = open_writer(dir, 0, 10 * REC_SIZE, 100);
	append_seq(w, 0, 5);
	flush(w);
	struct pp_log_follow *f = new_follow();
	follow_add(f, dir, 0, "c", -1);
	struct got g = {0};
	follow_until(f, &g, 5);
	/* The container ends, writing more (with a rotation) first, and
	 * restarts twice: 1.log rotates before the follower looks. */
	append_seq(w, 5, 12);
	pp_log_writer_close(w);
	w = open_writer(dir, 1, 10 * REC_SIZE, 100);
	append_seq(w, 12, 30);
	pp_log_writer_close(w);
	follow_until(f, &g, 30);
	w = open_writer(dir, 2, 10 * REC_SIZE, 100);
	append_seq(w, 30, 33);
	flush(w);
	follow_until(f, &g, 33);
	expect_seq(&g, 0, "c", 0, 33);
	got_free(&g);
	pp_log_follow_free(f);
	pp_log_writer_close(w);

	/* Following restart 0 when only 2.log is left. */
	char *old = xasprintf("%s/0.log", dir);
	char *old1 = xasprintf("%s/1.log", dir);
	assert_int_equal(unlink(old), 0);
	assert_int_equal(unlink(old1), 0);
	f = new_follow();
	follow_add(f, dir, 0, "c", 2);
	follow_until(f, &g, 2);
	expect_seq(&g, 0, "c", 31, 33);
	got_free(&g);
	pp_log_follow_free(f);
	free(old);
	free(old1);
	remove_tmpdir(dir);
}

static void test_follow_dir_later(void **state)
{
	(void)state;
	char *tmp = make_tmpdir();
	char *pod = xasprintf("%s/pod", tmp);
	char *dir = xasprintf("%s/pod/c", tmp);
	char *other = xasprintf("%s/other", tmp);
	struct pp_log_follow *f = new_follow();
	follow_add(f, dir, 0, "late", -1);
	follow_add(f, other, 0, "never", -1);
	struct got g = {0};
	struct pp_error *err = NULL;
	check(pp_log_follow_read(f, collect, &g, &err), err);
	assert_int_equal(g.n, 0);
	assert_false(readable(f, 0));

	/* The parent first, then the directory, then the log. */
	assert_int_equal(mkdir(pod, 0755), 0);
	assert_true(readable(f, POLL_MS));
	check(pp_log_follow_read(f, collect, &g, &err), err);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(readable(f, POLL_MS));
	check(pp_log_follow_read(f, collect, &g, &err), err);
	assert_int_equal(g.n, 0);
	struct pp_log_writer *w = open_writer(dir, 0, 0, 5);
	append_seq(w, 0, 4);
	flush(w);
	follow_until(f, &g, 4);
	expect_seq(&g, 0, "late", 0, 4);
	append_seq(w, 4, 6);
	flush(w);
	follow_until(f, &g, 6);
	expect_seq(&g, 0, "late", 0, 6);
	pp_log_writer_close(w);
	got_free(&g);
	pp_log_follow_free(f);
	free(pod);
	free(dir);
	free(other);
	remove_tmpdir(tmp);
}

/* ---- volume ---- */

struct counter {
	long n;
	bool bad;
};

static int count_in_order(void *ctx, const char *container, const struct pp_log_record *rec)
{
	struct counter *c = ctx;
	char want[16];
	snprintf(want, sizeof(want), "%08ld", c->n);
	if (rec->len != 100 || memcmp(rec->text, want, 8) != 0)
		c->bad = true;
	c->n++;
	return 0;
}

static void test_round_trip_50mb(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct pp_log_writer *w = open_writer(dir, 0, PP_LOG_DEFAULT_MAX_SIZE, 10);
	char line[101];
	memset(line, 'y', 100);
	line[100] = '\0';
	/* 100-byte lines make 141-byte records: 50 MB in 372k of them. */
	long n = 50L * 1000 * 1000 / 141;
	struct pp_error *err = NULL;
	for (long i = 0; i < n; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%08ld", i);
		memcpy(line, num, 8);
		check(pp_log_writer_append(w, PP_LOG_STDOUT, line, 100, false, &err), err);
		if (i % 500 == 499)
			flush(w);
	}
	pp_log_writer_close(w);
	assert_int_equal(count_files(dir, "0.log"), 5);
	struct counter c = {0};
	check(pp_log_read(dir, 0, "c", NULL, count_in_order, &c, &err), err);
	assert_false(c.bad);
	assert_int_equal(c.n, n);
	remove_tmpdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_opts_default),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_read_tail_since),
	    cmocka_unit_test(test_follow_append),
	    cmocka_unit_test(test_follow_partial),
	    cmocka_unit_test(test_follow_rotation),
	    cmocka_unit_test(test_follow_restart),
	    cmocka_unit_test(test_follow_dir_later),
	    cmocka_unit_test(test_round_trip_50mb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

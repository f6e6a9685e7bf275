/* The small idioms of src/util: the monotonic clock, the directory
 * iterator. On a private temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/dir.h"
#include "util/fs.h"

static char base[] = "/tmp/peapod-util-test.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	return pp_rm_rf(base, NULL);
}

static void test_clock(void **state)
{
	int64_t a = pp_monotonic_ns();
	const struct timespec pause = {0, 2 * PP_NSEC_PER_MSEC};
	nanosleep(&pause, NULL);
	int64_t b = pp_monotonic_ns();
	assert_true(b - a >= 2 * PP_NSEC_PER_MSEC);
	int64_t ms = pp_monotonic_ms();
	assert_true(ms >= b / PP_NSEC_PER_MSEC);
	assert_int_equal(pp_ms_left(ms - 1), 0);
	int left = pp_ms_left(ms + 10000);
	assert_true(left > 9000 && left <= 10000);
}

static void touch(const char *dir, const char *name)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

/* Every entry once, never "." or "..", in whatever order readdir gives. */
static void test_dir_lists_entries(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *dir = xasprintf("%s/list", base);
	assert_int_equal(pp_mkdir_p(dir, 0755, &err), 0);
	const char *names[] = {"a", ".hidden", "..x", "z"};
	for (size_t i = 0; i < 4; i++)
		touch(dir, names[i]);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	assert_int_equal(pp_dir_open(&d, dir, 0, &err), 0);
	assert_true(pp_dir_fd(&d) >= 0);
	unsigned seen = 0;
	struct dirent *de;
	int r;
	while ((r = pp_dir_next(&d, &de, &err)) > 0) {
		size_t i = 0;
		while (i < 4 && strcmp(names[i], de->d_name) != 0)
			i++;
		assert_true(i < 4);
		assert_false(seen & (1u << i));
		seen |= 1u << i;
	}
	assert_int_equal(r, 0);
	assert_int_equal(seen, 0xf);
	assert_int_equal(pp_dir_next(&d, &de, &err), 0); /* stays at the end */
	pp_dir_close(&d);
	pp_dir_close(&d);
	assert_int_equal(pp_dir_fd(&d), -1);
}

static void test_dir_missing_and_errors(void **state)
{
	struct pp_error *err = NULL;
	cleanup_free char *missing = xasprintf("%s/none", base);
	cleanup_dir struct pp_dir d = PP_DIR_INIT;
	struct dirent *de;
	/* allowed to be missing: reads as empty */
	assert_int_equal(pp_dir_open(&d, missing, PP_DIR_MISSING_OK, &err), 0);
	assert_int_equal(pp_dir_next(&d, &de, &err), 0);
	/* not allowed: the error names the path */
	assert_int_equal(pp_dir_open(&d, missing, 0, &err), -1);
	assert_int_equal(err->status, ENOENT);
	assert_non_null(strstr(err->msg, missing));
	pp_error_free(&err);
	/* a file is no directory, missing or not */
	touch(base, "file");
	cleanup_free char *file = xasprintf("%s/file", base);
	assert_int_equal(pp_dir_open(&d, file, PP_DIR_MISSING_OK, &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	pp_error_free(&err);
	/* an fd that is no directory: taken and closed all the same */
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pp_dir_open_fd(&d, fd, "file", &err), -1);
	assert_int_equal(err->status, ENOTDIR);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	pp_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_dir_lists_entries),
	    cmocka_unit_test(test_dir_missing_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

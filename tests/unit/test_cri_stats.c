/* The CRI stats' reading of /proc/PID/net/dev (src/cri/cri_stats.c): the
 * counters kubelet shows for a pod's interfaces, and lines that are not an
 * interface's skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cri/cri_internal.h"

static const char NET_DEV[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:     840      10    0    0    0     0          0         0      840      10    0 "
    "   0    0     0       0          0\n"
    "  eth0: 1234567    1000    3    0    0     0          0         0   765432     900    7 "
    "   0    0     0       0          0\n"
    "  net1: 18446744073709551615 1 2 3 4 5 6 7 42 8 9 10 11 12 13 14\n";

static void test_net_dev(void **state)
{
	(void)state;
	struct cri_net_dev *d = NULL;
	size_t n = 0;
	assert_int_equal(cri_net_dev_parse(NET_DEV, &d, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(d[0].name, "lo");
	assert_int_equal(d[0].rx_bytes, 840);
	assert_string_equal(d[1].name, "eth0");
	assert_int_equal(d[1].rx_bytes, 1234567);
	assert_int_equal(d[1].rx_errors, 3);
	assert_int_equal(d[1].tx_bytes, 765432);
	assert_int_equal(d[1].tx_errors, 7);
	/* counters are 64-bit */
	assert_string_equal(d[2].name, "net1");
	assert_true(d[2].rx_bytes == UINT64_MAX);
	assert_int_equal(d[2].rx_errors, 2);
	assert_int_equal(d[2].tx_bytes, 42);
	assert_int_equal(d[2].tx_errors, 9);
	free(d);
}

static void test_net_dev_bad_lines(void **state)
{
	(void)state;
	struct cri_net_dev *d = NULL;
	size_t n = 0;
	/* no headers at all, short lines, no name, a name too long, no colon */
	assert_int_equal(cri_net_dev_parse("", &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(
	    cri_net_dev_parse("h1\nh2\n eth0: 1 2 3\n: 1 2 3 4 5 6 7 8 9 10 11\n"
			      " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1 2 3 4 5 6 7 8 9 "
			      "10 11\n eth1 1 2 3 4 5 6 7 8 9 10 11\n"
			      " eth2: 1 2 3 4 5 6 7 8 9 10 11",
			      &d, &n),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].name, "eth2");
	assert_int_equal(d[0].tx_errors, 11);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_net_dev),
	    cmocka_unit_test(test_net_dev_bad_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

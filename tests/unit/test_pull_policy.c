/* The pull policy kubelet applies to a container: imagePullPolicy, else its
 * defaults from the reference (Always for :latest or no tag, IfNotPresent
 * for another tag or a digest alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pod/pod.h"

static enum pp_pull_policy policy_of(const char *image, enum pp_pull_policy set)
{
	struct pp_container c = {.image = (char *)image, .pull_policy = set};
	return pp_pod_pull_policy(&c);
}

static void test_defaults(void **state)
{
	assert_int_equal(policy_of("busybox", PP_PULL_DEFAULT), PP_PULL_ALWAYS);
	assert_int_equal(policy_of("busybox:latest", PP_PULL_DEFAULT), PP_PULL_ALWAYS);
	assert_int_equal(policy_of("127.0.0.1:5000/team/app", PP_PULL_DEFAULT), PP_PULL_ALWAYS);
	assert_int_equal(policy_of("busybox:1.36", PP_PULL_DEFAULT), PP_PULL_IF_NOT_PRESENT);
	assert_int_equal(policy_of("127.0.0.1:5000/team/app:1", PP_PULL_DEFAULT),
			 PP_PULL_IF_NOT_PRESENT);
	/* a digest alone has no tag: not "latest" */
	assert_int_equal(
	    policy_of("busybox@sha256:"
		      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		      PP_PULL_DEFAULT),
	    PP_PULL_IF_NOT_PRESENT);
	/* kubelet looks at the tag only: latest with a digest is still Always */
	assert_int_equal(
	    policy_of("busybox:latest@sha256:"
		      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		      PP_PULL_DEFAULT),
	    PP_PULL_ALWAYS);
}

static void test_explicit_wins(void **state)
{
	assert_int_equal(policy_of("busybox", PP_PULL_NEVER), PP_PULL_NEVER);
	assert_int_equal(policy_of("busybox", PP_PULL_IF_NOT_PRESENT), PP_PULL_IF_NOT_PRESENT);
	assert_int_equal(policy_of("busybox:1.36", PP_PULL_ALWAYS), PP_PULL_ALWAYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_explicit_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

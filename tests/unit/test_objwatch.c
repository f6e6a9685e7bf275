/* The supervisor's watch of the object store (supervisor/objwatch.c): which
 * directory entries name an object (the store's <name>.json) and which are
 * not (hidden temporaries of the atomic write, other files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/supervisor_internal.h"

static void test_object_name(void **state)
{
	(void)state;
	char name[16];
	assert_true(sup_objwatch_object_name("web-conf.json", name, sizeof(name)));
	assert_string_equal(name, "web-conf");
	assert_true(sup_objwatch_object_name("a.b.json", name, sizeof(name)));
	assert_string_equal(name, "a.b");
	assert_false(sup_objwatch_object_name(".json", name, sizeof(name)));
	assert_false(sup_objwatch_object_name(".web.json.tmp", name, sizeof(name)));
	assert_false(sup_objwatch_object_name(".web.json", name, sizeof(name)));
	assert_false(sup_objwatch_object_name("web.yaml", name, sizeof(name)));
	assert_false(sup_objwatch_object_name("web.json~", name, sizeof(name)));
	/* too long for the caller's buffer: not taken, not cut */
	assert_false(sup_objwatch_object_name("a-very-long-name-x.json", name, sizeof(name)));
	assert_true(sup_objwatch_object_name("fifteen-chars-x.json", name, sizeof(name)));
	assert_string_equal(name, "fifteen-chars-x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_object_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

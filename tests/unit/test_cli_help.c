/* The verbs' help against the tables they parse with (src/cli/cli_commands.c):
 * every long option a verb's getopt table has is documented, every
 * documented flag is in the table, every visible verb has a usage line and
 * an example; the subcommands ("image pull") as well. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

static bool in_table(const struct option *opts, const char *name)
{
	for (const struct option *o = opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return true;
	return false;
}

static bool documented(const struct cli_verb_doc *d, const char *name)
{
	for (const struct cli_flag_doc *f = d->flags; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return true;
	return false;
}

/* Every verb, then every subcommand ("image pull"). */
#define FOR_EACH_COMMAND(c)                                                                        \
	for (int t_ = 0; t_ < 2; t_++)                                                             \
		for (const struct cli_command *c = t_ ? cli_subcommands : cli_commands; c->name;   \
		     c++)

static void test_every_option_documented(void **state)
{
	(void)state;
	int checked = 0;
	FOR_EACH_COMMAND(c)
	{
		if (c->doc == NULL || c->doc->opts == NULL)
			continue;
		for (const struct option *o = c->doc->opts; o->name; o++) {
			if (!documented(c->doc, o->name))
				fail_msg("peapod %s: --%s has no help", c->name, o->name);
			checked++;
		}
	}
	assert_true(checked > 50);
}

static void test_every_doc_is_an_option(void **state)
{
	(void)state;
	FOR_EACH_COMMAND(c)
	{
		if (c->doc == NULL || c->doc->flags == NULL)
			continue;
		assert_non_null(c->doc->opts);
		for (const struct cli_flag_doc *f = c->doc->flags; f->name; f++)
			if (!in_table(c->doc->opts, f->name))
				fail_msg("peapod %s: help lists --%s, which it does not parse",
					 c->name, f->name);
	}
}

static void test_every_verb_has_help(void **state)
{
	(void)state;
	FOR_EACH_COMMAND(c)
	{
		if (c->group == CLI_GROUP_HIDDEN)
			continue;
		if (c->doc == NULL)
			fail_msg("peapod %s has no help (its cli_verb_doc)", c->name);
		assert_non_null(c->doc->usage);
		assert_non_null(strstr(c->doc->examples, "peapod "));
		assert_ptr_equal(cli_find_command(c->name), c);
	}
}

/* An argument placeholder for each option that needs one, none for those
 * that take none (optional ones: either). */
static void test_arguments_shown(void **state)
{
	(void)state;
	FOR_EACH_COMMAND(c)
	{
		if (c->doc == NULL || c->doc->opts == NULL)
			continue;
		for (const struct option *o = c->doc->opts; o->name; o++) {
			const struct cli_flag_doc *f = cli_flag_doc_of(c, o->name);
			if (f == NULL) /* hidden: refused by this verb */
				continue;
			if (o->has_arg != optional_argument &&
			    (o->has_arg == required_argument) != (f->arg != NULL))
				fail_msg("peapod %s --%s: argument shown wrong", c->name, o->name);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_option_documented),
	    cmocka_unit_test(test_every_doc_is_an_option),
	    cmocka_unit_test(test_every_verb_has_help),
	    cmocka_unit_test(test_arguments_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* -l/--selector and --field-selector, shared by get, delete, logs,
 * describe and wait: which pods a verb acts on. */
#include <stdio.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "util/cleanup.h"
#include "util/labelsel.h"

int cli_select_pods(const struct cli_select *s, int n_names, struct pp_pod_view **views, size_t *n)
{
	*views = NULL;
	*n = 0;
	if (!cli_select_given(s))
		return 0;
	if (n_names > 0) {
		fprintf(stderr, "error: name cannot be provided when a selector is specified\n");
		return CLI_EXIT_USAGE;
	}
	cleanup_error struct pp_error *err = NULL;
	struct pp_selector labels = {0}, fields = {0};
	if ((s->labels && pp_label_selector_parse(s->labels, &labels, &err) < 0) ||
	    (s->fields &&
	     pp_field_selector_parse(s->fields, pp_pod_selector_fields, &fields, &err) < 0)) {
		fprintf(stderr, "error: %s\n", err->msg);
		pp_selector_free(&labels);
		return CLI_EXIT_USAGE;
	}
	int r = pp_pod_views_select(s->all_ns ? NULL : cli_namespace(s->ns), &labels, &fields,
				    views, n, &err);
	pp_selector_free(&labels);
	pp_selector_free(&fields);
	if (r < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

bool cli_select_given(const struct cli_select *s)
{
	return s->labels != NULL || s->fields != NULL;
}

void cli_no_resources(const struct cli_select *s)
{
	if (s->all_ns)
		fprintf(stderr, "No resources found\n");
	else
		fprintf(stderr, "No resources found in %s namespace.\n", cli_namespace(s->ns));
}

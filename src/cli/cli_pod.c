/* Helpers of the verbs that work on applied pods. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "ops/ops.h"
#include "util/cleanup.h"
#include "util/settings.h"

const char *cli_namespace(const char *given)
{
	if (given != NULL && *given)
		return given;
	return pp_settings()->namespace_;
}

static bool yaml_plain_ok(const char *s)
{
	if (*s == '\0' || strchr(s, '\n') != NULL || strchr(":#{}[],&*!|>'\"%@`", s[0]) ||
	    s[0] == '-' || s[0] == ' ' || strstr(s, ": ") || strstr(s, " #") ||
	    s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == ':')
		return false;
	static const char *const special[] = {"true", "false", "null", "~",
					      "yes",  "no",    "on",   "off"};
	for (size_t i = 0; i < sizeof(special) / sizeof(*special); i++)
		if (strcasecmp(s, special[i]) == 0)
			return false;
	char *end = NULL;
	(void)strtod(s, &end);
	return *end != '\0';
}

static void yaml_scalar(struct json_object *v)
{
	if (v == NULL) {
		printf("null\n");
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (yaml_plain_ok(s))
			printf("%s\n", s);
		else /* a JSON string is a valid YAML double-quoted scalar */
			printf("%s\n",
			       json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%s\n", json_object_to_json_string(v));
	}
}

static bool yaml_is_nested(struct json_object *v)
{
	return (json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0) ||
	       (json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0);
}

static void yaml_value(struct json_object *v, int indent, bool in_seq);

static void yaml_object(struct json_object *o, int indent, bool first_inline)
{
	bool first = true;
	json_object_object_foreach(o, key, val)
	{
		printf("%*s%s:", first && first_inline ? 0 : indent, "", key);
		first = false;
		if (yaml_is_nested(val)) {
			printf("\n");
			yaml_value(val,
				   json_object_is_type(val, json_type_array) ? indent : indent + 2,
				   false);
		} else if (json_object_is_type(val, json_type_object)) {
			printf(" {}\n");
		} else if (json_object_is_type(val, json_type_array)) {
			printf(" []\n");
		} else {
			printf(" ");
			yaml_scalar(val);
		}
	}
}

static void yaml_value(struct json_object *v, int indent, bool in_seq)
{
	if (json_object_is_type(v, json_type_object)) {
		yaml_object(v, indent, in_seq);
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *item = json_object_array_get_idx(v, i);
			printf("%*s- ", indent, "");
			if (json_object_is_type(item, json_type_object) &&
			    json_object_object_length(item) > 0)
				yaml_object(item, indent + 2, true);
			else if (yaml_is_nested(item)) {
				printf("\n");
				yaml_value(item, indent + 2, false);
			} else
				yaml_scalar(item);
		}
	} else {
		printf("%*s", indent, "");
		yaml_scalar(v);
	}
}

void cli_print_yaml(struct json_object *doc)
{
	yaml_value(doc, 0, false);
}

/* The flags of inspect; its help (cli_commands.c) shows each. */
const struct option cli_opts_inspect[] = {{"namespace", required_argument, NULL, 'n'},
					  {NULL, 0, NULL, 0}};
const char cli_shorts_inspect[] = "n:";

const char *cli_pod_name(const char *arg)
{
	return strncmp(arg, "pod/", 4) == 0 ? arg + 4 : arg;
}

int cli_one_pod_args(int argc, char **argv, const char *usage, const char **ns, const char **name)
{
	const char *given = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shorts_inspect, cli_opts_inspect, NULL)) != -1) {
		if (c != 'n')
			return CLI_EXIT_USAGE;
		given = optarg;
	}
	if (optind < argc &&
	    (strcmp(argv[optind], "pod") == 0 || strcmp(argv[optind], "pods") == 0))
		optind++;
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: %s\n", usage);
		return CLI_EXIT_USAGE;
	}
	*ns = cli_namespace(given);
	*name = cli_pod_name(argv[optind]);
	return 0;
}

int cli_view_one(int argc, char **argv, const char *usage, struct pp_pod_view *v)
{
	const char *ns = NULL, *name = NULL;
	int ret = cli_one_pod_args(argc, argv, usage, &ns, &name);
	if (ret != 0)
		return ret;
	cleanup_error struct pp_error *err = NULL;
	if (pp_pod_view_load(ns, name, v, &err) < 0) {
		cli_print_error(err);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

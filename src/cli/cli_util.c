/* Helpers shared by the CLI verbs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"

void cli_print_error(const struct pp_error *err)
{
	if (err == NULL || err->msg == NULL)
		fprintf(stderr, "peapod: unknown error\n");
	else if (err->status != 0 && !(err->status == ENOENT && strstr(err->msg, " not found")))
		fprintf(stderr, "peapod: %s: %s\n", err->msg, strerror(err->status));
	else
		fprintf(stderr, "peapod: %s\n", err->msg);
}

struct json_object *cli_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *cli_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = cli_jget(o, key);
	return v ? json_object_get_string(v) : NULL;
}

/* For printing: "" when absent. */
const char *cli_js(struct json_object *o, const char *key)
{
	const char *s = cli_jstr(o, key);
	return s ? s : "";
}

/* kubectl's HumanDuration. */
void cli_human_age(const char *ts, char *out, size_t size)
{
	struct tm tm = {0};
	if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) == NULL) {
		snprintf(out, size, "<unknown>");
		return;
	}
	long long s = (long long)(time(NULL) - timegm(&tm));
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, size, "%llds", s);
	else if (s < 600)
		snprintf(out, size, s % 60 ? "%lldm%llds" : "%lldm", s / 60, s % 60);
	else if (s < 3 * 3600)
		snprintf(out, size, "%lldm", s / 60);
	else if (s < 8 * 3600)
		snprintf(out, size, "%lldh%lldm", s / 3600, s / 60 % 60);
	else if (s < 48 * 3600)
		snprintf(out, size, "%lldh", s / 3600);
	else
		snprintf(out, size, "%lldd", s / 86400);
}

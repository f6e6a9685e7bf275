/* kubectl's JSONPath templates (-o jsonpath=, custom-columns, --sort-by):
 * text with {actions}: {.a.b}, {.items[*].metadata.name}, {.list[0]},
 * {.list[1:3]}, {..name}, {.list[?(@.name=="x")].value}, {['a.b']},
 * {range .items[*]}...{end}, {"\t"}, {@}. Pure: parse once, run over a
 * json-c document many times. */
#ifndef PEAPOD_JSONPATH_H
#define PEAPOD_JSONPATH_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "util/error.h"

struct pp_jsonpath;

/* Parses a template; -1 naming what is wrong and where. */
int pp_jsonpath_parse(const char *text, struct pp_jsonpath **out, struct pp_error **err);

/* kubectl's relaxed form (custom-columns, --sort-by): ".a.b", "a.b" and
 * "{.a.b}" are all the one path {.a.b}. */
int pp_jsonpath_parse_relaxed(const char *text, struct pp_jsonpath **out, struct pp_error **err);

/* Writes the template run over doc to f: each path's results separated by
 * a space, strings as they are, other values as compact JSON. With
 * allow_missing false (kubectl's -o jsonpath), a field that is absent is an
 * error ("NAME is not found"); custom-columns allow it. */
int pp_jsonpath_print(const struct pp_jsonpath *jp, struct json_object *doc, bool allow_missing,
		      FILE *f, struct pp_error **err);

/* The first value the template's first path yields over doc, NULL when
 * none (--sort-by); borrowed from doc. */
struct json_object *pp_jsonpath_first(const struct pp_jsonpath *jp, struct json_object *doc);

void pp_jsonpath_free(struct pp_jsonpath *jp);

#endif

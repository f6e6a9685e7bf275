/* libFuzzer entry for what users type after -l, --field-selector and
 * -o jsonpath=: every input parses or fails with a message, never crashes,
 * hangs or leaks; what parses matches against a fixed set of labels, or
 * runs over a small pod list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonpath.h"
#include "util/labelsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *get(void *ctx, const char *key)
{
	(void)ctx;
	return strcmp(key, "app") == 0 ? "web" : strcmp(key, "n") == 0 ? "5" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	static const char *const allowed[] = {"metadata.name", "status.phase", NULL};
	struct pp_selector s;
	struct pp_error *err = NULL;
	if (pp_label_selector_parse(text, &s, &err) == 0) {
		(void)pp_selector_matches(&s, get, NULL);
		pp_selector_free(&s);
	}
	pp_error_free(&err);
	if (pp_field_selector_parse(text, allowed, &s, &err) == 0) {
		(void)pp_selector_matches(&s, get, NULL);
		pp_selector_free(&s);
	}
	pp_error_free(&err);
	struct pp_jsonpath *jp = NULL;
	if (pp_jsonpath_parse(text, &jp, &err) == 0) {
		struct json_object *doc = json_tokener_parse(
		    "{\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},"
		    "\"status\":{\"phase\":\"Running\",\"c\":[1,2,{\"n\":3}]}}]}");
		FILE *f = fopen("/dev/null", "w");
		if (f != NULL && doc != NULL) {
			(void)pp_jsonpath_print(jp, doc, size % 2 == 0, f, NULL);
			(void)pp_jsonpath_first(jp, doc);
		}
		if (f != NULL)
			fclose(f);
		json_object_put(doc);
		pp_jsonpath_free(jp);
	}
	pp_error_free(&err);
	free(text);
	return 0;
}

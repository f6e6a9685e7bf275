/* Entry points: bytes or a file in, a validated struct pp_pod out. */
#include <string.h>

#include "manifest/config_object.h"
#include "manifest/parse_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"

#define STDIN_NAME "<stdin>"

int pp_spec_parse_buffer(const char *source_name, const char *buf, size_t len, struct pp_pod **out,
			 struct pp_error **err)
{
	const char *source = strcmp(source_name, "-") == 0 ? STDIN_NAME : source_name;
	struct pp_manifest_set set = {0};
	*out = NULL;
	if (pp_manifest_set_parse(source_name, buf, len, &set, err) < 0)
		return -1;
	int r = 0;
	if (set.n == 0)
		r = pp_error_set(err, 0, "%s:1:1: empty manifest", source);
	else if (set.items[0].pod == NULL)
		r = pp_error_set(err, 0, "%s:%d:%d: kind: a %s is not a Pod", source,
				 set.items[0].pos.line, set.items[0].pos.col,
				 pp_manifest_item_kind(&set.items[0]));
	else if (set.n > 1)
		r = pp_error_set(err, 0,
				 "%s:%d:%d: a second %s: one Pod expected (apply takes many)",
				 source, set.items[1].pos.line, set.items[1].pos.col,
				 pp_manifest_item_kind(&set.items[1]));
	else
		*out = steal_ptr(&set.items[0].pod);
	pp_manifest_set_free(&set);
	return r;
}

int pp_spec_load(const char *path, struct pp_pod **out, char **text, size_t *text_len,
		 struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	const char *source = strcmp(path, "-") == 0 ? STDIN_NAME : path;
	int r = strcmp(path, "-") == 0 ? pp_read_fd(0, PP_YAML_MAX_INPUT + 1, &buf, &len, err)
				       : pp_read_file(path, PP_YAML_MAX_INPUT + 1, &buf, &len, err);
	if (r < 0)
		return pp_error_wrap(err, "%s", source);
	if (pp_spec_parse_buffer(path, buf, len, out, err) < 0)
		return -1;
	if (text != NULL) {
		*text = steal_ptr(&buf);
		*text_len = len;
	}
	return 0;
}

int pp_spec_parse_file(const char *path, struct pp_pod **out, struct pp_error **err)
{
	return pp_spec_load(path, out, NULL, NULL, err);
}

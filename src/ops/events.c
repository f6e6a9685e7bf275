/* Reading a pod's events file (the supervisor appends one line a write). */
#include "ops/events.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state/podstate.h"
#include "util/cleanup.h"

#define EVENTS_READ_CHUNK 8192

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void one_line(const char *line, pp_pod_event_fn fn, void *ctx)
{
	struct json_object *o = json_tokener_parse(line);
	if (o == NULL)
		return;
	struct pp_pod_event e = {
	    .time = field(o, "time"),
	    .type = field(o, "type"),
	    .level = field(o, "level"),
	    .reason = field(o, "reason"),
	    .container = field(o, "container"),
	    .message = field(o, "message"),
	};
	fn(ctx, &e);
	json_object_put(o);
}

/* What the file holds from the fd's offset to its end. */
static int read_rest(int fd, char **buf, size_t *len)
{
	size_t cap = EVENTS_READ_CHUNK;
	*buf = xmalloc(cap);
	*len = 0;
	for (;;) {
		if (cap - *len < EVENTS_READ_CHUNK / 2)
			*buf = xrealloc(*buf, cap *= 2);
		ssize_t n = read(fd, *buf + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	(*buf)[*len] = '\0';
	return 0;
}

int pp_pod_events_read(const char *uid, long *offset, pp_pod_event_fn fn, void *ctx,
		       struct pp_error **err)
{
	cleanup_free char *path = pp_state_file(uid, PP_STATE_EVENTS);
	return pp_events_file_read(path, offset, fn, ctx, err);
}

int pp_events_file_read(const char *path, long *offset, pp_pod_event_fn fn, void *ctx,
			struct pp_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t len = 0;
	if (fd < 0)
		return pp_error_set(err, errno, "open %s", path);
	if (lseek(fd, *offset, SEEK_SET) < 0 || read_rest(fd, &buf, &len) < 0)
		return pp_error_set(err, errno, "read %s", path);
	/* A line without its newline is being written: the next call's. */
	char *end = memrchr(buf, '\n', len);
	if (end == NULL)
		return 0;
	*end = '\0';
	char *save = NULL;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		one_line(l, fn, ctx);
	*offset += end - buf + 1;
	return 0;
}

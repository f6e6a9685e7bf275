/* $(VAR) expansion exactly as k8s.io/kubernetes/third_party/forked/golang/expansion. */
#include <string.h>

#include "manifest/manifest.h"
#include "util/cleanup.h"

struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* After a '$' at in[0]: appends what it stands for, returns the characters
 * consumed after the '$' (Go's tryReadVariableName). */
static size_t expand_one(struct buf *b, const char *in, const char *(*lookup)(void *, const char *),
			 void *ctx)
{
	if (in[0] == '$') {
		buf_add(b, "$", 1);
		return 1;
	}
	if (in[0] != '(') {
		buf_add(b, in - 1, 2); /* '$' and the character after it */
		return 1;
	}
	const char *close = strchr(in + 1, ')');
	if (close == NULL) {
		buf_add(b, "$(", 2);
		return 1;
	}
	cleanup_free char *name = strndup(in + 1, (size_t)(close - in - 1));
	if (name == NULL)
		abort();
	const char *value = lookup ? lookup(ctx, name) : NULL;
	if (value != NULL)
		buf_add(b, value, strlen(value));
	else
		buf_add(b, in - 1, (size_t)(close - in) + 2); /* "$(NAME)" as written */
	return (size_t)(close - in) + 1;
}

char *pp_expand_vars(const char *in, const char *(*lookup)(void *ctx, const char *name), void *ctx)
{
	struct buf b = {0};
	size_t checkpoint = 0, len = strlen(in);
	buf_add(&b, "", 0);
	for (size_t cursor = 0; cursor < len; cursor++) {
		if (in[cursor] != '$' || cursor + 1 >= len)
			continue;
		buf_add(&b, in + checkpoint, cursor - checkpoint);
		cursor += expand_one(&b, in + cursor + 1, lookup, ctx);
		checkpoint = cursor + 1;
	}
	buf_add(&b, in + checkpoint, len - checkpoint);
	return b.s;
}

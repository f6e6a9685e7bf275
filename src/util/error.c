#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

int pp_error_set(struct pp_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return -1;
	pp_error_free(err);
	struct pp_error *e = xmalloc(sizeof(*e));
	va_start(ap, fmt);
	e->msg = vformat(fmt, ap);
	va_end(ap);
	e->status = errnum;
	*err = e;
	return -1;
}

int pp_error_wrap(struct pp_error **err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	char *ctx = vformat(fmt, ap);
	va_end(ap);
	char *joined = NULL;
	if (asprintf(&joined, "%s: %s", ctx, (*err)->msg) < 0)
		abort();
	free(ctx);
	free((*err)->msg);
	(*err)->msg = joined;
	return -1;
}

void pp_error_free(struct pp_error **err)
{
	if (err == NULL || *err == NULL)
		return;
	int saved = errno;
	free((*err)->msg);
	free(*err);
	*err = NULL;
	errno = saved;
}

const char *pp_error_text(const struct pp_error *err, char *buf, unsigned len)
{
	if (err == NULL)
		return "unknown error";
	if (err->status != 0)
		snprintf(buf, len, "%s: %s", err->msg, strerror(err->status));
	else
		snprintf(buf, len, "%s", err->msg);
	return buf;
}

#include "util/cleanup.h"

#include <stdarg.h>
#include <string.h>

char *xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	char *r = strdup(s);
	if (r == NULL)
		abort();
	return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

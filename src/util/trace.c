#include "util/trace.h"
#include "util/settings.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/clock.h"

#define TRACE_LINE_MAX 256
#define TRACE_UNKNOWN (-2) /* not looked at PEAPOD_TRACE yet */
#define TRACE_NONE (-1)	   /* no trace */

static int trace_fd = TRACE_UNKNOWN;
static int trace_disabled;

void pp_trace(const char *fmt, ...)
{
	if (trace_fd == TRACE_NONE || trace_disabled)
		return;
	if (trace_fd == TRACE_UNKNOWN) {
		const char *path = pp_settings()->trace;
		trace_fd = path != NULL
			       ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)
			       : TRACE_NONE;
		if (trace_fd < 0) {
			trace_fd = TRACE_NONE;
			return;
		}
	}
	char line[TRACE_LINE_MAX];
	int n =
	    snprintf(line, sizeof(line), "%lld %d ", (long long)pp_monotonic_ns(), (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m < (int)sizeof(line) - n - 1 ? m : (int)sizeof(line) - n - 2;
	line[n++] = '\n';
	(void)!write(trace_fd, line, (size_t)n);
}

void pp_trace_forget(void)
{
	if (trace_fd >= 0)
		trace_fd = TRACE_UNKNOWN;
}

void pp_trace_off(void)
{
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = TRACE_NONE;
	trace_disabled = 1;
}

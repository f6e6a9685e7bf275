#include "util/child_report.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* What goes through the pipe: this, then len bytes of message. */
struct report {
	uint32_t kind;	/* REPORT_* */
	int32_t status; /* errno, or 0 */
	uint32_t len;
};

enum {
	REPORT_FAILED = 1,
	REPORT_READY = 2,
};

#define REPORT_MSG_MAX 4000

static int write_all(int fd, const void *buf, size_t len)
{
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to len bytes, stopping early only at EOF. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int send_failure(int fd, int errnum, const char *msg)
{
	size_t len = strnlen(msg, REPORT_MSG_MAX);
	struct report r = {.kind = REPORT_FAILED, .status = errnum, .len = (uint32_t)len};
	if (write_all(fd, &r, sizeof(r)) < 0 || write_all(fd, msg, len) < 0)
		return -1;
	return 0;
}

int pp_child_report_send(int fd, const struct pp_error *e)
{
	return send_failure(fd, e != NULL ? e->status : 0, e != NULL ? e->msg : "unknown error");
}

void pp_child_report_errno(int fd, int errnum, const char *msg)
{
	/* Nothing more can be done if the parent is gone. */
	(void)send_failure(fd, errnum, msg);
	_exit(PP_CHILD_SETUP_FAILED);
}

void pp_child_report_error(int fd, const struct pp_error *e)
{
	(void)pp_child_report_send(fd, e);
	_exit(PP_CHILD_SETUP_FAILED);
}

int pp_child_report_ready(int fd)
{
	struct report r = {.kind = REPORT_READY};
	return write_all(fd, &r, sizeof(r));
}

int pp_child_report_read(int fd, bool need_ready, struct pp_error **err)
{
	struct report r;
	ssize_t n = read_full(fd, &r, sizeof(r));
	if (n == 0)
		return need_ready ? pp_error_set(err, ECHILD, "the child died while setting up")
				  : 0;
	if (n != (ssize_t)sizeof(r) || (r.kind != REPORT_FAILED && r.kind != REPORT_READY))
		return pp_error_set(err, n < 0 ? errno : EPROTO,
				    "reading the child's set-up result");
	if (r.kind == REPORT_READY)
		return 0;
	char msg[REPORT_MSG_MAX + 1];
	n = read_full(fd, msg, r.len < REPORT_MSG_MAX ? r.len : REPORT_MSG_MAX);
	msg[n > 0 ? n : 0] = '\0';
	return pp_error_set(err, r.status, "%s", msg);
}

/* The upgrade request of a CRI stream (stream_http.h). */
#include "cri/stream_http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

#define HEADER_PROTOCOLS "X-Stream-Protocol-Version"

void pp_http_request_free(struct pp_http_request *req)
{
	free(req->path);
	free(req->upgrade);
	free(req->connection);
	for (size_t i = 0; i < req->n_protocols; i++)
		free(req->protocols[i]);
	*req = (struct pp_http_request){0};
}

static const char *find_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			return buf + i;
	return NULL;
}

static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	char *r = strndup(s, n);
	if (r == NULL)
		abort();
	return r;
}

/* "METHOD TARGET HTTP/1.1" */
static int request_line(const char *line, size_t n, struct pp_http_request *req,
			struct pp_error **err)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1 ||
	    (size_t)(sp1 - line) >= sizeof(req->method))
		return pp_error_set(err, EPROTO, "HTTP: a malformed request line");
	size_t vlen = n - (size_t)(sp2 + 1 - line);
	if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return pp_error_set(err, EPROTO, "HTTP: not an HTTP/1.x request");
	memcpy(req->method, line, (size_t)(sp1 - line));
	req->method[sp1 - line] = '\0';
	size_t plen = (size_t)(sp2 - sp1 - 1);
	if (sp1[1] != '/' || memchr(sp1 + 1, '\0', plen) != NULL)
		return pp_error_set(err, EPROTO, "HTTP: a request target that is not a path");
	req->path = trimmed(sp1 + 1, plen);
	return 0;
}

static void add_protocols(struct pp_http_request *req, const char *v, size_t n)
{
	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t part = comma ? (size_t)(comma - v) : n;
		char *p = trimmed(v, part);
		if (p[0] != '\0' && req->n_protocols < PP_HTTP_MAX_PROTOCOLS)
			req->protocols[req->n_protocols++] = p;
		else
			free(p);
		v += part;
		n -= part;
		if (comma) {
			v++;
			n--;
		}
	}
}

static int header_line(const char *line, size_t n, struct pp_http_request *req,
		       struct pp_error **err)
{
	const char *colon = memchr(line, ':', n);
	if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
		return pp_error_set(err, EPROTO, "HTTP: a malformed header line");
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vlen = n - nlen - 1;
	if (memchr(v, '\0', vlen) != NULL)
		return pp_error_set(err, EPROTO, "HTTP: a header value holds a NUL byte");
	char **slot = NULL;
	if (nlen == 7 && strncasecmp(line, "Upgrade", 7) == 0)
		slot = &req->upgrade;
	else if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0)
		slot = &req->connection;
	else if (nlen == strlen(HEADER_PROTOCOLS) && strncasecmp(line, HEADER_PROTOCOLS, nlen) == 0)
		add_protocols(req, v, vlen);
	if (slot != NULL) {
		free(*slot);
		*slot = trimmed(v, vlen);
	}
	return 0;
}

int pp_http_request_parse(const char *buf, size_t len, struct pp_http_request *req,
			  struct pp_error **err)
{
	*req = (struct pp_http_request){0};
	const char *end = find_head_end(buf, len < PP_HTTP_MAX_HEAD ? len : PP_HTTP_MAX_HEAD);
	if (end == NULL)
		return len >= PP_HTTP_MAX_HEAD
			   ? pp_error_set(err, EMSGSIZE, "HTTP: a request head over %d bytes",
					  PP_HTTP_MAX_HEAD)
			   : 0;
	const char *p = buf;
	bool first = true;
	while (p < end + 2) {
		const char *eol = p;
		while (eol < end + 2 && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		size_t n = (size_t)(eol - p);
		int r = first ? request_line(p, n, req, err) : header_line(p, n, req, err);
		if (r < 0)
			return -1;
		first = false;
		p = eol + 2;
	}
	return (int)(end + 4 - buf);
}

/* Whether the comma-separated list holds token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
	size_t tl = strlen(token);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ", \t");
		if (n == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p += n;
	}
	return false;
}

bool pp_http_wants_spdy(const struct pp_http_request *req)
{
	return req->connection && has_token(req->connection, "upgrade") && req->upgrade &&
	       strcasecmp(req->upgrade, "SPDY/3.1") == 0;
}

const char *pp_http_negotiate(const struct pp_http_request *req, const char *const *ours)
{
	for (size_t i = 0; i < req->n_protocols; i++)
		for (size_t k = 0; ours[k]; k++)
			if (strcmp(req->protocols[i], ours[k]) == 0)
				return ours[k];
	return NULL;
}

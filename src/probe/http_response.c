/* What an httpGet probe makes of a whole response, as kubelet's HTTP prober
 * (Go's client with kubelet's redirect policy): 200-299 success; a redirect
 * to the same host followed, up to 10; a redirect it does not follow (to
 * another host, or without a Location) success with a warning; anything
 * else below 400 success, the rest failure. Pure code. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/net_probe.h"
#include "util/cleanup.h"

/* The end of the header block (after its blank line), or NULL. */
static const char *headers_end(const char *buf, size_t len)
{
	const char *e = memmem(buf, len, "\r\n\r\n", 4);
	if (e)
		return e + 4;
	e = memmem(buf, len, "\n\n", 2);
	return e ? e + 2 : NULL;
}

bool pp_http_response_incomplete(const char *buf, size_t len)
{
	if (memchr(buf, '\n', len) == NULL)
		return true; /* not even the status line */
	int code = pp_http_status_code(buf, len);
	/* a redirect: its Location, and its body for a warning, up to the end */
	return code >= 300 && code < 400;
}

/* The value of header name (malloc'ed, trimmed), or NULL. */
static char *header(const char *buf, size_t len, const char *name)
{
	const char *end = headers_end(buf, len);
	if (end == NULL)
		end = buf + len;
	const char *line = memchr(buf, '\n', len);
	size_t nlen = strlen(name);
	while (line && line + 1 < end) {
		line++;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;
			const char *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			return strndup(v, (size_t)(ve - v));
		}
		line = eol;
	}
	return NULL;
}

/* Splits "host[:port]" or "[v6][:port]" (up to end): 0, or -1 when malformed. */
static int split_authority(const char *a, const char *end, bool https, char *host, size_t size,
			   int *port)
{
	const char *h = a, *he;
	if (*a == '[') {
		h = a + 1;
		he = memchr(h, ']', (size_t)(end - h));
		if (he == NULL)
			return -1;
		a = he + 1;
	} else {
		he = memchr(a, ':', (size_t)(end - a));
		if (he == NULL)
			he = end;
		a = he;
	}
	if ((size_t)(he - h) >= size || he == h)
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	*port = https ? 443 : 80;
	if (a < end && *a == ':') {
		char *pe;
		long v = strtol(a + 1, &pe, 10);
		if (pe != end || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	} else if (a != end) {
		return -1;
	}
	return 0;
}

int pp_http_redirect_target(const struct pp_net_probe *p, const char *loc, struct pp_http_target *t,
			    char *host, size_t size)
{
	*t = (struct pp_http_target){.https = p->https, .port = p->port};
	snprintf(host, size, "%s", p->host);
	const char *rest = loc;
	if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0 ||
	    strncmp(loc, "//", 2) == 0) {
		if (loc[0] != '/')
			t->https = tolower((unsigned char)loc[4]) == 's';
		const char *a = strstr(loc, "//") + 2;
		const char *ae = a + strcspn(a, "/?#");
		if (split_authority(a, ae, t->https, host, size, &t->port) < 0)
			return -1;
		rest = ae;
	}
	if (rest[0] == '/' || rest[0] == '\0') {
		t->path = xstrdup(rest[0] ? rest : "/");
	} else {
		/* relative to the directory of the current path */
		const char *cur = p->path && p->path[0] == '/' ? p->path : "/";
		size_t dir = (size_t)(strrchr(cur, '/') - cur) + 1;
		t->path = xasprintf("%.*s%s", (int)dir, cur, rest);
	}
	return 0;
}

int pp_http_probe_verdict(const struct pp_net_probe *p, const char *buf, size_t len, int redirects,
			  struct pp_http_target *next, char *msg, size_t size)
{
	if (pp_http_probe_check(p, buf, len, msg, size) < 0)
		return PP_HTTP_FAILED;
	int code = pp_http_status_code(buf, len);
	if (code < 300)
		return PP_HTTP_OK;
	/* Go follows these (a GET stays a GET); kubelet only to the same host */
	bool follows = code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
	cleanup_free char *loc = follows ? header(buf, len, "Location") : NULL;
	char host[256];
	if (loc && loc[0] && pp_http_redirect_target(p, loc, next, host, sizeof(host)) == 0) {
		if (strcasecmp(host, p->host) == 0) {
			if (redirects < PP_HTTP_MAX_REDIRECTS)
				return PP_HTTP_REDIRECT;
			struct pp_net_probe at = *p;
			at.https = next->https;
			at.port = next->port;
			at.path = next->path;
			pp_http_probe_failed(&at, "stopped after 10 redirects", msg, size);
			free(next->path);
			next->path = NULL;
			return PP_HTTP_FAILED;
		}
		free(next->path);
		next->path = NULL;
	}
	const char *body = headers_end(buf, len);
	size_t blen = body ? len - (size_t)(body - buf) : 0;
	snprintf(msg, size, "Probe terminated redirects, Response body: %.*s", (int)blen,
		 body ? body : "");
	return PP_HTTP_WARNING;
}

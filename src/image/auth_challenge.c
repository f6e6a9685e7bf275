/* Owns the parsing of WWW-Authenticate header values (RFC 7235 section 4.1,
 * with RFC 7230's list and quoted-string rules) and the Bearer challenge's
 * realm, service and scopes (the Docker token authentication spec). The
 * header comes from whatever answered on the registry's address: every byte
 * is checked, nothing is trusted to be well formed. */
#include "image/auth_challenge.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

#define SCHEME_BEARER "Bearer"

/* The last ASCII code, not printable. */
#define ASCII_DEL 0x7f
struct cursor {
	const char *start, *p, *end;
};

/* RFC 7230 tchar */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 7235 token68 (without its trailing '='s) */
static bool is_token68_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~+/", c) != NULL);
}

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static size_t skip_ows(struct cursor *c)
{
	const char *from = c->p;
	while (!at_end(c) && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	return (size_t)(c->p - from);
}

/* Commas and whitespace between list elements (empty elements are allowed). */
static void skip_separators(struct cursor *c)
{
	while (!at_end(c) && (*c->p == ' ' || *c->p == '\t' || *c->p == ','))
		c->p++;
}

static size_t token_len(const struct cursor *c)
{
	size_t n = 0;
	while (c->p + n < c->end && is_tchar((unsigned char)c->p[n]))
		n++;
	return n;
}

__attribute__((format(printf, 3, 4))) static int
parse_error(const struct cursor *c, struct pp_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *what = xvasprintf(fmt, ap);
	va_end(ap);
	return pp_error_set(err, 0, "invalid WWW-Authenticate header: %s at offset %zu", what,
			    (size_t)(c->p - c->start));
}

/* At a parameter: a token, optional whitespace, then '='. */
static bool param_here(const struct cursor *c)
{
	struct cursor look = *c;
	size_t n = token_len(&look);
	if (n == 0)
		return false;
	look.p += n;
	skip_ows(&look);
	return !at_end(&look) && *look.p == '=';
}

/* At a token68 that ends the challenge: its characters, '='s, then the end
 * of the element ("realm=x" is a parameter, "abc==" a token68). */
static bool token68_here(const struct cursor *c)
{
	struct cursor look = *c;
	while (!at_end(&look) && is_token68_char((unsigned char)*look.p))
		look.p++;
	if (look.p == c->p)
		return false;
	while (!at_end(&look) && *look.p == '=')
		look.p++;
	skip_ows(&look);
	return at_end(&look) || *look.p == ',';
}

/* quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, the cursor at the
 * opening quote; *out gets the content unescaped. */
static int parse_quoted(struct cursor *c, char **out, struct pp_error **err)
{
	cleanup_free char *v = xmalloc((size_t)(c->end - c->p));
	size_t n = 0;
	c->p++;
	for (;;) {
		if (at_end(c))
			return parse_error(c, err, "unterminated quoted string");
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"')
			break;
		if (ch == '\\') {
			c->p++;
			if (at_end(c))
				return parse_error(c, err, "unterminated quoted string");
			ch = (unsigned char)*c->p;
		}
		/* qdtext and quoted-pair: HTAB, SP, visible characters, obs-text */
		if (ch != '\t' && (ch < ' ' || ch == ASCII_DEL))
			return parse_error(c, err, "control character in a quoted string");
		v[n++] = (char)ch;
		c->p++;
	}
	c->p++;
	v[n] = '\0';
	*out = steal_ptr(&v);
	return 0;
}

static char *take(struct cursor *c, size_t n)
{
	char *s = xmalloc(n + 1);
	memcpy(s, c->p, n);
	c->p += n;
	return s;
}

/* NAME OWS "=" OWS ( token / quoted-string ) */
static int parse_param(struct cursor *c, struct pp_auth_challenge *ch, struct pp_error **err)
{
	size_t n = token_len(c);
	if (n == 0)
		return parse_error(c, err, "expected a parameter name");
	if (ch->n_params == PP_AUTH_PARAMS_MAX)
		return parse_error(c, err, "too many parameters in one challenge");
	cleanup_free char *name = take(c, n);
	cleanup_free char *value = NULL;
	skip_ows(c);
	if (at_end(c) || *c->p != '=')
		return parse_error(c, err, "expected '=' after a parameter name");
	c->p++;
	skip_ows(c);
	if (!at_end(c) && *c->p == '"') {
		if (parse_quoted(c, &value, err) < 0)
			return -1;
	} else {
		n = token_len(c);
		if (n == 0)
			return parse_error(c, err,
					   "expected a token or a quoted string as the value");
		value = take(c, n);
	}
	if (pp_auth_challenge_param(ch, name) != NULL)
		return parse_error(c, err, "parameter \"%s\" given twice in one challenge", name);
	ch->params = xrealloc(ch->params, (ch->n_params + 1) * sizeof(*ch->params));
	ch->params[ch->n_params].name = steal_ptr(&name);
	ch->params[ch->n_params].value = steal_ptr(&value);
	ch->n_params++;
	return 0;
}

/* The parameters after the scheme, up to the next challenge's scheme. */
static int parse_params(struct cursor *c, struct pp_auth_challenge *ch, struct pp_error **err)
{
	for (;;) {
		if (parse_param(c, ch, err) < 0)
			return -1;
		skip_ows(c);
		if (at_end(c))
			return 0;
		if (*c->p != ',')
			return parse_error(c, err, "expected ',' after a parameter");
		skip_separators(c);
		/* a comma also separates challenges: a token not followed by '='
		 * is the next one's scheme */
		if (at_end(c) || !param_here(c))
			return 0;
	}
}

/* auth-scheme [ 1*SP ( token68 / #auth-param ) ] */
static int parse_challenge(struct cursor *c, struct pp_auth_challenge *ch, struct pp_error **err)
{
	size_t n = token_len(c);
	if (n == 0)
		return parse_error(c, err, "expected an authentication scheme");
	ch->scheme = take(c, n);
	size_t space = skip_ows(c);
	if (at_end(c) || *c->p == ',')
		return 0;
	if (space == 0)
		return parse_error(c, err, "expected a space after the authentication scheme");
	if (!token68_here(c))
		return parse_params(c, ch, err);
	const char *from = c->p;
	while (!at_end(c) && (is_token68_char((unsigned char)*c->p) || *c->p == '='))
		c->p++;
	size_t len = (size_t)(c->p - from);
	c->p = from;
	ch->token68 = take(c, len);
	/* only another challenge may follow: "realm=, service=s" is an empty
	 * value, not a token68 */
	struct cursor look = *c;
	skip_separators(&look);
	if (param_here(&look))
		return parse_error(&look, err, "a parameter after a token68 (or an empty value)");
	return 0;
}

int pp_auth_challenges_parse(const char *header, size_t len, struct pp_auth_challenges *out,
			     struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	if (header == NULL)
		return pp_error_set(err, 0, "invalid WWW-Authenticate header: no challenge");
	if (len > PP_AUTH_HEADER_MAX)
		return pp_error_set(err, 0, "invalid WWW-Authenticate header: longer than %d bytes",
				    PP_AUTH_HEADER_MAX);
	struct cursor c = {header, header, header + len};
	for (;;) {
		skip_separators(&c);
		if (at_end(&c))
			break;
		if (out->n == PP_AUTH_CHALLENGES_MAX) {
			parse_error(&c, err, "too many challenges");
			goto fail;
		}
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
		memset(&out->items[out->n], 0, sizeof(out->items[out->n]));
		out->n++;
		if (parse_challenge(&c, &out->items[out->n - 1], err) < 0)
			goto fail;
	}
	if (out->n == 0)
		return pp_error_set(err, 0, "invalid WWW-Authenticate header: no challenge");
	return 0;
fail:
	pp_auth_challenges_free(out);
	return -1;
}

void pp_auth_challenges_free(struct pp_auth_challenges *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct pp_auth_challenge *ch = &c->items[i];
		for (size_t j = 0; j < ch->n_params; j++) {
			free(ch->params[j].name);
			free(ch->params[j].value);
		}
		free(ch->params);
		free(ch->scheme);
		free(ch->token68);
	}
	free(c->items);
	memset(c, 0, sizeof(*c));
}

const struct pp_auth_challenge *pp_auth_challenge_find(const struct pp_auth_challenges *c,
						       const char *scheme)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->items[i].scheme, scheme) == 0)
			return &c->items[i];
	return NULL;
}

const char *pp_auth_challenge_param(const struct pp_auth_challenge *ch, const char *name)
{
	for (size_t i = 0; i < ch->n_params; i++)
		if (strcasecmp(ch->params[i].name, name) == 0)
			return ch->params[i].value;
	return NULL;
}

/* scope="repository:a:pull repository:b:pull,push": space-separated. */
static int split_scopes(const char *scope, struct pp_auth_bearer *b, struct pp_error **err)
{
	b->scopes = xmalloc(sizeof(*b->scopes));
	for (const char *s = scope; s && *s;) {
		size_t n = strcspn(s, " ");
		if (n > 0) {
			if (b->n_scopes == PP_AUTH_SCOPES_MAX)
				return pp_error_set(err, 0,
						    "WWW-Authenticate: more than %d scopes in one "
						    "Bearer challenge",
						    PP_AUTH_SCOPES_MAX);
			b->scopes = xrealloc(b->scopes, (b->n_scopes + 2) * sizeof(*b->scopes));
			b->scopes[b->n_scopes] = xmalloc(n + 1);
			memcpy(b->scopes[b->n_scopes], s, n);
			b->scopes[++b->n_scopes] = NULL;
		}
		s += n + (s[n] == ' ');
	}
	return 0;
}

int pp_auth_bearer_get(const struct pp_auth_challenges *c, struct pp_auth_bearer *out,
		       struct pp_error **err)
{
	memset(out, 0, sizeof(*out));
	const struct pp_auth_challenge *ch = pp_auth_challenge_find(c, SCHEME_BEARER);
	if (ch == NULL)
		return pp_error_set(err, 0, "WWW-Authenticate: no Bearer challenge");
	const char *realm = pp_auth_challenge_param(ch, "realm");
	if (realm == NULL || *realm == '\0')
		return pp_error_set(err, 0, "WWW-Authenticate: Bearer challenge without a realm");
	const char *service = pp_auth_challenge_param(ch, "service");
	out->realm = xstrdup(realm);
	out->service = service ? xstrdup(service) : NULL;
	if (split_scopes(pp_auth_challenge_param(ch, "scope"), out, err) < 0) {
		pp_auth_bearer_free(out);
		return -1;
	}
	return 0;
}

void pp_auth_bearer_free(struct pp_auth_bearer *b)
{
	free(b->realm);
	free(b->service);
	for (size_t i = 0; i < b->n_scopes; i++)
		free(b->scopes[i]);
	free(b->scopes);
	memset(b, 0, sizeof(*b));
}

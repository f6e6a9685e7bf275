/* A strict reader of the part of TOML 1.0 that containers' configuration
 * files use (see toml.h). One pass, no backtracking: each function reads
 * one production at p->pos and fails with FILE:LINE:COL. */
#include "util/toml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"

/* A key of dotted headers and dotted keys ("registry.mirror"): parts at most */
#define KEY_PARTS_MAX 16

struct parser {
	const char *file;
	const char *s;
	size_t len, pos;
	int line;
	size_t line_start;
	struct pp_toml_value *root, *current;
};

static int fail_at(struct parser *p, size_t pos, struct pp_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *p, size_t pos, struct pp_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return pp_error_set(err, EINVAL, "%s:%d:%zu: %s", p->file, p->line, pos - p->line_start + 1,
			    msg);
}

#define FAIL(p, err, ...) fail_at(p, (p)->pos, err, __VA_ARGS__)

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const struct parser *p, size_t off)
{
	return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

const char *pp_toml_type_name(enum pp_toml_type t)
{
	switch (t) {
	case PP_TOML_STRING:
		return "a string";
	case PP_TOML_BOOL:
		return "a boolean";
	case PP_TOML_INT:
		return "an integer";
	case PP_TOML_ARRAY:
		return "an array";
	case PP_TOML_TABLE:
		return "a table";
	default:
		return "?";
	}
}

static struct pp_toml_value *new_value(enum pp_toml_type type, const struct parser *p)
{
	struct pp_toml_value *v = xmalloc(sizeof(*v));
	v->type = type;
	v->line = p->line;
	v->col = (int)(p->pos - p->line_start + 1);
	return v;
}

void pp_toml_free(struct pp_toml_value *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		pp_toml_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const struct pp_toml_value *pp_toml_get(const struct pp_toml_value *table, const char *key)
{
	if (table == NULL || table->type != PP_TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < table->n; i++)
		if (strcmp(table->keys[i], key) == 0)
			return table->items[i];
	return NULL;
}

static void append(struct pp_toml_value *to, char *key, struct pp_toml_value *v)
{
	to->items = xrealloc(to->items, (to->n + 1) * sizeof(*to->items));
	to->items[to->n] = v;
	if (to->type == PP_TOML_TABLE) {
		to->keys = xrealloc(to->keys, (to->n + 1) * sizeof(*to->keys));
		to->keys[to->n] = key;
	}
	to->n++;
}

/* ---- lexical pieces ---- */

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

static void newline(struct parser *p)
{
	p->pos++;
	p->line++;
	p->line_start = p->pos;
}

/* A comment runs to the end of its line; control characters but tab are
 * refused there as everywhere. */
static int skip_comment(struct parser *p, struct pp_error **err)
{
	if (peek(p) != '#')
		return 0;
	for (int c; (c = peek(p)) != -1 && c != '\n'; p->pos++)
		if ((c < 0x20 && c != '\t' && !(c == '\r' && peek_at(p, 1) == '\n')) || c == 0x7f)
			return FAIL(p, err, "control character 0x%02x in a comment", c);
	return 0;
}

/* After a key/value pair or a header: blanks, a comment, then the line's
 * end. */
static int end_of_line(struct parser *p, struct pp_error **err)
{
	skip_ws(p);
	if (skip_comment(p, err) < 0)
		return -1;
	if (peek(p) == '\r' && peek_at(p, 1) == '\n')
		p->pos++;
	if (peek(p) == -1)
		return 0;
	if (peek(p) != '\n')
		return FAIL(p, err, "expected the end of the line, found '%c'", peek(p));
	newline(p);
	return 0;
}

/* Blanks, comments and newlines (inside arrays). */
static int skip_space(struct parser *p, struct pp_error **err)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p, err) < 0)
			return -1;
		if (peek(p) == '\r' && peek_at(p, 1) == '\n')
			p->pos++;
		if (peek(p) != '\n')
			return 0;
		newline(p);
	}
}

static bool bare_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static void put_utf8(char **buf, size_t *n, uint32_t cp)
{
	unsigned char b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	*buf = xrealloc(*buf, *n + k + 1);
	memcpy(*buf + *n, b, k);
	*n += k;
	(*buf)[*n] = '\0';
}

static int escape(struct parser *p, char **buf, size_t *n, struct pp_error **err)
{
	size_t at = p->pos;
	p->pos++; /* the backslash */
	int c = peek(p);
	const char *simple = "b\bt\tn\nf\fr\r\"\"\\\\";
	for (const char *e = simple; *e; e += 2)
		if (c == e[0]) {
			p->pos++;
			put_utf8(buf, n, (unsigned char)e[1]);
			return 0;
		}
	if (c != 'u' && c != 'U')
		return fail_at(p, at, err, "unknown escape sequence");
	int digits = c == 'u' ? 4 : 8;
	p->pos++;
	uint32_t cp = 0;
	for (int i = 0; i < digits; i++, p->pos++) {
		int h = peek(p);
		int v = h >= '0' && h <= '9'   ? h - '0'
			: h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10
					       : -1;
		if (v < 0)
			return fail_at(p, at, err, "\\%c wants %d hexadecimal digits", c, digits);
		cp = cp * 16 + (uint32_t)v;
	}
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail_at(p, at, err, "escape of an invalid or NUL code point");
	put_utf8(buf, n, cp);
	return 0;
}

/* A basic ("...") or literal ('...') string, on one line. */
static int string(struct parser *p, char **out, struct pp_error **err)
{
	int quote = peek(p);
	size_t start = p->pos;
	if (peek_at(p, 1) == quote && peek_at(p, 2) == quote)
		return FAIL(p, err, "multi-line strings are not supported");
	p->pos++;
	char *buf = xstrdup("");
	size_t n = 0;
	for (;;) {
		int c = peek(p);
		if (c == quote) {
			p->pos++;
			*out = buf;
			return 0;
		}
		int r = 0;
		if (c == -1 || c == '\n' || c == '\r')
			r = fail_at(p, start, err, "string not closed on its line");
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			r = FAIL(p, err, "control character 0x%02x in a string", c);
		else if (c == '\\' && quote == '"')
			r = escape(p, &buf, &n, err);
		else {
			/* byte by byte: UTF-8 was checked up front */
			buf = xrealloc(buf, n + 2);
			buf[n++] = (char)c;
			buf[n] = '\0';
			p->pos++;
		}
		if (r < 0) {
			free(buf);
			return -1;
		}
	}
}

/* key ( "." key )*: bare or quoted parts; parts[] malloc'ed. */
static int key_path(struct parser *p, char **parts, size_t *n_parts, struct pp_error **err)
{
	*n_parts = 0;
	for (;;) {
		skip_ws(p);
		char *part = NULL;
		int c = peek(p);
		if (c == '"' || c == '\'') {
			if (string(p, &part, err) < 0)
				return -1;
		} else if (bare_key_char(c)) {
			size_t start = p->pos;
			while (bare_key_char(peek(p)))
				p->pos++;
			part = strndup(p->s + start, p->pos - start);
			if (part == NULL)
				abort();
		} else
			return FAIL(p, err,
				    c == -1 ? "expected a key" : "expected a key, found '%c'", c);
		if (*n_parts == KEY_PARTS_MAX) {
			free(part);
			return FAIL(p, err, "a key of more than %d parts", KEY_PARTS_MAX);
		}
		parts[(*n_parts)++] = part;
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
	}
}

static void free_parts(char **parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
}

/* ---- values ---- */

static int value(struct parser *p, int depth, struct pp_toml_value **out, struct pp_error **err);

static int integer(struct parser *p, struct pp_toml_value **out, struct pp_error **err)
{
	size_t start = p->pos;
	bool neg = false;
	if (peek(p) == '+' || peek(p) == '-')
		neg = p->s[p->pos++] == '-';
	if (peek(p) == '0' &&
	    (peek_at(p, 1) == 'x' || peek_at(p, 1) == 'o' || peek_at(p, 1) == 'b'))
		return FAIL(p, err, "hexadecimal, octal and binary integers are not supported");
	if (peek(p) == 'i' || peek(p) == 'n')
		return fail_at(p, start, err, "floats are not supported");
	uint64_t v = 0;
	size_t digits = 0;
	bool leading_zero = peek(p) == '0';
	for (;;) {
		int c = peek(p);
		if (c == '_' && digits > 0 && peek_at(p, 1) >= '0' && peek_at(p, 1) <= '9') {
			p->pos++;
			continue;
		}
		if (c < '0' || c > '9')
			break;
		if (v > (UINT64_MAX - 9) / 10)
			return fail_at(p, start, err, "integer out of range");
		v = v * 10 + (uint64_t)(c - '0');
		digits++;
		p->pos++;
	}
	int c = peek(p);
	if (c == '.' || c == 'e' || c == 'E')
		return fail_at(p, start, err, "floats are not supported");
	if (c == ':' || (c == '-' && digits == 4))
		return fail_at(p, start, err, "dates and times are not supported");
	if (digits == 0 || bare_key_char(c))
		return fail_at(p, start, err, "not a value (strings are quoted)");
	if (leading_zero && digits > 1)
		return fail_at(p, start, err, "an integer with a leading zero");
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return fail_at(p, start, err, "integer out of range");
	struct pp_toml_value *r = new_value(PP_TOML_INT, p);
	r->col = (int)(start - p->line_start + 1);
	r->integer = neg ? (int64_t)(0 - v) : (int64_t)v;
	*out = r;
	return 0;
}

static int array(struct parser *p, int depth, struct pp_toml_value **out, struct pp_error **err)
{
	struct pp_toml_value *a = new_value(PP_TOML_ARRAY, p);
	p->pos++; /* [ */
	for (;;) {
		if (skip_space(p, err) < 0)
			goto fail;
		if (peek(p) == ']')
			break;
		struct pp_toml_value *item;
		if (value(p, depth + 1, &item, err) < 0)
			goto fail;
		append(a, NULL, item);
		if (skip_space(p, err) < 0)
			goto fail;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != ']') {
			FAIL(p, err, "expected ',' or ']' in an array");
			goto fail;
		}
		break;
	}
	p->pos++;
	*out = a;
	return 0;
fail:
	pp_toml_free(a);
	return -1;
}

static int value(struct parser *p, int depth, struct pp_toml_value **out, struct pp_error **err)
{
	if (depth > PP_TOML_DEPTH_MAX)
		return FAIL(p, err, "arrays nested more than %d deep", PP_TOML_DEPTH_MAX);
	int c = peek(p);
	if (c == '"' || c == '\'') {
		struct pp_toml_value *v = new_value(PP_TOML_STRING, p);
		if (string(p, &v->str, err) < 0) {
			pp_toml_free(v);
			return -1;
		}
		*out = v;
		return 0;
	}
	if (c == 't' || c == 'f') {
		const char *word = c == 't' ? "true" : "false";
		size_t n = strlen(word);
		if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0 ||
		    bare_key_char(p->pos + n < p->len ? p->s[p->pos + n] : 0))
			return FAIL(p, err, "not a value (strings are quoted)");
		struct pp_toml_value *v = new_value(PP_TOML_BOOL, p);
		v->boolean = c == 't';
		p->pos += n;
		*out = v;
		return 0;
	}
	if (c == '[')
		return array(p, depth, out, err);
	if (c == '{')
		return FAIL(p, err, "inline tables are not supported (use a [table] header)");
	if (c == '+' || c == '-' || (c >= '0' && c <= '9') || c == 'i' || c == 'n')
		return integer(p, out, err);
	return FAIL(p, err,
		    c == -1 || c == '\n' ? "expected a value" : "not a value (strings are quoted)");
}

/* ---- tables ---- */

/* The table key names inside t, made (implicitly) when absent; an array of
 * tables gives its last table. */
static int sub_table(struct parser *p, struct pp_toml_value *t, char *key, size_t at,
		     struct pp_toml_value **out, struct pp_error **err)
{
	struct pp_toml_value *v = (struct pp_toml_value *)pp_toml_get(t, key);
	if (v == NULL) {
		v = new_value(PP_TOML_TABLE, p);
		append(t, xstrdup(key), v);
	} else if (v->type == PP_TOML_ARRAY && v->array_of_tables)
		v = v->items[v->n - 1];
	else if (v->type != PP_TOML_TABLE)
		return fail_at(p, at, err, "\"%s\" is %s, not a table", key,
			       pp_toml_type_name(v->type));
	*out = v;
	return 0;
}

static int header(struct parser *p, struct pp_error **err)
{
	size_t at = p->pos;
	bool aot = peek_at(p, 1) == '[';
	p->pos += aot ? 2 : 1;
	char *parts[KEY_PARTS_MAX];
	size_t n = 0;
	int r = key_path(p, parts, &n, err);
	if (r == 0 && (peek(p) != ']' || (aot && peek_at(p, 1) != ']')))
		r = FAIL(p, err, aot ? "expected ']]'" : "expected ']'");
	struct pp_toml_value *t = p->root;
	for (size_t i = 0; r == 0 && i + 1 < n; i++)
		r = sub_table(p, t, parts[i], at, &t, err);
	if (r == 0) {
		const char *last = parts[n - 1];
		struct pp_toml_value *v = (struct pp_toml_value *)pp_toml_get(t, last);
		if (aot) {
			if (v == NULL) {
				v = new_value(PP_TOML_ARRAY, p);
				v->array_of_tables = true;
				append(t, xstrdup(last), v);
			} else if (v->type != PP_TOML_ARRAY || !v->array_of_tables)
				r = fail_at(p, at, err, "\"%s\" is %s, not an array of tables",
					    last, pp_toml_type_name(v->type));
			if (r == 0) {
				struct pp_toml_value *nt = new_value(PP_TOML_TABLE, p);
				nt->col = (int)(at - p->line_start + 1);
				nt->header = true;
				append(v, NULL, nt);
				p->current = nt;
			}
		} else if (v != NULL && (v->type != PP_TOML_TABLE || v->header))
			r = fail_at(p, at, err, "\"%s\" defined twice", last);
		else {
			if (v == NULL) {
				v = new_value(PP_TOML_TABLE, p);
				v->col = (int)(at - p->line_start + 1);
				append(t, xstrdup(last), v);
			}
			v->header = true;
			p->current = v;
		}
	}
	if (r == 0)
		p->pos += aot ? 2 : 1;
	free_parts(parts, n);
	return r;
}

static int key_value(struct parser *p, struct pp_error **err)
{
	size_t at = p->pos;
	char *parts[KEY_PARTS_MAX];
	size_t n = 0;
	int r = key_path(p, parts, &n, err);
	if (r == 0 && peek(p) != '=')
		r = FAIL(p, err, "expected '=' after a key");
	struct pp_toml_value *t = p->current;
	for (size_t i = 0; r == 0 && i + 1 < n; i++) {
		const struct pp_toml_value *v = pp_toml_get(t, parts[i]);
		if (v != NULL && v->type != PP_TOML_TABLE)
			r = fail_at(p, at, err, "\"%s\" is %s, not a table", parts[i],
				    pp_toml_type_name(v->type));
		else
			r = sub_table(p, t, parts[i], at, &t, err);
	}
	if (r == 0 && pp_toml_get(t, parts[n - 1]) != NULL)
		r = fail_at(p, at, err, "\"%s\" defined twice", parts[n - 1]);
	struct pp_toml_value *v = NULL;
	if (r == 0) {
		p->pos++;
		skip_ws(p);
		r = value(p, 0, &v, err);
	}
	if (r == 0) {
		append(t, parts[n - 1], v);
		parts[n - 1] = NULL;
	}
	free_parts(parts, n);
	return r;
}

/* ---- input ---- */

/* Valid UTF-8 without NUL, checked once so that the rest reads bytes. */
static int check_utf8(struct parser *p, struct pp_error **err)
{
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = 0; i < p->len;) {
		unsigned char c = s[i];
		size_t k = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;
		bool ok = k != 0 && i + k <= p->len && c != 0;
		for (size_t j = 1; ok && j < k; j++) {
			ok = (s[i + j] & 0xc0) == 0x80;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (ok && k > 1)
			ok = cp >= (k == 2   ? 0x80u
				    : k == 3 ? 0x800u
					     : 0x10000u) &&
			     cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
		if (!ok) {
			p->pos = i;
			return FAIL(p, err, c == 0 ? "a NUL byte" : "not UTF-8");
		}
		if (c == '\n') {
			p->line++;
			p->line_start = i + 1;
		}
		i += k;
	}
	p->line = 1;
	p->line_start = 0;
	p->pos = 0;
	return 0;
}

int pp_toml_parse(const char *data, size_t len, const char *file, struct pp_toml_value **out,
		  struct pp_error **err)
{
	struct parser p = {.file = file, .s = data, .len = len, .line = 1};
	if (check_utf8(&p, err) < 0)
		return -1;
	p.root = new_value(PP_TOML_TABLE, &p);
	p.current = p.root;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		p.pos = p.line_start = 3; /* a byte order mark */
	while (peek(&p) != -1) {
		skip_ws(&p);
		int c = peek(&p), r;
		if (c == '#' || c == '\n' || c == '\r' || c == -1)
			r = end_of_line(&p, err);
		else if (c == '[')
			r = header(&p, err);
		else
			r = key_value(&p, err);
		if (r == 0 && c != '#' && c != '\n' && c != '\r' && c != -1)
			r = end_of_line(&p, err);
		if (r < 0) {
			pp_toml_free(p.root);
			return -1;
		}
	}
	*out = p.root;
	return 0;
}

int pp_toml_parse_file(const char *path, struct pp_toml_value **out, struct pp_error **err)
{
	cleanup_free char *buf = NULL;
	size_t n = 0;
	if (pp_read_file(path, PP_TOML_FILE_MAX, &buf, &n, err) < 0)
		return -1;
	return pp_toml_parse(buf, n, path, out, err);
}

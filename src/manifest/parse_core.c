/* The generic half of the schema walk: typed scalar readers, the table-driven
 * map walk and error formatting. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "manifest/parse_internal.h"
#include "util/cleanup.h"

int perr(struct pctx *c, struct pp_pos pos, const char *path, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	return pp_error_set(c->err, 0, "%s:%d:%d: %s%s: %s", c->source, pos.line, pos.col,
			    c->prefix ? c->prefix : "", path, msg);
}

int perr_key(struct pctx *c, const struct pp_ynode *n, const char *path, const char *key,
	     const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	cleanup_free char *p = path_key(path, key);
	return perr(c, pp_ymap_get(n, key)->pos, p, "%s", msg);
}

char *path_key(const char *path, const char *key)
{
	return path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

char *path_index(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path, i);
}

static bool in_list(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

static bool all_digits(const char *s, const char *set)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return false;
	return true;
}

/* go-yaml's float form: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
	static const char *const specials[] = {".inf",	".Inf", ".INF", "+.inf", "-.inf", "+.Inf",
					       "-.Inf", ".nan", ".NaN", ".NAN",	 NULL};
	if (in_list(s, specials))
		return true;
	if (*s == '+' || *s == '-')
		s++;
	size_t before = strspn(s, "0123456789");
	s += before;
	size_t after = 0;
	if (*s == '.') {
		after = strspn(s + 1, "0123456789");
		s += 1 + after;
	}
	if (before == 0 && after == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		return all_digits(s, "0123456789");
	}
	return *s == '\0';
}

static bool is_int(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return all_digits(s + 2, "0123456789abcdefABCDEF");
	return all_digits(s, "0123456789");
}

enum yscalar yscalar_type(const struct pp_ynode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const bools[] = {"y",    "Y",     "yes",   "Yes",   "YES",  "n",
					    "N",    "no",    "No",    "NO",    "true", "True",
					    "TRUE", "false", "False", "FALSE", "on",   "On",
					    "ON",   "off",   "Off",   "OFF",   NULL};
	if (!n->plain)
		return YS_STRING;
	if (in_list(n->value, nulls))
		return YS_NULL;
	if (in_list(n->value, bools))
		return YS_BOOL;
	if (is_int(n->value))
		return YS_INT;
	if (is_float(n->value))
		return YS_FLOAT;
	return YS_STRING;
}

bool ynode_is_null(const struct pp_ynode *n)
{
	return n->kind == PP_YSCALAR && yscalar_type(n) == YS_NULL;
}

const char *ynode_type_name(const struct pp_ynode *n)
{
	if (n->kind == PP_YMAP)
		return "map";
	if (n->kind == PP_YSEQ)
		return "sequence";
	switch (yscalar_type(n)) {
	case YS_NULL:
		return "null";
	case YS_BOOL:
		return "boolean";
	case YS_INT:
	case YS_FLOAT:
		return "number";
	case YS_STRING:
	default:
		return "string";
	}
}

int expect_kind(struct pctx *c, const struct pp_ynode *n, const char *path, enum pp_ynode_kind kind)
{
	static const char *const names[] = {
	    [PP_YSCALAR] = "scalar", [PP_YMAP] = "map", [PP_YSEQ] = "sequence"};
	if (n->kind == kind)
		return 0;
	return perr(c, n->pos, path, "expected %s, got %s", names[kind], ynode_type_name(n));
}

int get_string(struct pctx *c, const struct pp_ynode *n, const char *path, char **out)
{
	if (n->kind != PP_YSCALAR || yscalar_type(n) != YS_STRING) {
		if (n->kind == PP_YSCALAR && yscalar_type(n) != YS_NULL)
			return perr(c, n->pos, path,
				    "expected string, got %s %s (quote it: \"%s\")",
				    ynode_type_name(n), n->value, n->value);
		return perr(c, n->pos, path, "expected string, got %s", ynode_type_name(n));
	}
	free(*out);
	*out = xstrdup(n->value);
	return 0;
}

int get_bool(struct pctx *c, const struct pp_ynode *n, const char *path, bool *out)
{
	static const char *const truths[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
					     "True", "TRUE", "on",  "On",  "ON",  NULL};
	if (n->kind != PP_YSCALAR || yscalar_type(n) != YS_BOOL)
		return perr(c, n->pos, path, "expected boolean, got %s", ynode_type_name(n));
	*out = in_list(n->value, truths);
	return 0;
}

static int range_error(struct pctx *c, const struct pp_ynode *n, const char *path, int64_t min,
		       int64_t max)
{
	if (max == INT64_MAX)
		return perr(c, n->pos, path, "must be greater than or equal to %" PRId64, min);
	return perr(c, n->pos, path, "must be between %" PRId64 " and %" PRId64 ", inclusive", min,
		    max);
}

int get_int64(struct pctx *c, const struct pp_ynode *n, const char *path, int64_t min, int64_t max,
	      int64_t *out)
{
	if (n->kind != PP_YSCALAR || yscalar_type(n) != YS_INT)
		return perr(c, n->pos, path, "expected integer, got %s%s%s%s", ynode_type_name(n),
			    n->value ? " \"" : "", n->value ? n->value : "", n->value ? "\"" : "");
	errno = 0;
	const char *s = n->value;
	bool hex = strstr(s, "0x") != NULL || strstr(s, "0X") != NULL;
	/* YAML 1.1, as the API server's decoder: 0644 is octal (file modes) */
	const char *digits = s + (*s == '+' || *s == '-');
	bool octal =
	    digits[0] == '0' && digits[1] != '\0' && strspn(digits, "01234567") == strlen(digits);
	long long v = strtoll(s, NULL, hex ? 16 : octal ? 8 : 10);
	if (errno == ERANGE || v < min || v > max)
		return range_error(c, n, path, min, max);
	*out = v;
	return 0;
}

int get_strv(struct pctx *c, const struct pp_ynode *n, const char *path, char ***out)
{
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	strv_free(*out);
	*out = xmalloc((n->n + 1) * sizeof(char *));
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = path_index(path, i);
		if (get_string(c, n->child[i], p, &(*out)[i]) < 0)
			return -1;
	}
	return 0;
}

int get_enum(struct pctx *c, const struct pp_ynode *n, const char *path, const char *const *words,
	     int *out)
{
	cleanup_free char *s = NULL;
	if (get_string(c, n, path, &s) < 0)
		return -1;
	for (int i = 0; words[i]; i++) {
		if (strcmp(s, words[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	char list[256] = "";
	for (int i = 0; words[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
			 i ? ", " : "", words[i]);
	return perr(c, n->pos, path, "unsupported value \"%s\": supported values: %s", s, list);
}

int get_quantity(struct pctx *c, const struct pp_ynode *n, const char *path,
		 struct pp_quantity *out)
{
	cleanup_error struct pp_error *qerr = NULL;
	enum yscalar t = n->kind == PP_YSCALAR ? yscalar_type(n) : YS_NULL;
	if (t != YS_STRING && t != YS_INT && t != YS_FLOAT)
		return perr(c, n->pos, path, "expected quantity, got %s", ynode_type_name(n));
	if (pp_quantity_parse(n->value, out, &qerr) < 0)
		return perr(c, n->pos, path, "%s", qerr->msg);
	if (out->milli < 0)
		return perr(c, n->pos, path, "must be greater than or equal to 0");
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct pp_ynode *const *x = a, *const *y = b;
	int r = strcmp((*x)->value, (*y)->value);
	if (r != 0)
		return r;
	return (*x)->pos.line != (*y)->pos.line ? (*x)->pos.line - (*y)->pos.line
						: (*x)->pos.col - (*y)->pos.col;
}

static bool pos_before(struct pp_pos a, struct pp_pos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

/* Sorting keeps this O(n log n) for hostile maps with many keys. Reports the
 * repeated key that comes first in the document. */
int check_duplicate_keys(struct pctx *c, const struct pp_ynode *n, const char *path)
{
	size_t len = pp_ymap_len(n);
	if (len < 2)
		return 0;
	cleanup_free const struct pp_ynode **keys = xmalloc(len * sizeof(*keys));
	for (size_t i = 0; i < len; i++)
		keys[i] = n->child[2 * i];
	qsort(keys, len, sizeof(*keys), cmp_keys);
	const struct pp_ynode *first = NULL;
	for (size_t i = 1; i < len; i++)
		if (strcmp(keys[i]->value, keys[i - 1]->value) == 0 &&
		    (first == NULL || pos_before(keys[i]->pos, first->pos)))
			first = keys[i];
	if (first == NULL)
		return 0;
	cleanup_free char *p = path_key(path, first->value);
	return perr(c, first->pos, p, "duplicate field \"%s\"", first->value);
}

int get_string_map(struct pctx *c, const struct pp_ynode *n, const char *path, struct pp_kv **out,
		   size_t *count)
{
	if (expect_kind(c, n, path, PP_YMAP) < 0 || check_duplicate_keys(c, n, path) < 0)
		return -1;
	*count = pp_ymap_len(n);
	*out = xmalloc(*count * sizeof(**out));
	for (size_t i = 0; i < *count; i++) {
		const struct pp_ynode *k = n->child[2 * i], *v = n->child[2 * i + 1];
		cleanup_free char *p = path_key(path, k->value);
		(*out)[i].key = xstrdup(k->value);
		if (ynode_is_null(v))
			(*out)[i].value = xstrdup("");
		else if (get_string(c, v, p, &(*out)[i].value) < 0)
			return -1;
	}
	return 0;
}

void note_ignored(struct pctx *c, const char *path)
{
	struct pp_pod *pod = c->pod;
	pod->ignored_fields = xrealloc(pod->ignored_fields, (c->n_ignored + 2) * sizeof(char *));
	pod->ignored_fields[c->n_ignored++] = xstrdup(path);
	pod->ignored_fields[c->n_ignored] = NULL;
}

static const struct field *find_field(const struct field *table, const char *key)
{
	for (; table->key; table++)
		if (strcmp(table->key, key) == 0)
			return table;
	return NULL;
}

static int walk_field(struct pctx *c, const struct field *f, const struct pp_ynode *key,
		      const struct pp_ynode *val, const char *p, void *obj)
{
	char *base = obj;
	int64_t v = 0;
	switch (f->kind) {
	case FK_STRING:
		return get_string(c, val, p, (char **)(base + f->off));
	case FK_BOOL:
		if (f->has_flag)
			*(bool *)(base + f->has_off) = true;
		return get_bool(c, val, p, (bool *)(base + f->off));
	case FK_INT32:
		if (get_int64(c, val, p, f->min, f->max ? f->max : INT32_MAX, &v) < 0)
			return -1;
		*(int32_t *)(base + f->off) = (int32_t)v;
		return 0;
	case FK_INT64:
		if (f->has_flag)
			*(bool *)(base + f->has_off) = true;
		return get_int64(c, val, p, f->min, f->max ? f->max : INT64_MAX,
				 (int64_t *)(base + f->off));
	case FK_STRV:
		return get_strv(c, val, p, (char ***)(base + f->off));
	case FK_FN:
		return f->fn(c, val, p, obj);
	case FK_IGNORED:
		if (expect_kind(c, val, p, f->shape) < 0)
			return -1;
		note_ignored(c, p);
		return 0;
	case FK_REFUSED:
		return perr(c, key->pos, p, "%s", f->msg);
	case FK_SKIP:
	default:
		return 0;
	}
}

static int check_required(struct pctx *c, const struct pp_ynode *n, const char *path,
			  const struct field *table)
{
	for (; table->key; table++) {
		if (!table->required)
			continue;
		const struct pp_ynode *v = pp_ymap_get(n, table->key);
		if (v == NULL || ynode_is_null(v)) {
			cleanup_free char *p = path_key(path, table->key);
			return perr(c, n->pos, p, "required field \"%s\" is missing", table->key);
		}
	}
	return 0;
}

int walk_map(struct pctx *c, const struct pp_ynode *n, const char *path, const struct field *table,
	     void *obj)
{
	if (expect_kind(c, n, path, PP_YMAP) < 0 || check_duplicate_keys(c, n, path) < 0)
		return -1;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct pp_ynode *key = n->child[i], *val = n->child[i + 1];
		const struct field *f = find_field(table, key->value);
		cleanup_free char *p = path_key(path, key->value);
		if (f == NULL)
			return perr(c, key->pos, p, "unknown field \"%s\"", key->value);
		if (ynode_is_null(val))
			continue; /* null means absent, as in the API's JSON */
		if (walk_field(c, f, key, val, p, obj) < 0)
			return -1;
	}
	return check_required(c, n, path, table);
}

int walk_seq(struct pctx *c, const struct pp_ynode *n, const char *path, size_t elem_size,
	     void **arr, size_t *count, elem_fn each)
{
	if (expect_kind(c, n, path, PP_YSEQ) < 0)
		return -1;
	char *elems = xmalloc(n->n * elem_size);
	*arr = elems;
	*count = n->n;
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *p = path_index(path, i);
		if (each(c, n->child[i], p, elems + i * elem_size) < 0)
			return -1;
	}
	return 0;
}

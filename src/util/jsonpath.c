/* kubectl's JSONPath (k8s.io/client-go/util/jsonpath): a template is a list
 * of nodes (text, path, range, end); a path a list of steps run over a list
 * of values. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/jsonpath.h"

enum step_kind { ST_FIELD, ST_SLICE, ST_WILD, ST_RECURSE, ST_FILTER };
enum cmp { CMP_EXISTS, CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct path {
	struct step *steps;
	size_t n;
};

struct step {
	enum step_kind kind;
	char *name; /* ST_FIELD */
	long start, end;
	bool has_start, has_end, single; /* ST_SLICE: [i] is single */
	/* ST_FILTER: [?(@.left OP literal)] */
	struct path left;
	enum cmp cmp;
	char *literal;
};

enum node_kind { N_TEXT, N_PATH, N_RANGE, N_END };

struct node {
	enum node_kind kind;
	char *text; /* N_TEXT; N_PATH/N_RANGE: the action as written */
	struct path path;
	size_t end; /* N_RANGE: the index of its N_END */
};

struct pp_jsonpath {
	struct node *nodes;
	size_t n;
};

struct vals {
	struct json_object **v;
	size_t n, cap;
};

static void vals_add(struct vals *l, struct json_object *o)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, sizeof(*l->v) * l->cap);
	}
	l->v[l->n++] = o;
}

static void path_free(struct path *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].name);
		free(p->steps[i].literal);
		path_free(&p->steps[i].left);
	}
	free(p->steps);
	*p = (struct path){0};
}

static struct step *path_add(struct path *p, enum step_kind kind)
{
	p->steps = xrealloc(p->steps, sizeof(*p->steps) * (p->n + 1));
	struct step *s = &p->steps[p->n++];
	*s = (struct step){.kind = kind};
	return s;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '/' || c == '$' ||
	       (unsigned char)c >= 0x80;
}

static int parse_path(const char *s, size_t len, struct path *p, struct pp_error **err);

/* "[...]" at s[*i] (s[*i] == '['). */
static int parse_bracket(const char *s, size_t len, size_t *i, struct path *p,
			 struct pp_error **err)
{
	size_t j = *i + 1;
	if (j < len && (s[j] == '\'' || s[j] == '"')) { /* ['key'] */
		char q = s[j];
		const char *close = memchr(s + j + 1, q, len - j - 1);
		if (close == NULL || (size_t)(close - s) + 1 >= len || close[1] != ']')
			return pp_error_set(err, 0, "unterminated quoted key in \"%.*s\"", (int)len,
					    s);
		path_add(p, ST_FIELD)->name = dup_n(s + j + 1, (size_t)(close - s) - j - 1);
		*i = (size_t)(close - s) + 2;
		return 0;
	}
	if (j < len && s[j] == '?') { /* [?(@.a == "x")] */
		size_t depth = 0, k = j + 1;
		char quote = 0;
		for (; k < len; k++) {
			if (quote) {
				quote = s[k] == quote ? 0 : quote;
				continue;
			}
			if (s[k] == '"' || s[k] == '\'')
				quote = s[k];
			else if (s[k] == '(')
				depth++;
			else if (s[k] == ')' && --depth == 0)
				break;
		}
		if (j + 1 >= len || s[j + 1] != '(' || k >= len || k + 1 >= len || s[k + 1] != ']')
			return pp_error_set(err, 0, "unterminated filter in \"%.*s\"", (int)len, s);
		struct step *st = path_add(p, ST_FILTER);
		const char *e = s + j + 2, *end = s + k;
		while (e < end && isspace((unsigned char)*e))
			e++;
		if (e >= end || *e != '@')
			return pp_error_set(err, 0, "a filter must start with @: \"%.*s\"",
					    (int)(end - e), e);
		const char *op = e + 1;
		while (op < end && !strchr("=!<> ", *op))
			op++;
		if (parse_path(e + 1, (size_t)(op - e - 1), &st->left, err) < 0)
			return -1;
		while (op < end && isspace((unsigned char)*op))
			op++;
		static const struct {
			const char *t;
			enum cmp c;
		} ops[] = {{"==", CMP_EQ}, {"!=", CMP_NE}, {"<=", CMP_LE},
			   {">=", CMP_GE}, {"<", CMP_LT},  {">", CMP_GT}};
		st->cmp = CMP_EXISTS;
		for (size_t o = 0; op < end && o < sizeof(ops) / sizeof(*ops); o++)
			if (strncmp(op, ops[o].t, strlen(ops[o].t)) == 0) {
				st->cmp = ops[o].c;
				op += strlen(ops[o].t);
				break;
			}
		if (st->cmp == CMP_EXISTS && op < end)
			return pp_error_set(err, 0, "unknown operator in filter \"%.*s\"",
					    (int)(end - e), e);
		if (st->cmp != CMP_EXISTS) {
			while (op < end && isspace((unsigned char)*op))
				op++;
			const char *le = end;
			while (le > op && isspace((unsigned char)le[-1]))
				le--;
			if (le - op >= 2 && (*op == '"' || *op == '\'') && le[-1] == *op)
				st->literal = dup_n(op + 1, (size_t)(le - op - 2));
			else if (le > op)
				st->literal = dup_n(op, (size_t)(le - op));
			else
				return pp_error_set(err, 0, "a filter's comparison needs a value");
		}
		*i = k + 2;
		return 0;
	}
	const char *close = memchr(s + j, ']', len - j);
	if (close == NULL)
		return pp_error_set(err, 0, "unterminated [ in \"%.*s\"", (int)len, s);
	size_t k = (size_t)(close - s);
	*i = k + 1;
	if (k == j + 1 && s[j] == '*') {
		path_add(p, ST_WILD);
		return 0;
	}
	/* [n], [a:b], [a:], [:b] */
	struct step *st = path_add(p, ST_SLICE);
	cleanup_free char *in = dup_n(s + j, k - j);
	char *colon = strchr(in, ':');
	if (colon)
		*colon = '\0';
	char *end = NULL;
	if (*in) {
		st->start = strtol(in, &end, 10);
		st->has_start = true;
		if (*end != '\0')
			return pp_error_set(err, 0, "bad array index \"%s\"", in);
	}
	st->single = colon == NULL;
	if (st->single && !st->has_start)
		return pp_error_set(err, 0, "empty array index in \"%.*s\"", (int)len, s);
	if (colon && colon[1]) {
		char *c2 = strchr(colon + 1, ':'); /* a step: ignored as kubectl's 1 */
		if (c2)
			*c2 = '\0';
		st->end = strtol(colon + 1, &end, 10);
		st->has_end = true;
		if (*end != '\0')
			return pp_error_set(err, 0, "bad array index \"%s\"", colon + 1);
	}
	return 0;
}

static int parse_path(const char *s, size_t len, struct path *p, struct pp_error **err)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	while (len > i && isspace((unsigned char)s[len - 1]))
		len--;
	if (i < len && (s[i] == '$' || s[i] == '@'))
		i++;
	while (i < len) {
		if (s[i] == '[') {
			if (parse_bracket(s, len, &i, p, err) < 0)
				return -1;
			continue;
		}
		if (s[i] != '.')
			return pp_error_set(err, 0, "unexpected \"%c\" in \"%.*s\"", s[i], (int)len,
					    s);
		i++;
		if (i < len && s[i] == '.') {
			path_add(p, ST_RECURSE);
			i++;
		}
		if (i < len && s[i] == '*') {
			path_add(p, ST_WILD);
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && name_char(s[i]))
			i++;
		if (i > start)
			path_add(p, ST_FIELD)->name = dup_n(s + start, i - start);
		else if (i < len && s[i] != '[')
			return pp_error_set(err, 0, "unexpected \"%c\" in \"%.*s\"", s[i], (int)len,
					    s);
	}
	return 0;
}

static struct node *add_node(struct pp_jsonpath *jp, enum node_kind kind)
{
	jp->nodes = xrealloc(jp->nodes, sizeof(*jp->nodes) * (jp->n + 1));
	struct node *n = &jp->nodes[jp->n++];
	*n = (struct node){.kind = kind};
	return n;
}

/* {"..."}: a string with Go's escapes \t \n \r \" \\ */
static char *unquote(const char *s, size_t len)
{
	char *d = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
		}
		d[n++] = c;
	}
	d[n] = '\0';
	return d;
}

/* One {action}, its text between the braces. */
static int parse_action(struct pp_jsonpath *jp, const char *a, size_t len, size_t *depth_stack,
			size_t *depth, struct pp_error **err)
{
	while (len > 0 && isspace((unsigned char)*a))
		a++, len--;
	while (len > 0 && isspace((unsigned char)a[len - 1]))
		len--;
	if (len >= 2 && a[0] == '"' && a[len - 1] == '"') {
		add_node(jp, N_TEXT)->text = unquote(a + 1, len - 2);
		return 0;
	}
	if (len == 3 && strncmp(a, "end", 3) == 0) {
		if (*depth == 0)
			return pp_error_set(err, 0, "{end} without a {range}");
		jp->nodes[depth_stack[--*depth]].end = jp->n;
		add_node(jp, N_END);
		return 0;
	}
	bool range = len > 6 && strncmp(a, "range", 5) == 0 && isspace((unsigned char)a[5]);
	if (range) {
		if (*depth >= 32)
			return pp_error_set(err, 0, "ranges nested too deep");
		depth_stack[(*depth)++] = jp->n;
		a += 6, len -= 6;
	}
	struct node *n = add_node(jp, range ? N_RANGE : N_PATH);
	n->text = dup_n(a, len);
	if (len == 0)
		return pp_error_set(err, 0, "an empty {}");
	return parse_path(a, len, &n->path, err);
}

static int parse_template(const char *text, struct pp_jsonpath *jp, struct pp_error **err)
{
	size_t stack[32], depth = 0;
	const char *p = text;
	while (*p) {
		const char *open = strchr(p, '{');
		if (open == NULL) {
			add_node(jp, N_TEXT)->text = xstrdup(p);
			break;
		}
		if (open > p)
			add_node(jp, N_TEXT)->text = dup_n(p, (size_t)(open - p));
		const char *q = open + 1;
		char quote = 0;
		for (; *q && (quote || *q != '}'); q++) {
			if (quote && *q == '\\' && q[1])
				q++;
			else if (quote)
				quote = *q == quote ? 0 : quote;
			else if (*q == '"' || *q == '\'')
				quote = *q;
		}
		if (*q != '}')
			return pp_error_set(err, 0, "unclosed action at \"%s\"", open);
		if (parse_action(jp, open + 1, (size_t)(q - open - 1), stack, &depth, err) < 0)
			return -1;
		p = q + 1;
	}
	if (depth > 0)
		return pp_error_set(err, 0, "a {range} without its {end}");
	return 0;
}

int pp_jsonpath_parse(const char *text, struct pp_jsonpath **out, struct pp_error **err)
{
	struct pp_jsonpath *jp = xmalloc(sizeof(*jp));
	*jp = (struct pp_jsonpath){0};
	if (parse_template(text, jp, err) < 0) {
		pp_jsonpath_free(jp);
		return pp_error_wrap(err, "bad jsonpath template \"%s\"", text);
	}
	*out = jp;
	return 0;
}

int pp_jsonpath_parse_relaxed(const char *text, struct pp_jsonpath **out, struct pp_error **err)
{
	size_t len = strlen(text);
	if (len >= 2 && text[0] == '{' && text[len - 1] == '}')
		return pp_jsonpath_parse(text, out, err);
	cleanup_free char *t = xasprintf(
	    "{%s%s}", text[0] == '.' || text[0] == '[' || text[0] == '\0' ? "" : ".", text);
	return pp_jsonpath_parse(t, out, err);
}

void pp_jsonpath_free(struct pp_jsonpath *jp)
{
	if (jp == NULL)
		return;
	for (size_t i = 0; i < jp->n; i++) {
		free(jp->nodes[i].text);
		path_free(&jp->nodes[i].path);
	}
	free(jp->nodes);
	free(jp);
}

/* --- running --- */

static void descend(struct json_object *o, struct vals *out)
{
	vals_add(out, o);
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (v)
				descend(v, out);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			descend(json_object_array_get_idx(o, i), out);
	}
}

static int run_path(const struct path *p, struct json_object *cur, bool allow_missing,
		    struct vals *out, struct pp_error **err);

static bool filter_holds(const struct step *st, struct json_object *elem)
{
	struct vals l = {0};
	if (run_path(&st->left, elem, true, &l, NULL) < 0 || l.n == 0 || l.v[0] == NULL) {
		free(l.v);
		return false;
	}
	struct json_object *v = l.v[0];
	free(l.v);
	if (st->cmp == CMP_EXISTS)
		return true;
	int c;
	char *end = NULL;
	double lit = strtod(st->literal, &end);
	if ((json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) &&
	    *st->literal && *end == '\0') {
		double d = json_object_get_double(v);
		c = d < lit ? -1 : d > lit ? 1 : 0;
	} else {
		c = strcmp(json_object_get_string(v), st->literal);
	}
	switch (st->cmp) {
	case CMP_EQ:
		return c == 0;
	case CMP_NE:
		return c != 0;
	case CMP_LT:
		return c < 0;
	case CMP_LE:
		return c <= 0;
	case CMP_GT:
		return c > 0;
	case CMP_GE:
		return c >= 0;
	case CMP_EXISTS:
	default:
		return true;
	}
}

static void run_slice(const struct step *st, struct json_object *o, struct vals *out)
{
	if (!json_object_is_type(o, json_type_array))
		return;
	long len = (long)json_object_array_length(o);
	long a = st->has_start ? st->start : 0;
	if (a < 0)
		a += len;
	if (st->single) {
		if (a >= 0 && a < len)
			vals_add(out, json_object_array_get_idx(o, (size_t)a));
		return;
	}
	long b = st->has_end ? st->end : len;
	if (b < 0)
		b += len;
	a = a < 0 ? 0 : a;
	b = b > len ? len : b;
	for (long i = a; i < b; i++)
		vals_add(out, json_object_array_get_idx(o, (size_t)i));
}

static int run_step(const struct step *st, const struct vals *in, bool lenient, struct vals *out,
		    struct pp_error **err)
{
	bool found = in->n == 0;
	for (size_t i = 0; i < in->n; i++) {
		struct json_object *o = in->v[i], *v = NULL;
		switch (st->kind) {
		case ST_FIELD:
			if (json_object_is_type(o, json_type_object) &&
			    json_object_object_get_ex(o, st->name, &v)) {
				vals_add(out, v);
				found = true;
			}
			break;
		case ST_SLICE:
			run_slice(st, o, out);
			found = true;
			break;
		case ST_WILD:
			if (json_object_is_type(o, json_type_object)) {
				json_object_object_foreach(o, k, x)
				{
					(void)k;
					vals_add(out, x);
				}
			} else if (json_object_is_type(o, json_type_array)) {
				for (size_t k = 0; k < json_object_array_length(o); k++)
					vals_add(out, json_object_array_get_idx(o, k));
			}
			found = true;
			break;
		case ST_RECURSE:
			descend(o, out);
			found = true;
			break;
		case ST_FILTER:
			for (size_t k = 0; json_object_is_type(o, json_type_array) &&
					   k < json_object_array_length(o);
			     k++) {
				struct json_object *e = json_object_array_get_idx(o, k);
				if (filter_holds(st, e))
					vals_add(out, e);
			}
			found = true;
			break;
		default:
			break;
		}
	}
	if (!found && !lenient)
		return pp_error_set(err, ENOENT, "%s is not found", st->name);
	return 0;
}

static int run_path(const struct path *p, struct json_object *cur, bool allow_missing,
		    struct vals *out, struct pp_error **err)
{
	struct vals a = {0};
	vals_add(&a, cur);
	bool lenient = allow_missing;
	for (size_t i = 0; i < p->n; i++) {
		struct vals b = {0};
		if (p->steps[i].kind == ST_RECURSE || p->steps[i].kind == ST_FILTER)
			lenient = true; /* what a search finds nothing of is no error */
		int r = run_step(&p->steps[i], &a, lenient, &b, err);
		free(a.v);
		a = b;
		if (r < 0) {
			free(a.v);
			return -1;
		}
	}
	*out = a;
	return 0;
}

static void print_value(struct json_object *v, FILE *f)
{
	if (v == NULL)
		return;
	if (json_object_is_type(v, json_type_string))
		fputs(json_object_get_string(v), f);
	else
		fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE),
		      f);
}

static int run_nodes(const struct pp_jsonpath *jp, size_t from, size_t to, struct json_object *cur,
		     bool allow_missing, FILE *f, struct pp_error **err)
{
	for (size_t i = from; i < to; i++) {
		const struct node *n = &jp->nodes[i];
		struct vals v = {0};
		switch (n->kind) {
		case N_TEXT:
			fputs(n->text, f);
			break;
		case N_PATH:
			if (run_path(&n->path, cur, allow_missing, &v, err) < 0)
				return -1;
			for (size_t k = 0; k < v.n; k++) {
				if (k > 0)
					fputc(' ', f);
				print_value(v.v[k], f);
			}
			free(v.v);
			break;
		case N_RANGE:
			if (run_path(&n->path, cur, allow_missing, &v, err) < 0)
				return -1;
			for (size_t k = 0; k < v.n; k++)
				if (run_nodes(jp, i + 1, n->end, v.v[k], allow_missing, f, err) <
				    0) {
					free(v.v);
					return -1;
				}
			free(v.v);
			i = n->end;
			break;
		case N_END:
		default:
			break;
		}
	}
	return 0;
}

int pp_jsonpath_print(const struct pp_jsonpath *jp, struct json_object *doc, bool allow_missing,
		      FILE *f, struct pp_error **err)
{
	return run_nodes(jp, 0, jp->n, doc, allow_missing, f, err);
}

struct json_object *pp_jsonpath_first(const struct pp_jsonpath *jp, struct json_object *doc)
{
	for (size_t i = 0; i < jp->n; i++) {
		if (jp->nodes[i].kind != N_PATH)
			continue;
		struct vals v = {0};
		if (run_path(&jp->nodes[i].path, doc, true, &v, NULL) < 0)
			return NULL;
		struct json_object *o = v.n > 0 ? v.v[0] : NULL;
		free(v.v);
		return o;
	}
	return NULL;
}

/* Label and field selectors, after k8s.io/apimachinery's labels.Parse (a
 * small lexer and a recursive-descent parser) and fields.ParseSelector. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/labelsel.h"

#define LABEL_NAME_MAX 63
#define LABEL_PREFIX_MAX 253

enum tok {
	T_END,
	T_ID,
	T_COMMA,
	T_NOT,
	T_EQ,
	T_EQEQ,
	T_NE,
	T_GT,
	T_LT,
	T_OPEN,
	T_CLOSE,
	T_IN,
	T_NOTIN
};

struct lexer {
	const char *s;
	size_t pos;
	char lit[512]; /* the last token's text, cut if longer */
};

static bool special(char c)
{
	return c == '!' || c == '=' || c == '>' || c == '<' || c == '(' || c == ')' || c == ',';
}

/* The next token; with peek, the position stays. */
static enum tok lex(struct lexer *l, bool peek)
{
	size_t p = l->pos;
	while (l->s[p] != '\0' && isspace((unsigned char)l->s[p]))
		p++;
	size_t start = p;
	enum tok t;
	char c = l->s[p];
	if (c == '\0') {
		t = T_END;
	} else if (special(c)) {
		char d = l->s[p + 1];
		p++;
		if ((c == '=' || c == '!') && d == '=') {
			p++;
			t = c == '=' ? T_EQEQ : T_NE;
		} else {
			t = c == '!'   ? T_NOT
			    : c == '=' ? T_EQ
			    : c == '>' ? T_GT
			    : c == '<' ? T_LT
			    : c == '(' ? T_OPEN
			    : c == ')' ? T_CLOSE
				       : T_COMMA;
		}
	} else {
		while (l->s[p] != '\0' && !isspace((unsigned char)l->s[p]) && !special(l->s[p]))
			p++;
		t = T_ID;
		if (p - start == 2 && strncmp(l->s + start, "in", 2) == 0)
			t = T_IN;
		else if (p - start == 5 && strncmp(l->s + start, "notin", 5) == 0)
			t = T_NOTIN;
	}
	size_t n = p - start < sizeof(l->lit) - 1 ? p - start : sizeof(l->lit) - 1;
	memcpy(l->lit, l->s + start, n);
	l->lit[n] = '\0';
	if (!peek)
		l->pos = p;
	return t;
}

/* The name part of a label key, or a value: <= 63, alphanumeric at both
 * ends, '-', '_', '.' inside. */
static bool name_part_valid(const char *s, size_t n, bool empty_ok, const char **why)
{
	if (n == 0) {
		*why = empty_ok ? NULL : "name part must be non-empty";
		return empty_ok;
	}
	if (n > LABEL_NAME_MAX) {
		*why = "must be no more than 63 characters";
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool edge = i == 0 || i == n - 1;
		if (!isalnum(c) && (edge || (c != '-' && c != '_' && c != '.'))) {
			*why = "must consist of alphanumeric characters, '-', '_' or '.', and must "
			       "start and end with an alphanumeric character";
			return false;
		}
	}
	return true;
}

/* A DNS-1123 subdomain: lower case alphanumerics, '-' and '.', <= 253. */
static bool prefix_valid(const char *s, size_t n, const char **why)
{
	*why = "prefix part must be a lowercase RFC 1123 subdomain";
	if (n == 0 || n > LABEL_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || i == n - 1 || (c != '-' && c != '.')))
			return false;
	}
	return true;
}

bool pp_label_key_valid(const char *key, const char **why)
{
	const char *slash = strchr(key, '/');
	if (slash == NULL)
		return name_part_valid(key, strlen(key), false, why);
	if (strchr(slash + 1, '/') != NULL) {
		*why = "a qualified name must consist of an optional prefix, '/' and a name";
		return false;
	}
	return prefix_valid(key, (size_t)(slash - key), why) &&
	       name_part_valid(slash + 1, strlen(slash + 1), false, why);
}

bool pp_label_value_valid(const char *value, const char **why)
{
	return name_part_valid(value, strlen(value), true, why);
}

static void req_add_value(struct pp_sel_req *r, const char *v)
{
	r->values = xrealloc(r->values, sizeof(*r->values) * (r->n_values + 1));
	r->values[r->n_values++] = xstrdup(v);
}

static struct pp_sel_req *sel_add(struct pp_selector *s, const char *key, enum pp_sel_op op)
{
	s->reqs = xrealloc(s->reqs, sizeof(*s->reqs) * (s->n + 1));
	struct pp_sel_req *r = &s->reqs[s->n++];
	*r = (struct pp_sel_req){.key = xstrdup(key), .op = op};
	return r;
}

/* "unable to parse requirement: found 'LIT', expected: WHAT" */
static int parse_error(struct pp_error **err, const char *lit, const char *what)
{
	return pp_error_set(err, 0, "unable to parse requirement: found '%s', expected: %s",
			    lit[0] ? lit : "end of string", what);
}

/* "(a, b, c)" after in/notin; "()" is the set of the empty value. */
static int parse_value_set(struct lexer *l, struct pp_sel_req *r, struct pp_error **err)
{
	if (lex(l, false) != T_OPEN)
		return parse_error(err, l->lit, "'('");
	enum tok t = lex(l, true);
	if (t == T_CLOSE) {
		lex(l, false);
		req_add_value(r, "");
		return 0;
	}
	if (t != T_ID && t != T_COMMA && t != T_IN && t != T_NOTIN)
		return parse_error(err, l->lit, "',', ')' or identifier");
	bool want_value = true;
	for (;;) {
		t = lex(l, false);
		if (t == T_ID || t == T_IN || t == T_NOTIN) {
			if (!want_value)
				return parse_error(err, l->lit, "',' or ')'");
			req_add_value(r, l->lit);
			want_value = false;
		} else if (t == T_COMMA) {
			if (want_value) /* "(,a)" or "(a,,b)": an empty value */
				req_add_value(r, "");
			want_value = true;
		} else if (t == T_CLOSE) {
			if (want_value) /* "(a,)" */
				req_add_value(r, "");
			return 0;
		} else {
			return parse_error(err, l->lit, "')'");
		}
	}
}

static int check_values(const struct pp_sel_req *r, struct pp_error **err)
{
	const char *why = NULL;
	for (size_t i = 0; i < r->n_values; i++) {
		if ((r->op == PP_SEL_GT || r->op == PP_SEL_LT)) {
			char *end = NULL;
			(void)strtoll(r->values[i], &end, 10);
			if (r->values[i][0] == '\0' || *end != '\0')
				return pp_error_set(
				    err, 0,
				    "unable to parse requirement: for 'Gt', 'Lt' "
				    "operators, the value must be an integer: \"%s\"",
				    r->values[i]);
		} else if (!pp_label_value_valid(r->values[i], &why)) {
			return pp_error_set(err, 0, "invalid label value: \"%s\": %s", r->values[i],
					    why);
		}
	}
	return 0;
}

/* One requirement: [!]key [op value(s)]. */
static int parse_requirement(struct lexer *l, struct pp_selector *s, struct pp_error **err)
{
	enum tok t = lex(l, false);
	bool negated = t == T_NOT;
	if (negated)
		t = lex(l, false);
	if (t != T_ID)
		return parse_error(err, l->lit, "identifier");
	const char *why = NULL;
	if (!pp_label_key_valid(l->lit, &why))
		return pp_error_set(err, 0, "invalid label key \"%s\": %s", l->lit, why);
	char key[sizeof(l->lit)];
	memcpy(key, l->lit, sizeof(key));
	t = lex(l, true);
	if (t == T_END || t == T_COMMA) {
		sel_add(s, key, negated ? PP_SEL_ABSENT : PP_SEL_EXISTS);
		return 0;
	}
	if (negated)
		return parse_error(err, l->lit, "',' or 'end of string'");
	lex(l, false);
	enum pp_sel_op op;
	switch (t) {
	case T_EQ:
	case T_EQEQ:
		op = PP_SEL_EQ;
		break;
	case T_NE:
		op = PP_SEL_NE;
		break;
	case T_IN:
		op = PP_SEL_IN;
		break;
	case T_NOTIN:
		op = PP_SEL_NOTIN;
		break;
	case T_GT:
		op = PP_SEL_GT;
		break;
	case T_LT:
		op = PP_SEL_LT;
		break;
	default:
		return parse_error(err, l->lit, "[!= < = == > in notin]");
	}
	struct pp_sel_req *r = sel_add(s, key, op);
	if (op == PP_SEL_IN || op == PP_SEL_NOTIN) {
		if (parse_value_set(l, r, err) < 0)
			return -1;
	} else {
		t = lex(l, true);
		if (t == T_END || t == T_COMMA) {
			req_add_value(r, "");
		} else if (t == T_ID || t == T_IN || t == T_NOTIN) {
			lex(l, false);
			req_add_value(r, l->lit);
		} else {
			return parse_error(err, l->lit, "identifier");
		}
	}
	return check_values(r, err);
}

int pp_label_selector_parse(const char *text, struct pp_selector *out, struct pp_error **err)
{
	*out = (struct pp_selector){0};
	struct lexer l = {.s = text};
	if (lex(&l, true) == T_END)
		return 0;
	for (;;) {
		if (parse_requirement(&l, out, err) < 0)
			goto fail;
		enum tok t = lex(&l, false);
		if (t == T_END)
			return 0;
		if (t != T_COMMA) {
			parse_error(err, l.lit, "',' or 'end of string'");
			goto fail;
		}
		t = lex(&l, true);
		if (t == T_END || t == T_COMMA) {
			parse_error(err, l.lit, "identifier after ','");
			goto fail;
		}
	}
fail:
	pp_error_wrap(err, "invalid selector \"%s\"", text);
	pp_selector_free(out);
	return -1;
}

/* fields.ParseSelector: terms split at unescaped commas, each key!=value,
 * key==value or key=value; '\' escapes ',', '=', '!' and '\' in values. */
static int field_term(const char *term, const char *const *allowed, struct pp_selector *out,
		      struct pp_error **err)
{
	static const struct {
		const char *text;
		enum pp_sel_op op;
	} ops[] = {{"!=", PP_SEL_NE}, {"==", PP_SEL_EQ}, {"=", PP_SEL_EQ}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		const char *at = strstr(term, ops[i].text);
		if (at == NULL)
			continue;
		cleanup_free char *key = xmalloc((size_t)(at - term) + 1);
		memcpy(key, term, (size_t)(at - term));
		key[at - term] = '\0';
		bool ok = false;
		for (size_t k = 0; allowed && allowed[k]; k++)
			ok = ok || strcmp(allowed[k], key) == 0;
		if (!ok)
			return pp_error_set(err, 0, "field label not supported: %s", key);
		const char *v = at + strlen(ops[i].text);
		cleanup_free char *value = xmalloc(strlen(v) + 1);
		size_t n = 0;
		for (; *v; v++) {
			if (*v == '\\' && v[1] != '\0')
				v++;
			value[n++] = *v;
		}
		value[n] = '\0';
		req_add_value(sel_add(out, key, ops[i].op), value);
		return 0;
	}
	return pp_error_set(err, 0, "invalid selector: '%s'; can't understand '%s'", term, term);
}

int pp_field_selector_parse(const char *text, const char *const *allowed, struct pp_selector *out,
			    struct pp_error **err)
{
	*out = (struct pp_selector){0};
	size_t len = strlen(text);
	cleanup_free char *term = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = text[i];
		if (c == '\\' && i + 1 < len) {
			term[n++] = c;
			term[n++] = text[++i];
			continue;
		}
		if (c != ',' && c != '\0') {
			term[n++] = c;
			continue;
		}
		term[n] = '\0';
		n = 0;
		if (term[0] == '\0')
			continue; /* as ParseSelector: empty terms are skipped */
		if (field_term(term, allowed, out, err) < 0) {
			pp_selector_free(out);
			return -1;
		}
	}
	return 0;
}

static bool req_matches(const struct pp_sel_req *r, const char *v)
{
	bool in = false;
	switch (r->op) {
	case PP_SEL_EQ:
		return v != NULL && strcmp(v, r->values[0]) == 0;
	case PP_SEL_NE:
		return v == NULL || strcmp(v, r->values[0]) != 0;
	case PP_SEL_IN:
	case PP_SEL_NOTIN:
		for (size_t i = 0; v != NULL && i < r->n_values; i++)
			in = in || strcmp(v, r->values[i]) == 0;
		return r->op == PP_SEL_IN ? in : !in;
	case PP_SEL_EXISTS:
		return v != NULL;
	case PP_SEL_ABSENT:
		return v == NULL;
	case PP_SEL_GT:
	case PP_SEL_LT: {
		if (v == NULL)
			return false;
		char *end = NULL;
		long long have = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0')
			return false;
		long long want = strtoll(r->values[0], NULL, 10);
		return r->op == PP_SEL_GT ? have > want : have < want;
	}
	default:
		return false;
	}
}

bool pp_selector_matches(const struct pp_selector *s, pp_sel_get_fn get, void *ctx)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!req_matches(&s->reqs[i], get(ctx, s->reqs[i].key)))
			return false;
	return true;
}

void pp_selector_free(struct pp_selector *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t k = 0; k < s->reqs[i].n_values; k++)
			free(s->reqs[i].values[k]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	*s = (struct pp_selector){0};
}

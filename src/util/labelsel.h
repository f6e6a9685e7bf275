/* kubectl's label selectors (-l/--selector: "a=b,c!=d,e in (x,y),!f") and
 * field selectors (--field-selector: "status.phase=Running"): pure parsing
 * and matching, with the same grammar and checks as the API machinery's
 * labels.Parse and fields.ParseSelector. */
#ifndef PEAPOD_LABELSEL_H
#define PEAPOD_LABELSEL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum pp_sel_op {
	PP_SEL_EQ,     /* a=b, a==b */
	PP_SEL_NE,     /* a!=b: also true when a is absent */
	PP_SEL_IN,     /* a in (x,y) */
	PP_SEL_NOTIN,  /* a notin (x): also true when a is absent */
	PP_SEL_EXISTS, /* a */
	PP_SEL_ABSENT, /* !a */
	PP_SEL_GT,     /* a>1 (integers) */
	PP_SEL_LT,     /* a<1 */
};

struct pp_sel_req {
	char *key;
	enum pp_sel_op op;
	char **values; /* n_values of them */
	size_t n_values;
};

/* Every requirement must hold (comma is AND); none: matches everything. */
struct pp_selector {
	struct pp_sel_req *reqs;
	size_t n;
};

/* A label selector as kubectl parses it: keys and values checked as label
 * names and values. -1 with "unable to parse requirement: ..." style
 * messages naming what was found. */
int pp_label_selector_parse(const char *text, struct pp_selector *out, struct pp_error **err);

/* A field selector: only =, == and != on the keys in allowed (NULL-ended),
 * any value; -1 naming an unsupported key ("field label not supported"). */
int pp_field_selector_parse(const char *text, const char *const *allowed, struct pp_selector *out,
			    struct pp_error **err);

/* get(ctx, key): the value of key, NULL when the object has none. */
typedef const char *(*pp_sel_get_fn)(void *ctx, const char *key);
bool pp_selector_matches(const struct pp_selector *s, pp_sel_get_fn get, void *ctx);

void pp_selector_free(struct pp_selector *s);

/* The label-name and label-value rules (a qualified name: [prefix/]name). */
bool pp_label_key_valid(const char *key, const char **why);
bool pp_label_value_valid(const char *value, const char **why);

#endif

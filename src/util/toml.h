/* A small, strict TOML reader for the configuration files peapod shares
 * with other tools (containers' registries.conf and its drop-ins): tables,
 * arrays of tables, dotted keys and table headers ([[registry.mirror]]),
 * basic and literal strings (with escapes), booleans, integers, arrays.
 * Everything else TOML has (floats, dates, multi-line strings, inline
 * tables) is refused with FILE:LINE:COL, as is anything malformed: a
 * configuration is never half-read. */
#ifndef PEAPOD_TOML_H
#define PEAPOD_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Nesting of arrays and tables beyond this is refused. */
#define PP_TOML_DEPTH_MAX 32
/* Files larger than this are refused. */
#define PP_TOML_FILE_MAX (1024 * 1024)

enum pp_toml_type {
	PP_TOML_STRING,
	PP_TOML_BOOL,
	PP_TOML_INT,
	PP_TOML_ARRAY,
	PP_TOML_TABLE,
};

struct pp_toml_value {
	enum pp_toml_type type;
	int line, col; /* where it was written (a table: its header or first key) */
	char *str;     /* STRING (NUL-terminated; an embedded NUL is refused) */
	bool boolean;
	int64_t integer;
	/* ARRAY: items; TABLE: keys[i] = items[i], in the file's order */
	size_t n;
	struct pp_toml_value **items;
	char **keys;
	bool array_of_tables; /* ARRAY made by [[...]] headers */
	bool header;	      /* TABLE named by its own [header] */
};

/* Parses data (len bytes) into a root table; file names the errors
 * ("FILE:LINE:COL: ..."). */
int pp_toml_parse(const char *data, size_t len, const char *file, struct pp_toml_value **out,
		  struct pp_error **err);

/* The same, of a file (at most PP_TOML_FILE_MAX bytes). */
int pp_toml_parse_file(const char *path, struct pp_toml_value **out, struct pp_error **err);

void pp_toml_free(struct pp_toml_value *v);

/* table's value for key, NULL when absent. */
const struct pp_toml_value *pp_toml_get(const struct pp_toml_value *table, const char *key);

/* "string", "boolean", ... for errors. */
const char *pp_toml_type_name(enum pp_toml_type t);

#endif

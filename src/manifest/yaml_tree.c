#include "manifest/yaml_tree.h"

#include <string.h>
#include <yaml.h>

#include "util/cleanup.h"

#define YAML_STR_TAG "tag:yaml.org,2002:str"

struct anchor {
	char *name;
	const struct pp_ynode *node;
};

struct builder {
	yaml_parser_t parser;
	const char *source;
	struct pp_error **err;
	size_t nodes;
	struct anchor *anchors;
	size_t n_anchors;
};

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct pp_ynode **out);

static int at_mark(struct builder *b, yaml_mark_t m, const char *msg)
{
	return pp_error_set(b->err, 0, "%s:%zu:%zu: %s", b->source, m.line + 1, m.column + 1, msg);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (yaml_parser_parse(&b->parser, ev))
		return 0;
	const char *problem = b->parser.problem ? b->parser.problem : "invalid YAML";
	yaml_mark_t m = b->parser.problem_mark;
	return pp_error_set(b->err, 0, "%s:%zu:%zu: YAML syntax error: %s", b->source, m.line + 1,
			    m.column + 1, problem);
}

static struct pp_ynode *new_node(struct builder *b, enum pp_ynode_kind kind, struct pp_pos pos)
{
	if (++b->nodes > PP_YAML_MAX_NODES) {
		pp_error_set(b->err, 0,
			     "%s:%d:%d: too many YAML nodes (more than %d, aliases included)",
			     b->source, pos.line, pos.col, PP_YAML_MAX_NODES);
		return NULL;
	}
	struct pp_ynode *n = xmalloc(sizeof(*n));
	n->kind = kind;
	n->pos = pos;
	return n;
}

static struct pp_pos mark_pos(yaml_mark_t m)
{
	return (struct pp_pos){.line = (int)m.line + 1, .col = (int)m.column + 1};
}

static void append_child(struct pp_ynode *parent, struct pp_ynode *child)
{
	parent->child = xrealloc(parent->child, (parent->n + 1) * sizeof(*parent->child));
	parent->child[parent->n++] = child;
}

void pp_ynode_free(struct pp_ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		pp_ynode_free(n->child[i]);
	free(n->child);
	free(n->value);
	free(n);
}

static void add_anchor(struct builder *b, const yaml_char_t *name, const struct pp_ynode *node)
{
	if (name == NULL)
		return;
	b->anchors = xrealloc(b->anchors, (b->n_anchors + 1) * sizeof(*b->anchors));
	b->anchors[b->n_anchors].name = xstrdup((const char *)name);
	b->anchors[b->n_anchors].node = node;
	b->n_anchors++;
}

static int build_scalar(struct builder *b, yaml_event_t *ev, struct pp_ynode **out)
{
	struct pp_pos pos = mark_pos(ev->start_mark);
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(text, '\0', len) != NULL)
		return at_mark(b, ev->start_mark, "strings may not contain NUL characters");
	struct pp_ynode *n = new_node(b, PP_YSCALAR, pos);
	if (n == NULL)
		return -1;
	n->value = strndup(text, len);
	if (n->value == NULL)
		abort();
	const char *tag = (const char *)ev->data.scalar.tag;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   (tag == NULL || strcmp(tag, YAML_STR_TAG) != 0);
	add_anchor(b, ev->data.scalar.anchor, n);
	*out = n;
	return 0;
}

/* Aliases are expanded by copying, so every copied node counts against the
 * node budget: a billion-laughs document stops at PP_YAML_MAX_NODES. */
static int copy_node(struct builder *b, const struct pp_ynode *src, struct pp_pos pos, int depth,
		     struct pp_ynode **out)
{
	if (depth > PP_YAML_MAX_DEPTH)
		return pp_error_set(b->err, 0, "%s:%d:%d: YAML nesting deeper than %d levels",
				    b->source, pos.line, pos.col, PP_YAML_MAX_DEPTH);
	struct pp_ynode *n = new_node(b, src->kind, src->pos);
	if (n == NULL)
		return -1;
	n->plain = src->plain;
	n->value = src->value ? xstrdup(src->value) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		struct pp_ynode *c = NULL;
		if (copy_node(b, src->child[i], pos, depth + 1, &c) < 0) {
			pp_ynode_free(n);
			return -1;
		}
		append_child(n, c);
	}
	*out = n;
	return 0;
}

static int build_alias(struct builder *b, yaml_event_t *ev, int depth, struct pp_ynode **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	for (size_t i = b->n_anchors; i > 0; i--) {
		if (strcmp(b->anchors[i - 1].name, name) != 0)
			continue;
		struct pp_ynode *n = NULL;
		if (copy_node(b, b->anchors[i - 1].node, mark_pos(ev->start_mark), depth, &n) < 0)
			return -1;
		n->pos = mark_pos(ev->start_mark);
		*out = n;
		return 0;
	}
	cleanup_free char *msg = xasprintf("unknown YAML anchor \"%s\"", name);
	return at_mark(b, ev->start_mark, msg);
}

static int build_collection(struct builder *b, yaml_event_t *ev, int depth, struct pp_ynode **out)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	if (depth > PP_YAML_MAX_DEPTH)
		return at_mark(b, ev->start_mark, "YAML nesting deeper than 64 levels");
	struct pp_ynode *n = new_node(b, is_map ? PP_YMAP : PP_YSEQ, mark_pos(ev->start_mark));
	if (n == NULL)
		return -1;
	for (;;) {
		yaml_event_t cev;
		struct pp_ynode *c = NULL;
		if (next_event(b, &cev) < 0)
			goto fail;
		if (cev.type == end) {
			yaml_event_delete(&cev);
			break;
		}
		int r = build_node(b, &cev, depth + 1, &c);
		yaml_event_delete(&cev);
		if (r < 0)
			goto fail;
		append_child(n, c);
		if (is_map && n->n % 2 == 1 && c->kind != PP_YSCALAR) {
			pp_error_set(b->err, 0, "%s:%d:%d: map keys must be strings", b->source,
				     c->pos.line, c->pos.col);
			goto fail;
		}
	}
	add_anchor(b, is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, n);
	*out = n;
	return 0;
fail:
	pp_ynode_free(n);
	return -1;
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth, struct pp_ynode **out)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return build_scalar(b, ev, out);
	case YAML_ALIAS_EVENT:
		return build_alias(b, ev, depth, out);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return build_collection(b, ev, depth, out);
	default:
		return at_mark(b, ev->start_mark, "unexpected YAML event");
	}
}

/* A document holding nothing ("---" alone, as kubectl skips) does not count. */
static bool is_empty_document(const struct pp_ynode *n)
{
	return n->kind == PP_YSCALAR && n->plain &&
	       (n->value[0] == '\0' || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0);
}

/* Reads one document (DOCUMENT_START already consumed) up to its end;
 * *end is the byte offset just past it. */
static int build_document(struct builder *b, struct pp_ynode **out, size_t *end)
{
	yaml_event_t ev;
	if (next_event(b, &ev) < 0)
		return -1;
	int r = build_node(b, &ev, 1, out);
	yaml_event_delete(&ev);
	if (r < 0)
		return -1;
	if (next_event(b, &ev) < 0) {
		pp_ynode_free(*out);
		*out = NULL;
		return -1;
	}
	*end = ev.end_mark.index;
	yaml_event_delete(&ev); /* DOCUMENT_END */
	return 0;
}

/* Anchors are scoped to their document. */
static void clear_anchors(struct builder *b)
{
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	b->anchors = NULL;
	b->n_anchors = 0;
}

void pp_ydocs_free(struct pp_ydoc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pp_ynode_free(docs[i].root);
	free(docs);
}

/* Every non-empty document of the stream; with one_only, a second one is an
 * error. */
static int build_stream(struct builder *b, bool one_only, struct pp_ydoc **docs, size_t *n)
{
	yaml_event_t ev;
	if (next_event(b, &ev) < 0) /* STREAM_START */
		return -1;
	yaml_event_delete(&ev);
	for (;;) {
		struct pp_ynode *doc = NULL;
		if (next_event(b, &ev) < 0)
			return -1;
		yaml_event_type_t type = ev.type;
		yaml_mark_t start = ev.start_mark;
		yaml_event_delete(&ev);
		if (type != YAML_DOCUMENT_START_EVENT)
			return 0; /* STREAM_END */
		clear_anchors(b);
		size_t end = 0;
		if (build_document(b, &doc, &end) < 0)
			return -1;
		if (is_empty_document(doc)) {
			pp_ynode_free(doc);
			continue;
		}
		if (one_only && *n > 0) {
			pp_ynode_free(doc);
			return at_mark(b, start,
				       "multiple YAML documents; peapod runs one Pod per file");
		}
		*docs = xrealloc(*docs, (*n + 1) * sizeof(**docs));
		(*docs)[(*n)++] = (struct pp_ydoc){.root = doc, .start = start.index, .end = end};
	}
}

static int parse_stream(const char *source, const char *buf, size_t len, bool one_only,
			struct pp_ydoc **docs, size_t *n, struct pp_error **err)
{
	struct builder b = {.source = source, .err = err};
	*docs = NULL;
	*n = 0;
	if (len > PP_YAML_MAX_INPUT)
		return pp_error_set(err, 0, "%s:1:1: manifest is larger than %u bytes", source,
				    PP_YAML_MAX_INPUT);
	if (!yaml_parser_initialize(&b.parser))
		abort();
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
	int r = build_stream(&b, one_only, docs, n);
	yaml_parser_delete(&b.parser);
	clear_anchors(&b);
	if (r < 0) {
		pp_ydocs_free(*docs, *n);
		*docs = NULL;
		*n = 0;
	}
	return r;
}

int pp_yaml_parse(const char *source, const char *buf, size_t len, struct pp_ynode **out,
		  struct pp_error **err)
{
	struct pp_ydoc *docs = NULL;
	size_t n = 0;
	*out = NULL;
	if (parse_stream(source, buf, len, true, &docs, &n, err) < 0)
		return -1;
	if (n == 1)
		*out = docs[0].root;
	free(docs);
	return 0;
}

int pp_yaml_parse_docs(const char *source, const char *buf, size_t len, struct pp_ydoc **docs,
		       size_t *n, struct pp_error **err)
{
	return parse_stream(source, buf, len, false, docs, n, err);
}

const struct pp_ynode *pp_ymap_key(const struct pp_ynode *n, const char *key)
{
	if (n == NULL || n->kind != PP_YMAP)
		return NULL;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (strcmp(n->child[i]->value, key) == 0)
			return n->child[i];
	return NULL;
}

const struct pp_ynode *pp_ymap_get(const struct pp_ynode *n, const char *key)
{
	if (n == NULL || n->kind != PP_YMAP)
		return NULL;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (strcmp(n->child[i]->value, key) == 0)
			return n->child[i + 1];
	return NULL;
}

/* SPDY/3.1 frames and their compressed header blocks (spdy.h). */
#include "cri/spdy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "util/cleanup.h"

/* The header compression dictionary of SPDY/3 (draft-mbelshe-httpbis-spdy,
 * section 2.6.10.1): these words, each after its length as 4 big-endian
 * bytes, then the text below as it is. */
static const char *const dict_words[] = {
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
};
static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
    "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/"
    "xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,"
    "sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
/* Its length: the dictionary's, 1423 bytes. */
#define DICT_MAX 1536

struct pp_spdy {
	z_stream inf, def;
	bool inf_ok, def_ok;
	uint8_t *block; /* the last header block inflated */
	size_t block_cap;
	struct pp_spdy_header *headers;
	size_t n_headers;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t dictionary(uint8_t out[DICT_MAX])
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(dict_words) / sizeof(dict_words[0]); i++) {
		size_t l = strlen(dict_words[i]);
		put32(out + n, (uint32_t)l);
		memcpy(out + n + 4, dict_words[i], l);
		n += 4 + l;
	}
	memcpy(out + n, dict_tail, sizeof(dict_tail) - 1);
	return n + sizeof(dict_tail) - 1;
}

void pp_spdy_buf_append(struct pp_spdy_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		b->data = xrealloc(b->data, b->cap);
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
}

void pp_spdy_buf_consume(struct pp_spdy_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void pp_spdy_buf_free(struct pp_spdy_buf *b)
{
	free(b->data);
	*b = (struct pp_spdy_buf){0};
}

struct pp_spdy *pp_spdy_new(void)
{
	struct pp_spdy *s = xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	uint8_t dict[DICT_MAX];
	size_t dlen = dictionary(dict);
	s->inf_ok = inflateInit(&s->inf) == Z_OK;
	s->def_ok = deflateInit(&s->def, Z_DEFAULT_COMPRESSION) == Z_OK &&
		    deflateSetDictionary(&s->def, dict, (uInt)dlen) == Z_OK;
	if (!s->inf_ok || !s->def_ok) {
		pp_spdy_free(s);
		return NULL;
	}
	return s;
}

static void headers_clear(struct pp_spdy *s)
{
	for (size_t i = 0; i < s->n_headers; i++) {
		free(s->headers[i].name);
		free(s->headers[i].value);
	}
	free(s->headers);
	s->headers = NULL;
	s->n_headers = 0;
}

void pp_spdy_free(struct pp_spdy *s)
{
	if (s == NULL)
		return;
	if (s->inf_ok)
		inflateEnd(&s->inf);
	if (s->def_ok)
		deflateEnd(&s->def);
	headers_clear(s);
	free(s->block);
	free(s);
}

/* Inflates a header block into s->block (*out_len bytes). */
static int inflate_block(struct pp_spdy *s, const uint8_t *in, size_t len, size_t *out_len,
			 struct pp_error **err)
{
	s->inf.next_in = (Bytef *)in;
	s->inf.avail_in = (uInt)len;
	size_t n = 0;
	for (;;) {
		if (s->block_cap - n < 4096) {
			if (s->block_cap >= PP_SPDY_MAX_HEADER_BLOCK)
				return pp_error_set(
				    err, EMSGSIZE,
				    "SPDY: a header block inflates to more than %u bytes",
				    PP_SPDY_MAX_HEADER_BLOCK);
			s->block_cap = s->block_cap ? s->block_cap * 2 : 8192;
			s->block = xrealloc(s->block, s->block_cap);
		}
		s->inf.next_out = s->block + n;
		s->inf.avail_out = (uInt)(s->block_cap - n);
		int r = inflate(&s->inf, Z_SYNC_FLUSH);
		if (r == Z_NEED_DICT) {
			uint8_t dict[DICT_MAX];
			size_t dlen = dictionary(dict);
			if (inflateSetDictionary(&s->inf, dict, (uInt)dlen) != Z_OK)
				return pp_error_set(
				    err, EPROTO, "SPDY: the header block wants another dictionary");
			continue;
		}
		n = s->block_cap - s->inf.avail_out;
		if (r == Z_BUF_ERROR && s->inf.avail_in == 0)
			break; /* all of it in, nothing more out */
		if (r != Z_OK)
			return pp_error_set(err, EPROTO,
					    "SPDY: a header block does not inflate (%s)",
					    s->inf.msg ? s->inf.msg : "zlib error");
		if (s->inf.avail_in == 0 && s->inf.avail_out > 0)
			break;
	}
	*out_len = n;
	return 0;
}

/* The pairs of an inflated block: count, then (length, name, length,
 * value) each. A value holding several is NUL-separated: the first is
 * kept. */
static int parse_block(struct pp_spdy *s, size_t len, struct pp_error **err)
{
	const uint8_t *p = s->block, *end = s->block + len;
	if (len < 4)
		return pp_error_set(err, EPROTO, "SPDY: a header block of %zu bytes", len);
	uint32_t count = get32(p);
	p += 4;
	if (count > PP_SPDY_MAX_HEADERS)
		return pp_error_set(err, EPROTO, "SPDY: %u headers in a block (at most %d)", count,
				    PP_SPDY_MAX_HEADERS);
	s->headers = xmalloc(sizeof(*s->headers) * (count ? count : 1));
	for (uint32_t i = 0; i < count; i++) {
		char *parts[2];
		for (int k = 0; k < 2; k++) {
			if (end - p < 4 || (size_t)(end - p - 4) < get32(p)) {
				for (int j = 0; j < k; j++)
					free(parts[j]);
				return pp_error_set(err, EPROTO,
						    "SPDY: header %u runs past its block", i);
			}
			uint32_t l = get32(p);
			parts[k] = strndup((const char *)p + 4, l);
			if (parts[k] == NULL)
				abort();
			p += 4 + l;
		}
		s->headers[i] = (struct pp_spdy_header){.name = parts[0], .value = parts[1]};
		s->n_headers = i + 1;
		if (parts[0][0] == '\0')
			return pp_error_set(err, EPROTO, "SPDY: a header with an empty name");
	}
	return 0;
}

static int read_headers(struct pp_spdy *s, const uint8_t *in, size_t len, struct pp_spdy_frame *f,
			struct pp_error **err)
{
	size_t n = 0;
	if (len > 0 && (inflate_block(s, in, len, &n, err) < 0 || parse_block(s, n, err) < 0))
		return -1;
	f->headers = s->headers;
	f->n_headers = s->n_headers;
	return 0;
}

/* A control frame's payload: its fields by type. */
static int parse_control(struct pp_spdy *s, const uint8_t *p, size_t len, struct pp_spdy_frame *f,
			 struct pp_error **err)
{
	static const size_t min_len[] = {
	    [PP_SPDY_SYN_STREAM] = 10, [PP_SPDY_SYN_REPLY] = 4,	   [PP_SPDY_RST_STREAM] = 8,
	    [PP_SPDY_SETTINGS] = 4,    [PP_SPDY_PING] = 4,	   [PP_SPDY_GOAWAY] = 8,
	    [PP_SPDY_HEADERS] = 4,     [PP_SPDY_WINDOW_UPDATE] = 8};
	if (f->type < sizeof(min_len) / sizeof(min_len[0]) && len < min_len[f->type])
		return pp_error_set(err, EPROTO, "SPDY: a control frame of type %d is %zu bytes",
				    (int)f->type, len);
	switch (f->type) {
	case PP_SPDY_SYN_STREAM:
		f->stream_id = get32(p) & 0x7fffffff;
		return read_headers(s, p + 10, len - 10, f, err);
	case PP_SPDY_SYN_REPLY:
	case PP_SPDY_HEADERS:
		f->stream_id = get32(p) & 0x7fffffff;
		return read_headers(s, p + 4, len - 4, f, err);
	case PP_SPDY_RST_STREAM:
	case PP_SPDY_WINDOW_UPDATE:
		f->stream_id = get32(p) & 0x7fffffff;
		f->value = get32(p + 4) & (f->type == PP_SPDY_WINDOW_UPDATE ? 0x7fffffff : ~0u);
		return 0;
	case PP_SPDY_PING:
		f->value = get32(p);
		return 0;
	case PP_SPDY_GOAWAY:
		f->stream_id = get32(p) & 0x7fffffff;
		f->value = get32(p + 4);
		return 0;
	case PP_SPDY_DATA:
	case PP_SPDY_SETTINGS:
	default:
		return 0; /* SETTINGS and unknown types: ignored, as the draft says */
	}
}

int pp_spdy_parse(struct pp_spdy *s, const uint8_t *in, size_t len, struct pp_spdy_frame *f,
		  size_t *used, struct pp_error **err)
{
	headers_clear(s);
	*f = (struct pp_spdy_frame){0};
	if (len < PP_SPDY_HEADER_LEN)
		return 0;
	size_t plen = (size_t)in[5] << 16 | (size_t)in[6] << 8 | in[7];
	if (plen > PP_SPDY_MAX_FRAME)
		return pp_error_set(err, EMSGSIZE, "SPDY: a frame of %zu bytes (at most %u)", plen,
				    PP_SPDY_MAX_FRAME);
	if (len < PP_SPDY_HEADER_LEN + plen)
		return 0;
	*used = PP_SPDY_HEADER_LEN + plen;
	f->flags = in[4];
	const uint8_t *p = in + PP_SPDY_HEADER_LEN;
	if (!(in[0] & 0x80)) {
		f->type = PP_SPDY_DATA;
		f->stream_id = get32(in) & 0x7fffffff;
		f->data = p;
		f->len = plen;
		return 1;
	}
	unsigned version = (unsigned)(in[0] & 0x7f) << 8 | in[1];
	if (version != PP_SPDY_VERSION)
		return pp_error_set(err, EPROTO, "SPDY: version %u (only %d is spoken)", version,
				    PP_SPDY_VERSION);
	f->type = (enum pp_spdy_type)((unsigned)in[2] << 8 | in[3]);
	return parse_control(s, p, plen, f, err) < 0 ? -1 : 1;
}

static void put_control_header(struct pp_spdy_buf *out, enum pp_spdy_type type, uint8_t flags,
			       size_t len)
{
	uint8_t h[PP_SPDY_HEADER_LEN] = {
	    0x80,  PP_SPDY_VERSION,	 (uint8_t)(type >> 8), (uint8_t)type,
	    flags, (uint8_t)(len >> 16), (uint8_t)(len >> 8),  (uint8_t)len};
	pp_spdy_buf_append(out, h, sizeof(h));
}

/* The header block of h, compressed (flushed: the peer inflates it whole). */
static void deflate_block(struct pp_spdy *s, const struct pp_spdy_header *h, size_t n,
			  struct pp_spdy_buf *z)
{
	struct pp_spdy_buf raw = {0};
	uint8_t w[4];
	put32(w, (uint32_t)n);
	pp_spdy_buf_append(&raw, w, 4);
	for (size_t i = 0; i < n; i++) {
		const char *parts[2] = {h[i].name, h[i].value};
		for (int k = 0; k < 2; k++) {
			put32(w, (uint32_t)strlen(parts[k]));
			pp_spdy_buf_append(&raw, w, 4);
			pp_spdy_buf_append(&raw, parts[k], strlen(parts[k]));
		}
	}
	s->def.next_in = raw.data;
	s->def.avail_in = (uInt)raw.len;
	do {
		uint8_t chunk[1024] = {0};
		s->def.next_out = chunk;
		s->def.avail_out = sizeof(chunk);
		deflate(&s->def, Z_SYNC_FLUSH);
		pp_spdy_buf_append(z, chunk, sizeof(chunk) - s->def.avail_out);
	} while (s->def.avail_out == 0);
	pp_spdy_buf_free(&raw);
}

void pp_spdy_put_syn_reply(struct pp_spdy *s, struct pp_spdy_buf *out, uint32_t stream_id,
			   const struct pp_spdy_header *h, size_t n, bool fin)
{
	struct pp_spdy_buf z = {0};
	deflate_block(s, h, n, &z);
	put_control_header(out, PP_SPDY_SYN_REPLY, fin ? PP_SPDY_FLAG_FIN : 0, 4 + z.len);
	uint8_t id[4];
	put32(id, stream_id & 0x7fffffff);
	pp_spdy_buf_append(out, id, 4);
	pp_spdy_buf_append(out, z.data, z.len);
	pp_spdy_buf_free(&z);
}

void pp_spdy_put_syn_stream(struct pp_spdy *s, struct pp_spdy_buf *out, uint32_t stream_id,
			    const struct pp_spdy_header *h, size_t n, uint8_t flags)
{
	struct pp_spdy_buf z = {0};
	deflate_block(s, h, n, &z);
	put_control_header(out, PP_SPDY_SYN_STREAM, flags, 10 + z.len);
	uint8_t f[10] = {0};
	put32(f, stream_id & 0x7fffffff);
	pp_spdy_buf_append(out, f, sizeof(f));
	pp_spdy_buf_append(out, z.data, z.len);
	pp_spdy_buf_free(&z);
}

void pp_spdy_put_data(struct pp_spdy_buf *out, uint32_t stream_id, const void *data, size_t len,
		      bool fin)
{
	uint8_t h[PP_SPDY_HEADER_LEN];
	put32(h, stream_id & 0x7fffffff);
	h[4] = fin ? PP_SPDY_FLAG_FIN : 0;
	h[5] = (uint8_t)(len >> 16);
	h[6] = (uint8_t)(len >> 8);
	h[7] = (uint8_t)len;
	pp_spdy_buf_append(out, h, sizeof(h));
	pp_spdy_buf_append(out, data, len);
}

static void put_two(struct pp_spdy_buf *out, enum pp_spdy_type type, uint32_t a, uint32_t b)
{
	put_control_header(out, type, 0, 8);
	uint8_t p[8];
	put32(p, a);
	put32(p + 4, b);
	pp_spdy_buf_append(out, p, 8);
}

void pp_spdy_put_rst(struct pp_spdy_buf *out, uint32_t stream_id, uint32_t status)
{
	put_two(out, PP_SPDY_RST_STREAM, stream_id & 0x7fffffff, status);
}

void pp_spdy_put_goaway(struct pp_spdy_buf *out, uint32_t last_stream_id, uint32_t status)
{
	put_two(out, PP_SPDY_GOAWAY, last_stream_id & 0x7fffffff, status);
}

void pp_spdy_put_ping(struct pp_spdy_buf *out, uint32_t id)
{
	put_control_header(out, PP_SPDY_PING, 0, 4);
	uint8_t p[4];
	put32(p, id);
	pp_spdy_buf_append(out, p, 4);
}

const char *pp_spdy_header_get(const struct pp_spdy_frame *f, const char *name)
{
	for (size_t i = 0; i < f->n_headers; i++)
		if (strcasecmp(f->headers[i].name, name) == 0)
			return f->headers[i].value;
	return NULL;
}

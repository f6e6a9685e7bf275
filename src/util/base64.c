#include "util/base64.h"

#include <string.h>

#include "util/cleanup.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *pp_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = ALPHABET[(v >> 18) & 63];
		out[o++] = ALPHABET[(v >> 12) & 63];
		out[o++] = i + 1 < len ? ALPHABET[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? ALPHABET[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int value_of(char ch)
{
	const char *p = ch ? strchr(ALPHABET, ch) : NULL;
	return p ? (int)(p - ALPHABET) : -1;
}

/* Go skips \r and \n anywhere in the input; everything else must be of
 * the alphabet, in groups of four, '=' only to pad the last one. */
int pp_base64_decode(const char *text, unsigned char **out, size_t *len, struct pp_error **err)
{
	size_t n = strlen(text);
	unsigned char *buf = xmalloc(n / 4 * 3 + 4);
	size_t o = 0, quad = 0, pad = 0;
	unsigned v = 0;
	size_t i = 0;
	for (; i < n; i++) {
		char ch = text[i];
		if (ch == '\r' || ch == '\n')
			continue;
		if (ch == '=' && quad >= 2) {
			pad++;
			quad++;
			v <<= 6;
		} else {
			int d = value_of(ch);
			if (d < 0 || pad > 0)
				goto bad;
			v = v << 6 | (unsigned)d;
			quad++;
		}
		if (quad < 4)
			continue;
		buf[o++] = (unsigned char)(v >> 16);
		if (pad < 2)
			buf[o++] = (unsigned char)(v >> 8);
		if (pad < 1)
			buf[o++] = (unsigned char)v;
		quad = 0;
		v = 0;
		if (pad > 0) {
			i++;
			break;
		}
	}
	for (; i < n && (text[i] == '\r' || text[i] == '\n'); i++)
		;
	if (quad != 0 || i < n) {
		i = i < n ? i : n - (quad > 0 ? 0 : 1);
		goto bad;
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
bad:
	free(buf);
	return pp_error_set(err, 0, "illegal base64 data at input byte %zu", i);
}

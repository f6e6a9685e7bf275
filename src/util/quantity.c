/* resource.Quantity as the API server parses it:
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." [digits] | "." digits
 *   suffix   ::= "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E) [+-] digits
 * Values are computed exactly on integers (no floating point), rounding up. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "util/quantity.h"
#include "util/cleanup.h"

typedef unsigned __int128 u128;

/* Significant digits kept; more only matter below the precision of int64. */
#define QTY_MAX_DIGITS 30
#define QTY_MAX_EXPONENT 10000
#define QTY_MAX_POW10 38 /* 10^38 < 2^128 */
#define QTY_MILLI_EXP 3

struct suffix {
	const char *text;
	int pow10;
	int pow2;
};

static const struct suffix suffixes[] = {
    {"", 0, 0},	   {"n", -9, 0},  {"u", -6, 0},	 {"m", -3, 0},	{"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},	 {"E", 18, 0},	{"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

struct decimal {
	bool negative;
	u128 digits; /* significant digits, at most QTY_MAX_DIGITS of them */
	int pow10;   /* value = digits * 10^pow10 * 2^pow2 (+ a bit when inexact) */
	int pow2;
	bool inexact; /* non-zero digits were dropped */
};

static const char *parse_number(const char *p, struct decimal *d)
{
	int ndigits = 0, before = 0, after = 0;
	bool dot = false;
	for (;; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			break;
		dot ? after++ : before++;
		int digit = *p - '0';
		if (ndigits == 0 && digit == 0) {
			d->pow10 -= dot; /* leading zeros only shift the point */
			continue;
		}
		if (ndigits < QTY_MAX_DIGITS) {
			d->digits = d->digits * 10 + (u128)digit;
			ndigits++;
			d->pow10 -= dot;
		} else {
			d->pow10 += !dot;
			d->inexact |= digit != 0;
		}
	}
	return before + after == 0 ? NULL : p;
}

static bool parse_exponent(const char *p, int *out)
{
	int sign = 1, v = 0;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++)
		if (v < QTY_MAX_EXPONENT)
			v = v * 10 + (*p - '0');
	*out = sign * v;
	return *p == '\0';
}

static bool parse_suffix(const char *p, struct decimal *d)
{
	if (*p == 'e' || *p == 'E') {
		int e;
		if (parse_exponent(p + 1, &e)) {
			d->pow10 += e;
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(p, suffixes[i].text) == 0) {
			d->pow10 += suffixes[i].pow10;
			d->pow2 = suffixes[i].pow2;
			return true;
		}
	}
	return false;
}

/* ceil (or floor) of |d| * 10^extra10, saturated at INT64_MAX. */
static int64_t scale(const struct decimal *d, int extra10, bool round_up)
{
	const u128 max = (u128)INT64_MAX;
	u128 v = d->digits + (d->inexact && round_up ? 1 : 0);
	if (v == 0)
		return 0;
	if (v > (~(u128)0 >> d->pow2))
		return INT64_MAX;
	v <<= d->pow2;
	int k = d->pow10 + extra10;
	for (; k > 0; k--) {
		if (v > max)
			return INT64_MAX;
		v *= 10;
	}
	if (k < 0) {
		if (-k > QTY_MAX_POW10)
			return round_up ? 1 : 0;
		u128 p = 1;
		for (int i = 0; i < -k; i++)
			p *= 10;
		bool rest = v % p != 0;
		v = v / p + (round_up && rest ? 1 : 0);
	}
	return v > max ? INT64_MAX : (int64_t)v;
}

int pp_quantity_parse(const char *text, struct pp_quantity *out, struct pp_error **err)
{
	struct decimal d = {0};
	const char *p = text;
	if (*p == '+' || *p == '-')
		d.negative = *p++ == '-';
	p = parse_number(p, &d);
	if (p == NULL || !parse_suffix(p, &d))
		return pp_error_set(
		    err, 0, "quantity \"%s\" is not valid (expected e.g. 500m, 1.5, 64Mi, 1e3)",
		    text);
	/* Quantities round up, toward +infinity, also when negative. */
	int64_t milli = scale(&d, QTY_MILLI_EXP, !d.negative);
	int64_t value = scale(&d, 0, !d.negative);
	out->set = true;
	out->milli = d.negative ? -milli : milli;
	out->value = d.negative ? -value : value;
	free(out->text);
	out->text = xstrdup(text);
	return 0;
}

/* kubelet's limits (pkg/util/bandwidth: validateBandwidthIsReasonable). */
#define BANDWIDTH_MIN 1000LL
#define BANDWIDTH_MAX 1000000000000000LL

int pp_bandwidth_parse(const char *text, int64_t *bits, struct pp_error **err)
{
	struct pp_quantity q = {0};
	int r = pp_quantity_parse(text, &q, err);
	free(q.text);
	if (r < 0)
		return -1;
	if (q.value < BANDWIDTH_MIN || q.value > BANDWIDTH_MAX)
		return pp_error_set(err, EINVAL, "%s is out of range (1k .. 1P bits/s)", text);
	*bits = q.value;
	return 0;
}

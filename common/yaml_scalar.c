/* yaml_scalar.c — how plain YAML scalars are typed; see json_internal.h. */
#include "json.h"
#include "json_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- YAML scalars ---------------------------------------------------- */


static const struct {
	const char *word;
	enum plain_kind kind;
	int val; /* bool: 0/1; float: 1 = +inf, -1 = -inf, 0 = nan */
} plain_words[] = {
	{ "~", PK_NULL, 0 }, { "null", PK_NULL, 0 }, { "Null", PK_NULL, 0 }, { "NULL", PK_NULL, 0 },
	{ "y", PK_BOOL, 1 }, { "Y", PK_BOOL, 1 },
	{ "yes", PK_BOOL, 1 }, { "Yes", PK_BOOL, 1 }, { "YES", PK_BOOL, 1 },
	{ "true", PK_BOOL, 1 }, { "True", PK_BOOL, 1 }, { "TRUE", PK_BOOL, 1 },
	{ "on", PK_BOOL, 1 }, { "On", PK_BOOL, 1 }, { "ON", PK_BOOL, 1 },
	{ "n", PK_BOOL, 0 }, { "N", PK_BOOL, 0 },
	{ "no", PK_BOOL, 0 }, { "No", PK_BOOL, 0 }, { "NO", PK_BOOL, 0 },
	{ "false", PK_BOOL, 0 }, { "False", PK_BOOL, 0 }, { "FALSE", PK_BOOL, 0 },
	{ "off", PK_BOOL, 0 }, { "Off", PK_BOOL, 0 }, { "OFF", PK_BOOL, 0 },
	{ ".nan", PK_FLOAT, 0 }, { ".NaN", PK_FLOAT, 0 }, { ".NAN", PK_FLOAT, 0 },
	{ ".inf", PK_FLOAT, 1 }, { ".Inf", PK_FLOAT, 1 }, { ".INF", PK_FLOAT, 1 },
	{ "+.inf", PK_FLOAT, 1 }, { "+.Inf", PK_FLOAT, 1 }, { "+.INF", PK_FLOAT, 1 },
	{ "-.inf", PK_FLOAT, -1 }, { "-.Inf", PK_FLOAT, -1 }, { "-.INF", PK_FLOAT, -1 },
};

/* An integer the way Go's strconv.ParseInt/ParseUint(s, 0, 64) take it:
 * optional sign, then 0x/0o/0b or a leading 0 (octal), or decimal. */
static bool parse_int(const char *s, double *out)
{
	unsigned long long mag = 0;
	bool neg = false;
	int base = 10, d;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		d = json_digit_value(*s);
		if (d >= base)
			return false;
		if (mag > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			return false;
		mag = mag * (unsigned)base + (unsigned)d;
	}
	/* int64 when negative, uint64 otherwise */
	if (neg && mag > 9223372036854775808ULL)
		return false;
	*out = neg ? -(double)mag : (double)mag;
	return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
	const char *d;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		for (d = ++s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	} else {
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	}
	return !*s;
}

/*
 * What a plain (unquoted, untagged) scalar means, the way go-yaml v2 (and so
 * Kubernetes) resolves it: null, bool, int, float, or else a string.
 */
enum plain_kind yaml_resolve_plain(const char *s, double *num, bool *bval)
{
	char tmp[256];
	size_t i, n = 0;

	if (!*s)
		return PK_NULL;
	for (i = 0; i < sizeof(plain_words) / sizeof(plain_words[0]); i++) {
		if (strcmp(s, plain_words[i].word))
			continue;
		if (plain_words[i].kind == PK_BOOL)
			*bval = plain_words[i].val;
		else if (plain_words[i].kind == PK_FLOAT)
			*num = plain_words[i].val ? plain_words[i].val * HUGE_VAL : NAN;
		return plain_words[i].kind;
	}
	if (!strchr("+-.0123456789", *s))
		return PK_STR;
	/* go-yaml drops every '_' first, except after a leading '.' */
	for (i = 0; s[i]; i++) {
		if (s[i] == '_' && *s != '.')
			continue;
		if (n == sizeof(tmp) - 1)
			return PK_STR;
		tmp[n++] = s[i];
	}
	tmp[n] = '\0';
	if (*s != '.' && parse_int(tmp, num))
		return PK_INT;
	if (float_syntax(tmp)) {
		errno = 0;
		*num = strtod(tmp, NULL);
		if (errno == ERANGE && isinf(*num))
			return PK_STR; /* ParseFloat refuses overflow */
		return PK_FLOAT;
	}
	return PK_STR;
}

/* go-yaml v2 quotes YAML 1.1 base-60 numbers ("1:20") for other readers. */
bool yaml_base60_like(const char *s)
{
	bool colon = false;

	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while ((*s >= '0' && *s <= '9') || *s == '_')
		s++;
	while (*s == ':') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		if (s[1] >= '0' && s[1] <= '9') {
			if (*s > '5')
				return false;
			s++;
		}
		s++;
		colon = true;
	}
	if (*s == '.')
		for (s++; (*s >= '0' && *s <= '9') || *s == '_'; s++)
			;
	return colon && !*s;
}

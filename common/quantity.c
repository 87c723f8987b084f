/* quantity.c — Kubernetes quantities as numbers (see quantity.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"

static const struct {
	const char *suffix;
	double factor;
} suffixes[] = {
	{ "", 1.0 },
	{ "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 },
	{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
	{ "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
};

bool quantity_parse(const char *s, double *out)
{
	const char *p = s;
	size_t i;

	if (!s || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (!strcmp(p, suffixes[i].suffix)) {
			*out = strtod(s, NULL) * suffixes[i].factor;
			return true;
		}
	return false;
}

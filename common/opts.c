/* opts.c — see opts.h. */
#include "opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig.h"

static const struct opt *find_long(const struct opt_group *const *g, const char *name, size_t n)
{
	const struct opt *o;

	for (; *g; g++)
		for (o = (*g)->opts; o->kind != OPT_END; o++)
			if (o->long_name && strlen(o->long_name) == n && !strncmp(o->long_name, name, n))
				return o;
	return NULL;
}

static const struct opt *find_short(const struct opt_group *const *g, char c)
{
	const struct opt *o;

	for (; *g; g++)
		for (o = (*g)->opts; o->kind != OPT_END; o++)
			if (o->short_name && o->short_name == c)
				return o;
	return NULL;
}

const struct opt *opts_find(const struct opt_group *const *groups, const char *word)
{
	if (word[0] != '-')
		return NULL;
	if (word[1] == '-') {
		const char *eq = strchr(word + 2, '=');

		return find_long(groups, word + 2, eq ? (size_t)(eq - word - 2) : strlen(word + 2));
	}
	return word[1] ? find_short(groups, word[1]) : NULL;
}

static void opt_name(const struct opt *o, char *out, size_t n)
{
	if (o->long_name)
		snprintf(out, n, "--%s", o->long_name);
	else
		snprintf(out, n, "-%c", o->short_name);
}

static bool is_flag(const struct opt *o)
{
	return o->kind == OPT_BOOL || o->kind == OPT_TRIBOOL;
}

static int set_value(const struct opt *o, const char *val, struct kerr *e)
{
	char name[64];

	opt_name(o, name, sizeof(name));
	switch (o->kind) {
	case OPT_BOOL:
	case OPT_TRIBOOL: {
		int v;

		if (!val || !strcmp(val, "true") || !strcmp(val, "1"))
			v = 1;
		else if (!strcmp(val, "false") || !strcmp(val, "0"))
			v = 0;
		else
			return kerr_set(e, KERR_USAGE, "'%s' is true or false, got '%s'", name, val);
		if (o->kind == OPT_BOOL)
			*(bool *)o->target = v;
		else
			*(int *)o->target = v;
		return 0;
	}
	case OPT_DURATION: {
		struct kerr ignored = KERR_INIT;
		long ms;

		if (!*val || kcfg_parse_timeout(val, &ms, &ignored))
			return kerr_set(e, KERR_USAGE, "'%s' expects a duration like 90s, 5m or 1h30m, got '%s'", name,
					val);
		*(long *)o->target = ms;
		return 0;
	}
	case OPT_STRING:
		*(const char **)o->target = val;
		return 0;
	case OPT_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end)
			return kerr_set(e, KERR_USAGE, "'%s' expects a whole number, got '%s'", name, val);
		*(long *)o->target = v;
		return 0;
	}
	case OPT_CHOICE: {
		const char *const *c;
		char list[512] = "";
		size_t used = 0;

		for (c = o->choices; *c; c++) {
			if (!strcmp(*c, val)) {
				*(const char **)o->target = *c;
				return 0;
			}
			used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
						 c == o->choices ? "" : ", ", *c);
		}
		return kerr_set(e, KERR_USAGE, "'%s' must be one of: %s (got '%s')", name, list, val);
	}
	case OPT_LIST: {
		struct opt_list *l = o->target;
		const char **p = realloc(l->items, (size_t)(l->n + 2) * sizeof(*p));

		if (!p)
			return kerr_set(e, KERR_NOMEM, "out of memory");
		l->items = p;
		l->items[l->n++] = val;
		l->items[l->n] = NULL;
		return 0;
	}
	case OPT_END:
		break;
	}
	return kerr_set(e, KERR_USAGE, "internal: bad option row '%s'", name);
}

void opts_list_free(struct opt_list *l)
{
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int opts_parse(const struct opt_group *const *groups, int argc, char **argv, char ***pos, int *npos,
	       struct kerr *e)
{
	char **p = calloc((size_t)argc + 1, sizeof(*p));
	int i, n = 0;
	bool only_pos = false;

	if (!p)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const struct opt *o;
		const char *val = NULL;

		if (only_pos || a[0] != '-' || !a[1]) {
			p[n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');

			o = find_long(groups, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (!o) {
				kerr_set(e, KERR_USAGE, "unknown option '%.*s'", eq ? (int)(eq - a) : (int)strlen(a), a);
				goto fail;
			}
			if (eq)
				val = eq + 1;
		} else {
			o = find_short(groups, a[1]);
			if (!o) {
				kerr_set(e, KERR_USAGE, "unknown option '-%c'", a[1]);
				goto fail;
			}
			if (a[2])
				val = a + 2 + (a[2] == '=');
		}
		if (!is_flag(o) && !val) {
			if (i + 1 >= argc) {
				char name[64];

				opt_name(o, name, sizeof(name));
				kerr_set(e, KERR_USAGE, "option '%s' needs a value (%s)", name,
					 o->arg_name ? o->arg_name : "VALUE");
				goto fail;
			}
			val = argv[++i];
		}
		if (set_value(o, val, e))
			goto fail;
	}
	*pos = p;
	*npos = n;
	return 0;
fail:
	free(p);
	return -1;
}

void opts_print_help(FILE *f, const struct opt_group *const *groups)
{
	const struct opt *o;
	char left[96];

	for (; *groups; groups++) {
		int any = 0;

		for (o = (*groups)->opts; o->kind != OPT_END; o++) {
			int k;

			if (o->flags & OPT_HIDDEN)
				continue;
			if (!any++)
				fprintf(f, "\n%s:\n", (*groups)->title);
			k = snprintf(left, sizeof(left), "  %s%c%s%s%s%s", o->short_name ? "-" : "   ",
				     o->short_name ? o->short_name : ' ', o->short_name && o->long_name ? ", " : "",
				     o->long_name ? "--" : "", o->long_name ? o->long_name : "", "");
			if (!is_flag(o) && k > 0 && (size_t)k < sizeof(left))
				snprintf(left + k, sizeof(left) - (size_t)k, " %s", o->arg_name ? o->arg_name : "VALUE");
			if (strlen(left) > 34)
				fprintf(f, "%s\n%36s%s\n", left, "", o->help);
			else
				fprintf(f, "%-36s%s\n", left, o->help);
			if (o->kind == OPT_CHOICE) {
				const char *const *c;

				fprintf(f, "%36s(", "");
				for (c = o->choices; *c; c++)
					fprintf(f, "%s%s", c == o->choices ? "" : ", ", *c);
				fprintf(f, ")\n");
			}
		}
	}
}

/* Candidates for an option's value starting with `prefix`; each printed
 * after `lead` (the "--name=" of the one-word form, else ""). */
static void complete_value(FILE *f, const struct opt *o, const char *lead, const char *prefix,
			   char **(*context_names)(void))
{
	int directive = 4; /* NoFileComp */

	if (o->kind == OPT_CHOICE || o->complete == COMPLETE_CHOICES) {
		const char *const *c;

		for (c = o->choices; c && *c; c++)
			if (!strncmp(*c, prefix, strlen(prefix)))
				fprintf(f, "%s%s\n", lead, *c);
	} else if (o->complete == COMPLETE_CONTEXT && context_names) {
		char **names = context_names(), **n;

		for (n = names; n && *n; n++) {
			if (!strncmp(*n, prefix, strlen(prefix)))
				fprintf(f, "%s%s\n", lead, *n);
			free(*n);
		}
		free(names);
	} else if (o->complete == COMPLETE_FILE) {
		directive = 0; /* let the shell complete file names */
	}
	fprintf(f, ":%d\n", directive);
}

void opts_complete(FILE *f, const struct opt_group *const *groups, int nwords, char **words,
		   char **(*context_names)(void), void (*positional)(FILE *ff, const char *prefix))
{
	const char *cur = nwords > 0 ? words[nwords - 1] : "";
	const char *prev = nwords > 1 ? words[nwords - 2] : NULL;
	const struct opt_group *const *g;
	const struct opt *o;

	if (prev && prev[0] == '-' && !strchr(prev, '=')) {
		o = opts_find(groups, prev);
		if (o && !is_flag(o) && (prev[1] == '-' || !prev[2])) {
			complete_value(f, o, "", cur, context_names);
			return;
		}
	}
	if (cur[0] == '-') {
		const char *eq = strchr(cur, '=');

		if (eq && cur[1] == '-') {
			o = opts_find(groups, cur);
			if (o && !is_flag(o)) {
				char lead[80];

				snprintf(lead, sizeof(lead), "%.*s", (int)(eq - cur + 1), cur);
				complete_value(f, o, lead, eq + 1, context_names);
				return;
			}
		}
		for (g = groups; *g; g++)
			for (o = (*g)->opts; o->kind != OPT_END; o++) {
				char name[64];

				if (o->flags & OPT_HIDDEN || !o->long_name)
					continue;
				snprintf(name, sizeof(name), "--%s", o->long_name);
				if (!strncmp(name, cur, strlen(cur)))
					fprintf(f, "%s\t%s\n", name, o->help);
			}
		fprintf(f, ":4\n");
		return;
	}
	if (positional)
		positional(f, cur);
	fprintf(f, ":4\n");
}

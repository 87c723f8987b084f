/* Unit tests of common/opts.c: parsing, help and completion from one table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

static bool flag;
static const char *name, *fmt;
static long count;
static struct opt_list labels;
static int post_copy = -1;
static long wait_ms;
static const char *const formats[] = { "json", "yaml", NULL };

static const struct opt rows[] = {
	{ OPT_BOOL, 'f', "force", &flag, NULL, "do it anyway", NULL, COMPLETE_NONE, 0 },
	{ OPT_STRING, 'n', "namespace", &name, "NS", "the namespace", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "count", &count, "N", "how many", NULL, COMPLETE_NONE, 0 },
	{ OPT_LIST, 'l', "label", &labels, "K=V", "a label (repeatable)", NULL, COMPLETE_NONE, 0 },
	{ OPT_CHOICE, 'o', "output", &fmt, "FORMAT", "output format", formats, COMPLETE_CHOICES, 0 },
	{ OPT_STRING, 0, "secret", &name, "X", "hidden", NULL, COMPLETE_NONE, OPT_HIDDEN },
	{ OPT_TRIBOOL, 0, "post-copy", &post_copy, NULL, "allow post-copy", NULL, COMPLETE_NONE, 0 },
	{ OPT_DURATION, 0, "timeout", &wait_ms, "DURATION", "how long to wait", NULL, COMPLETE_NONE, 0 },
	{ OPT_END },
};
static const struct opt_group group = { "Options", rows };
static const struct opt_group *const groups[] = { &group, NULL };

static int reset(void **state)
{
	(void)state;
	flag = false;
	name = fmt = NULL;
	count = 0;
	post_copy = -1;
	wait_ms = 0;
	opts_list_free(&labels);
	return 0;
}

static int parse(int argc, char **argv, char ***pos, int *npos, struct kerr *e)
{
	return opts_parse(groups, argc, argv, pos, npos, e);
}

static void test_forms(void **state)
{
	char *argv[] = { "prog", "vm1", "--force", "-n", "ns1", "--count=3", "-lapp=a", "--label", "b=c",
			 "-o", "yaml", "vm2", "--", "--not-an-option", NULL };
	char **pos;
	int npos;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(14, argv, &pos, &npos, &e), 0);
	assert_true(flag);
	assert_string_equal(name, "ns1");
	assert_int_equal(count, 3);
	assert_int_equal(labels.n, 2);
	assert_string_equal(labels.items[0], "app=a");
	assert_string_equal(labels.items[1], "b=c");
	assert_string_equal(fmt, "yaml");
	assert_int_equal(npos, 3);
	assert_string_equal(pos[0], "vm1");
	assert_string_equal(pos[1], "vm2");
	assert_string_equal(pos[2], "--not-an-option");
	assert_null(pos[3]);
	free(pos);
}

static void test_bool_values_and_attached(void **state)
{
	char *argv[] = { "prog", "--force=false", "-nfoo", "--namespace=bar", NULL };
	char **pos;
	int npos;

	(void)state;
	flag = true;
	assert_int_equal(parse(4, argv, &pos, &npos, NULL), 0);
	assert_false(flag);
	assert_string_equal(name, "bar"); /* the last one wins */
	assert_int_equal(npos, 0);
	free(pos);
}

static void test_tribool_and_duration(void **state)
{
	char *unnamed[] = { "prog", "vm", NULL };
	char *named[] = { "prog", "--post-copy", "--timeout", "1m30s", NULL };
	char *off[] = { "prog", "--post-copy=false", "--timeout=45", NULL };
	char *bad[] = { "prog", "--timeout", "soon", NULL };
	char *empty[] = { "prog", "--timeout=", NULL };
	char **pos;
	int npos;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(parse(2, unnamed, &pos, &npos, &e), 0);
	assert_int_equal(post_copy, -1); /* not named: left as it was */
	assert_int_equal(wait_ms, 0);
	free(pos);
	assert_int_equal(parse(4, named, &pos, &npos, &e), 0);
	assert_int_equal(post_copy, 1);
	assert_int_equal(wait_ms, 90000);
	assert_int_equal(npos, 0); /* a tribool takes no separate value */
	free(pos);
	assert_int_equal(parse(3, off, &pos, &npos, &e), 0);
	assert_int_equal(post_copy, 0);
	assert_int_equal(wait_ms, 45000);
	free(pos);
	pos = NULL;
	assert_int_equal(parse(3, bad, &pos, &npos, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_non_null(strstr(e.msg, "'--timeout' expects a duration like 90s, 5m or 1h30m, got 'soon'"));
	assert_null(pos);
	assert_int_equal(parse(2, empty, &pos, &npos, &e), -1);
	assert_null(pos);
}

static void expect_usage(int argc, char **argv, const char *words)
{
	char **pos = NULL;
	int npos = 0;
	struct kerr e = KERR_INIT;

	assert_int_equal(parse(argc, argv, &pos, &npos, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_non_null(strstr(e.msg, words));
	assert_null(pos);
}

static void test_errors(void **state)
{
	char *a1[] = { "prog", "--bogus", NULL };
	char *a2[] = { "prog", "--namespace", NULL };
	char *a3[] = { "prog", "--count", "x3", NULL };
	char *a4[] = { "prog", "-o", "xml", NULL };
	char *a5[] = { "prog", "--force=maybe", NULL };
	char *a6[] = { "prog", "-z", NULL };
	char *a7[] = { "prog", "--bogus=1", NULL };

	(void)state;
	expect_usage(2, a1, "unknown option '--bogus'");
	expect_usage(2, a2, "option '--namespace' needs a value (NS)");
	expect_usage(3, a3, "'--count' expects a whole number, got 'x3'");
	expect_usage(3, a4, "'--output' must be one of: json, yaml (got 'xml')");
	expect_usage(2, a5, "'--force' is true or false, got 'maybe'");
	expect_usage(2, a6, "unknown option '-z'");
	expect_usage(2, a7, "unknown option '--bogus'");
}

static char *capture(void (*fn)(FILE *f, void *arg), void *arg)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	fn(f, arg);
	fclose(f);
	return out;
}

static void help_fn(FILE *f, void *arg)
{
	(void)arg;
	opts_print_help(f, groups);
}

static void test_help_from_table(void **state)
{
	char *h = capture(help_fn, NULL);

	(void)state;
	assert_non_null(strstr(h, "Options:\n"));
	assert_non_null(strstr(h, "-f, --force"));
	assert_non_null(strstr(h, "-n, --namespace NS"));
	assert_non_null(strstr(h, "--count N"));
	assert_non_null(strstr(h, "(json, yaml)"));
	assert_null(strstr(h, "--secret")); /* hidden */
	assert_non_null(strstr(h, "--timeout DURATION"));
	assert_null(strstr(h, "--post-copy VALUE")); /* a flag */
	free(h);
}

struct words {
	int n;
	char **w;
};

static char **no_contexts(void)
{
	char **names = calloc(3, sizeof(*names));

	names[0] = strdup("source");
	names[1] = strdup("target");
	return names;
}

static void complete_fn(FILE *f, void *arg)
{
	struct words *w = arg;

	opts_complete(f, groups, w->n, w->w, no_contexts, NULL);
}

static void test_completion(void **state)
{
	char *w1[] = { "--na" }, *w2[] = { "-o", "" }, *w3[] = { "--output=y" }, *w4[] = { "--" };
	struct words a = { 1, w1 }, b = { 2, w2 }, c = { 1, w3 }, d = { 1, w4 };
	char *out;

	(void)state;
	out = capture(complete_fn, &a);
	assert_string_equal(out, "--namespace\tthe namespace\n:4\n");
	free(out);
	out = capture(complete_fn, &b);
	assert_string_equal(out, "json\nyaml\n:4\n");
	free(out);
	out = capture(complete_fn, &c);
	assert_string_equal(out, "--output=yaml\n:4\n");
	free(out);
	out = capture(complete_fn, &d);
	assert_null(strstr(out, "--secret"));
	assert_non_null(strstr(out, "--force\tdo it anyway\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forms, reset, reset),
		cmocka_unit_test_setup_teardown(test_bool_values_and_attached, reset, reset),
		cmocka_unit_test_setup_teardown(test_errors, reset, reset),
		cmocka_unit_test_setup_teardown(test_tribool_and_duration, reset, reset),
		cmocka_unit_test(test_help_from_table),
		cmocka_unit_test(test_completion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of common/output.c tables and common/msg.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "output.h"

static void test_table(void **state)
{
	const char *h[] = { "NAME", "PHASE", "NODE" };
	const char *r1[] = { "vm-one", "Running", "worker-0" };
	const char *r2[] = { "b", NULL, "w" };
	struct table *t = table_new(3, h);
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_add(t, r1), 0);
	assert_int_equal(table_add(t, r2), 0);
	table_print(t, f, true);
	table_print(t, f, false);
	fclose(f);
	assert_string_equal(out, "NAME     PHASE     NODE\n"
				 "vm-one   Running   worker-0\n"
				 "b        <none>    w\n"
				 "vm-one   Running   worker-0\n"
				 "b        <none>    w\n");
	free(out);
	table_free(t);
}

static void test_msg_prefix_and_exit(void **state)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	struct kerr e = KERR_INIT;

	(void)state;
	msg_set_prog("/usr/bin/kubectl-cclm-enable");
	msg_set_stream(f);
	assert_int_equal(msg_error("cannot read '%s'", "x"), -1);
	msg_warn("z-stream differs");
	kerr_set(&e, KERR_TRANSPORT, "cannot reach 'https://h' (context 'source'): refused");
	assert_int_equal(msg_kerr(&e), CCLM_EXIT_CLUSTER);
	msg_set_stream(NULL);
	fclose(f);
	assert_string_equal(out, "kubectl-cclm-enable: cannot read 'x'\n"
				 "kubectl-cclm-enable: warning: z-stream differs\n"
				 "kubectl-cclm-enable: cannot reach 'https://h' (context 'source'): refused\n");
	free(out);
}

static void test_bytes(void **state)
{
	static const struct {
		double in;
		const char *out;
	} cases[] = {
		{ -5, "0 B" }, { 0, "0 B" }, { 512, "512 B" }, { 1023, "1023 B" }, { 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" }, { 596.0 * 1048576, "596.0 MiB" }, { 2.25 * 1073741824, "2.2 GiB" },
		{ 3.0 * 1099511627776.0, "3.0 TiB" }, { 4096.0 * 1125899906842624.0, "4096.0 PiB" },
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		output_bytes(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	output_bytes(1536, out, 4); /* truncated, still terminated */
	assert_string_equal(out, "1.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_msg_prefix_and_exit),
		cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

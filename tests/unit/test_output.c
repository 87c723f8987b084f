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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_msg_prefix_and_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/quantity.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "quantity.h"

static void test_binary_and_decimal(void **state)
{
	double v = 0;

	(void)state;
	assert_true(quantity_parse("64Mi", &v));
	assert_true(v == 64.0 * 1048576);
	assert_true(quantity_parse("16Gi", &v));
	assert_true(v == 16.0 * 1073741824);
	assert_true(quantity_parse("1.5Gi", &v));
	assert_true(v == 1.5 * 1073741824);
	assert_true(quantity_parse("500M", &v));
	assert_true(v == 500e6);
	assert_true(quantity_parse("2k", &v));
	assert_true(v == 2000);
	assert_true(quantity_parse("1000", &v));
	assert_true(v == 1000);
	assert_true(quantity_parse("0", &v));
	assert_true(v == 0);
	assert_true(quantity_parse("1Pi", &v));
	assert_true(v == 1125899906842624.0);
}

static void test_refused_untouched(void **state)
{
	static const char *const bad[] = { NULL, "", "fast", "Mi", "-1Mi", "+1", "1e3", "1.", ".5Gi", "5 Mi",
					   "5mi", "5MiB", "5m", "1Gix", "0x10" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double v = 42;

		assert_false(quantity_parse(bad[i], &v));
		assert_true(v == 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_and_decimal),
		cmocka_unit_test(test_refused_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

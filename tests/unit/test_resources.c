/* Unit tests of common/resources.c: the table and request paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "resources.h"

static void test_find(void **state)
{
	(void)state;
	assert_ptr_equal(kres_find("VirtualMachine"), &KRES_VM);
	assert_ptr_equal(kres_find("virtualmachineinstancemigrations"), &KRES_VMIM);
	assert_ptr_equal(kres_find("virtualmachines.kubevirt.io"), &KRES_VM);
	assert_ptr_equal(kres_find("pods"), &KRES_POD);
	assert_ptr_equal(kres_find("hyperconverged"), &KRES_HCO);
	assert_null(kres_find("virtualmachines.example.com"));
	assert_null(kres_find("nonsense"));
	assert_null(kres_find(NULL));
	assert_string_equal(kres_api_version(&KRES_VM), "kubevirt.io/v1");
	assert_string_equal(kres_api_version(&KRES_POD), "v1");
}

static void test_every_row_is_consistent(void **state)
{
	const struct kres *const *r;
	int n = 0;

	(void)state;
	for (r = kres_all(); *r; r++, n++) {
		assert_ptr_equal(kres_find((*r)->kind), *r);
		assert_ptr_equal(kres_find((*r)->plural), *r);
		assert_non_null((*r)->version);
	}
	assert_true(n >= 30);
}

static void path_is(const struct kres *r, const char *ns, const char *name, const char *sub, const char *want)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	assert_int_equal(kres_path(&b, r, ns, name, sub, &e), 0);
	assert_string_equal(b.s, want);
	buf_release(&b);
}

static void test_paths(void **state)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	(void)state;
	path_is(&KRES_POD, "ns1", "p1", NULL, "/api/v1/namespaces/ns1/pods/p1");
	path_is(&KRES_POD, NULL, NULL, NULL, "/api/v1/pods");
	path_is(&KRES_NODE, "ignored", "n1", "status", "/api/v1/nodes/n1/status");
	path_is(&KRES_VMIM, "vms", NULL, NULL, "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations");
	path_is(&KRES_VM, "a b", "x:y", NULL, "/apis/kubevirt.io/v1/namespaces/a%20b/virtualmachines/x%3Ay");
	assert_int_equal(kres_path(&b, &KRES_POD, "ns", "a/b", NULL, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_non_null(strstr(e.msg, "invalid name 'a/b'"));
	buf_release(&b);
	assert_int_equal(kres_path(&b, &KRES_POD, "..", "x", NULL, &e), -1);
	buf_release(&b);
	assert_int_equal(kres_path(&b, &KRES_POD, "ns", "", NULL, &e), -1);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_every_row_is_consistent),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

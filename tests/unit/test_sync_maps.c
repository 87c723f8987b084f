/* Unit tests for common/sync/maps.c: --network-map and --storage-map. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- helpers ---------------------------------------------------------- */

static void parse_ok(const char *const *net, int nnet, const char *const *store, int nstore, struct maps *m)
{
	struct kerr e = KERR_INIT;

	if (maps_parse(net, nnet, store, nstore, m, &e))
		fail_msg("maps_parse: %s", e.msg);
	assert_int_equal(e.kind, KERR_NONE);
	assert_int_equal(m->nnet, nnet);
	assert_int_equal(m->nstore, nstore);
}

/* Parse must fail with KERR_USAGE naming the flag and the entry; returns
 * the message (static storage). A failed parse leaves nothing behind. */
static const char *parse_fails(const char *const *net, int nnet, const char *const *store, int nstore,
			       const char *flag, const char *item)
{
	static struct kerr e;
	struct maps m;

	kerr_clear(&e);
	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(maps_parse(net, nnet, store, nstore, &m, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_non_null(strstr(e.msg, flag));
	assert_non_null(strstr(e.msg, item));
	assert_null(m.net);
	assert_null(m.store);
	assert_int_equal(m.nnet, 0);
	assert_int_equal(m.nstore, 0);
	/* and releasing it again is harmless */
	maps_release(&m);
	maps_release(&m);
	return e.msg;
}

static const char *net_fails(const char *item)
{
	const char *const net[] = { item };

	return parse_fails(net, 1, NULL, 0, "--network-map", item);
}

static const char *store_fails(const char *item)
{
	const char *const store[] = { item };

	return parse_fails(NULL, 0, store, 1, "--storage-map", item);
}

static void assert_entry(const struct map_entry *x, const char *from, const char *to, const char *access,
			 const char *mode)
{
	assert_non_null(x);
	assert_string_equal(x->from, from);
	assert_string_equal(x->to, to);
	assert_string_equal(x->access, access);
	assert_string_equal(x->mode, mode);
}

/* ---- good entries ----------------------------------------------------- */

static void test_empty(void **state)
{
	struct maps m;

	(void)state;
	parse_ok(NULL, 0, NULL, 0, &m);
	assert_null(m.net);
	assert_null(m.store);
	assert_null(maps_net(&m, "default/livemigration-network"));
	assert_null(maps_store(&m, "rbd"));
	assert_null(maps_net(&m, ""));
	maps_release(&m);
	assert_null(maps_net(&m, "x"));
	maps_release(&m);
}

static void test_network_good(void **state)
{
	static const char *const net[] = {
		"a=b",
		"vms/livemigration-network=vms-target/lm-net",
		"default/br-1=br-2",
	};
	struct maps m;

	(void)state;
	parse_ok(net, N(net), NULL, 0, &m);
	assert_entry(&m.net[0], "a", "b", "", "");
	assert_entry(&m.net[1], "vms/livemigration-network", "vms-target/lm-net", "", "");
	assert_entry(&m.net[2], "default/br-1", "br-2", "", "");
	assert_null(m.store);
	maps_release(&m);
	assert_null(m.net);
	assert_int_equal(m.nnet, 0);
}

static void test_storage_good(void **state)
{
	static const char *const store[] = {
		"rbd=fast",
		"rbd-rwx=fast:ReadWriteMany",
		"rbd-block=fast:ReadWriteOnce:Block",
		"cephfs=nfs:ReadWriteMany:Filesystem",
		"ro=slow:ReadOnlyMany",
		"keep-access=fast::Filesystem",
		"keep-access-block=fast::Block",
	};
	struct maps m;

	(void)state;
	parse_ok(NULL, 0, store, N(store), &m);
	assert_null(m.net);
	assert_entry(&m.store[0], "rbd", "fast", "", "");
	assert_entry(&m.store[1], "rbd-rwx", "fast", "ReadWriteMany", "");
	assert_entry(&m.store[2], "rbd-block", "fast", "ReadWriteOnce", "Block");
	assert_entry(&m.store[3], "cephfs", "nfs", "ReadWriteMany", "Filesystem");
	assert_entry(&m.store[4], "ro", "slow", "ReadOnlyMany", "");
	assert_entry(&m.store[5], "keep-access", "fast", "", "Filesystem");
	assert_entry(&m.store[6], "keep-access-block", "fast", "", "Block");
	maps_release(&m);
}

static void test_both(void **state)
{
	static const char *const net[] = { "n1=n2" };
	static const char *const store[] = { "ocs-storagecluster-ceph-rbd-virtualization=rbd:ReadWriteMany:Block" };
	struct maps m;

	(void)state;
	parse_ok(net, N(net), store, N(store), &m);
	assert_entry(&m.net[0], "n1", "n2", "", "");
	assert_entry(&m.store[0], "ocs-storagecluster-ceph-rbd-virtualization", "rbd", "ReadWriteMany", "Block");
	/* the two maps are separate namespaces */
	assert_null(maps_store(&m, "n1"));
	assert_null(maps_net(&m, "ocs-storagecluster-ceph-rbd-virtualization"));
	maps_release(&m);
}

static void test_longest_names(void **state)
{
	char from[260], to[260], item[600];
	const char *const net[] = { item };
	struct maps m;

	(void)state;
	memset(from, 'f', 253);
	from[253] = '\0';
	memset(to, 't', 253);
	to[253] = '\0';
	snprintf(item, sizeof(item), "%s=%s", from, to);
	parse_ok(net, 1, NULL, 0, &m);
	assert_entry(&m.net[0], from, to, "", "");
	maps_release(&m);
}

/* ---- bad entries ------------------------------------------------------ */

static void test_network_bad(void **state)
{
	(void)state;
	assert_non_null(strstr(net_fails("ab"), "expected SRC=DST"));
	assert_non_null(strstr(net_fails(""), "expected SRC=DST"));
	assert_non_null(strstr(net_fails("=b"), "expected SRC=DST"));
	assert_non_null(strstr(net_fails("a="), "expected SRC=DST"));
	assert_non_null(strstr(net_fails("="), "expected SRC=DST"));
	/* a ':' belongs to storage maps only */
	assert_non_null(strstr(net_fails("a=b:ReadWriteMany"), "expected SRC=DST"));
	assert_null(strstr(net_fails("a=b:c"), "ACCESS"));
	assert_non_null(strstr(net_fails("a=:"), "expected SRC=DST"));
	assert_non_null(strstr(net_fails("a=b=c"), "expected SRC=DST")); /* one = only */
}

static void test_storage_bad(void **state)
{
	(void)state;
	assert_non_null(strstr(store_fails("rbd"), "expected SRC=DST[:ACCESS[:VOLUMEMODE]]"));
	assert_non_null(strstr(store_fails("=fast"), "expected SRC=DST"));
	assert_non_null(strstr(store_fails("rbd="), "expected SRC=DST"));
	assert_non_null(strstr(store_fails("rbd=:ReadWriteMany"), "expected SRC=DST"));
	assert_non_null(strstr(store_fails("rbd=fast:RWX"),
			       "access mode 'RWX' is not ReadWriteOnce, ReadWriteMany or ReadOnlyMany"));
	assert_non_null(strstr(store_fails("rbd=fast:readwritemany"), "access mode 'readwritemany'"));
	assert_non_null(strstr(store_fails("rbd=fast:ReadWriteOnce:Raw"),
			       "volume mode 'Raw' is not Block or Filesystem"));
	assert_non_null(strstr(store_fails("rbd=fast::block"), "volume mode 'block'"));
	assert_non_null(strstr(store_fails("rbd=fast:ReadWriteOnce:"), "volume mode ''"));
	assert_non_null(strstr(store_fails("rbd=fast:ReadWriteOnce:Block:x"), "volume mode 'Block:x'"));
	/* the access mode is checked before the volume mode */
	assert_non_null(strstr(store_fails("rbd=fast:RWO:Raw"), "access mode 'RWO'"));
}

static void test_too_long(void **state)
{
	char item[1024];

	(void)state;
	memset(item, 'f', 254);
	snprintf(item + 254, sizeof(item) - 254, "=b");
	assert_non_null(strstr(net_fails(item), "name too long"));
	snprintf(item, sizeof(item), "a=");
	memset(item + 2, 't', 254);
	item[256] = '\0';
	assert_non_null(strstr(net_fails(item), "expected SRC=DST"));
	snprintf(item, sizeof(item), "rbd=");
	memset(item + 4, 't', 700);
	item[704] = '\0';
	assert_non_null(strstr(store_fails(item), "too long"));
}

static void test_bad_after_good(void **state)
{
	static const char *const net[] = { "a=b", "c=d" };
	static const char *const store[] = { "rbd=fast", "cephfs=nfs:RWX" };
	static const char *const net_bad[] = { "a=b", "c", "e=f" };

	(void)state;
	/* the first bad entry is named; everything parsed before it is freed */
	parse_fails(net, N(net), store, N(store), "--storage-map", "cephfs=nfs:RWX");
	assert_non_null(strstr(parse_fails(net_bad, N(net_bad), store, N(store), "--network-map", "'c'"),
			       "expected SRC=DST"));
}

/* ---- lookups ---------------------------------------------------------- */

static void test_lookup(void **state)
{
	static const char *const net[] = { "vms/lm=vms/lm2", "default/br=br", "vms/lm=ignored" };
	static const char *const store[] = { "rbd=fast:ReadWriteMany", "cephfs=nfs::Filesystem" };
	struct maps m;

	(void)state;
	parse_ok(net, N(net), store, N(store), &m);
	assert_ptr_equal(maps_net(&m, "vms/lm"), &m.net[0]);
	assert_string_equal(maps_net(&m, "vms/lm")->to, "vms/lm2");
	assert_ptr_equal(maps_net(&m, "default/br"), &m.net[1]);
	assert_null(maps_net(&m, "lm"));
	assert_null(maps_net(&m, "vms/lm2"));
	assert_null(maps_net(&m, "vms/l"));
	assert_null(maps_net(&m, "VMS/LM"));
	assert_null(maps_net(&m, ""));
	assert_ptr_equal(maps_store(&m, "rbd"), &m.store[0]);
	assert_entry(maps_store(&m, "rbd"), "rbd", "fast", "ReadWriteMany", "");
	assert_entry(maps_store(&m, "cephfs"), "cephfs", "nfs", "", "Filesystem");
	assert_null(maps_store(&m, "fast"));
	assert_null(maps_store(&m, "rb"));
	assert_null(maps_store(&m, "vms/lm"));
	maps_release(&m);
	assert_null(maps_net(&m, "vms/lm"));
	assert_null(maps_store(&m, "rbd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_network_good),
		cmocka_unit_test(test_storage_good),
		cmocka_unit_test(test_both),
		cmocka_unit_test(test_longest_names),
		cmocka_unit_test(test_network_bad),
		cmocka_unit_test(test_storage_bad),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bad_after_good),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for common/ipam.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

#define A(a, b, c, d) ((ipv4)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))

static const char lab_nad[] =
	"{\"cniVersion\":\"0.3.1\",\"name\":\"livemigration-network\",\"type\":\"macvlan\","
	"\"master\":\"ens4.2001\",\"mode\":\"bridge\",\"ipam\":{\"type\":\"whereabouts\","
	"\"range\":\"192.168.201.0/24\",\"exclude\":[\"192.168.201.128/25\"]}}";

static const char lab_nad_upper[] =
	"{\"cniVersion\":\"0.3.1\",\"name\":\"livemigration-network\",\"type\":\"macvlan\","
	"\"master\":\"ens4.2001\",\"mode\":\"bridge\",\"ipam\":{\"type\":\"whereabouts\","
	"\"range\":\"192.168.201.0/24\",\"exclude\":[\"192.168.201.0/25\"]}}";

static const char lab_nad_whole[] =
	"{\"cniVersion\":\"0.3.1\",\"name\":\"livemigration-network\",\"type\":\"macvlan\","
	"\"master\":\"ens4.2001\",\"mode\":\"bridge\",\"ipam\":{\"type\":\"whereabouts\","
	"\"range\":\"192.168.201.0/24\"}}";

/* ---- helpers ---------------------------------------------------------- */

static void parse_ok(const char *config, struct nad_net *n)
{
	struct kerr e = KERR_INIT;

	if (nad_net_parse(config, n, &e))
		fail_msg("nad_net_parse: %s", e.msg);
	assert_int_equal(e.kind, KERR_NONE);
}

/* Parse must fail with `kind`; returns the message (static storage). */
static const char *parse_fails(const char *config, enum kerr_kind kind)
{
	static struct kerr e;
	struct nad_net n = NAD_NET_INIT;

	kerr_clear(&e);
	assert_int_equal(nad_net_parse(config, &n, &e), -1);
	assert_int_equal(e.kind, kind);
	/* a failed parse leaves nothing to release */
	assert_null(n.pool.spans);
	assert_int_equal(n.pool.n, 0);
	assert_false(n.has_subnet);
	return e.msg;
}

/* The pool as ipam_pool_format prints it; free() the result. */
static char *pool_str(const struct ipam_pool *p)
{
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	if (ipam_pool_format(p, &b, &e))
		fail_msg("ipam_pool_format: %s", e.msg);
	return buf_detach(&b, NULL);
}

static void assert_pool(const struct ipam_pool *p, const char *want)
{
	char *s = pool_str(p);

	assert_string_equal(s, want);
	free(s);
}

/* The pool of a NAD config, as printed. */
static void assert_nad_pool(const char *config, const char *want)
{
	struct nad_net n = NAD_NET_INIT;

	parse_ok(config, &n);
	assert_pool(&n.pool, want);
	nad_net_release(&n);
}

static void assert_net(const struct ipv4_net *n, ipv4 addr, int prefix)
{
	assert_int_equal(n->addr, addr);
	assert_int_equal(n->prefix, prefix);
}

static void add_ok(struct ipam_pool *p, ipv4 first, ipv4 last)
{
	struct kerr e = KERR_INIT;

	if (ipam_pool_add(p, first, last, &e))
		fail_msg("ipam_pool_add: %s", e.msg);
}

static void remove_ok(struct ipam_pool *p, ipv4 first, ipv4 last)
{
	struct kerr e = KERR_INIT;

	if (ipam_pool_remove(p, first, last, &e))
		fail_msg("ipam_pool_remove: %s", e.msg);
}

/* ---- addresses -------------------------------------------------------- */

static void test_ipv4_parse_good(void **state)
{
	struct kerr e = KERR_INIT;
	ipv4 a = 1;

	(void)state;
	assert_int_equal(ipv4_parse("192.168.201.7", &a, "address", &e), 0);
	assert_int_equal(a, A(192, 168, 201, 7));
	assert_int_equal(ipv4_parse("0.0.0.0", &a, "address", &e), 0);
	assert_int_equal(a, 0);
	assert_int_equal(ipv4_parse("255.255.255.255", &a, "address", &e), 0);
	assert_int_equal(a, 0xffffffffu);
	/* leading zeros are decimal, as whereabouts reads them */
	assert_int_equal(ipv4_parse("010.001.000.09", &a, NULL, &e), 0);
	assert_int_equal(a, A(10, 1, 0, 9));
	assert_int_equal(e.kind, KERR_NONE);
	/* out may be NULL: a validity check */
	assert_int_equal(ipv4_parse("10.0.0.1", NULL, NULL, &e), 0);
}

static void test_ipv4_parse_bad(void **state)
{
	static const char *const bad[] = {
		"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.256.1.1", "1.1.1.256", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4x",
		"x1.2.3.4", "1..3.4", ".1.2.3", "1.2.3.", "", "1.2.3.-4", "+1.2.3.4", "1234.1.1.1", "0001.1.1.1",
		"1.2.3.4/24", "a.b.c.d", "1,2,3,4", "1.2.3.4.", "....",
	};
	struct kerr e = KERR_INIT;
	char want[128];
	size_t i;
	ipv4 a;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = 42;
		kerr_clear(&e);
		if (ipv4_parse(bad[i], &a, "range_start", &e) != -1)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(e.kind, KERR_USAGE);
		snprintf(want, sizeof(want), "range_start '%s' is not an IPv4 address", bad[i]);
		assert_string_equal(e.msg, want);
		assert_int_equal(a, 42); /* untouched */
	}
	assert_int_equal(ipv4_parse("1.2.3", &a, NULL, &e), -1);
	assert_string_equal(e.msg, "address '1.2.3' is not an IPv4 address");
	assert_int_equal(ipv4_parse(NULL, &a, "gateway", &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "gateway is missing");
	assert_int_equal(ipv4_parse("fd00::1", &a, "gateway", &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "IPv6 migration networks are not supported: gateway 'fd00::1'");
	/* e may be NULL */
	assert_int_equal(ipv4_parse("nope", &a, NULL, NULL), -1);
}

static void test_ipv4_net_parse(void **state)
{
	struct kerr e = KERR_INIT;
	struct ipv4_net n;

	(void)state;
	assert_int_equal(ipv4_net_parse("192.168.201.0/24", &n, "range", &e), 0);
	assert_net(&n, A(192, 168, 201, 0), 24);
	/* host bits are cleared */
	assert_int_equal(ipv4_net_parse("192.168.201.77/24", &n, "range", &e), 0);
	assert_net(&n, A(192, 168, 201, 0), 24);
	assert_int_equal(ipv4_net_parse("192.168.201.77/25", &n, "range", &e), 0);
	assert_net(&n, A(192, 168, 201, 0), 25);
	assert_int_equal(ipv4_net_parse("192.168.201.200/25", &n, "range", &e), 0);
	assert_net(&n, A(192, 168, 201, 128), 25);
	assert_int_equal(ipv4_net_parse("10.1.2.3/0", &n, "range", &e), 0);
	assert_net(&n, 0, 0);
	assert_int_equal(ipv4_net_parse("10.1.2.3/32", &n, "range", &e), 0);
	assert_net(&n, A(10, 1, 2, 3), 32);
	assert_int_equal(ipv4_net_parse("10.1.2.3/31", &n, "range", &e), 0);
	assert_net(&n, A(10, 1, 2, 2), 31);
	assert_int_equal(ipv4_net_parse("10.1.2.3/8", &n, "range", &e), 0);
	assert_net(&n, A(10, 0, 0, 0), 8);
	assert_int_equal(e.kind, KERR_NONE);
}

static void test_ipv4_net_parse_bad(void **state)
{
	static const char *const bad[] = {
		"192.168.201.0", "192.168.201.0/", "/24", "192.168.201.0/33", "192.168.201.0/-1", "192.168.201.0/24x",
		"192.168.201.0/ 24", "192.168.201.0/+8", "192.168.201/24", "256.168.201.0/24", "192.168.201.0/024",
		"192.168.201.0/24/24", "", " 192.168.201.0/24", "192.168.201.0//24",
	};
	struct kerr e = KERR_INIT;
	struct ipv4_net n = { 7, 7 };
	char want[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kerr_clear(&e);
		if (ipv4_net_parse(bad[i], &n, "exclude[0]", &e) != -1)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(e.kind, KERR_USAGE);
		snprintf(want, sizeof(want),
			 "exclude[0] '%s' is not an IPv4 CIDR: write ADDRESS/PREFIX, like '192.168.201.0/24'", bad[i]);
		assert_string_equal(e.msg, want);
		assert_net(&n, 7, 7);
	}
	assert_int_equal(ipv4_net_parse("fd00::/64", &n, "range", &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "IPv6 migration networks are not supported: range 'fd00::/64'");
	assert_int_equal(ipv4_net_parse(NULL, &n, NULL, &e), -1);
	assert_string_equal(e.msg, "subnet is missing");
}

static void test_ipv4_format(void **state)
{
	char s[16], small[5];

	(void)state;
	ipv4_format(A(192, 168, 201, 7), s, sizeof(s));
	assert_string_equal(s, "192.168.201.7");
	ipv4_format(0, s, sizeof(s));
	assert_string_equal(s, "0.0.0.0");
	ipv4_format(0xffffffffu, s, sizeof(s));
	assert_string_equal(s, "255.255.255.255");
	ipv4_format(A(10, 0, 0, 1), s, sizeof(s));
	assert_string_equal(s, "10.0.0.1");
	/* a short buffer is truncated, never overrun */
	ipv4_format(A(192, 168, 201, 7), small, sizeof(small));
	assert_string_equal(small, "192.");
	s[0] = 'x';
	ipv4_format(A(1, 2, 3, 4), s, 0);
	assert_int_equal(s[0], 'x');
	ipv4_format(A(1, 2, 3, 4), NULL, 16);
}

static void test_net_first_last_contains(void **state)
{
	struct ipv4_net n24 = { A(192, 168, 201, 0), 24 };
	struct ipv4_net n0 = { 0, 0 };
	struct ipv4_net n32 = { A(10, 0, 0, 5), 32 };
	struct ipv4_net n31 = { A(10, 0, 0, 4), 31 };
	struct ipv4_net dirty = { A(192, 168, 201, 77), 24 };
	struct ipv4_net top = { A(255, 255, 255, 0), 24 };

	(void)state;
	assert_int_equal(ipv4_net_first(&n24), A(192, 168, 201, 0));
	assert_int_equal(ipv4_net_last(&n24), A(192, 168, 201, 255));
	assert_true(ipv4_net_contains(&n24, A(192, 168, 201, 0)));
	assert_true(ipv4_net_contains(&n24, A(192, 168, 201, 255)));
	assert_false(ipv4_net_contains(&n24, A(192, 168, 202, 0)));
	assert_false(ipv4_net_contains(&n24, A(192, 168, 200, 255)));
	assert_int_equal(ipv4_net_first(&n0), 0);
	assert_int_equal(ipv4_net_last(&n0), 0xffffffffu);
	assert_true(ipv4_net_contains(&n0, 0xffffffffu));
	assert_int_equal(ipv4_net_first(&n32), A(10, 0, 0, 5));
	assert_int_equal(ipv4_net_last(&n32), A(10, 0, 0, 5));
	assert_true(ipv4_net_contains(&n32, A(10, 0, 0, 5)));
	assert_false(ipv4_net_contains(&n32, A(10, 0, 0, 4)));
	assert_int_equal(ipv4_net_first(&n31), A(10, 0, 0, 4));
	assert_int_equal(ipv4_net_last(&n31), A(10, 0, 0, 5));
	/* host bits in the struct do not matter */
	assert_int_equal(ipv4_net_first(&dirty), A(192, 168, 201, 0));
	assert_int_equal(ipv4_net_last(&dirty), A(192, 168, 201, 255));
	assert_true(ipv4_net_contains(&dirty, A(192, 168, 201, 1)));
	assert_int_equal(ipv4_net_last(&top), 0xffffffffu);
	assert_false(ipv4_net_contains(NULL, 0));
}

/* ---- NAD configs: whereabouts ------------------------------------------ */

static void test_lab_nad(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok(lab_nad, &n);
	assert_string_equal(n.type, "macvlan");
	assert_string_equal(n.master, "ens4.2001");
	assert_string_equal(n.bridge, "");
	assert_int_equal(n.vlan, 2001);
	assert_int_equal(n.mtu, 0);
	assert_string_equal(n.ipam_type, "whereabouts");
	assert_true(n.has_subnet);
	assert_net(&n.subnet, A(192, 168, 201, 0), 24);
	assert_int_equal(n.pool.n, 1);
	assert_pool(&n.pool, "192.168.201.1-192.168.201.127");
	assert_int_equal(ipam_pool_size(&n.pool), 127);
	assert_true(ipam_pool_contains(&n.pool, A(192, 168, 201, 1)));
	assert_true(ipam_pool_contains(&n.pool, A(192, 168, 201, 127)));
	assert_false(ipam_pool_contains(&n.pool, A(192, 168, 201, 0)));
	assert_false(ipam_pool_contains(&n.pool, A(192, 168, 201, 128)));
	nad_net_release(&n);
	assert_null(n.pool.spans);
	assert_int_equal(n.pool.n, 0);
	assert_false(n.has_subnet);
	assert_string_equal(n.type, "");
	/* releasing twice is harmless */
	nad_net_release(&n);
	nad_net_release(NULL);
}

static void test_lab_nad_pair(void **state)
{
	struct nad_net a = NAD_NET_INIT, b = NAD_NET_INIT, c = NAD_NET_INIT, d = NAD_NET_INIT;
	ipv4 common = 0;

	(void)state;
	parse_ok(lab_nad, &a);
	parse_ok(lab_nad_upper, &b);
	assert_pool(&b.pool, "192.168.201.128-192.168.201.254");
	assert_int_equal(ipam_pool_size(&b.pool), 127);
	assert_net(&b.subnet, A(192, 168, 201, 0), 24);
	common = 99;
	assert_false(ipam_pool_overlap(&a.pool, &b.pool, &common));
	assert_int_equal(common, 99); /* untouched without overlap */
	assert_false(ipam_pool_overlap(&b.pool, &a.pool, NULL));
	/* two clusters with the same whole /24 collide at its first address */
	parse_ok(lab_nad_whole, &c);
	parse_ok(lab_nad_whole, &d);
	assert_pool(&c.pool, "192.168.201.1-192.168.201.254");
	assert_true(ipam_pool_overlap(&c.pool, &d.pool, &common));
	assert_int_equal(common, A(192, 168, 201, 1));
	/* the whole /24 meets the upper half at .128 */
	assert_true(ipam_pool_overlap(&c.pool, &b.pool, &common));
	assert_int_equal(common, A(192, 168, 201, 128));
	assert_true(ipam_pool_overlap(&a.pool, &c.pool, &common));
	assert_int_equal(common, A(192, 168, 201, 1));
	nad_net_release(&a);
	nad_net_release(&b);
	nad_net_release(&c);
	nad_net_release(&d);
}

static void test_whereabouts_range_start_end(void **state)
{
	(void)state;
	assert_nad_pool("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_start\":\"192.168.201.10\",\"range_end\":\"192.168.201.20\"}}",
			"192.168.201.10-192.168.201.20");
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_start\":\"192.168.201.200\"}}",
			"192.168.201.200-192.168.201.254");
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_end\":\"192.168.201.5\"}}",
			"192.168.201.1-192.168.201.5");
	/* the network and broadcast addresses stay out even when named */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_start\":\"192.168.201.0\",\"range_end\":\"192.168.201.255\"}}",
			"192.168.201.1-192.168.201.254");
	/* one address */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_start\":\"192.168.201.9\",\"range_end\":\"192.168.201.9\"}}",
			"192.168.201.9");
	/* a range written with host bits is its network */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.77/30\"}}",
			"192.168.201.77-192.168.201.78");
	/* exclude inside a range_start/range_end window */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			"\"range_start\":\"192.168.201.10\",\"range_end\":\"192.168.201.20\","
			"\"exclude\":[\"192.168.201.12/31\",\"192.168.201.16/32\",\"10.0.0.0/8\"]}}",
			"192.168.201.10-192.168.201.11, 192.168.201.14-192.168.201.15, 192.168.201.17-192.168.201.20");
	/* everything excluded: a subnet, no addresses */
	{
		struct nad_net n = NAD_NET_INIT;

		parse_ok("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
			 "\"exclude\":[\"192.168.0.0/16\"]}}",
			 &n);
		assert_true(n.has_subnet);
		assert_int_equal(n.pool.n, 0);
		assert_pool(&n.pool, "(empty)");
		nad_net_release(&n);
	}
}

static void test_whereabouts_first_last(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4\",\"ipam\":{\"type\":\"whereabouts\","
		 "\"range\":\"192.168.201.10-192.168.201.20/24\"}}",
		 &n);
	assert_pool(&n.pool, "192.168.201.10-192.168.201.20");
	assert_true(n.has_subnet);
	assert_net(&n.subnet, A(192, 168, 201, 0), 24);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	/* the FIRST-LAST form sets the window itself, as in whereabouts */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.10-192.168.201.20/24\","
			"\"range_start\":\"192.168.201.15\"}}",
			"192.168.201.10-192.168.201.20");
	/* network and broadcast still left out */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0-192.168.201.255/24\"}}",
			"192.168.201.1-192.168.201.254");
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.10-192.168.201.30/24\","
			"\"exclude\":[\"192.168.201.16/29\"]}}",
			"192.168.201.10-192.168.201.15, 192.168.201.24-192.168.201.30");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"range\":\"192.168.200.10-192.168.201.20/24\"}}",
					KERR_USAGE),
			    "range '192.168.200.10-192.168.201.20/24' starts outside its subnet");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"range\":\"192.168.201.20-192.168.201.10/24\"}}",
					KERR_USAGE),
			    "range '192.168.201.20-192.168.201.10/24' starts after it ends");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"range\":\"192.168.201.10-192.168.201.20\"}}",
					KERR_USAGE),
			    "range '192.168.201.10-192.168.201.20' is not a CIDR or FIRST-LAST/PREFIX, like "
			    "'192.168.201.10-192.168.201.20/24'");
	parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.10-/24\"}}", KERR_USAGE);
	parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"-192.168.201.20/24\"}}", KERR_USAGE);
	parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"1.2.3.4-1.2.3.5-1.2.3.6/24\"}}", KERR_USAGE);
}

static void test_whereabouts_errors(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"range_start\":\"192.168.201.50\",\"range_end\":\"192.168.201.40\"}}",
					KERR_USAGE),
			    "range_start '192.168.201.50' is after range_end '192.168.201.40'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"range_start\":\"192.168.202.1\"}}",
					KERR_USAGE),
			    "range_start '192.168.202.1' is outside the range '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"range_end\":\"10.0.0.1\"}}",
					KERR_USAGE),
			    "range_end '10.0.0.1' is outside the range '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"range_start\":\"192.168.201.300\"}}",
					KERR_USAGE),
			    "range_start '192.168.201.300' is not an IPv4 address");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0\"}}",
					KERR_USAGE),
			    "range '192.168.201.0' is not an IPv4 CIDR: write ADDRESS/PREFIX, like '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"exclude\":[\"192.168.201.128/25\",\"192.168.201.x/25\"]}}",
					KERR_USAGE),
			    "exclude[1] '192.168.201.x/25' is not an IPv4 CIDR: write ADDRESS/PREFIX, like "
			    "'192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"exclude\":[5]}}",
					KERR_USAGE),
			    "'exclude[0]' in the CNI config is not a string");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"exclude\":\"192.168.201.0/25\"}}",
					KERR_USAGE),
			    "'exclude' in the CNI config is not a list");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":24}}", KERR_USAGE),
			    "'range' in the CNI config is not a string");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\"}}", KERR_USAGE),
			    "whereabouts IPAM has no 'range' or 'ipRanges'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"\",\"ipRanges\":[]}}",
					KERR_USAGE),
			    "whereabouts IPAM has no 'range' or 'ipRanges'");
}

static void test_whereabouts_ipranges(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4\",\"ipam\":{\"type\":\"whereabouts\","
		 "\"ipRanges\":[{\"range\":\"192.168.201.0/24\",\"range_start\":\"192.168.201.10\","
		 "\"range_end\":\"192.168.201.19\"},"
		 "{\"range\":\"10.10.0.0/16\",\"exclude\":[\"10.10.0.0/17\"]},"
		 "{\"range\":\"192.168.201.20-192.168.201.29/24\"}]}}",
		 &n);
	assert_true(n.has_subnet);
	assert_net(&n.subnet, A(192, 168, 201, 0), 24); /* the first member's */
	/* .10-.19 and .20-.29 touch and merge */
	assert_pool(&n.pool, "10.10.128.0-10.10.255.254, 192.168.201.10-192.168.201.29");
	assert_int_equal(ipam_pool_size(&n.pool), 32767 + 20);
	nad_net_release(&n);

	/* a top-level range comes first; its exclude is its own, each
	 * member's exclude is the member's (as whereabouts applies them) */
	parse_ok("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"172.16.0.0/24\","
		 "\"exclude\":[\"172.16.0.0/25\",\"192.168.201.0/24\"],"
		 "\"ipRanges\":[{\"range\":\"192.168.201.0/28\",\"exclude\":[\"192.168.201.8/29\"]},"
		 "{\"range\":\"192.168.202.0/30\"}]}}",
		 &n);
	assert_net(&n.subnet, A(172, 16, 0, 0), 24);
	assert_pool(&n.pool,
		    "172.16.0.128-172.16.0.254, 192.168.201.1-192.168.201.7, 192.168.202.1-192.168.202.2");
	nad_net_release(&n);

	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"ipRanges\":[{\"range\":\"192.168.201.0/24\"},{\"range_start\":\"1.1.1.1\"}]}}",
					KERR_USAGE),
			    "whereabouts 'ipRanges[1].range' is missing");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"ipRanges\":[{\"range\":\"192.168.201.0/24\","
					"\"range_end\":\"192.168.202.1\"}]}}",
					KERR_USAGE),
			    "ipRanges[0].range_end '192.168.202.1' is outside the range '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\","
					"\"ipRanges\":[{\"range\":\"192.168.201.0/24\",\"exclude\":[\"x\"]}]}}",
					KERR_USAGE),
			    "ipRanges[0].exclude[0] 'x' is not an IPv4 CIDR: write ADDRESS/PREFIX, like "
			    "'192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"ipRanges\":[\"192.168.201.0/24\"]}}",
					KERR_USAGE),
			    "'ipRanges[0]' in the CNI config is not an object");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"ipRanges\":{}}}", KERR_USAGE),
			    "'ipRanges' in the CNI config is not a list");
}

static void test_slash31_slash32(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.4/31\"}}", &n);
	assert_pool(&n.pool, "192.168.201.4-192.168.201.5");
	assert_int_equal(ipam_pool_size(&n.pool), 2);
	assert_net(&n.subnet, A(192, 168, 201, 4), 31);
	nad_net_release(&n);
	parse_ok("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.5/32\"}}", &n);
	assert_pool(&n.pool, "192.168.201.5");
	assert_int_equal(ipam_pool_size(&n.pool), 1);
	assert_net(&n.subnet, A(192, 168, 201, 5), 32);
	nad_net_release(&n);
	/* a /30 keeps only its two middle addresses */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.4/30\"}}",
			"192.168.201.5-192.168.201.6");
	/* the very top of the address space */
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"255.255.255.255/32\"}}",
			"255.255.255.255");
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"255.255.255.254/31\"}}",
			"255.255.255.254-255.255.255.255");
	assert_nad_pool("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"255.255.255.0/24\"}}",
			"255.255.255.1-255.255.255.254");
}

/* ---- NAD configs: shape ------------------------------------------------ */

static void test_bridge_vlan(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"cniVersion\":\"0.3.1\",\"name\":\"migration\",\"type\":\"cnv-bridge\",\"bridge\":\"br1\","
		 "\"vlan\":100,\"mtu\":9000,\"macspoofchk\":true,\"ipam\":{\"type\":\"whereabouts\","
		 "\"range\":\"10.200.0.0/16\"}}",
		 &n);
	assert_string_equal(n.type, "cnv-bridge");
	assert_string_equal(n.bridge, "br1");
	assert_string_equal(n.master, "");
	assert_int_equal(n.vlan, 100);
	assert_int_equal(n.mtu, 9000);
	assert_pool(&n.pool, "10.200.0.1-10.200.255.254");
	assert_int_equal(ipam_pool_size(&n.pool), 65534);
	nad_net_release(&n);
	parse_ok("{\"type\":\"bridge\",\"bridge\":\"br0\"}", &n);
	assert_string_equal(n.type, "bridge");
	assert_string_equal(n.bridge, "br0");
	assert_int_equal(n.vlan, 0);
	assert_string_equal(n.ipam_type, "");
	nad_net_release(&n);
	assert_string_equal(parse_fails("{\"type\":\"bridge\",\"bridge\":\"br0\",\"vlan\":4095}", KERR_USAGE),
			    "'vlan' in the CNI config must be a whole number from 0 to 4094");
	parse_fails("{\"type\":\"bridge\",\"bridge\":\"br0\",\"vlan\":-1}", KERR_USAGE);
	parse_fails("{\"type\":\"bridge\",\"bridge\":\"br0\",\"vlan\":1.5}", KERR_USAGE);
	parse_fails("{\"type\":\"bridge\",\"bridge\":\"br0\",\"vlan\":\"100\"}", KERR_USAGE);
	assert_string_equal(parse_fails("{\"type\":\"bridge\",\"mtu\":-1}", KERR_USAGE),
			    "'mtu' in the CNI config must be a whole number from 0 to 65535");
	parse_fails("{\"type\":\"bridge\",\"mtu\":1e10}", KERR_USAGE);
	assert_string_equal(parse_fails("{\"type\":\"bridge\",\"bridge\":7}", KERR_USAGE),
			    "'bridge' in the CNI config is not a string");
}

static void test_master_vlan(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"type\":\"vlan\",\"master\":\"ens4\",\"vlanId\":2001,\"mtu\":1400}", &n);
	assert_string_equal(n.type, "vlan");
	assert_string_equal(n.master, "ens4");
	assert_int_equal(n.vlan, 2001);
	assert_int_equal(n.mtu, 1400);
	nad_net_release(&n);
	/* an explicit tag wins over the interface name */
	parse_ok("{\"type\":\"vlan\",\"master\":\"ens4.30\",\"vlanId\":2001}", &n);
	assert_int_equal(n.vlan, 2001);
	nad_net_release(&n);
	parse_ok("{\"type\":\"ipvlan\",\"master\":\"bond0.42\"}", &n);
	assert_string_equal(n.type, "ipvlan");
	assert_int_equal(n.vlan, 42);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4\"}", &n);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	/* not a VLAN suffix */
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4.\"}", &n);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4.2x\"}", &n);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4.5000\"}", &n);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"master\":\".100\"}", &n);
	assert_int_equal(n.vlan, 0);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"master\":\"a.b.7\"}", &n);
	assert_int_equal(n.vlan, 7);
	nad_net_release(&n);
	assert_string_equal(parse_fails("{\"type\":\"vlan\",\"master\":\"ens4\",\"vlanId\":5000}", KERR_USAGE),
			    "'vlanId' in the CNI config must be a whole number from 0 to 4094");
}

static void test_plugins_chain(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	/* the member with ipam is the one described, not the first */
	parse_ok("{\"cniVersion\":\"0.4.0\",\"name\":\"migration\",\"plugins\":["
		 "{\"type\":\"tuning\",\"mtu\":1200},"
		 "{\"type\":\"macvlan\",\"master\":\"ens5.30\",\"mtu\":1500,"
		 "\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.30.0/24\"}},"
		 "{\"type\":\"bridge\",\"bridge\":\"br9\",\"ipam\":{\"type\":\"static\"}}]}",
		 &n);
	assert_string_equal(n.type, "macvlan");
	assert_string_equal(n.master, "ens5.30");
	assert_string_equal(n.bridge, "");
	assert_int_equal(n.vlan, 30);
	assert_int_equal(n.mtu, 1500);
	assert_string_equal(n.ipam_type, "whereabouts");
	assert_pool(&n.pool, "192.168.30.1-192.168.30.254");
	nad_net_release(&n);
	parse_ok("{\"cniVersion\":\"0.4.0\",\"plugins\":[{\"type\":\"cnv-bridge\",\"bridge\":\"br1\",\"vlan\":12,"
		 "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.0.0.0/29\"}},{\"type\":\"tuning\"}]}",
		 &n);
	assert_string_equal(n.type, "cnv-bridge");
	assert_string_equal(n.bridge, "br1");
	assert_int_equal(n.vlan, 12);
	assert_pool(&n.pool, "10.0.0.2-10.0.0.6");
	nad_net_release(&n);
	/* no member has ipam: the first member, no pool */
	parse_ok("{\"plugins\":[{\"type\":\"ovn-k8s-cni-overlay\",\"mtu\":1400},{\"type\":\"tuning\"}]}", &n);
	assert_string_equal(n.type, "ovn-k8s-cni-overlay");
	assert_int_equal(n.mtu, 1400);
	assert_string_equal(n.ipam_type, "");
	assert_false(n.has_subnet);
	assert_int_equal(n.pool.n, 0);
	nad_net_release(&n);
	/* an empty chain */
	parse_ok("{\"plugins\":[]}", &n);
	assert_string_equal(n.type, "");
	nad_net_release(&n);
	/* a top-level ipam wins over the chain */
	parse_ok("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"dhcp\"},\"plugins\":[{\"type\":\"bridge\","
		 "\"ipam\":{\"type\":\"static\"}}]}",
		 &n);
	assert_string_equal(n.type, "macvlan");
	assert_string_equal(n.ipam_type, "dhcp");
	nad_net_release(&n);
	assert_string_equal(parse_fails("{\"plugins\":{\"type\":\"bridge\"}}", KERR_USAGE),
			    "'plugins' in the CNI config is not a list");
	/* an error in the chosen member's IPAM */
	parse_fails("{\"plugins\":[{\"type\":\"macvlan\",\"ipam\":{\"type\":\"whereabouts\",\"range\":\"x\"}}]}",
		    KERR_USAGE);
}

/* ---- NAD configs: static, host-local, none ---------------------------- */

static void test_static(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"type\":\"macvlan\",\"master\":\"ens4\",\"ipam\":{\"type\":\"static\",\"addresses\":["
		 "{\"address\":\"192.168.201.9/24\",\"gateway\":\"192.168.201.1\"},"
		 "{\"address\":\"192.168.201.5/24\"},{\"address\":\"10.0.0.1/8\"},"
		 "{\"address\":\"192.168.201.6/24\"}]}}",
		 &n);
	assert_string_equal(n.ipam_type, "static");
	assert_true(n.has_subnet);
	assert_net(&n.subnet, A(192, 168, 201, 0), 24); /* the first address's */
	assert_pool(&n.pool, "10.0.0.1, 192.168.201.5-192.168.201.6, 192.168.201.9");
	assert_int_equal(ipam_pool_size(&n.pool), 4);
	nad_net_release(&n);
	/* the addresses may come at runtime (CNI args): nothing known here */
	parse_ok("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"static\"}}", &n);
	assert_string_equal(n.ipam_type, "static");
	assert_false(n.has_subnet);
	assert_pool(&n.pool, "(empty)");
	nad_net_release(&n);
	parse_ok("{\"ipam\":{\"type\":\"static\",\"addresses\":[]}}", &n);
	assert_false(n.has_subnet);
	nad_net_release(&n);
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"192.168.201.5\"}]}}",
					KERR_USAGE),
			    "addresses[0].address '192.168.201.5' is not an IPv4 CIDR: write ADDRESS/PREFIX, like "
			    "'192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.0.0.1/8\"},"
					"{\"gateway\":\"10.0.0.254\"}]}}",
					KERR_USAGE),
			    "static 'addresses[1].address' is missing");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"static\",\"addresses\":[\"10.0.0.1/8\"]}}", KERR_USAGE),
			    "'addresses[0]' in the CNI config is not an object");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"static\",\"addresses\":\"10.0.0.1/8\"}}", KERR_USAGE),
			    "'addresses' in the CNI config is not a list");
}

static void test_host_local(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	/* network, gateway (.1 by default) and broadcast stay out */
	parse_ok("{\"type\":\"bridge\",\"bridge\":\"br0\",\"ipam\":{\"type\":\"host-local\","
		 "\"subnet\":\"192.168.201.0/24\"}}",
		 &n);
	assert_string_equal(n.ipam_type, "host-local");
	assert_true(n.has_subnet);
	assert_net(&n.subnet, A(192, 168, 201, 0), 24);
	assert_pool(&n.pool, "192.168.201.2-192.168.201.254");
	nad_net_release(&n);
	/* a gateway inside the window splits it */
	assert_nad_pool("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/24\","
			"\"rangeStart\":\"192.168.201.10\",\"rangeEnd\":\"192.168.201.50\","
			"\"gateway\":\"192.168.201.20\"}}",
			"192.168.201.10-192.168.201.19, 192.168.201.21-192.168.201.50");
	/* a gateway elsewhere frees .1 */
	assert_nad_pool("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/24\","
			"\"gateway\":\"192.168.201.254\"}}",
			"192.168.201.1-192.168.201.253");
	/* "range" is read like "subnet" */
	assert_nad_pool("{\"ipam\":{\"type\":\"host-local\",\"range\":\"192.168.201.0/25\"}}",
			"192.168.201.2-192.168.201.126");
	/* the "ranges" form: a list of range sets, each a list of ranges */
	parse_ok("{\"ipam\":{\"type\":\"host-local\",\"ranges\":["
		 "[{\"subnet\":\"10.1.0.0/24\",\"rangeStart\":\"10.1.0.100\",\"rangeEnd\":\"10.1.0.199\"},"
		 "{\"subnet\":\"10.1.1.0/30\"}],"
		 "[{\"subnet\":\"10.2.0.0/29\",\"gateway\":\"10.2.0.6\"}]]}}",
		 &n);
	assert_net(&n.subnet, A(10, 1, 0, 0), 24);
	assert_pool(&n.pool, "10.1.0.100-10.1.0.199, 10.1.1.2, 10.2.0.1-10.2.0.5");
	nad_net_release(&n);
	/* legacy subnet and ranges together: the legacy one first */
	parse_ok("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"172.16.0.0/30\","
		 "\"ranges\":[[{\"subnet\":\"10.1.1.0/30\"}]]}}",
		 &n);
	assert_net(&n.subnet, A(172, 16, 0, 0), 30);
	assert_pool(&n.pool, "10.1.1.2, 172.16.0.2");
	nad_net_release(&n);
}

static void test_host_local_errors(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\"}}", KERR_USAGE),
			    "host-local IPAM has no 'subnet' or 'ranges'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[[]]}}", KERR_USAGE),
			    "host-local IPAM has no 'subnet' or 'ranges'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.7/24\"}}",
					KERR_USAGE),
			    "host-local subnet '192.168.201.7/24' has host bits set: the network is '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/31\"}}",
					KERR_USAGE),
			    "host-local subnet '192.168.201.0/31' is too small to allocate from");
	parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/32\"}}", KERR_USAGE);
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/24\","
					"\"rangeStart\":\"192.168.202.1\"}}",
					KERR_USAGE),
			    "rangeStart '192.168.202.1' is outside the range '192.168.201.0/24'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/24\","
					"\"rangeStart\":\"192.168.201.9\",\"rangeEnd\":\"192.168.201.8\"}}",
					KERR_USAGE),
			    "host-local rangeStart '192.168.201.9' is after rangeEnd '192.168.201.8'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"192.168.201.0/24\","
					"\"gateway\":\"192.168.201\"}}",
					KERR_USAGE),
			    "gateway '192.168.201' is not an IPv4 address");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"},"
					"{\"rangeStart\":\"10.0.0.5\"}]]}}",
					KERR_USAGE),
			    "host-local 'ranges[0][1].subnet' is missing");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[{\"subnet\":\"10.0.0.0/24\"}]}}",
					KERR_USAGE),
			    "'ranges[0]' in the CNI config is not a list");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[[\"10.0.0.0/24\"]]}}",
					KERR_USAGE),
			    "'ranges[0][0]' in the CNI config is not an object");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\","
					"\"rangeEnd\":\"10.0.1.1\"}]]}}",
					KERR_USAGE),
			    "ranges[0][0].rangeEnd '10.0.1.1' is outside the range '10.0.0.0/24'");
}

static void test_no_ipam(void **state)
{
	struct nad_net n = NAD_NET_INIT;

	(void)state;
	parse_ok("{\"cniVersion\":\"0.3.1\",\"type\":\"ovn-k8s-cni-overlay\",\"topology\":\"layer2\"}", &n);
	assert_string_equal(n.type, "ovn-k8s-cni-overlay");
	assert_string_equal(n.ipam_type, "");
	assert_false(n.has_subnet);
	assert_null(n.pool.spans);
	assert_int_equal(n.pool.n, 0);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"ipam\":{}}", &n);
	assert_string_equal(n.ipam_type, "");
	assert_false(n.has_subnet);
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"ipam\":null}", &n);
	assert_string_equal(n.ipam_type, "");
	nad_net_release(&n);
	parse_ok("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"\"}}", &n);
	assert_string_equal(n.ipam_type, "");
	nad_net_release(&n);
	/* an IPAM this module does not know: named, no pool, not an error */
	parse_ok("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"dhcp\",\"range\":\"not looked at\"}}", &n);
	assert_string_equal(n.ipam_type, "dhcp");
	assert_false(n.has_subnet);
	assert_int_equal(n.pool.n, 0);
	nad_net_release(&n);
	parse_ok("{}", &n);
	assert_string_equal(n.type, "");
	nad_net_release(&n);
	/* out may be NULL: a validity check */
	{
		struct kerr e = KERR_INIT;

		assert_int_equal(nad_net_parse(lab_nad, NULL, &e), 0);
		assert_int_equal(nad_net_parse("{", NULL, &e), -1);
		assert_int_equal(e.kind, KERR_PARSE);
	}
	assert_string_equal(parse_fails("{\"type\":\"macvlan\",\"ipam\":\"whereabouts\"}", KERR_USAGE),
			    "'ipam' in the CNI config is not an object");
	assert_string_equal(parse_fails("{\"type\":\"macvlan\",\"ipam\":{\"type\":5}}", KERR_USAGE),
			    "'ipam.type' in the CNI config is not a string");
}

static void test_bad_json(void **state)
{
	const char *m;

	(void)state;
	m = parse_fails("{\"type\":\"macvlan\",", KERR_PARSE);
	assert_non_null(strstr(m, "CNI config is not valid JSON"));
	m = parse_fails("", KERR_PARSE);
	assert_string_equal(m, "CNI config is not valid JSON: it is empty");
	parse_fails("   ", KERR_PARSE);
	parse_fails("not json", KERR_PARSE);
	parse_fails("{\"a\":1} trailing", KERR_PARSE);
	assert_string_equal(parse_fails("[{\"type\":\"macvlan\"}]", KERR_PARSE), "CNI config is not a JSON object");
	assert_string_equal(parse_fails("\"macvlan\"", KERR_PARSE), "CNI config is not a JSON object");
	parse_fails(NULL, KERR_PARSE);
	/* the output is emptied on failure even when it held something */
	{
		struct nad_net n = NAD_NET_INIT;
		struct kerr e = KERR_INIT;

		parse_ok(lab_nad, &n);
		nad_net_release(&n);
		assert_int_equal(nad_net_parse("{", &n, &e), -1);
		assert_string_equal(n.type, "");
		assert_null(n.pool.spans);
	}
}

static void test_ipv6_refused(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("{\"type\":\"macvlan\",\"ipam\":{\"type\":\"whereabouts\","
					"\"range\":\"fd00::/64\"}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: range 'fd00::/64'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"fd00::10-fd00::20/64\"}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: range 'fd00::10-fd00::20/64'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"ipRanges\":[{\"range\":\"fd00:1::/64\"}]}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: ipRanges[0].range 'fd00:1::/64'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"range_start\":\"::ffff:192.168.201.5\"}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: range_start '::ffff:192.168.201.5'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"whereabouts\",\"range\":\"192.168.201.0/24\","
					"\"exclude\":[\"fd00::/120\"]}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: exclude[0] 'fd00::/120'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/24\"}],"
					"[{\"subnet\":\"fd00::/64\"}]]}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: ranges[1][0].subnet 'fd00::/64'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"host-local\",\"subnet\":\"fd00::/64\"}}", KERR_USAGE),
			    "IPv6 migration networks are not supported: subnet 'fd00::/64'");
	assert_string_equal(parse_fails("{\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"fd00::5/64\"}]}}",
					KERR_USAGE),
			    "IPv6 migration networks are not supported: addresses[0].address 'fd00::5/64'");
}

static void test_long_strings(void **state)
{
	char cfg[512], name[80];

	(void)state;
	/* the longest that fits is fine */
	memset(name, 'm', 63);
	name[63] = '\0';
	snprintf(cfg, sizeof(cfg), "{\"type\":\"macvlan\",\"master\":\"%s\"}", name);
	{
		struct nad_net n = NAD_NET_INIT;

		parse_ok(cfg, &n);
		assert_string_equal(n.master, name);
		nad_net_release(&n);
	}
	memset(name, 'm', 64);
	name[64] = '\0';
	snprintf(cfg, sizeof(cfg), "{\"type\":\"macvlan\",\"master\":\"%s\"}", name);
	assert_non_null(strstr(parse_fails(cfg, KERR_USAGE),
			       "'master' in the CNI config is too long (64 characters, at most 63)"));
	snprintf(cfg, sizeof(cfg), "{\"type\":\"bridge\",\"bridge\":\"%s\"}", name);
	assert_non_null(strstr(parse_fails(cfg, KERR_USAGE),
			       "'bridge' in the CNI config is too long (64 characters, at most 63)"));
	memset(name, 't', 32);
	name[32] = '\0';
	snprintf(cfg, sizeof(cfg), "{\"type\":\"%s\"}", name);
	assert_non_null(strstr(parse_fails(cfg, KERR_USAGE),
			       "'type' in the CNI config is too long (32 characters, at most 31)"));
	snprintf(cfg, sizeof(cfg), "{\"type\":\"macvlan\",\"ipam\":{\"type\":\"%s\"}}", name);
	assert_non_null(strstr(parse_fails(cfg, KERR_USAGE),
			       "'ipam.type' in the CNI config is too long (32 characters, at most 31)"));
	name[31] = '\0';
	snprintf(cfg, sizeof(cfg), "{\"type\":\"%s\"}", name);
	{
		struct nad_net n = NAD_NET_INIT;

		parse_ok(cfg, &n);
		assert_string_equal(n.type, name);
		nad_net_release(&n);
	}
}

/* ---- split ------------------------------------------------------------- */

static void test_split_24_in_2(void **state)
{
	struct ipv4_net net = { A(192, 168, 201, 0), 24 };
	struct ipam_span parts[2];
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(ipam_split(&net, 2, parts, &e), 0);
	assert_int_equal(parts[0].first, A(192, 168, 201, 1));
	assert_int_equal(parts[0].last, A(192, 168, 201, 127));
	assert_int_equal(parts[1].first, A(192, 168, 201, 128));
	assert_int_equal(parts[1].last, A(192, 168, 201, 254));
	/* the parts are what the lab NADs hand out */
	{
		struct nad_net a = NAD_NET_INIT, b = NAD_NET_INIT;

		parse_ok(lab_nad, &a);
		parse_ok(lab_nad_upper, &b);
		assert_int_equal(a.pool.spans[0].first, parts[0].first);
		assert_int_equal(a.pool.spans[0].last, parts[0].last);
		assert_int_equal(b.pool.spans[0].first, parts[1].first);
		assert_int_equal(b.pool.spans[0].last, parts[1].last);
		nad_net_release(&a);
		nad_net_release(&b);
	}
}

static void test_split_shapes(void **state)
{
	struct ipv4_net n24 = { A(192, 168, 201, 0), 24 };
	struct ipv4_net n28 = { A(10, 0, 0, 0), 28 };
	struct ipv4_net n29 = { A(10, 0, 0, 8), 29 };
	struct ipv4_net n0 = { 0, 0 };
	struct ipv4_net dirty = { A(192, 168, 201, 99), 24 };
	struct ipv4_net top = { A(255, 255, 255, 0), 24 };
	struct ipam_span p[4];
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(ipam_split(&n24, 1, p, &e), 0);
	assert_int_equal(p[0].first, A(192, 168, 201, 1));
	assert_int_equal(p[0].last, A(192, 168, 201, 254));
	/* not a power of two: the last part takes the rest */
	assert_int_equal(ipam_split(&n24, 3, p, &e), 0);
	assert_int_equal(p[0].first, A(192, 168, 201, 1));
	assert_int_equal(p[0].last, A(192, 168, 201, 84));
	assert_int_equal(p[1].first, A(192, 168, 201, 85));
	assert_int_equal(p[1].last, A(192, 168, 201, 169));
	assert_int_equal(p[2].first, A(192, 168, 201, 170));
	assert_int_equal(p[2].last, A(192, 168, 201, 254));
	assert_int_equal(ipam_split(&n24, 4, p, &e), 0);
	assert_int_equal(p[1].first, A(192, 168, 201, 64));
	assert_int_equal(p[1].last, A(192, 168, 201, 127));
	assert_int_equal(p[3].first, A(192, 168, 201, 192));
	assert_int_equal(p[3].last, A(192, 168, 201, 254));
	assert_int_equal(ipam_split(&n28, 2, p, &e), 0);
	assert_int_equal(p[0].first, A(10, 0, 0, 1));
	assert_int_equal(p[0].last, A(10, 0, 0, 7));
	assert_int_equal(p[1].first, A(10, 0, 0, 8));
	assert_int_equal(p[1].last, A(10, 0, 0, 14));
	assert_int_equal(ipam_split(&n29, 1, p, &e), 0);
	assert_int_equal(p[0].first, A(10, 0, 0, 9));
	assert_int_equal(p[0].last, A(10, 0, 0, 14));
	/* the whole address space, in 64-bit arithmetic */
	assert_int_equal(ipam_split(&n0, 2, p, &e), 0);
	assert_int_equal(p[0].first, A(0, 0, 0, 1));
	assert_int_equal(p[0].last, A(127, 255, 255, 255));
	assert_int_equal(p[1].first, A(128, 0, 0, 0));
	assert_int_equal(p[1].last, A(255, 255, 255, 254));
	assert_int_equal(ipam_split(&top, 2, p, &e), 0);
	assert_int_equal(p[1].first, A(255, 255, 255, 128));
	assert_int_equal(p[1].last, A(255, 255, 255, 254));
	/* host bits in the subnet are ignored */
	assert_int_equal(ipam_split(&dirty, 2, p, &e), 0);
	assert_int_equal(p[0].first, A(192, 168, 201, 1));
	assert_int_equal(p[1].last, A(192, 168, 201, 254));
	assert_int_equal(e.kind, KERR_NONE);
}

static void test_split_errors(void **state)
{
	struct ipv4_net n29 = { A(192, 168, 201, 0), 29 };
	struct ipv4_net n28 = { A(192, 168, 201, 0), 28 };
	struct ipv4_net n30 = { A(192, 168, 201, 0), 30 };
	struct ipv4_net n32 = { A(192, 168, 201, 0), 32 };
	struct ipv4_net n24 = { A(192, 168, 201, 0), 24 };
	struct ipv4_net bad = { 0, 33 };
	struct ipam_span p[4] = { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } };
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(ipam_split(&n29, 2, p, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "subnet '192.168.201.0/29' is too small for 2 clusters");
	assert_int_equal(p[0].first, 1); /* untouched */
	assert_int_equal(ipam_split(&n28, 4, p, &e), -1);
	assert_string_equal(e.msg, "subnet '192.168.201.0/28' is too small for 4 clusters");
	assert_int_equal(ipam_split(&n30, 1, p, &e), -1);
	assert_string_equal(e.msg, "subnet '192.168.201.0/30' is too small for 1 cluster");
	assert_int_equal(ipam_split(&n32, 1, p, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_int_equal(ipam_split(&n24, 1000, p, &e), -1);
	assert_string_equal(e.msg, "subnet '192.168.201.0/24' is too small for 1000 clusters");
	assert_int_equal(ipam_split(&n24, 0, p, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "cannot split subnet '192.168.201.0/24' into 0 parts: give at least 1 cluster");
	assert_int_equal(ipam_split(&n24, -3, p, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_int_equal(ipam_split(NULL, 2, p, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_int_equal(ipam_split(&bad, 2, p, &e), -1);
	assert_int_equal(ipam_split(&n24, 2, NULL, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
}

/* ---- pools -------------------------------------------------------------- */

static void test_pool_add_merge(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT;
	struct kerr e = KERR_INIT;

	(void)state;
	add_ok(&p, A(10, 0, 0, 50), A(10, 0, 0, 60));
	add_ok(&p, A(10, 0, 0, 10), A(10, 0, 0, 20)); /* before */
	add_ok(&p, A(10, 0, 0, 90), A(10, 0, 0, 90)); /* after, one address */
	assert_int_equal(p.n, 3);
	assert_pool(&p, "10.0.0.10-10.0.0.20, 10.0.0.50-10.0.0.60, 10.0.0.90");
	add_ok(&p, A(10, 0, 0, 15), A(10, 0, 0, 25)); /* overlaps the end */
	assert_pool(&p, "10.0.0.10-10.0.0.25, 10.0.0.50-10.0.0.60, 10.0.0.90");
	add_ok(&p, A(10, 0, 0, 5), A(10, 0, 0, 12)); /* overlaps the start */
	assert_pool(&p, "10.0.0.5-10.0.0.25, 10.0.0.50-10.0.0.60, 10.0.0.90");
	add_ok(&p, A(10, 0, 0, 52), A(10, 0, 0, 55)); /* inside */
	assert_int_equal(p.n, 3);
	add_ok(&p, A(10, 0, 0, 61), A(10, 0, 0, 61)); /* touches the end */
	add_ok(&p, A(10, 0, 0, 49), A(10, 0, 0, 49)); /* touches the start */
	assert_pool(&p, "10.0.0.5-10.0.0.25, 10.0.0.49-10.0.0.61, 10.0.0.90");
	add_ok(&p, A(10, 0, 0, 62), A(10, 0, 0, 89)); /* fills a gap exactly */
	assert_pool(&p, "10.0.0.5-10.0.0.25, 10.0.0.49-10.0.0.90");
	add_ok(&p, A(10, 0, 0, 100), A(10, 0, 0, 110));
	add_ok(&p, A(10, 0, 0, 1), A(10, 0, 0, 200)); /* swallows everything */
	assert_int_equal(p.n, 1);
	assert_pool(&p, "10.0.0.1-10.0.0.200");
	assert_int_equal(ipam_pool_size(&p), 200);
	assert_int_equal(ipam_pool_add(&p, A(10, 0, 0, 9), A(10, 0, 0, 8), &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_string_equal(e.msg, "address span '10.0.0.9-10.0.0.8' ends before it starts");
	assert_int_equal(p.n, 1);
	assert_int_equal(ipam_pool_add(NULL, 1, 2, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	ipam_pool_release(&p);
	assert_null(p.spans);
	assert_int_equal(p.n, 0);
	ipam_pool_release(&p);
	ipam_pool_release(NULL);
}

static void test_pool_add_many(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT;
	ipv4 i;

	(void)state;
	/* every other address, backwards, then the gaps: one span */
	for (i = 200; i >= 2; i -= 2)
		add_ok(&p, i, i);
	assert_int_equal(p.n, 100);
	assert_int_equal(ipam_pool_size(&p), 100);
	for (i = 1; i < 200; i += 2)
		add_ok(&p, i, i);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.spans[0].first, 1);
	assert_int_equal(p.spans[0].last, 200);
	ipam_pool_release(&p);
}

static void test_pool_remove(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT;
	struct kerr e = KERR_INIT;

	(void)state;
	/* removing from an empty pool */
	remove_ok(&p, 0, 0xffffffffu);
	assert_int_equal(p.n, 0);
	add_ok(&p, A(192, 168, 201, 1), A(192, 168, 201, 254));
	remove_ok(&p, A(192, 168, 201, 100), A(192, 168, 201, 109)); /* splits */
	assert_pool(&p, "192.168.201.1-192.168.201.99, 192.168.201.110-192.168.201.254");
	remove_ok(&p, A(192, 168, 201, 1), A(192, 168, 201, 1)); /* the first address */
	remove_ok(&p, A(192, 168, 201, 254), A(192, 168, 201, 254)); /* the last */
	assert_pool(&p, "192.168.201.2-192.168.201.99, 192.168.201.110-192.168.201.253");
	remove_ok(&p, A(10, 0, 0, 0), A(10, 255, 255, 255)); /* elsewhere: no change */
	remove_ok(&p, A(192, 168, 201, 100), A(192, 168, 201, 109)); /* the gap: no change */
	assert_int_equal(p.n, 2);
	remove_ok(&p, A(192, 168, 201, 90), A(192, 168, 201, 120)); /* across the gap */
	assert_pool(&p, "192.168.201.2-192.168.201.89, 192.168.201.121-192.168.201.253");
	remove_ok(&p, A(192, 168, 201, 2), A(192, 168, 201, 89)); /* a whole span */
	assert_pool(&p, "192.168.201.121-192.168.201.253");
	assert_int_equal(ipam_pool_size(&p), 133);
	remove_ok(&p, A(192, 168, 201, 0), A(192, 168, 201, 255)); /* everything */
	assert_int_equal(p.n, 0);
	assert_null(p.spans);
	assert_pool(&p, "(empty)");
	/* usable again */
	add_ok(&p, 5, 9);
	add_ok(&p, 20, 30);
	add_ok(&p, 40, 50);
	remove_ok(&p, 7, 45);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.spans[0].first, 5);
	assert_int_equal(p.spans[0].last, 6);
	assert_int_equal(p.spans[1].first, 46);
	assert_int_equal(p.spans[1].last, 50);
	assert_int_equal(ipam_pool_remove(&p, 9, 8, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	assert_int_equal(p.n, 2);
	assert_int_equal(ipam_pool_remove(NULL, 1, 2, &e), -1);
	ipam_pool_release(&p);
}

static void test_pool_address_space_edges(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT, q = IPAM_POOL_INIT;
	ipv4 common = 0;

	(void)state;
	add_ok(&p, 0xffffffffu, 0xffffffffu);
	assert_pool(&p, "255.255.255.255");
	add_ok(&p, A(255, 255, 255, 250), A(255, 255, 255, 254)); /* touches the top */
	assert_int_equal(p.n, 1);
	assert_pool(&p, "255.255.255.250-255.255.255.255");
	add_ok(&p, 0xffffffffu, 0xffffffffu); /* again: no change */
	assert_int_equal(p.n, 1);
	add_ok(&p, 0, 0);
	add_ok(&p, 1, 1); /* touches 0.0.0.0 */
	assert_pool(&p, "0.0.0.0-0.0.0.1, 255.255.255.250-255.255.255.255");
	assert_true(ipam_pool_contains(&p, 0xffffffffu));
	assert_true(ipam_pool_contains(&p, 0));
	assert_false(ipam_pool_contains(&p, 2));
	add_ok(&p, 0, 0xffffffffu);
	assert_int_equal(p.n, 1);
	assert_int_equal(ipam_pool_size(&p), UINT64_C(4294967296));
	assert_pool(&p, "0.0.0.0-255.255.255.255");
	remove_ok(&p, 0xffffffffu, 0xffffffffu);
	remove_ok(&p, 0, 0);
	assert_pool(&p, "0.0.0.1-255.255.255.254");
	assert_int_equal(ipam_pool_size(&p), UINT64_C(4294967294));
	remove_ok(&p, A(128, 0, 0, 0), 0xffffffffu);
	assert_pool(&p, "0.0.0.1-127.255.255.255");
	/* overlap at the very top */
	add_ok(&q, 0xffffffffu, 0xffffffffu);
	assert_false(ipam_pool_overlap(&p, &q, &common));
	add_ok(&p, A(255, 255, 255, 255), 0xffffffffu);
	assert_true(ipam_pool_overlap(&p, &q, &common));
	assert_int_equal(common, 0xffffffffu);
	ipam_pool_release(&p);
	ipam_pool_release(&q);
}

static void test_pool_contains_size(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT;
	ipv4 i;

	(void)state;
	assert_false(ipam_pool_contains(&p, 0));
	assert_int_equal(ipam_pool_size(&p), 0);
	assert_false(ipam_pool_contains(NULL, 0));
	assert_int_equal(ipam_pool_size(NULL), 0);
	for (i = 0; i < 20; i++)
		add_ok(&p, i * 10, i * 10 + 4);
	assert_int_equal(p.n, 20);
	assert_int_equal(ipam_pool_size(&p), 100);
	for (i = 0; i < 200; i++)
		assert_int_equal(ipam_pool_contains(&p, i), i % 10 < 5);
	assert_false(ipam_pool_contains(&p, 1000));
	ipam_pool_release(&p);
}

static void test_pool_overlap(void **state)
{
	struct ipam_pool a = IPAM_POOL_INIT, b = IPAM_POOL_INIT, none = IPAM_POOL_INIT;
	ipv4 common = 7;

	(void)state;
	assert_false(ipam_pool_overlap(&a, &b, &common));
	add_ok(&a, 10, 20);
	add_ok(&a, 30, 40);
	add_ok(&a, 50, 60);
	assert_false(ipam_pool_overlap(&a, &none, &common));
	assert_false(ipam_pool_overlap(&none, &a, &common));
	/* interleaved but disjoint, including touching ends */
	add_ok(&b, 0, 9);
	add_ok(&b, 21, 29);
	add_ok(&b, 41, 49);
	add_ok(&b, 61, 100);
	assert_false(ipam_pool_overlap(&a, &b, &common));
	assert_int_equal(common, 7);
	/* the lowest common address wins, whichever pool it starts in */
	add_ok(&b, 55, 55);
	add_ok(&b, 35, 36);
	assert_true(ipam_pool_overlap(&a, &b, &common));
	assert_int_equal(common, 35);
	assert_true(ipam_pool_overlap(&b, &a, &common));
	assert_int_equal(common, 35);
	assert_true(ipam_pool_overlap(&a, &b, NULL));
	/* a span of b covering several of a */
	ipam_pool_release(&b);
	add_ok(&b, 15, 55);
	assert_true(ipam_pool_overlap(&a, &b, &common));
	assert_int_equal(common, 15);
	assert_true(ipam_pool_overlap(&a, &a, &common));
	assert_int_equal(common, 10);
	assert_false(ipam_pool_overlap(NULL, &a, &common));
	assert_false(ipam_pool_overlap(&a, NULL, &common));
	ipam_pool_release(&a);
	ipam_pool_release(&b);
}

static void test_pool_format(void **state)
{
	struct ipam_pool p = IPAM_POOL_INIT;
	struct buf b = BUF_INIT;
	struct kerr e = KERR_INIT;

	(void)state;
	assert_int_equal(ipam_pool_format(&p, &b, &e), 0);
	assert_string_equal(b.s, "(empty)");
	buf_reset(&b);
	assert_int_equal(ipam_pool_format(NULL, &b, &e), 0);
	assert_string_equal(b.s, "(empty)");
	buf_reset(&b);
	add_ok(&p, A(192, 168, 201, 5), A(192, 168, 201, 5));
	assert_int_equal(ipam_pool_format(&p, &b, &e), 0);
	assert_string_equal(b.s, "192.168.201.5");
	/* appends */
	assert_int_equal(buf_addstr(&b, " | "), 0);
	add_ok(&p, A(192, 168, 201, 10), A(192, 168, 201, 20));
	add_ok(&p, A(10, 0, 0, 0), A(10, 0, 0, 1));
	assert_int_equal(ipam_pool_format(&p, &b, &e), 0);
	assert_string_equal(b.s, "192.168.201.5 | 10.0.0.0-10.0.0.1, 192.168.201.5, 192.168.201.10-192.168.201.20");
	buf_release(&b);
	/* past a buffer's cap: an error, and the buffer as it was */
	buf_init(&b, 30);
	assert_int_equal(buf_addstr(&b, "pool: "), 0);
	assert_int_equal(ipam_pool_format(&p, &b, &e), -1);
	assert_int_equal(e.kind, KERR_LIMIT);
	assert_string_equal(b.s, "pool: ");
	assert_int_equal(b.len, 6);
	buf_release(&b);
	assert_int_equal(ipam_pool_format(&p, NULL, &e), -1);
	assert_int_equal(e.kind, KERR_USAGE);
	ipam_pool_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_parse_good),
		cmocka_unit_test(test_ipv4_parse_bad),
		cmocka_unit_test(test_ipv4_net_parse),
		cmocka_unit_test(test_ipv4_net_parse_bad),
		cmocka_unit_test(test_ipv4_format),
		cmocka_unit_test(test_net_first_last_contains),
		cmocka_unit_test(test_lab_nad),
		cmocka_unit_test(test_lab_nad_pair),
		cmocka_unit_test(test_whereabouts_range_start_end),
		cmocka_unit_test(test_whereabouts_first_last),
		cmocka_unit_test(test_whereabouts_errors),
		cmocka_unit_test(test_whereabouts_ipranges),
		cmocka_unit_test(test_slash31_slash32),
		cmocka_unit_test(test_bridge_vlan),
		cmocka_unit_test(test_master_vlan),
		cmocka_unit_test(test_plugins_chain),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_host_local),
		cmocka_unit_test(test_host_local_errors),
		cmocka_unit_test(test_no_ipam),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_ipv6_refused),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_split_24_in_2),
		cmocka_unit_test(test_split_shapes),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_pool_add_merge),
		cmocka_unit_test(test_pool_add_many),
		cmocka_unit_test(test_pool_remove),
		cmocka_unit_test(test_pool_address_space_edges),
		cmocka_unit_test(test_pool_contains_size),
		cmocka_unit_test(test_pool_overlap),
		cmocka_unit_test(test_pool_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

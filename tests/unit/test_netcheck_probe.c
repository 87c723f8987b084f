/* Unit tests for plugins/netcheck/probe.c: the plan, the probe's output
 * lines and the matrix cells they make. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "../../plugins/netcheck/netcheck.h"

static void test_parse_line(void **state)
{
	struct nc_result r;
	char src[64] = "x";

	(void)state;
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=tcp dst=192.168.201.130 port=9185 result=ok ms=3 detail=connected",
				       &r, src, sizeof(src)), 0);
	assert_string_equal(r.test, "tcp");
	assert_string_equal(r.dst, "192.168.201.130");
	assert_int_equal(r.port, 9185);
	assert_string_equal(r.result, "ok");
	assert_int_equal(r.ms, 3);
	assert_string_equal(r.detail, "connected");
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=mtu dst=10.0.0.1 size=9000 result=fail ms=12 max=1500 detail=9000 bytes do not pass; 1500 do",
				       &r, src, sizeof(src)), 0);
	assert_int_equal(r.size, 9000);
	assert_int_equal(r.max, 1500);
	assert_string_equal(r.detail, "9000 bytes do not pass; 1500 do");
	/* a detail with key=value words does not confuse the fields */
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=icmp dst=10.0.0.1 result=fail ms=2000 detail=port=1 result=ok",
				       &r, src, sizeof(src)), 0);
	assert_string_equal(r.result, "fail");
	assert_int_equal(r.port, 0);
	assert_int_equal(nc_parse_line("cclm-netcheck/1 start node=n iface=migration0 src=192.168.201.5 mtu=1500 tools=ping", &r,
				       src, sizeof(src)), 1);
	assert_string_equal(src, "192.168.201.5");
	assert_int_equal(nc_parse_line("cclm-netcheck/1 done tests=4", &r, src, sizeof(src)), 1);
	assert_int_equal(nc_parse_line("+ set -x noise", &r, src, sizeof(src)), 1);
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=tcp dst=1.2.3.4 result=maybe ms=1 detail=", &r, src, sizeof(src)), -1);
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=tcp result=ok", &r, src, sizeof(src)), -1);
	/* a test this version does not know counts as unsupported */
	assert_int_equal(nc_parse_line("cclm-netcheck/1 test=udp dst=1.2.3.4 result=ok ms=1 detail=", &r, src, sizeof(src)), 0);
	assert_string_equal(r.result, "unsupported");
}

static const char log_ok[] =
	"cclm-netcheck/1 start node=s0 iface=migration0 src=192.168.201.9 mtu=1500 tools=nc,ping\n"
	"cclm-netcheck/1 test=tcp dst=192.168.201.130 port=9185 result=ok ms=1 detail=connected\n"
	"cclm-netcheck/1 test=icmp dst=192.168.201.130 result=ok ms=1 detail=echo reply\n"
	"cclm-netcheck/1 test=arp dst=192.168.201.130 result=ok ms=1 detail=lladdr 0a:58:00:00:00:01\n"
	"cclm-netcheck/1 test=mtu dst=192.168.201.130 size=1500 result=ok ms=1 detail=1500 bytes\n"
	"cclm-netcheck/1 test=icmp dst=192.168.201.131 result=ok ms=1 detail=echo reply\n"
	"cclm-netcheck/1 test=arp dst=192.168.201.131 result=fail ms=1 detail=not on link: routed\n"
	"cclm-netcheck/1 test=mtu dst=192.168.201.131 size=1500 result=ok ms=1 detail=\n"
	"cclm-netcheck/1 test=icmp dst=192.168.201.132 result=ok ms=1 detail=echo reply\n"
	"cclm-netcheck/1 test=arp dst=192.168.201.132 result=ok ms=1 detail=\n"
	"cclm-netcheck/1 test=mtu dst=192.168.201.132 size=9000 result=fail ms=1 max=1500 detail=9000 do not pass\n"
	"cclm-netcheck/1 test=icmp dst=192.168.201.133 result=fail ms=2000 detail=no echo reply within 2s\n"
	"cclm-netcheck/1 test=arp dst=192.168.201.133 result=fail ms=1 detail=no ARP reply\n"
	"cclm-netcheck/1 test=mtu dst=192.168.201.133 size=1500 result=fail ms=1 detail=\n"
	"cclm-netcheck/1 test=icmp dst=192.168.201.134 result=unsupported ms=-1 detail=no ping\n"
	"cclm-netcheck/1 test=arp dst=192.168.201.134 result=unsupported ms=-1 detail=\n"
	"cclm-netcheck/1 test=mtu dst=192.168.201.134 size=1500 result=unsupported ms=-1 detail=\r\n"
	"cclm-netcheck/1 done tests=17\n";

static void test_cells(void **state)
{
	struct nc_probe p;
	struct nc_target t;
	const char *d;

	(void)state;
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	assert_int_equal(nc_parse_log(&p, log_ok), 0);
	assert_int_equal(p.nresults, 16);
	assert_string_equal(p.src, "192.168.201.9");
	assert_string_equal(p.error, "");
	t.sync = true;
	t.port = 9185;
	snprintf(t.ip, sizeof(t.ip), "192.168.201.130");
	assert_string_equal(nc_cell(&p, &t, &d), "ok");
	t.port = 9999; /* no tcp result for that port: reachable by ICMP, tcp not known */
	assert_string_equal(nc_cell(&p, &t, &d), "ok");
	t.sync = false;
	t.port = 0;
	snprintf(t.ip, sizeof(t.ip), "192.168.201.131");
	assert_string_equal(nc_cell(&p, &t, &d), "routed");
	assert_string_equal(d, "not on link: routed");
	snprintf(t.ip, sizeof(t.ip), "192.168.201.132");
	assert_string_equal(nc_cell(&p, &t, &d), "mtu");
	snprintf(t.ip, sizeof(t.ip), "192.168.201.133");
	assert_string_equal(nc_cell(&p, &t, &d), "unreachable");
	assert_string_equal(d, "no echo reply within 2s");
	snprintf(t.ip, sizeof(t.ip), "192.168.201.134");
	assert_string_equal(nc_cell(&p, &t, &d), "unsupported");
	snprintf(t.ip, sizeof(t.ip), "192.168.201.199");
	assert_string_equal(nc_cell(&p, &t, &d), "not-run");
	assert_int_equal(nc_cell_severity("ok"), NC_PASS);
	assert_int_equal(nc_cell_severity("routed"), NC_WARN);
	assert_int_equal(nc_cell_severity("unsupported"), NC_WARN);
	assert_int_equal(nc_cell_severity("mtu"), NC_FAIL);
	assert_int_equal(nc_cell_severity("unreachable"), NC_FAIL);
	assert_int_equal(nc_cell_severity("not-run"), NC_FAIL);
	free(p.results);
}

static void test_tcp_fail_is_unreachable(void **state)
{
	struct nc_probe p;
	struct nc_target t = { .sync = true, .port = 9185, .ip = "10.0.0.1" };

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(nc_parse_log(&p, "cclm-netcheck/1 test=tcp dst=10.0.0.1 port=9185 result=fail ms=1 detail=refused\n"
					  "cclm-netcheck/1 test=icmp dst=10.0.0.1 result=ok ms=1 detail=\n"
					  "cclm-netcheck/1 done tests=2\n"), 0);
	assert_string_equal(nc_cell(&p, &t, NULL), "unreachable");
	free(p.results);
}

static void test_log_without_done(void **state)
{
	struct nc_probe p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(nc_parse_log(&p, "cclm-netcheck/1 test=icmp dst=10.0.0.1 result=ok ms=1 detail=\n"), -1);
	assert_non_null(strstr(p.error, "no 'cclm-netcheck/1 done' line"));
	free(p.results);
	memset(&p, 0, sizeof(p));
	assert_int_equal(nc_parse_log(&p, "cclm-netcheck/1 error detail=no plan in CCLM_NETCHECK_PLAN\n"), -1);
	assert_string_equal(p.error, "the probe failed: no plan in CCLM_NETCHECK_PLAN");
	free(p.results);
}

static void test_plan(void **state)
{
	struct nc_side s, peer;
	struct nc_ep eps[3] = {
		{ .sync = true, .node = "t0", .pod = "sync-a", .ip = "192.168.201.130", .ready = true, .leader = true },
		{ .sync = false, .node = "t0", .pod = "h0", .ip = "192.168.201.129" },
		{ .sync = false, .node = "t1", .pod = "h1", .ip = "" },
	};
	char *plan;
	cJSON *j;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&peer, 0, sizeof(peer));
	peer.sync_addrs = fx_json("[\"192.168.201.130:9185\",\"bad\"]");
	peer.eps = eps;
	peer.neps = 3;
	s.nad_parsed = true;
	s.nadnet.mtu = 9000;
	assert_int_equal(nc_plan_targets(&s, &peer), 0);
	assert_int_equal(s.ntargets, 2);
	assert_true(s.targets[0].sync);
	assert_string_equal(s.targets[0].node, "t0");
	assert_int_equal(s.targets[0].port, 9185);
	assert_false(s.targets[1].sync);
	assert_string_equal(s.targets[1].ip, "192.168.201.129");
	plan = nc_plan_json(&s, "s0", 2);
	assert_string_equal(plan, "{\"version\":1,\"node\":\"s0\",\"iface\":\"migration0\",\"mtu\":9000,\"timeout\":2,"
				  "\"targets\":[{\"ip\":\"192.168.201.130\",\"port\":9185,\"tests\":\"tcp icmp arp mtu\"},"
				  "{\"ip\":\"192.168.201.129\",\"tests\":\"icmp arp mtu\"}]}");
	j = fx_json(plan);
	cJSON_Delete(j);
	free(plan);
	free(s.targets);
	cJSON_Delete(peer.sync_addrs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_tcp_fail_is_unreachable),
		cmocka_unit_test(test_log_without_done),
		cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

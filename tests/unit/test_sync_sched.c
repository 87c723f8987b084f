/* Unit tests for the send gate's decision (common/sync/sched.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine.h"

#define MiB 1048576.0

static struct sched_view view(const char *name, const char *node, double rate, double dirty)
{
	struct sched_view v;

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", name);
	snprintf(v.node, sizeof(v.node), "%s", node);
	v.transfer_rate = rate;
	v.dirty_rate = dirty;
	v.remaining = -1;
	return v;
}

static void test_counts(void **state)
{
	struct sched_limits l = { 2, 2, 0, true };
	struct sched_view a[2] = { view("a", "n1", -1, -1), view("b", "n2", -1, -1) };
	char why[200];

	(void)state;
	assert_true(sched_may_send(a, 0, "n1", &l, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_true(sched_may_send(a, 1, "n1", &l, why, sizeof(why)));
	assert_false(sched_may_send(a, 2, "n3", &l, why, sizeof(why)));
	assert_string_equal(why, "2 of 2 migrations running");
}

static void test_per_node(void **state)
{
	struct sched_limits l = { 5, 1, 0, true };
	struct sched_view a[1] = { view("a", "n1", -1, -1) };
	char why[200];

	(void)state;
	assert_false(sched_may_send(a, 1, "n1", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "node n1 already sends 1"));
	assert_true(sched_may_send(a, 1, "n2", &l, why, sizeof(why)));
	/* a VM whose node is not known is not held by the node limit */
	assert_true(sched_may_send(a, 1, "", &l, NULL, 0));
}

static void test_holds_back_a_struggling_transfer(void **state)
{
	struct sched_limits l = { 5, 5, 0, true };
	/* 1250 MB/s shared by 2: 625 MB/s each */
	struct sched_view a[3] = { view("fast", "n1", 596 * MiB, 256 * MiB), view("calm", "n2", 596 * MiB, 4 * MiB),
				   view("x", "n3", 0, 0) };
	char why[200];

	(void)state;
	/* a third would leave "fast" 397 MiB/s, and 256 >= half of that */
	assert_false(sched_may_send(a, 2, "n3", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "fast dirties 256 MiB/s of its 596 MiB/s"));
	/* with only the calm one running there is room */
	assert_true(sched_may_send(a + 1, 1, "n3", &l, why, sizeof(why)));
	/* alone at the whole link, the fast one leaves room for a second */
	a[0].transfer_rate = 1192 * MiB;
	assert_true(sched_may_send(a, 1, "n3", &l, why, sizeof(why)));
}

static void test_nearly_done_holds_nothing(void **state)
{
	struct sched_limits l = { 5, 5, 0, true, 0 };
	struct sched_view a[1] = { view("fast", "n1", 400 * MiB, 256 * MiB) };

	(void)state;
	a[0].remaining = 288 * MiB; /* 2 s left at 144 MiB/s net */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0)); /* lead not known yet */
	l.lead = 1.5;
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0)); /* still sending when a new one starts */
	l.lead = 2.5;
	assert_true(sched_may_send(a, 1, "n2", &l, NULL, 0)); /* done before a new one gets going */
	a[0].dirty_rate = 400 * MiB;                         /* not converging: never "nearly done" */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
}

static void test_no_sample_no_hold(void **state)
{
	struct sched_limits l = { 5, 5, 0, true };
	struct sched_view a[2] = { view("starting", "n1", 0, -1), view("unknown", "n2", -1, -1) };

	(void)state;
	assert_true(sched_may_send(a, 2, "n3", &l, NULL, 0));
}

static void test_capped_and_no_metrics(void **state)
{
	/* bandwidthPerMigration 64Mi: a transfer at its cap is not link-bound */
	struct sched_limits l = { 5, 5, 64 * MiB, true };
	struct sched_view a[1] = { view("capped", "n1", 63 * MiB, 60 * MiB) };

	(void)state;
	assert_true(sched_may_send(a, 1, "n2", &l, NULL, 0));
	a[0].transfer_rate = 40 * MiB; /* below its cap: the link is the limit */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
	l.metrics = false; /* without metrics the gate only counts */
	assert_true(sched_may_send(a, 1, "n2", &l, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_per_node),
		cmocka_unit_test(test_holds_back_a_struggling_transfer),
		cmocka_unit_test(test_nearly_done_holds_nothing),
		cmocka_unit_test(test_no_sample_no_hold),
		cmocka_unit_test(test_capped_and_no_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
	v.sampled = 10; /* read after it began (transferring 0) */
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

static void test_learns_a_shared_link(void **state)
{
	struct sched_limits l = { 10, 10, 0, true, 1.0, true, SCHED_LINK_UNKNOWN, 0 };
	struct sched_view a[3] = { view("first", "n1", 0, -1), view("second", "n2", 0, -1), view("x", "n3", 0, 0) };
	char why[200];

	(void)state;
	a[0].size = a[1].size = 1024 * MiB;
	/* the first has not sent yet: nothing to learn from, the others wait */
	sched_learn(&l, a, 1);
	assert_false(sched_may_send(a, 1, "n3", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "first: held back while cclm finds out whether transfers share the link"));
	/* alone it moves 1192 MiB/s: a second goes beside it */
	a[0].transfer_rate = 1192 * MiB;
	a[0].remaining = 4000 * MiB;
	sched_learn(&l, a, 1);
	assert_true(l.link_rate == 1192 * MiB);
	assert_true(sched_may_send(a, 1, "n3", &l, why, sizeof(why)));
	/* until the two are measured together, as if shared: no third while the backlog is long */
	assert_false(sched_may_send(a, 2, "n3", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "held back while the shared link is busy"));
	/* the second began at 20 s; the first's rate read before then tells nothing */
	a[1].transferring = 20;
	a[1].transfer_rate = 596 * MiB;
	a[1].remaining = 1000 * MiB;
	a[1].sampled = 21;
	sched_learn(&l, a, 2);
	assert_int_equal(l.link, SCHED_LINK_UNKNOWN);
	/* read together, they move what the first moved alone: one shared link */
	a[0].transfer_rate = 596 * MiB;
	a[0].sampled = 21;
	sched_learn(&l, a, 2);
	assert_int_equal(l.link, SCHED_LINK_SHARED);
	assert_false(sched_may_send(a, 2, "n3", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "held back while the shared link is busy for 4.2 s more"));
	/* the backlog drains within the lead: the next one starts as the link frees */
	a[0].remaining = 300 * MiB;
	a[1].remaining = 500 * MiB;
	assert_true(sched_may_send(a, 2, "n3", &l, why, sizeof(why)));
	/* learnt once: a later reading that adds up to more (one rate from
	 * while the other was not sending) does not undo it */
	a[0].transfer_rate = 1192 * MiB;
	a[0].sampled = a[1].sampled = 40;
	sched_learn(&l, a, 2);
	assert_int_equal(l.link, SCHED_LINK_SHARED);
}

/* A sample is up to half a second old: the gate works with what is left by now. */
static void test_what_is_left_by_now(void **state)
{
	(void)state;
	/* 1000 MiB read 0.5 s ago, moving 1200 MiB/s less 200 dirtied */
	assert_true(sched_left_now(1000 * MiB, 1200 * MiB, 200 * MiB, 0.5) == 500 * MiB);
	assert_true(sched_left_now(1000 * MiB, 1200 * MiB, 200 * MiB, 2.0) == 0);
	/* not known, not converging, or just read: as read */
	assert_true(sched_left_now(-1, 1200 * MiB, 0, 0.5) == -1);
	assert_true(sched_left_now(1000 * MiB, 200 * MiB, 300 * MiB, 0.5) == 1000 * MiB);
	assert_true(sched_left_now(1000 * MiB, 1200 * MiB, -1, 0) == 1000 * MiB);
	/* no dirty rate read: all of the rate is progress */
	assert_true(sched_left_now(1000 * MiB, 1000 * MiB, -1, 0.25) == 750 * MiB);
}

static void test_admitted_ones_count_by_their_memory(void **state)
{
	struct sched_limits l = { 10, 10, 0, true, 2.0, true, SCHED_LINK_SHARED, 1000 * MiB };
	struct sched_view a[1] = { view("waiting", "n1", 0, -1) };

	(void)state;
	a[0].size = 4096 * MiB; /* about 4 s of the link once it starts */
	a[0].waited = 1.5;      /* it starts in 0.5 s */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
	a[0].size = 1024 * MiB; /* done 1.5 s from now, before one admitted now starts */
	assert_true(sched_may_send(a, 1, "n2", &l, NULL, 0));
	a[0].waited = 0; /* just admitted: it starts when one admitted now would */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
	a[0].waited = 1.5;
	l.lead = 0; /* how long a start takes is not known yet */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
}

/* The link as a queue: each admitted one starts a lead after its admission
 * or when the one before it ends, whichever is later. */
static void test_admitted_ones_queue_on_the_link(void **state)
{
	struct sched_limits l = { 10, 10, 0, true, 1.0, true, SCHED_LINK_SHARED, 1000 * MiB };
	struct sched_view a[3] = { view("young", "n1", 0, -1), view("old", "n2", 0, -1), view("x", "n3", 0, -1) };
	char why[200];

	(void)state;
	/* "old" starts in 0.1 s for 0.2 s, "young" in 0.5 s (after it) for 0.2 s:
	 * the link is busy for 0.7 s, less than a lead */
	a[0].size = a[1].size = 200 * MiB;
	a[0].waited = 0.5;
	a[1].waited = 0.9;
	assert_true(sched_may_send(a, 2, "n4", &l, why, sizeof(why)));
	/* "young" just admitted: it ends at 1.2 s */
	a[0].waited = 0;
	assert_false(sched_may_send(a, 2, "n4", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "busy for 1.2 s more"));
	/* a third sending but not measured yet, 800 MiB left: "old" waits for it */
	a[0].waited = 0.5;
	a[2].transferring = 5;
	a[2].remaining = 800 * MiB;
	a[2].size = 1024 * MiB;
	assert_false(sched_may_send(a, 3, "n4", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "busy for 1.2 s more"));
	/* not even an estimate of what is left: its whole memory */
	a[2].remaining = -1;
	assert_false(sched_may_send(a, 3, "n4", &l, why, sizeof(why)));
	assert_non_null(strstr(why, "busy for 1.4 s more"));
}

/* A start that varies is planned for as a slow one: the horizon is the lead
 * and twice its spread. */
static void test_a_varying_lead_starts_the_next_earlier(void **state)
{
	struct sched_limits l = { 10, 10, 0, true, 1.0, true, SCHED_LINK_SHARED, 1000 * MiB };
	struct sched_view a[1] = { view("a", "n1", 1000 * MiB, -1) };

	(void)state;
	a[0].remaining = 1300 * MiB; /* 1.3 s left */
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
	l.lead_spread = 0.2; /* starts take 1.0 s give or take 0.2: plan for 1.4 */
	assert_true(sched_may_send(a, 1, "n2", &l, NULL, 0));
	a[0].remaining = 1500 * MiB;
	assert_false(sched_may_send(a, 1, "n2", &l, NULL, 0));
}

/* The metrics count memory dirtied during a pass only when the next begins. */
static void test_what_the_next_pass_resends(void **state)
{
	(void)state;
	/* first pass (processed < total): 2 s at 256 MiB/s dirtied 512 MiB */
	assert_true(sched_left_bytes(1000 * MiB, 3000 * MiB, 4096 * MiB, 256 * MiB, 2.0) == 1512 * MiB);
	/* never more than all of it */
	assert_true(sched_left_bytes(1000 * MiB, 3000 * MiB, 4096 * MiB, 256 * MiB, 100.0) == 5096 * MiB);
	/* a later pass, no dirty rate, or not started: as read */
	assert_true(sched_left_bytes(300 * MiB, 5000 * MiB, 4096 * MiB, 256 * MiB, 20.0) == 300 * MiB);
	assert_true(sched_left_bytes(1000 * MiB, 3000 * MiB, 4096 * MiB, -1, 2.0) == 1000 * MiB);
	assert_true(sched_left_bytes(1000 * MiB, 3000 * MiB, 4096 * MiB, 256 * MiB, 0) == 1000 * MiB);
	assert_true(sched_left_bytes(-1, 3000 * MiB, 4096 * MiB, 256 * MiB, 2.0) == -1);
}

static void test_links_of_their_own_are_not_managed(void **state)
{
	struct sched_limits l = { 10, 10, 0, true, 1.0, true, SCHED_LINK_UNKNOWN, 1100 * MiB };
	struct sched_view a[3] = { view("a", "n1", 1000 * MiB, 4 * MiB), view("b", "n2", 1100 * MiB, 4 * MiB),
				   view("c", "n3", 0, -1) };

	(void)state;
	a[0].remaining = a[1].remaining = 8000 * MiB;
	a[2].size = 8192 * MiB;
	sched_learn(&l, a, 2); /* 2100 MiB/s together against 1100 alone */
	assert_int_equal(l.link, SCHED_LINK_FREE);
	assert_true(sched_may_send(a, 3, "n4", &l, NULL, 0));
	/* learning off (--parallel): the link rule never applies */
	l.learn = false;
	l.link = SCHED_LINK_UNKNOWN;
	assert_true(sched_may_send(a, 3, "n4", &l, NULL, 0));
}

static void test_capped_transfers_leave_the_link_free(void **state)
{
	struct sched_limits l = { 10, 10, 64 * MiB, true, 1.0, true, SCHED_LINK_UNKNOWN, 0 };
	struct sched_view a[2] = { view("a", "n1", 63 * MiB, 4 * MiB), view("b", "n2", 64 * MiB, 4 * MiB) };

	(void)state;
	sched_learn(&l, a, 2);
	assert_int_equal(l.link, SCHED_LINK_UNKNOWN); /* nothing learnt from capped ones */
	assert_true(sched_may_send(a, 2, "n3", &l, NULL, 0));
}

static void test_the_probe_is_the_smallest_that_can_be_measured(void **state)
{
	/* the first moved 1 GiB/s alone: a probe must hold 0.6 s of that */
	const double GiB = 1024 * MiB, rate = GiB;
	const double sizes[] = { 16 * GiB, 8 * GiB, 512 * MiB, 1 * GiB, 700 * MiB, 0 };

	(void)state;
	assert_int_equal(sched_probe(sizes, 6, rate, 0), 4);   /* 700 MiB: the smallest >= 614 MiB */
	assert_int_equal(sched_probe(sizes, 4, rate, 0), 3);   /* without it, 1 GiB */
	assert_int_equal(sched_probe(sizes, 6, 4 * rate, 0), 1); /* a faster link: 8 GiB */
	assert_int_equal(sched_probe(sizes, 6, 20 * rate, 0), 0); /* faster still: only 16 GiB lasts */
	assert_int_equal(sched_probe(sizes + 2, 1, rate, 0), -1); /* 512 MiB ends before the rates settle */
	assert_int_equal(sched_probe(sizes, 6, 0, 0), -1);     /* no rate read */
	assert_int_equal(sched_probe(sizes, 6, rate, rate), -1); /* held by bandwidthPerMigration */
	assert_int_equal(sched_probe(sizes, 6, rate, 4 * rate), 4);
	assert_int_equal(sched_probe(sizes, 0, rate, 0), -1);
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
		cmocka_unit_test(test_learns_a_shared_link),
		cmocka_unit_test(test_admitted_ones_count_by_their_memory),
		cmocka_unit_test(test_admitted_ones_queue_on_the_link),
		cmocka_unit_test(test_what_the_next_pass_resends),
		cmocka_unit_test(test_a_varying_lead_starts_the_next_earlier),
		cmocka_unit_test(test_what_is_left_by_now),
		cmocka_unit_test(test_links_of_their_own_are_not_managed),
		cmocka_unit_test(test_capped_transfers_leave_the_link_free),
		cmocka_unit_test(test_the_probe_is_the_smallest_that_can_be_measured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

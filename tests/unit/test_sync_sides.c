/* Unit tests for both_sides() (common/sync/kube.c): a step's two clusters at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"

static sem_t source_in, target_in;
static pthread_t source_thread, target_thread;

/* Wait for the other half, at most two seconds (a half that never comes
 * means the two ran one after the other). */
static bool meet(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	while (sem_timedwait(s, &ts))
		if (errno != EINTR)
			return false;
	return true;
}

/* The source's half waits for the target's and fails; the target's waits
 * for the source's and succeeds: each passes only if the other runs at the
 * same time (5: it never came). */
static int meeting_halves(struct job *j, bool source, struct kerr *e, char *why, size_t nwhy)
{
	(void)j;
	if (!source) {
		target_thread = pthread_self();
		sem_post(&target_in);
		return meet(&source_in) ? 0 : 5;
	}
	source_thread = pthread_self();
	sem_post(&source_in);
	if (!meet(&target_in))
		return 5;
	snprintf(why, nwhy, "the source VM did not halt");
	kerr_set(e, KERR_FAILED, "source said no");
	return 1;
}

static void test_the_halves_run_at_once(void **state)
{
	struct job j;
	struct side_result s, t;

	(void)state;
	memset(&j, 0, sizeof(j));
	sem_init(&source_in, 0, 0);
	sem_init(&target_in, 0, 0);
	both_sides(&j, meeting_halves, &s, &t);
	/* each waited for the other: they ran side by side */
	assert_int_equal(s.rc, 1);
	assert_int_equal(t.rc, 0);
	/* the target's in the caller's thread, the source's in one of its own */
	assert_true(pthread_equal(target_thread, pthread_self()));
	assert_false(pthread_equal(source_thread, pthread_self()));
	/* each half's result is its own */
	assert_string_equal(s.why, "the source VM did not halt");
	assert_string_equal(s.e.msg, "source said no");
	assert_string_equal(t.why, "");
	assert_int_equal(t.e.kind, KERR_NONE);
	sem_destroy(&source_in);
	sem_destroy(&target_in);
}

/* The source's half cancelled, the target's an API error. */
static int failing_halves(struct job *j, bool source, struct kerr *e, char *why, size_t nwhy)
{
	(void)j;
	(void)why;
	(void)nwhy;
	if (source) {
		kerr_set(e, KERR_FAILED, "watch stopped");
		return 2;
	}
	kerr_set(e, KERR_API, "503 from the target");
	return -1;
}

static void test_a_failing_half_does_not_stop_the_other(void **state)
{
	struct job j;
	struct side_result s, t;

	(void)state;
	memset(&j, 0, sizeof(j));
	both_sides(&j, failing_halves, &s, &t);
	assert_int_equal(s.rc, 2);
	assert_string_equal(s.e.msg, "watch stopped");
	assert_int_equal(t.rc, -1);
	assert_string_equal(t.e.msg, "503 from the target");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_halves_run_at_once),
		cmocka_unit_test(test_a_failing_half_does_not_stop_the_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

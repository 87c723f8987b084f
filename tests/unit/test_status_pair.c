/* Unit tests for plugins/status/pair.c: pairing the halves of cross-cluster
 * migrations, who started them, results, blockers and orphans. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/status/pair.h"

/* 2026-08-20T10:00:00Z */
#define T0 1787220000LL

/* ---- helpers ---------------------------------------------------------- */

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (!j)
		fail_msg("bad JSON in test: %s", text);
	return j;
}

/* A VMIM: role 's' (sendTo) or 't' (receive); extra is more JSON members
 * of the object's top level (after "status"), e.g. labels. */
static cJSON *vmim(char role, const char *ns, const char *name, const char *vmi, const char *id, const char *phase,
		   const char *created, const char *labels, const char *status_extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"uid\":\"uid-%s\",\"creationTimestamp\":\"%s\","
		 "\"labels\":{%s}},"
		 "\"spec\":{\"vmiName\":\"%s\",%s},"
		 "\"status\":{\"phase\":\"%s\"%s%s}}",
		 ns, name, name, created, labels ? labels : "", vmi,
		 role == 's' ? "\"sendTo\":{\"migrationID\":\"%ID%\",\"connectURL\":\"1.2.3.4:9185\"}" :
		 role == 't' ? "\"receive\":{\"migrationID\":\"%ID%\"}" :
			       "\"x\":1",
		 phase, status_extra ? "," : "", status_extra ? status_extra : "");
	{
		/* put the id in */
		char out[4096], *p = strstr(text, "%ID%");

		if (p) {
			*p = '\0';
			snprintf(out, sizeof(out), "%s%s%s", text, id, p + 4);
			return parse(out);
		}
	}
	return parse(text);
}

struct world {
	cJSON *src, *tgt, *src_vmis, *tgt_vmis, *plans;
	struct status_row *rows;
	int n;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->src = cJSON_CreateArray();
	w->tgt = cJSON_CreateArray();
	w->src_vmis = cJSON_CreateArray();
	w->tgt_vmis = cJSON_CreateArray();
	w->plans = cJSON_CreateArray();
}

static void world_pair(struct world *w, long long now, const char *const *vms, int nvms)
{
	struct kerr e = KERR_INIT;
	struct status_input in = {
		.src_vmims = w->src, .tgt_vmims = w->tgt, .src_vmis = w->src_vmis, .tgt_vmis = w->tgt_vmis,
		.plans = w->plans, .now = now,
		.src_kubectl = "kubectl --context source", .tgt_kubectl = "kubectl --context target",
		.vms = vms, .nvms = nvms,
	};

	free(w->rows);
	if (status_pair(&in, &w->rows, &w->n, &e))
		fail_msg("status_pair: %s", e.msg);
}

static void world_release(struct world *w)
{
	cJSON_Delete(w->src);
	cJSON_Delete(w->tgt);
	cJSON_Delete(w->src_vmis);
	cJSON_Delete(w->tgt_vmis);
	cJSON_Delete(w->plans);
	free(w->rows);
}

/* ---- tests ------------------------------------------------------------ */

static void test_status_pair__time(void **state)
{
	(void)state;
	assert_true(status_time("2026-08-20T10:00:00Z") == T0);
	assert_true(status_time("2026-08-20T10:00:03.250Z") == T0 + 3);
	assert_true(status_time("2026-08-20T12:00:00+02:00") == T0);
	assert_true(status_time("garbage") == 0);
	assert_true(status_time(NULL) == 0);
}

static void test_status_pair__halves_by_migration_id(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "vm1-out", "vm1", "mig-1", "Running", "2026-08-20T10:00:05Z", NULL, NULL));
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "vm2-out", "vm2", "mig-2", "Running", "2026-08-20T10:00:09Z", NULL, NULL));
	/* an in-cluster migration is not ours to show */
	cJSON_AddItemToArray(w.src, vmim(0, "vms", "local", "vm3", "", "Running", "2026-08-20T10:00:01Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms-b", "vm2-in", "vm2", "mig-2", "Running", "2026-08-20T10:00:08Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms-b", "vm1-in", "vm1", "mig-1", "Running", "2026-08-20T10:00:02Z", NULL, NULL));
	world_pair(&w, T0 + 20, NULL, 0);
	assert_int_equal(w.n, 2);
	/* by start: the earlier half of each */
	assert_string_equal(w.rows[0].id, "mig-1");
	assert_string_equal(w.rows[0].vm, "vm1");
	assert_string_equal(w.rows[0].src.name, "vm1-out");
	assert_string_equal(w.rows[0].tgt.name, "vm1-in");
	assert_string_equal(w.rows[0].tgt.ns, "vms-b");
	assert_true(w.rows[0].started == T0 + 2);
	assert_string_equal(w.rows[1].id, "mig-2");
	assert_string_equal(w.rows[1].tgt.name, "vm2-in");
	assert_int_equal(w.rows[0].result, RESULT_IN_PROGRESS);
	assert_false(w.rows[0].orphan);
	assert_string_equal(w.rows[0].blocker, "");
	assert_int_equal(w.rows[0].origin, ORIGIN_MANUAL);
	assert_false(status_all_final(w.rows, w.n));
	world_release(&w);
}

static void test_status_pair__who_started_it(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "a-out", "a", "mig-a", "Succeeded", "2026-08-20T10:00:00Z",
					 "\"cclm.io/migration-id\":\"mig-a\",\"app.kubernetes.io/managed-by\":\"cclm\"", NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "a-in", "a", "mig-a", "Succeeded", "2026-08-20T10:00:00Z",
					 "\"cclm.io/migration-id\":\"mig-a\"", NULL));
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "forklift-x", "b", "vmuid-miguid", "Running", "2026-08-20T10:00:01Z",
					 "\"plan\":\"plan-uid-1\",\"migration\":\"mig-uid-1\",\"vmID\":\"vmuid\"", NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "forklift-y", "b", "vmuid-miguid", "Running", "2026-08-20T10:00:01Z",
					 "\"plan\":\"plan-uid-1\",\"migration\":\"mig-uid-1\",\"vmID\":\"vmuid\"", NULL));
	/* an MTV plan we cannot name: its UID */
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "forklift-z", "c", "other", "Running", "2026-08-20T10:00:02Z",
					 "\"plan\":\"plan-uid-2\",\"vmID\":\"vmuid2\"", NULL));
	/* a label "plan" alone is not Forklift's */
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "d-in", "d", "mig-d", "Running", "2026-08-20T10:00:03Z",
					 "\"plan\":\"mine\"", NULL));
	cJSON_AddItemToArray(w.plans, parse("{\"metadata\":{\"name\":\"wave-1\",\"namespace\":\"openshift-mtv\",\"uid\":\"plan-uid-1\"}}"));
	world_pair(&w, T0 + 10, NULL, 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.rows[0].origin, ORIGIN_CCLM);
	assert_int_equal(w.rows[0].result, RESULT_SUCCEEDED);
	assert_int_equal(w.rows[1].origin, ORIGIN_MTV);
	assert_string_equal(w.rows[1].plan, "wave-1");
	assert_int_equal(w.rows[2].origin, ORIGIN_MTV);
	assert_string_equal(w.rows[2].plan, "plan-uid-2");
	assert_int_equal(w.rows[3].origin, ORIGIN_MANUAL);
	assert_string_equal(status_origin_name(ORIGIN_MTV), "mtv");
	world_release(&w);
}

static void test_status_pair__results_and_duration(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "ok-out", "ok", "m-ok", "Succeeded", "2026-08-20T10:00:00Z", NULL,
					 "\"phaseTransitionTimestamps\":[{\"phase\":\"Running\",\"phaseTransitionTimestamp\":\"2026-08-20T10:00:10Z\"},"
					 "{\"phase\":\"Succeeded\",\"phaseTransitionTimestamp\":\"2026-08-20T10:00:30Z\"}]"));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "ok-in", "ok", "m-ok", "Succeeded", "2026-08-20T10:00:00Z", NULL,
					 "\"phaseTransitionTimestamps\":[{\"phase\":\"Succeeded\",\"phaseTransitionTimestamp\":\"2026-08-20T10:00:31Z\"}]"));
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "bad-out", "bad", "m-bad", "Failed", "2026-08-20T10:00:01Z", NULL,
					 "\"migrationState\":{\"failed\":true,\"failureReason\":\"progress timeout\"}"));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "bad-in", "bad", "m-bad", "Running", "2026-08-20T10:00:01Z", NULL, NULL));
	world_pair(&w, T0 + 100, NULL, 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.rows[0].result, RESULT_SUCCEEDED);
	assert_true(w.rows[0].ended == T0 + 31);
	assert_string_equal(w.rows[0].blocker, "");
	assert_int_equal(w.rows[1].result, RESULT_FAILED);
	assert_string_equal(w.rows[1].blocker, "source: progress timeout");
	assert_true(status_all_final(w.rows, w.n));
	/* only the VMs named */
	{
		static const char *const only[] = { "bad" };

		world_pair(&w, T0 + 100, only, 1);
		assert_int_equal(w.n, 1);
		assert_string_equal(w.rows[0].vm, "bad");
	}
	world_release(&w);
}

static void test_status_pair__blockers(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	/* 1: the VMIM condition, the source's before the target's */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "a-out", "a", "m-a", "Synchronizing", "2026-08-20T10:00:00Z", NULL,
					 "\"conditions\":[{\"type\":\"decentralizedMigrationBlocked\",\"status\":\"True\","
					 "\"message\":\"dial tcp 192.168.201.130:9185: connect: no route to host\"}]"));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "a-in", "a", "m-a", "WaitingForSync", "2026-08-20T10:00:00Z", NULL,
					 "\"conditions\":[{\"type\":\"decentralizedMigrationBlocked\",\"status\":\"True\","
					 "\"message\":\"waiting for incoming synchronization, unable to proceed\"}]"));
	/* 2: the VMI condition */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "b-out", "b", "m-b", "Synchronizing", "2026-08-20T10:00:01Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "b-in", "b", "m-b", "WaitingForSync", "2026-08-20T10:00:01Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt_vmis, parse("{\"metadata\":{\"namespace\":\"vms\",\"name\":\"b\"},\"status\":{\"conditions\":"
					       "[{\"type\":\"DecentralizedLiveMigrationFailure\",\"status\":\"True\",\"message\":\"x509 hostname error\"}]}}"));
	/* a condition that is False does not count; 3: waiting past a minute */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "c-out", "c", "m-c", "Synchronizing", "2026-08-20T10:00:02Z", NULL,
					 "\"conditions\":[{\"type\":\"decentralizedMigrationBlocked\",\"status\":\"False\",\"message\":\"old\"}]"));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "c-in", "c", "m-c", "Pending", "2026-08-20T10:00:02Z", NULL, NULL));
	/* young: no blocker yet */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "d-out", "d", "m-d", "Synchronizing", "2026-08-20T10:01:30Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "d-in", "d", "m-d", "WaitingForSync", "2026-08-20T10:01:30Z", NULL, NULL));
	world_pair(&w, T0 + 100, NULL, 0);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.rows[0].blocker, "source: dial tcp 192.168.201.130:9185: connect: no route to host");
	assert_string_equal(w.rows[1].blocker, "target VMI: x509 hostname error");
	assert_string_equal(w.rows[2].blocker, "source: waiting for sync for 98s");
	assert_string_equal(w.rows[3].blocker, "");
	world_release(&w);
}

static void test_status_pair__orphans(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	/* final, its partner gone */
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "e-in", "e", "m-e", "Succeeded", "2026-08-20T10:01:35Z", NULL, NULL));
	/* young lone target half: cclm is about to create the source one */
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "f-in", "f", "m-f", "WaitingForSync", "2026-08-20T10:01:20Z", NULL, NULL));
	/* old lone source half */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "g-out", "g", "m-g", "Synchronizing", "2026-08-20T10:00:00Z", NULL, NULL));
	/* a second source half with an ID already paired is a row of its own */
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "h-out", "h", "m-h", "Running", "2026-08-20T10:00:10Z", NULL, NULL));
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "h-out2", "h", "m-h", "Failed", "2026-08-20T10:00:11Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "h-in", "h", "m-h", "Running", "2026-08-20T10:00:10Z", NULL, NULL));
	world_pair(&w, T0 + 100, NULL, 0);
	assert_int_equal(w.n, 5);
	assert_string_equal(w.rows[0].id, "m-g");
	assert_true(w.rows[0].orphan);
	assert_string_equal(w.rows[0].cleanup, "kubectl --context source -n vms delete vmim g-out");
	assert_string_equal(w.rows[0].blocker, "source: waiting for sync for 100s");
	assert_string_equal(w.rows[1].src.name, "h-out");
	assert_string_equal(w.rows[1].tgt.name, "h-in");
	assert_false(w.rows[1].orphan);
	assert_string_equal(w.rows[2].src.name, "h-out2");
	assert_true(w.rows[2].orphan);
	assert_int_equal(w.rows[2].result, RESULT_FAILED);
	assert_string_equal(w.rows[3].id, "m-f");
	assert_false(w.rows[3].orphan);
	assert_string_equal(w.rows[3].blocker, "waiting for the source VMIM");
	assert_string_equal(w.rows[4].id, "m-e");
	assert_true(w.rows[4].orphan);
	assert_int_equal(w.rows[4].result, RESULT_SUCCEEDED);
	assert_string_equal(w.rows[4].cleanup, "kubectl --context target -n vms delete vmim e-in");
	world_release(&w);
}

/* A watcher may see a VMIM turn Failed before the VMI (or the VMIM's own
 * migration state) that says why: not settled until every failed half's
 * reason is in view. */
static void test_status_pair__settled(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	cJSON_AddItemToArray(w.src, vmim('s', "vms", "a-out", "a", "m-a", "Failed", "2026-08-20T10:00:00Z", NULL, NULL));
	cJSON_AddItemToArray(w.tgt, vmim('t', "vms", "a-in", "a", "m-a", "Failed", "2026-08-20T10:00:00Z", NULL,
					 "\"migrationState\":{\"failed\":true,\"failureReason\":\"migration failed on the peer cluster\"}"));
	world_pair(&w, T0 + 10, NULL, 0);
	assert_true(status_all_final(w.rows, w.n));
	assert_false(w.rows[0].src.why_known);
	assert_true(w.rows[0].tgt.why_known);
	assert_false(status_settled(w.rows, w.n));
	/* the source VMI arrives with the reason of this migration */
	cJSON_AddItemToArray(w.src_vmis, parse("{\"metadata\":{\"namespace\":\"vms\",\"name\":\"a\"},\"status\":{\"migrationState\":"
					       "{\"migrationUid\":\"uid-a-out\",\"failed\":true,\"failureReason\":\"aborted\"}}}"));
	world_pair(&w, T0 + 10, NULL, 0);
	assert_true(w.rows[0].src.why_known);
	assert_true(status_settled(w.rows, w.n));
	assert_string_equal(w.rows[0].blocker, "source: aborted");
	/* a VMI whose state is another migration's says nothing of this one */
	cJSON_ReplaceItemInArray(w.src_vmis, 0, parse("{\"metadata\":{\"namespace\":\"vms\",\"name\":\"a\"},\"status\":"
						     "{\"migrationState\":{\"migrationUid\":\"other\",\"failureReason\":\"x\"}}}"));
	world_pair(&w, T0 + 10, NULL, 0);
	assert_false(status_settled(w.rows, w.n));
	/* halves still running or succeeded need no reason */
	cJSON_ReplaceItemInArray(w.src, 0, vmim('s', "vms", "a-out", "a", "m-a", "Running", "2026-08-20T10:00:00Z", NULL, NULL));
	world_pair(&w, T0 + 10, NULL, 0);
	assert_true(status_settled(w.rows, w.n));
	world_release(&w);
}

static void test_status_pair__empty(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	world_pair(&w, T0, NULL, 0);
	assert_int_equal(w.n, 0);
	assert_true(status_all_final(w.rows, w.n));
	world_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_pair__time),
		cmocka_unit_test(test_status_pair__halves_by_migration_id),
		cmocka_unit_test(test_status_pair__who_started_it),
		cmocka_unit_test(test_status_pair__results_and_duration),
		cmocka_unit_test(test_status_pair__blockers),
		cmocka_unit_test(test_status_pair__orphans),
		cmocka_unit_test(test_status_pair__settled),
		cmocka_unit_test(test_status_pair__empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

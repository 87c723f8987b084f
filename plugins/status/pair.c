/* pair.c — VMIMs of two clusters into one row per migration; see pair.h. */
#include "pair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "labels.h"

/* Forklift's labels on what a plan creates (reference/forklift-live.md §1c). */
#define MTV_L_PLAN "plan"
#define MTV_L_MIGRATION "migration"
#define MTV_L_VMID "vmID"

long long status_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	long long t;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || !n)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (long long)timegm(&tm);
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == '+' || *p == '-') {
		int oh = 0, om = 0;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) < 1)
			return 0;
		t += (*p == '+' ? -1 : 1) * (oh * 3600LL + om * 60LL);
	}
	return t;
}

const char *status_result_name(enum status_result r)
{
	return r == RESULT_SUCCEEDED ? "succeeded" : r == RESULT_FAILED ? "failed" : "in-progress";
}

const char *status_origin_name(enum status_origin o)
{
	return o == ORIGIN_CCLM ? "cclm" : o == ORIGIN_MTV ? "mtv" : "manual";
}

bool status_all_final(const struct status_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (rows[i].result == RESULT_IN_PROGRESS)
			return false;
	return true;
}

bool status_settled(const struct status_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((rows[i].src.present && !strcmp(rows[i].src.phase, "Failed") && !rows[i].src.why_known) ||
		    (rows[i].tgt.present && !strcmp(rows[i].tgt.phase, "Failed") && !rows[i].tgt.why_known))
			return false;
	return true;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static bool is_final(const char *phase)
{
	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

static void half_fill(struct status_half *h, const cJSON *vmim)
{
	const cJSON *t;
	long long since = 0;

	h->present = true;
	copy(h->ns, sizeof(h->ns), json_str(vmim, "metadata.namespace", ""));
	copy(h->name, sizeof(h->name), json_str(vmim, "metadata.name", ""));
	copy(h->vmi, sizeof(h->vmi), json_str(vmim, "spec.vmiName", ""));
	copy(h->phase, sizeof(h->phase), json_str(vmim, "status.phase", ""));
	h->final = is_final(h->phase);
	h->created = status_time(json_str(vmim, "metadata.creationTimestamp", NULL));
	/* when it entered its current phase: the last transition to it */
	cJSON_ArrayForEach(t, json_get(vmim, "status.phaseTransitionTimestamps"))
		if (!strcmp(json_str(t, "phase", ""), h->phase))
			since = status_time(json_str(t, "phaseTransitionTimestamp", NULL));
	h->phase_since = since ? since : h->created;
	if (h->final) {
		long long end = status_time(json_str(vmim, "status.migrationState.endTimestamp", NULL));

		h->ended = end ? end : h->phase_since;
	}
}

/* The decentralized role of a VMIM: 's' (sendTo), 't' (receive) or 0. */
static int role_of(const cJSON *vmim, const char **id)
{
	const cJSON *send = json_get(vmim, "spec.sendTo"), *recv = json_get(vmim, "spec.receive");
	bool s = cJSON_IsObject(send), r = cJSON_IsObject(recv);

	if (s == r)
		return 0;
	*id = json_str(s ? send : recv, "migrationID", "");
	return (*id)[0] ? (s ? 's' : 't') : 0;
}

static const cJSON *find_named(const cJSON *items, const char *ns, const char *name)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, items)
		if (!strcmp(json_str(x, "metadata.name", ""), name) && !strcmp(json_str(x, "metadata.namespace", ""), ns))
			return x;
	return NULL;
}

/* The message of a condition of that type with status True, or NULL. */
static const char *condition(const cJSON *obj, const char *type)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, json_get(obj, "status.conditions"))
		if (!strcmp(json_str(c, "type", ""), type) && !strcmp(json_str(c, "status", ""), "True")) {
			const char *m = json_str(c, "message", "");

			return m[0] ? m : json_str(c, "reason", type);
		}
	return NULL;
}

/* failureReason of the VMIM's own snapshot, else of the VMI's migration
 * state when that state is this VMIM's. */
static const char *failure_reason(const cJSON *vmim, const cJSON *vmi)
{
	const char *r = json_str(vmim, "status.migrationState.failureReason", "");
	const char *uid = json_str(vmim, "metadata.uid", "");
	const cJSON *ms = json_get(vmi, "status.migrationState");

	if (r[0])
		return r;
	if (!ms || !uid[0])
		return NULL;
	if (strcmp(json_str(ms, "migrationUid", ""), uid) && strcmp(json_str(ms, "sourceState.migrationUID", ""), uid) &&
	    strcmp(json_str(ms, "targetState.migrationUID", ""), uid))
		return NULL;
	r = json_str(ms, "failureReason", "");
	return r[0] ? r : NULL;
}

static void origin_of(struct status_row *row, const cJSON *vmim, const cJSON *plans)
{
	const cJSON *l = json_get(vmim, "metadata.labels");
	const char *plan = json_str(l, MTV_L_PLAN, NULL);
	const cJSON *p;

	if (row->origin != ORIGIN_MANUAL)
		return;
	if (json_str(l, CCLM_L_ID, NULL) || !strcmp(json_str(l, CCLM_L_MANAGED, ""), CCLM_MANAGED)) {
		row->origin = ORIGIN_CCLM;
		return;
	}
	if (!plan || !(json_str(l, MTV_L_MIGRATION, NULL) || json_str(l, MTV_L_VMID, NULL)))
		return;
	row->origin = ORIGIN_MTV;
	copy(row->plan, sizeof(row->plan), plan);
	cJSON_ArrayForEach(p, plans)
		if (!strcmp(json_str(p, "metadata.uid", ""), plan)) {
			copy(row->plan, sizeof(row->plan), json_str(p, "metadata.name", plan));
			break;
		}
}

struct side_objs {
	const cJSON *vmim, *vmi;
};

static void blocker_of(struct status_row *row, const struct side_objs *s, const struct side_objs *t, long long now)
{
	const struct side_objs *sides[2] = { s, t };
	const struct status_half *halves[2] = { &row->src, &row->tgt };
	static const char *const who[2] = { "source", "target" };
	const char *m;
	int i;

	if (row->result == RESULT_SUCCEEDED)
		return;
	for (i = 0; i < 2; i++)
		if (sides[i]->vmim && (m = condition(sides[i]->vmim, "decentralizedMigrationBlocked"))) {
			snprintf(row->blocker, sizeof(row->blocker), "%s: %s", who[i], m);
			return;
		}
	for (i = 0; i < 2; i++)
		if (sides[i]->vmi && (m = condition(sides[i]->vmi, "DecentralizedLiveMigrationFailure"))) {
			snprintf(row->blocker, sizeof(row->blocker), "%s VMI: %s", who[i], m);
			return;
		}
	for (i = 0; i < 2; i++)
		if (sides[i]->vmim && (m = failure_reason(sides[i]->vmim, sides[i]->vmi))) {
			snprintf(row->blocker, sizeof(row->blocker), "%s: %s", who[i], m);
			return;
		}
	for (i = 0; i < 2; i++) {
		const struct status_half *h = halves[i];

		if (h->present && (!strcmp(h->phase, "WaitingForSync") || !strcmp(h->phase, "Synchronizing")) &&
		    h->phase_since && now - h->phase_since > STATUS_SYNC_GRACE) {
			snprintf(row->blocker, sizeof(row->blocker), "%s: waiting for sync for %llds", who[i],
				 now - h->phase_since);
			return;
		}
	}
	if (row->result == RESULT_IN_PROGRESS && row->src.present != row->tgt.present)
		snprintf(row->blocker, sizeof(row->blocker), "waiting for the %s VMIM",
			 row->src.present ? "target" : "source");
}

static int row_cmp(const void *a, const void *b)
{
	const struct status_row *x = a, *y = b;
	int c;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	c = strcmp(x->vm, y->vm);
	return c ? c : strcmp(x->id, y->id);
}

static bool wanted(const struct status_input *in, const char *vm)
{
	int i;

	if (!in->vms || in->nvms <= 0)
		return true;
	for (i = 0; i < in->nvms; i++)
		if (!strcmp(in->vms[i], vm))
			return true;
	return false;
}

/* Everything about a row once its halves are known. */
static void finish(const struct status_input *in, struct status_row *row, const struct side_objs *s,
		   const struct side_objs *t)
{
	const struct status_half *only = row->src.present ? &row->src : &row->tgt;

	copy(row->vm, sizeof(row->vm), row->src.present ? row->src.vmi : row->tgt.vmi);
	if ((row->src.present && !strcmp(row->src.phase, "Failed")) ||
	    (row->tgt.present && !strcmp(row->tgt.phase, "Failed")))
		row->result = RESULT_FAILED;
	else if (row->tgt.present ? !strcmp(row->tgt.phase, "Succeeded") : !strcmp(row->src.phase, "Succeeded"))
		row->result = RESULT_SUCCEEDED;
	else
		row->result = RESULT_IN_PROGRESS;
	row->started = row->src.created;
	if (row->tgt.present && (!row->started || (row->tgt.created && row->tgt.created < row->started)))
		row->started = row->tgt.created;
	if (row->result != RESULT_IN_PROGRESS)
		row->ended = row->src.ended > row->tgt.ended ? row->src.ended : row->tgt.ended;
	if (s->vmim)
		origin_of(row, s->vmim, in->plans);
	if (t->vmim)
		origin_of(row, t->vmim, in->plans);
	if (row->src.present != row->tgt.present &&
	    (only->final || (only->created && in->now - only->created > STATUS_SYNC_GRACE))) {
		row->orphan = true;
		snprintf(row->cleanup, sizeof(row->cleanup), "%s -n %s delete vmim %s",
			 row->src.present ? in->src_kubectl : in->tgt_kubectl, only->ns, only->name);
	}
	row->src.why_known = s->vmim && !strcmp(row->src.phase, "Failed") && failure_reason(s->vmim, s->vmi);
	row->tgt.why_known = t->vmim && !strcmp(row->tgt.phase, "Failed") && failure_reason(t->vmim, t->vmi);
	blocker_of(row, s, t, in->now);
	row->total = row->processed = row->remaining = row->rate = -1;
}

int status_pair(const struct status_input *in, struct status_row **rows, int *n, struct kerr *e)
{
	struct status_row *r = NULL;
	const cJSON **peer = NULL; /* per row: the target VMIM */
	const cJSON **mine = NULL; /* per row: the source VMIM */
	int cap = cJSON_GetArraySize(in->src_vmims) + cJSON_GetArraySize(in->tgt_vmims), nr = 0, i, out = 0;
	const cJSON *x;

	*rows = NULL;
	*n = 0;
	r = calloc((size_t)(cap ? cap : 1), sizeof(*r));
	peer = calloc((size_t)(cap ? cap : 1), sizeof(*peer));
	mine = calloc((size_t)(cap ? cap : 1), sizeof(*mine));
	if (!r || !peer || !mine) {
		free(r);
		free(peer);
		free(mine);
		return kerr_set(e, KERR_NOMEM, "out of memory");
	}
	cJSON_ArrayForEach(x, in->src_vmims) {
		const char *id;

		if (role_of(x, &id) != 's')
			continue;
		copy(r[nr].id, sizeof(r[nr].id), id);
		half_fill(&r[nr].src, x);
		mine[nr++] = x;
	}
	cJSON_ArrayForEach(x, in->tgt_vmims) {
		const char *id;
		int k;

		if (role_of(x, &id) != 't')
			continue;
		for (k = 0; k < nr; k++)
			if (r[k].src.present && !r[k].tgt.present && !strcmp(r[k].id, id))
				break;
		if (k == nr)
			copy(r[nr++].id, sizeof(r[k].id), id);
		half_fill(&r[k].tgt, x);
		peer[k] = x;
	}
	for (i = 0; i < nr; i++) {
		struct side_objs s = { mine[i], NULL }, t = { peer[i], NULL };

		if (r[i].src.present)
			s.vmi = find_named(in->src_vmis, r[i].src.ns, r[i].src.vmi);
		if (r[i].tgt.present)
			t.vmi = find_named(in->tgt_vmis, r[i].tgt.ns, r[i].tgt.vmi);
		finish(in, &r[i], &s, &t);
		if (!wanted(in, r[i].vm))
			continue;
		if (out != i)
			r[out] = r[i];
		out++;
	}
	free(peer);
	free(mine);
	qsort(r, (size_t)out, sizeof(*r), row_cmp);
	*rows = r;
	*n = out;
	return 0;
}

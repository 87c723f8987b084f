/* report.c — what kubectl cclm status prints: the table (wide adds the
 * migration IDs and VMIM names), the orphans' cleanup commands, and the
 * json/yaml document documented in man/kubectl-cclm-status.1; see status.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "output.h"
#include "status.h"

void report_duration(long long s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, "%llds", s);
	else if (s < 3600)
		snprintf(out, n, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%lldh%lldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(out, n, "%lldd%lldh", s / 86400, (s % 86400) / 3600);
}

static void progress_text(const struct status_row *r, char *out, size_t n)
{
	char a[32], b[32], rate[32];
	int pct;

	if (r->total <= 0 || r->processed < 0) {
		snprintf(out, n, "-");
		return;
	}
	pct = r->processed >= r->total ? 100 : (int)(100.0 * r->processed / r->total);
	output_bytes(r->processed, a, sizeof(a));
	output_bytes(r->total, b, sizeof(b));
	if (r->rate > 0) {
		output_bytes(r->rate, rate, sizeof(rate));
		snprintf(out, n, "%d%% %s/%s %s/s", pct, a, b, rate);
	} else {
		snprintf(out, n, "%d%% %s/%s", pct, a, b);
	}
}

static void by_text(const struct status_row *r, char *out, size_t n)
{
	if (r->origin == ORIGIN_CCLM)
		snprintf(out, n, "cclm");
	else if (r->origin == ORIGIN_MTV)
		snprintf(out, n, "MTV plan %s", r->plan);
	else
		snprintf(out, n, "by hand");
}

static void result_text(const struct status_row *r, char *out, size_t n)
{
	snprintf(out, n, "%s%s", status_result_name(r->result), r->orphan ? " (orphan)" : "");
}

static long long duration_of(const struct status_row *r, long long now)
{
	if (!r->started)
		return -1;
	return (r->ended ? r->ended : now) - r->started;
}

static void iso_time(long long t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *half_json(const struct status_half *h, const char *context)
{
	cJSON *o;

	if (!h->present)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "context", context);
	cJSON_AddStringToObject(o, "namespace", h->ns);
	cJSON_AddStringToObject(o, "vmim", h->name);
	cJSON_AddStringToObject(o, "vmi", h->vmi);
	cJSON_AddStringToObject(o, "phase", h->phase);
	return o;
}

static cJSON *row_json(const struct status_view *v, const struct status_row *r, long long now)
{
	cJSON *o = cJSON_CreateObject(), *by;
	char t[40];
	long long d = duration_of(r, now);

	cJSON_AddStringToObject(o, "migrationID", r->id);
	cJSON_AddStringToObject(o, "vm", r->vm);
	cJSON_AddItemToObject(o, "source", half_json(&r->src, kclient_name(v->ctx->source.client)));
	cJSON_AddItemToObject(o, "target", half_json(&r->tgt, kclient_name(v->ctx->target.client)));
	cJSON_AddStringToObject(o, "result", status_result_name(r->result));
	by = cJSON_AddObjectToObject(o, "startedBy");
	cJSON_AddStringToObject(by, "kind", status_origin_name(r->origin));
	if (r->origin == ORIGIN_MTV)
		cJSON_AddStringToObject(by, "plan", r->plan);
	if (r->started) {
		iso_time(r->started, t, sizeof(t));
		cJSON_AddStringToObject(o, "startedAt", t);
	} else {
		cJSON_AddNullToObject(o, "startedAt");
	}
	if (r->ended) {
		iso_time(r->ended, t, sizeof(t));
		cJSON_AddStringToObject(o, "endedAt", t);
	} else {
		cJSON_AddNullToObject(o, "endedAt");
	}
	if (d >= 0)
		cJSON_AddNumberToObject(o, "durationSeconds", (double)d);
	else
		cJSON_AddNullToObject(o, "durationSeconds");
	if (r->total > 0 && r->processed >= 0) {
		cJSON *p = cJSON_AddObjectToObject(o, "progress");

		/* later pre-copy rounds resend dirtied memory: processed passes total */
		cJSON_AddNumberToObject(p, "percent",
					r->processed >= r->total ? 100.0 : (double)(long)(1000.0 * r->processed / r->total) / 10);
		cJSON_AddNumberToObject(p, "dataTotalBytes", r->total);
		cJSON_AddNumberToObject(p, "dataProcessedBytes", r->processed);
		cJSON_AddNumberToObject(p, "dataRemainingBytes", r->remaining >= 0 ? r->remaining : r->total - r->processed);
		cJSON_AddNumberToObject(p, "transferRateBytes", r->rate >= 0 ? r->rate : 0);
	} else {
		cJSON_AddNullToObject(o, "progress");
	}
	if (r->blocker[0])
		cJSON_AddStringToObject(o, "blocker", r->blocker);
	else
		cJSON_AddNullToObject(o, "blocker");
	cJSON_AddBoolToObject(o, "orphan", r->orphan);
	if (r->orphan)
		cJSON_AddStringToObject(o, "cleanup", r->cleanup);
	else
		cJSON_AddNullToObject(o, "cleanup");
	return o;
}

static cJSON *side_json(const struct status_view *v, int side)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "context", kclient_name(side ? v->ctx->target.client : v->ctx->source.client));
	if (v->ns[side])
		cJSON_AddStringToObject(o, "namespace", v->ns[side]);
	else
		cJSON_AddNullToObject(o, "namespace");
	return o;
}

static int print_doc(FILE *f, const struct status_view *v, const struct status_row *rows, int n, const char *output,
		     bool compact, long long now, struct kerr *e)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *m;
	int i, rc = 0;

	cJSON_AddStringToObject(doc, "kind", "MigrationStatus");
	cJSON_AddItemToObject(doc, "source", side_json(v, 0));
	cJSON_AddItemToObject(doc, "target", side_json(v, 1));
	m = cJSON_AddObjectToObject(doc, "metrics");
	cJSON_AddBoolToObject(m, "available", !v->metrics_off);
	if (v->metrics_off)
		cJSON_AddStringToObject(m, "message", v->metrics_why);
	arr = cJSON_AddArrayToObject(doc, "migrations");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, row_json(v, &rows[i], now));
	if (compact && !strcmp(output, "json")) {
		char *s = cJSON_PrintUnformatted(doc);

		if (s)
			fprintf(f, "%s\n", s);
		else
			rc = kerr_set(e, KERR_NOMEM, "out of memory");
		free(s);
	} else {
		if (compact)
			fprintf(f, "---\n");
		rc = output_object(f, output, doc, e);
	}
	cJSON_Delete(doc);
	return rc;
}

int report_print(FILE *f, const struct status_view *v, const struct status_row *rows, int n, const char *output,
		 bool compact, long long now, struct kerr *e)
{
	static const char *const head[] = { "VM", "NAMESPACES", "SOURCE", "TARGET", "PROGRESS", "STARTED",
					    "DURATION", "RESULT", "BY", "BLOCKER", "MIGRATION-ID", "SOURCE-VMIM",
					    "TARGET-VMIM" };
	bool wide = output && !strcmp(output, "wide");
	int ncols = wide ? 13 : 10, i;
	struct table *t;

	if (output && !wide)
		return print_doc(f, v, rows, n, output, compact, now, e);
	t = table_new(ncols, head);
	for (i = 0; i < n; i++) {
		const struct status_row *r = &rows[i];
		char nss[520], prog[96], started[40], dur[32], res[48], by[300];
		const char *row[13];
		long long d = duration_of(r, now);

		snprintf(nss, sizeof(nss), "%s -> %s", r->src.present ? r->src.ns : "-", r->tgt.present ? r->tgt.ns : "-");
		progress_text(r, prog, sizeof(prog));
		if (r->started) {
			report_duration(now - r->started, started, sizeof(started));
			strncat(started, " ago", sizeof(started) - strlen(started) - 1);
		} else {
			snprintf(started, sizeof(started), "-");
		}
		if (d >= 0)
			report_duration(d, dur, sizeof(dur));
		else
			snprintf(dur, sizeof(dur), "-");
		result_text(r, res, sizeof(res));
		by_text(r, by, sizeof(by));
		row[0] = r->vm[0] ? r->vm : "-";
		row[1] = nss;
		row[2] = r->src.present ? (r->src.phase[0] ? r->src.phase : "(new)") : "-";
		row[3] = r->tgt.present ? (r->tgt.phase[0] ? r->tgt.phase : "(new)") : "-";
		row[4] = prog;
		row[5] = started;
		row[6] = dur;
		row[7] = res;
		row[8] = by;
		row[9] = r->blocker[0] ? r->blocker : "-";
		row[10] = r->id;
		row[11] = r->src.present ? r->src.name : "-";
		row[12] = r->tgt.present ? r->tgt.name : "-";
		if (table_add(t, row)) {
			table_free(t);
			return kerr_set(e, KERR_NOMEM, "out of memory");
		}
	}
	table_print(t, f, true);
	table_free(t);
	for (i = 0; i < n; i++) {
		const struct status_row *r = &rows[i];

		if (!r->orphan)
			continue;
		fprintf(f, "\norphan: the %s half of migration '%s' (VM %s) is alone: %s VMIM %s/%s is %s; delete it with:\n  %s\n",
			r->src.present ? "source" : "target", r->id, r->vm[0] ? r->vm : "-",
			r->src.present ? "source" : "target", r->src.present ? r->src.ns : r->tgt.ns,
			r->src.present ? r->src.name : r->tgt.name,
			(r->src.present ? r->src.phase : r->tgt.phase)[0] ? (r->src.present ? r->src.phase : r->tgt.phase) :
									   "new",
			r->cleanup);
	}
	return 0;
}

void report_line(const struct status_row *r, struct buf *out)
{
	char prog[160], by[300];

	progress_text(r, prog, sizeof(prog));
	by_text(r, by, sizeof(by));
	buf_addf(out, "%s/%s -> %s: source %s, target %s", r->src.present ? r->src.ns : r->tgt.ns, r->vm,
		 r->tgt.present ? r->tgt.ns : "-", r->src.present ? (r->src.phase[0] ? r->src.phase : "(new)") : "-",
		 r->tgt.present ? (r->tgt.phase[0] ? r->tgt.phase : "(new)") : "-");
	if (strcmp(prog, "-"))
		buf_addf(out, ", %s", prog);
	buf_addf(out, ", %s%s, %s", status_result_name(r->result), r->orphan ? " (orphan)" : "", by);
	if (r->blocker[0])
		buf_addf(out, ": %s", r->blocker);
	if (r->orphan)
		buf_addf(out, "; clean up: %s", r->cleanup);
}

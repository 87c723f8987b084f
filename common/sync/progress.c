/* progress.c — how far a transfer is, from the source cluster's
 * kubevirt_vmi_migration_* metrics (reference §4.4), read through its
 * thanos-querier twice a second while the migration runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "json.h"
#include "output.h"

/* Say once for the whole run that there are phases only. */
static void metrics_unreachable(struct job *j, const char *why)
{
	struct run *r = j->run;
	bool first;

	pthread_mutex_lock(&r->lock);
	first = !r->metrics_off;
	r->metrics_off = true;
	pthread_mutex_unlock(&r->lock);
	if (first)
		run_info(r, "progress metrics of the source cannot be read (%s): showing phases only", why);
}

void progress_sample(struct job *j)
{
	struct sync_vm *v = j->vm;
	struct kerr e = KERR_INIT;
	cJSON *res = NULL;
	const cJSON *s;
	char q[700], a[32], b[32], rate[32], dirty[32], eta[32] = "";
	long long now = sync_now_ms();
	double total = -1, done = -1, left = -1, xfer = -1, dr = -1;

	if (strcmp(v->phase, "Running") || now - j->last_sample < 450 || j->run->metrics_off)
		return;
	j->last_sample = now;
	snprintf(q, sizeof(q),
		 "{__name__=~\"kubevirt_vmi_migration_(data_bytes_total|data_processed_bytes|data_remaining_bytes|memory_transfer_rate_bytes|dirty_memory_rate_bytes)\",namespace=\"%s\",name=\"%s\"}",
		 v->ns, v->name);
	pthread_mutex_lock(&j->run->metrics_lock);
	if (!j->run->metrics)
		j->run->metrics = promq_open(j->src, j->run->src_cfg, &j->run->copts, &e);
	if (!j->run->metrics || promq_query(j->run->metrics, q, &res, &e)) {
		pthread_mutex_unlock(&j->run->metrics_lock);
		metrics_unreachable(j, e.msg);
		return;
	}
	pthread_mutex_unlock(&j->run->metrics_lock);
	cJSON_ArrayForEach(s, res) {
		const char *name = json_str(s, "metric.__name__", "");
		const char *val = json_str(s, "value.1", NULL);
		double x = val ? strtod(val, NULL) : -1;
		if (strstr(name, "data_bytes_total"))
			total = x;
		else if (strstr(name, "data_processed_bytes"))
			done = x;
		else if (strstr(name, "data_remaining_bytes"))
			left = x;
		else if (strstr(name, "memory_transfer_rate_bytes"))
			xfer = x;
		else if (strstr(name, "dirty_memory_rate_bytes"))
			dr = x;
	}
	cJSON_Delete(res);
	if (total < 0 && done < 0)
		return; /* not exported yet (or already over) */
	if (v->data_total == total && v->data_processed == done && v->data_remaining == left)
		return;
	pthread_mutex_lock(&j->run->lock); /* the send gate reads the rates */
	v->data_total = total;
	v->data_processed = done;
	v->data_remaining = left;
	v->transfer_rate = xfer;
	v->dirty_rate = dr;
	v->sampled = (double)now / 1000.0;
	pthread_mutex_unlock(&j->run->lock);
	output_bytes(done > 0 ? done : 0, a, sizeof(a));
	output_bytes(total > 0 ? total : 0, b, sizeof(b));
	output_bytes(xfer > 0 ? xfer : 0, rate, sizeof(rate));
	output_bytes(dr > 0 ? dr : 0, dirty, sizeof(dirty));
	if (xfer > 0 && left >= 0)
		snprintf(eta, sizeof(eta), ", ETA %.0fs", left / xfer);
	job_event(j, SYNC_EV_PROGRESS, "%.0f%% (%s of %s) at %s/s, dirtying %s/s%s",
		  total > 0 ? 100.0 * (done > 0 ? done : 0) / total : 0.0, a, b, rate, dirty, eta);
}

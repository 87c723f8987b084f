/* progress.c — how far the transfers are, from the source cluster's
 * kubevirt_vmi_migration_* metrics (reference §4.4), read through its
 * thanos-querier by a thread of the run's own: one query for every
 * transfer of the run, twice a second while any runs, five times a
 * second while one has not shown up yet (see engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "json.h"
#include "output.h"

/* Say once for the whole run that there are phases only. */
static void metrics_unreachable(struct run *r, const char *why)
{
	bool first;

	pthread_mutex_lock(&r->lock);
	first = !r->metrics_off;
	r->metrics_off = true;
	pthread_mutex_unlock(&r->lock);
	if (first)
		run_info(r, "progress metrics of the source cannot be read (%s): showing phases only", why);
}

/* The five series of one VM in a reply; -1 for those not there. */
struct sample {
	double total, done, left, xfer, dirty;
};

static bool read_sample(const cJSON *res, const struct sync_vm *v, struct sample *s)
{
	const cJSON *x;
	bool any = false;

	s->total = s->done = s->left = s->xfer = s->dirty = -1;
	cJSON_ArrayForEach(x, res) {
		const char *name = json_str(x, "metric.__name__", "");
		const char *val = json_str(x, "value.1", NULL);
		double n = val ? strtod(val, NULL) : -1;

		if (strcmp(json_str(x, "metric.namespace", ""), v->ns) || strcmp(json_str(x, "metric.name", ""), v->name))
			continue;
		any = true;
		if (strstr(name, "data_bytes_total"))
			s->total = n;
		else if (strstr(name, "data_processed_bytes"))
			s->done = n;
		else if (strstr(name, "data_remaining_bytes"))
			s->left = n;
		else if (strstr(name, "memory_transfer_rate_bytes"))
			s->xfer = n;
		else if (strstr(name, "dirty_memory_rate_bytes"))
			s->dirty = n;
	}
	return any && (s->total >= 0 || s->done >= 0);
}

/* Keep a VM's new sample (the send gate reads it) and say it. */
static void take_sample(struct run *r, struct sync_vm *v, const struct sample *s, double now)
{
	char a[32], b[32], rate[32], dirty[32], eta[32] = "";

	pthread_mutex_lock(&r->lock);
	if (v->data_total == s->total && v->data_processed == s->done && v->data_remaining == s->left) {
		pthread_mutex_unlock(&r->lock);
		return; /* not scraped again yet: its age counts from when it was new */
	}
	v->data_total = s->total;
	v->data_processed = s->done;
	v->data_remaining = s->left;
	v->transfer_rate = s->xfer;
	v->dirty_rate = s->dirty;
	v->sampled = now;
	pthread_mutex_unlock(&r->lock);
	output_bytes(s->done > 0 ? s->done : 0, a, sizeof(a));
	output_bytes(s->total > 0 ? s->total : 0, b, sizeof(b));
	output_bytes(s->xfer > 0 ? s->xfer : 0, rate, sizeof(rate));
	output_bytes(s->dirty > 0 ? s->dirty : 0, dirty, sizeof(dirty));
	if (s->xfer > 0 && s->left >= 0)
		snprintf(eta, sizeof(eta), ", ETA %.0fs", s->left / s->xfer);
	vm_event(r, v, SYNC_EV_PROGRESS, "%.0f%% (%s of %s) at %s/s, dirtying %s/s%s",
		 s->total > 0 ? 100.0 * (s->done > 0 ? s->done : 0) / s->total : 0.0, a, b, rate, dirty, eta);
}

/* The namespaces of the transfers due a read, as a regex (namespace names
 * are DNS labels: nothing to escape); false when none is due. Each name
 * once: the query's length grows with the namespaces, not the VMs. */
static bool due(struct progress_sampler *ps, long long now, struct buf *q)
{
	int i;
	bool any = false, first = false;

	pthread_mutex_lock(&ps->run->lock);
	for (i = 0; i < ps->n; i++) {
		const struct sync_vm *v = &ps->vms[i];
		const char *at;
		size_t len = strlen(v->ns);

		if (strcmp(v->phase, "Running"))
			continue;
		if (v->sampled <= 0)
			first = true;
		any = true;
		for (at = q->s; (at = strstr(at, v->ns)); at += len)
			if ((at == q->s || at[-1] == '|') && (at[len] == '|' || !at[len]))
				break;
		if (!at)
			buf_addf(q, "%s%s", q->len ? "|" : "", v->ns);
	}
	pthread_mutex_unlock(&ps->run->lock);
	return any && now - ps->last_read >= (first ? 200 : 450);
}

static void sample_all(struct progress_sampler *ps)
{
	struct run *r = ps->run;
	struct kerr e = KERR_INIT;
	struct buf ns = BUF_INIT, q = BUF_INIT;
	cJSON *res = NULL;
	int i;

	if (!due(ps, sync_now_ms(), &ns) || !ns.len) {
		buf_release(&ns);
		return;
	}
	ps->last_read = sync_now_ms();
	buf_addf(&q,
		 "{__name__=~\"kubevirt_vmi_migration_(data_bytes_total|data_processed_bytes|data_remaining_bytes|memory_transfer_rate_bytes|dirty_memory_rate_bytes)\",namespace=~\"%s\"}",
		 ns.s);
	buf_release(&ns);
	if (!r->metrics && !(r->metrics = promq_open(ps->src, r->src_cfg, &r->copts, &e))) {
		buf_release(&q);
		metrics_unreachable(r, e.msg);
		return;
	}
	if (promq_query(r->metrics, q.s, &res, &e)) {
		buf_release(&q);
		metrics_unreachable(r, e.msg);
		return;
	}
	buf_release(&q);
	for (i = 0; i < ps->n; i++) {
		struct sync_vm *v = &ps->vms[i];
		struct sample s;
		bool running;

		pthread_mutex_lock(&r->lock);
		running = !strcmp(v->phase, "Running");
		pthread_mutex_unlock(&r->lock);
		if (running && read_sample(res, v, &s))
			take_sample(r, v, &s, (double)ps->last_read / 1000.0);
	}
	cJSON_Delete(res);
}

static void *sampler_main(void *arg)
{
	struct progress_sampler *ps = arg;

	for (;;) {
		bool off;

		pthread_mutex_lock(&ps->run->lock);
		off = ps->stop || ps->run->metrics_off;
		pthread_mutex_unlock(&ps->run->lock);
		if (off)
			break;
		sample_all(ps);
		sync_pause_ms(50);
	}
	return NULL;
}

int progress_start(struct progress_sampler *ps, struct run *r, struct sync_vm *vms, int n, struct kerr *e)
{
	memset(ps, 0, sizeof(*ps));
	ps->run = r;
	ps->vms = vms;
	ps->n = n;
	if (!(ps->src = kclient_new(r->src_cfg, &r->copts, e)))
		return -1;
	if (pthread_create(&ps->th, NULL, sampler_main, ps)) {
		kclient_free(ps->src);
		ps->src = NULL;
		return kerr_set(e, KERR_NOMEM, "no thread for the progress metrics");
	}
	ps->running = true;
	return 0;
}

void progress_stop(struct progress_sampler *ps)
{
	if (ps->running) {
		pthread_mutex_lock(&ps->run->lock);
		ps->stop = true;
		pthread_mutex_unlock(&ps->run->lock);
		pthread_join(ps->th, NULL);
		ps->running = false;
	}
	kclient_free(ps->src);
	ps->src = NULL;
}

/* sched.c — the send gate: which prepared pipeline may create its source
 * VMIM now (see engine.h, "sched"). The workers prepare their VMs up to the
 * receiver on the target, then wait here; a transfer holds its place until
 * its target VMIM is final. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

/* A transfer is "converging comfortably" while its guest dirties memory at
 * less than this share of the bandwidth it gets; above it, each pre-copy
 * round shrinks by less than half and the migration may not finish. */
#define SCHED_DIRTY_SHARE 0.5
/* A transfer that runs at this share of bandwidthPerMigration is held by the
 * cap, not by the link, so another one adds throughput. */
#define SCHED_CAPPED 0.9
/* Two transfers that together move this many times what one moved alone
 * each have a link of their own. */
#define SCHED_OWN_LINK 1.5

static bool capped(const struct sched_view *a, const struct sched_limits *l)
{
	return l->cap > 0 && a->transfer_rate >= SCHED_CAPPED * l->cap;
}

/* How long after a transfer begins the others' rates show it. */
#define SCHED_SETTLE 0.3

void sched_learn(struct sched_limits *l, const struct sched_view *a, int n)
{
	double total = 0, last_start = 0, first_read = 0;
	int i, moving = 0;

	if (!l->learn || !l->metrics || l->link != SCHED_LINK_UNKNOWN)
		return; /* learnt once: rates read a moment apart can add up to a
			 * link of its own when there is none (one of them is
			 * from before the other began or after it ended) */
	for (i = 0; i < n; i++)
		if (a[i].transfer_rate > 0 && !capped(&a[i], l)) {
			total += a[i].transfer_rate;
			if (!moving++ || a[i].sampled < first_read)
				first_read = a[i].sampled;
			if (a[i].transferring > last_start)
				last_start = a[i].transferring;
		}
	if (moving >= 2 && first_read < last_start + SCHED_SETTLE)
		return; /* a rate read before the newest one began: not one moment */
	if (moving == 1 && total > l->link_rate)
		l->link_rate = total;
	else if (moving >= 2 && l->link_rate > 0)
		l->link = total >= SCHED_OWN_LINK * l->link_rate ? SCHED_LINK_FREE : SCHED_LINK_SHARED;
}

/* How soon a transfer admitted now may start: the lead and twice its
 * spread. Starting early costs little (two transfers side by side on the
 * link re-send only what their guests dirty meanwhile), starting late
 * leaves the link idle, so the gate plans for a slow start, not a mean one. */
static double horizon(const struct sched_limits *l)
{
	return l->lead > 0 ? l->lead + 2 * l->lead_spread : 0;
}

/* The seconds until the link frees for one more: the running transfers'
 * backlog, then the admitted ones not sending yet, each from when it will
 * start, in the order they were admitted (see engine.h). `users`: how many
 * use the link (not held by bandwidthPerMigration); `moving`: how many of
 * them the metrics show sending; `first`: one of them, for the message. */
static double link_busy(const struct sched_view *a, int n, const struct sched_limits *l, int *users, int *moving,
			const char **first)
{
	double busy = 0, prev_wait = 1e18;
	int i, prev = -1;

	*users = *moving = 0;
	*first = NULL;
	for (i = 0; i < n; i++) {
		double net = l->link_rate - (a[i].dirty_rate > 0 ? a[i].dirty_rate : 0);

		if (capped(&a[i], l))
			continue;
		++*users;
		*first = *first ? *first : a[i].name;
		if (a[i].transfer_rate > 0) {
			++*moving;
			busy += a[i].remaining >= 0 && net > 0 ? a[i].remaining / net : 1e9;
		} else if (a[i].transferring > 0) { /* sending, not measured yet */
			if (a[i].remaining >= 0 && l->link_rate > 0)
				busy += a[i].remaining / l->link_rate;
			else
				busy += l->link_rate > 0 ? a[i].size / l->link_rate : 1e9;
		}
	}
	/* the ones not sending yet, longest waiting first (ties: by index) */
	for (;;) {
		int next = -1;

		for (i = 0; i < n; i++) {
			const struct sched_view *v = &a[i];

			if (capped(v, l) || v->transfer_rate > 0 || v->transferring > 0)
				continue;
			if (v->waited > prev_wait || (v->waited == prev_wait && i <= prev))
				continue; /* already queued */
			if (next < 0 || v->waited > a[next].waited)
				next = i;
		}
		if (next < 0)
			break;
		if (l->link_rate <= 0)
			return 1e9;
		if (busy < l->lead - a[next].waited)
			busy = l->lead - a[next].waited; /* the link idles until it starts */
		busy += a[next].size / l->link_rate;
		prev = next;
		prev_wait = a[next].waited;
	}
	return busy;
}

/* The link rule (see engine.h): may one more transfer share the link now? */
static bool link_has_room(const struct sched_view *a, int n, const struct sched_limits *l, char *why, size_t nwhy)
{
	int users, moving;
	const char *first;
	double busy = link_busy(a, n, l, &users, &moving, &first);

	if (!users)
		return true; /* every one is held by bandwidthPerMigration */
	if (l->link == SCHED_LINK_UNKNOWN) {
		if (n == 1 && moving == 1)
			return true; /* the second, beside the first: does the link carry more? */
		if (l->link_rate <= 0) {
			if (why)
				snprintf(why, nwhy, "%s: held back while cclm finds out whether transfers share the link",
					 first);
			return false;
		}
		/* until it is known, as if shared */
	}
	if (l->lead > 0 && busy < horizon(l))
		return true;
	if (why) {
		if (busy >= 1e9)
			snprintf(why, nwhy, "%s: held back while the shared link is busy", first);
		else
			snprintf(why, nwhy, "%s: held back while the shared link is busy for %.1f s more", first, busy);
	}
	return false;
}

bool sched_may_send(const struct sched_view *active, int n, const char *node, const struct sched_limits *l,
		    char *why, size_t nwhy)
{
	int i, same = 0;

	if (why && nwhy)
		why[0] = '\0';
	for (i = 0; i < n; i++)
		if (node && node[0] && !strcmp(active[i].node, node))
			same++;
	if (n >= l->senders) {
		if (why)
			snprintf(why, nwhy, "%d of %d migrations running", n, l->senders);
		return false;
	}
	if (node && node[0] && same >= l->per_node) {
		if (why)
			snprintf(why, nwhy, "node %s already sends %d (parallelOutboundMigrationsPerNode)", node, same);
		return false;
	}
	if (!n || !l->metrics)
		return true;
	if (l->learn && l->link != SCHED_LINK_FREE && !link_has_room(active, n, l, why, nwhy))
		return false;
	for (i = 0; i < n; i++) {
		const struct sched_view *a = &active[i];
		double share;

		if (a->transfer_rate <= 0 || a->dirty_rate < 0)
			continue; /* not transferring yet, or no sample: nothing to protect */
		if (capped(a, l))
			continue; /* held by bandwidthPerMigration: the link has room */
		if (l->lead > 0 && a->remaining >= 0 && a->transfer_rate > a->dirty_rate &&
		    a->remaining / (a->transfer_rate - a->dirty_rate) < horizon(l))
			continue; /* done before a new transfer would get going */
		share = a->transfer_rate * n / (n + 1);
		if (a->dirty_rate >= SCHED_DIRTY_SHARE * share) {
			if (why)
				snprintf(why, nwhy, "%s dirties %.0f MiB/s of its %.0f MiB/s: held back until it converges",
					 a->name, a->dirty_rate / 1048576.0, a->transfer_rate / 1048576.0);
			return false;
		}
	}
	return true;
}

int sched_init(struct sched *s, const struct sched_limits *l, int vms)
{
	memset(s, 0, sizeof(*s));
	s->limits = *l;
	if (s->limits.senders < 1)
		s->limits.senders = 1;
	if (s->limits.per_node < 1)
		s->limits.per_node = 1;
	s->cap = vms > s->limits.senders ? vms : s->limits.senders;
	s->active = calloc((size_t)s->cap, sizeof(*s->active));
	if (!s->active)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	return 0;
}

void sched_destroy(struct sched *s)
{
	free(s->active);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

double sched_left_bytes(double remaining, double processed, double total, double dirty, double elapsed)
{
	double dirtied = dirty * elapsed;

	if (remaining < 0)
		return -1;
	if (total > 0 && processed >= 0 && processed < total && dirty > 0 && elapsed > 0)
		remaining += dirtied < total ? dirtied : total;
	return remaining;
}

double sched_left_now(double remaining, double rate, double dirty, double age)
{
	double net = rate - (dirty > 0 ? dirty : 0);

	if (remaining < 0 || net <= 0 || age <= 0)
		return remaining;
	remaining -= net * age;
	return remaining > 0 ? remaining : 0;
}

int sched_probe(const double *sizes, int n, double rate, double cap)
{
	int i, at = -1;

	if (rate <= 0 || (cap > 0 && rate >= SCHED_CAPPED * cap))
		return -1;
	for (i = 0; i < n; i++)
		if (sizes[i] >= SCHED_PROBE_SECONDS * rate && (at < 0 || sizes[i] < sizes[at]))
			at = i;
	return at;
}

/* The active transfers as the decision sees them (s->lock held). */
static int snapshot(struct sched *s, struct run *r, struct sched_view *out)
{
	double now = (double)sync_now_ms() / 1000.0;
	int i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < s->nactive; i++) {
		const struct sync_vm *v = s->active[i];

		snprintf(out[i].name, sizeof(out[i].name), "%s", v->name);
		snprintf(out[i].node, sizeof(out[i].node), "%s", v->node);
		out[i].transfer_rate = v->transfer_rate;
		out[i].dirty_rate = v->dirty_rate;
		if (v->sampled > 0) { /* read up to half a second ago: what is left by now */
			double left = sched_left_bytes(v->data_remaining, v->data_processed, v->data_total,
						       v->dirty_rate,
						       v->transferring > 0 ? v->sampled - v->transferring : 0);

			out[i].remaining = sched_left_now(left, v->transfer_rate, v->dirty_rate, now - v->sampled);
		} else if (v->transferring > 0 && v->size > 0 && s->limits.link_rate > 0) {
			/* sending, not measured yet: its memory at the link's rate */
			double left = v->size - s->limits.link_rate * (now - v->transferring);

			out[i].remaining = left > 0 ? left : 0;
		} else {
			out[i].remaining = v->data_remaining;
		}
		out[i].waited = v->transferring > 0 || v->admitted <= 0 ? 0 : now - v->admitted;
		out[i].size = v->size;
		out[i].transferring = v->transferring;
		out[i].sampled = v->sampled;
	}
	s->limits.metrics = !r->metrics_off;
	pthread_mutex_unlock(&r->lock);
	return s->nactive;
}

int sched_admit(struct sched *s, struct job *j, bool now)
{
	struct sched_view *view = calloc((size_t)s->cap, sizeof(*view));
	char why[300] = "", said[300] = "";
	int rc = 0;

	if (!view)
		return -1;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		int n = snapshot(s, j->run, view);
		struct timespec ts;

		sched_learn(&s->limits, view, n);
		if (job_cancelled(j)) {
			rc = 2;
			break;
		}
		if (j->deadline && sync_now_ms() >= j->deadline) {
			rc = 1;
			break;
		}
		if ((now && n < s->cap) || (n < s->cap && sched_may_send(view, n, j->vm->node, &s->limits, why, sizeof(why)))) {
			int k;

			/* its lead counts only if no other admitted one is still
			 * getting going: a burst of admissions slows each (the
			 * control plane), and learning that would admit more */
			j->lead_alone = true;
			for (k = 0; k < n; k++)
				if (!view[k].transferring)
					j->lead_alone = false;
			s->active[s->nactive++] = j->vm;
			j->admitted_ms = sync_now_ms();
			j->vm->admitted = (double)j->admitted_ms / 1000.0;
			break;
		}
		/* say who holds it back, once per culprit ("NAME dirties ...") */
		if (strstr(why, "held back") && strncmp(why, said, strcspn(why, " ") + 1)) {
			snprintf(said, sizeof(said), "%s", why);
			pthread_mutex_unlock(&s->lock);
			job_event(j, SYNC_EV_STEP, "waiting to send: %s", why);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		/* woken by a release, or every 100 ms for new samples and cancel */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	free(view);
	return rc;
}

void sched_started(struct sched *s, struct job *j)
{
	double took;

	pthread_mutex_lock(&j->run->lock); /* snapshot() reads it */
	j->vm->transferring = (double)sync_now_ms() / 1000.0;
	pthread_mutex_unlock(&j->run->lock);
	if (!j->admitted_ms)
		return;
	took = (double)(sync_now_ms() - j->admitted_ms) / 1000.0;
	j->admitted_ms = 0;
	pthread_mutex_lock(&s->lock);
	/* moving averages: the clusters' pace changes with their load */
	if (s->limits.lead <= 0) {
		s->limits.lead = took;
		s->limits.lead_spread = took / 4;
	} else if (j->lead_alone) {
		double off = took > s->limits.lead ? took - s->limits.lead : s->limits.lead - took;

		s->limits.lead = 0.7 * s->limits.lead + 0.3 * took;
		s->limits.lead_spread = 0.7 * s->limits.lead_spread + 0.3 * off;
	}
	pthread_mutex_unlock(&s->lock);
}

void sched_release(struct sched *s, struct job *j)
{
	int i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nactive; i++)
		if (s->active[i] == j->vm) {
			s->active[i] = s->active[--s->nactive];
			break;
		}
	/* the first ended before the metrics showed it sending: transfers this
	 * short do not need the link managed */
	if (s->limits.link == SCHED_LINK_UNKNOWN && s->limits.link_rate <= 0)
		s->limits.link = SCHED_LINK_FREE;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

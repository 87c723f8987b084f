/* kube.c — the engine's helpers for talking to a cluster: events, waiting
 * on one object by watch, idempotent create and delete, a step's two
 * clusters at once (see engine.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "json.h"

long long sync_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double sync_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool job_cancelled(const struct job *j)
{
	return j->run->o->cancel && *j->run->o->cancel;
}

static void emit(struct run *r, enum sync_event_kind kind, const struct sync_vm *vm, const char *fmt, va_list ap)
{
	char text[1200];
	struct sync_event ev = { kind, vm, text };

	vsnprintf(text, sizeof(text), fmt, ap);
	if (!r->o->event)
		return;
	pthread_mutex_lock(&r->lock);
	r->o->event(r->o->event_ctx, &ev);
	pthread_mutex_unlock(&r->lock);
}

void job_event(struct job *j, enum sync_event_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(j->run, kind, j->vm, fmt, ap);
	va_end(ap);
}

void vm_event(struct run *r, const struct sync_vm *vm, enum sync_event_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(r, kind, vm, fmt, ap);
	va_end(ap);
}

void run_info(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(r, SYNC_EV_INFO, NULL, fmt, ap);
	va_end(ap);
}

void sync_pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

struct waiter {
	obj_pred pred;
	void *ctx;
	const char *name;
	int verdict;
	cJSON *last;
};

static int on_event(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	struct waiter *w = ctx;
	bool gone = !strcmp(type, "DELETED");

	if (!strcmp(type, "BOOKMARK") || strcmp(json_str(obj, "metadata.name", ""), w->name))
		return 0;
	cJSON_Delete(w->last);
	w->last = gone ? NULL : cJSON_Duplicate(obj, 1);
	w->verdict = w->pred(w->ctx, gone ? NULL : obj, e);
	if (w->verdict < 0)
		return -1;
	return w->verdict ? 1 : 0;
}

int wait_object(struct job *j, struct kclient *c, const struct kres *res, const char *ns, const char *name,
		obj_pred pred, void *ctx, long long until_ms, cJSON **last, struct kerr *e)
{
	struct waiter w = { pred, ctx, name, 0, NULL };
	char sel[320], rv[64] = "";
	int rc;

	snprintf(sel, sizeof(sel), "metadata.name=%s", name);
	for (;;) {
		struct kquery q = { .field_selector = sel };
		long long left;

		if (!rv[0]) {
			/* the list gives the object (or its absence) and where to watch
			 * from; after a write of this client to that resource, from
			 * the watch cache, not older than that write (kclient_write_rv) */
			struct kquery lq = q;
			cJSON *items = NULL;
			char *lrv = NULL;

			if (kclient_write_rv(c, res)[0]) {
				lq.resource_version = kclient_write_rv(c, res);
				lq.limit = -1;
			}
			if (kclient_list(c, res, ns, &lq, &items, &lrv, e)) {
				if (!kerr_is_transient(e))
					goto fail;
				cJSON_Delete(items);
				free(lrv);
				sync_pause_ms(500);
				kerr_clear(e);
				goto check_time;
			}
			cJSON_Delete(w.last);
			w.last = cJSON_GetArraySize(items) ? cJSON_Duplicate(cJSON_GetArrayItem(items, 0), 1) : NULL;
			cJSON_Delete(items);
			snprintf(rv, sizeof(rv), "%s", lrv ? lrv : "");
			free(lrv);
			w.verdict = pred(ctx, w.last, e);
			if (w.verdict < 0)
				goto fail;
			if (w.verdict)
				break;
		}
check_time:
		if ((j && job_cancelled(j)) || kclient_watches_stopped(c)) {
			rc = 2;
			goto out;
		}
		left = until_ms ? until_ms - sync_now_ms() : 10000;
		if (left <= 0) {
			rc = 1;
			goto out;
		}
		if (!rv[0])
			continue;
		q.resource_version = rv;
		/* A cancel ends the watch at once (stop_watches); slices of
		 * 10 s check the deadline and the cancel of a job */
		rc = kclient_watch(c, res, ns, &q, left < 10000 ? left : 10000, on_event, &w, e);
		if (rc < 0) {
			if (!kerr_is_transient(e) && !kerr_is_http(e, 410))
				goto fail;
			kerr_clear(e);
			rv[0] = '\0'; /* relist */
			continue;
		}
		if (w.last)
			snprintf(rv, sizeof(rv), "%s", json_str(w.last, "metadata.resourceVersion", rv));
		if (rc > 0 && w.verdict)
			break;
	}
	rc = 0;
out:
	if (last)
		*last = w.last;
	else
		cJSON_Delete(w.last);
	return rc;
fail:
	cJSON_Delete(w.last);
	if (last)
		*last = NULL;
	return -1;
}

/* Backoff for the next try of a transient failure: the server's Retry-After, else 250 ms doubling to 4 s. */
static void backoff(const struct kerr *e, long *wait)
{
	sync_pause_ms(e->retry_after > 0 ? e->retry_after * 1000L : *wait);
	if (*wait < 4000)
		*wait *= 2;
}

int ensure_create(struct kclient *c, const struct kres *res, const char *ns, const cJSON *obj, cJSON **out,
		  bool *existed, struct kerr *e)
{
	struct kquery q = { .field_manager = "kubectl-cclm-migrate" };
	long wait = 250;
	int attempt;

	if (existed)
		*existed = false;
	for (attempt = 0; attempt < 8; attempt++, backoff(e, &wait)) {
		kerr_clear(e);
		if (!kclient_create(c, res, ns, obj, &q, out, e))
			return 0;
		if (kerr_is_http(e, 409)) {
			cJSON *got = NULL;

			kerr_clear(e);
			if (!kclient_get(c, res, ns, json_str(obj, "metadata.name", ""), &got, e)) {
				kclient_note_write(c, res, got); /* ours, or one we wait on */
				if (existed)
					*existed = attempt == 0; /* else our own earlier try made it */
				if (out)
					*out = got;
				else
					cJSON_Delete(got);
				return 0;
			}
			if (!kerr_is_http(e, 404) && !kerr_is_transient(e))
				return -1;
			continue; /* gone again (or a conflict, not a duplicate): create once more */
		}
		if (!kerr_is_transient(e))
			return -1;
	}
	return -1;
}

int delete_quiet(struct kclient *c, const struct kres *res, const char *ns, const char *name, struct kerr *e)
{
	struct kquery q = { .propagation = "Background" };
	long wait = 250;
	int attempt;

	for (attempt = 0; attempt < 8; attempt++, backoff(e, &wait)) {
		kerr_clear(e);
		if (!kclient_delete(c, res, ns, name, &q, e) || kerr_is_http(e, 404)) {
			kerr_clear(e);
			return 0;
		}
		if (!kerr_is_transient(e))
			return -1;
	}
	return -1;
}

struct half {
	struct job *j;
	side_fn fn;
	bool source;
	struct side_result *out;
};

static void *run_half(void *arg)
{
	struct half *h = arg;
	struct kerr e = KERR_INIT;

	h->out->why[0] = '\0';
	h->out->rc = h->fn(h->j, h->source, &e, h->out->why, sizeof(h->out->why));
	h->out->e = e;
	return NULL;
}

void both_sides(struct job *j, side_fn fn, struct side_result *src, struct side_result *tgt)
{
	struct half s = { j, fn, true, src }, t = { j, fn, false, tgt };
	pthread_t th;
	bool apart = !pthread_create(&th, NULL, run_half, &s);

	if (!apart)
		run_half(&s); /* no thread to be had: one after the other */
	run_half(&t);
	if (apart)
		pthread_join(th, NULL);
}

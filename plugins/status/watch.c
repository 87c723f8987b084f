/* watch.c — kubectl cclm status --watch: four watches (VMIMs and VMIs on
 * both clusters) from the resourceVersions the LISTs ended at keep the view
 * current; nothing is listed again except after a 410. See status.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "msg.h"
#include "output.h"
#include "status.h"

/* Each watch runs in slices of this long, resumed from the last
 * resourceVersion seen, so a stop is noticed within a slice. */
#define SLICE_MS 1000
/* Progress metrics are read again at most this often while a transfer runs. */
#define METRICS_EVERY_MS 2000
/* --until-done: how long everything final may wait for a failed half's
 * reason to arrive on the other watch stream (status_settled) */
#define SETTLE_MS 2000

struct watcher {
	struct shared *sh;
	int side;                 /* 0 source, 1 target */
	const struct kres *res;
	cJSON **items;            /* the view's array this watch keeps current */
	char rv[64];
	struct kclient *client;
	pthread_t thread;
	bool started;
};

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool changed, stop, failed;
	struct kerr err;
	struct status_view *v;
	struct watcher w[4];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int index_of(const cJSON *items, const char *uid)
{
	const cJSON *x;
	int i = 0;

	cJSON_ArrayForEach(x, items) {
		if (!strcmp(json_str(x, "metadata.uid", ""), uid))
			return i;
		i++;
	}
	return -1;
}

static int on_event(void *ctx, const char *type, const cJSON *obj, struct kerr *e)
{
	struct watcher *w = ctx;
	struct shared *sh = w->sh;
	const char *uid = json_str(obj, "metadata.uid", "");
	int i, stop;

	(void)e;
	pthread_mutex_lock(&sh->lock);
	i = index_of(*w->items, uid);
	if (!strcmp(type, "DELETED")) {
		if (i >= 0)
			cJSON_DeleteItemFromArray(*w->items, i);
	} else {
		cJSON *dup = cJSON_Duplicate(obj, 1);

		if (dup && i >= 0)
			cJSON_ReplaceItemInArray(*w->items, i, dup);
		else if (dup)
			cJSON_AddItemToArray(*w->items, dup);
	}
	snprintf(w->rv, sizeof(w->rv), "%s", json_str(obj, "metadata.resourceVersion", w->rv));
	sh->changed = true;
	pthread_cond_signal(&sh->cond);
	stop = sh->stop;
	pthread_mutex_unlock(&sh->lock);
	return stop ? 1 : 0;
}

static void *watch_main(void *arg)
{
	struct watcher *w = arg;
	struct shared *sh = w->sh;
	const char *ns = sh->v->ns[w->side];
	int transient = 0;

	for (;;) {
		struct kerr e = KERR_INIT;
		struct kquery q = { 0 };
		int rc;

		pthread_mutex_lock(&sh->lock);
		if (sh->stop) {
			pthread_mutex_unlock(&sh->lock);
			break;
		}
		q.resource_version = w->rv[0] ? w->rv : NULL; /* none: list first */
		pthread_mutex_unlock(&sh->lock);
		rc = kclient_watch(w->client, w->res, ns, &q, SLICE_MS, on_event, w, &e);
		if (rc > 0)
			break;
		if (rc < 0) {
			if (!kerr_is_transient(&e) || ++transient > 20) {
				pthread_mutex_lock(&sh->lock);
				if (!sh->failed) {
					sh->failed = true;
					sh->err = e;
					kerr_prefix(&sh->err, "%s cluster", w->side ? "target" : "source");
				}
				pthread_cond_signal(&sh->cond);
				pthread_mutex_unlock(&sh->lock);
				break;
			}
			usleep(500 * 1000);
			continue;
		}
		transient = 0;
	}
	return NULL;
}

/* Print the view; on a terminal over the last one. */
static int draw(struct status_view *v, const struct status_row *rows, int n, const char *output, bool tty,
		int *lines, long long now, struct kerr *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc, k;
	size_t i;

	if (!mem)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	rc = report_print(mem, v, rows, n, output, output && strcmp(output, "wide"), now, e);
	fclose(mem);
	if (!rc) {
		if (tty && *lines > 0)
			printf("\033[%dA\033[J", *lines);
		fwrite(text, 1, len, stdout);
		for (i = 0, k = 0; i < len; i++)
			k += text[i] == '\n';
		*lines = k;
		fflush(stdout);
	}
	free(text);
	return rc;
}

/* Without a terminal: one line per row that changed (and per row gone). */
static void append_lines(const struct status_row *rows, int n, char ***seen, int *nseen, bool print)
{
	char **next = calloc((size_t)(n ? n : 1), sizeof(*next));
	char stamp[16];
	time_t t = time(NULL);
	struct tm tm;
	int i, k;

	if (!next)
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	for (i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		bool same = false;

		report_line(&rows[i], &b);
		for (k = 0; k < *nseen && !same; k++)
			same = (*seen)[k] && !strcmp((*seen)[k], b.s);
		if (!same && print)
			printf("%s  %s\n", stamp, b.s);
		next[i] = buf_detach(&b, NULL);
	}
	for (k = 0; k < *nseen; k++)
		free((*seen)[k]);
	free(*seen);
	*seen = next;
	*nseen = n;
	fflush(stdout);
}

static void stop_all(struct shared *sh)
{
	int i;

	pthread_mutex_lock(&sh->lock);
	sh->stop = true;
	pthread_mutex_unlock(&sh->lock);
	for (i = 0; i < 4; i++) {
		if (sh->w[i].started)
			pthread_join(sh->w[i].thread, NULL);
		kclient_free(sh->w[i].client);
	}
}

int status_watch(struct status_view *v, const struct status_opts *o, const char *const *vms, int nvms)
{
	static struct shared sh;
	struct cclm_ctx *ctx = v->ctx;
	const char *output = ctx->output;
	bool doc = output && strcmp(output, "wide");
	bool tty = ctx->tty && !doc;
	bool lines_mode = !doc && !tty;
	struct kclient_opts copts = { .verbosity = (int)ctx->verbosity };
	struct kerr e = KERR_INIT;
	struct status_row *rows = NULL;
	char **seen = NULL, *last_doc = NULL;
	int n = 0, nseen = 0, lines = 0, rc = CCLM_EXIT_OK, i;
	long long last_metrics = 0, settle_by = 0; /* settle_by: see SETTLE_MS */
	bool first = true, transferring = false;

	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cond, NULL);
	sh.v = v;
	for (i = 0; i < 4; i++) {
		struct watcher *w = &sh.w[i];
		int side = i / 2;

		w->sh = &sh;
		w->side = side;
		w->res = i % 2 ? &KRES_VMI : &KRES_VMIM;
		w->items = i % 2 ? &v->vmis[side] : &v->vmims[side];
		snprintf(w->rv, sizeof(w->rv), "%s", i % 2 ? v->rv_vmis[side] : v->rv_vmims[side]);
		if (!w->rv[0]) {
			/* not listed (no VMIMs then): the watch lists first, from empty */
			cJSON_Delete(*w->items);
			*w->items = cJSON_CreateArray();
		}
		w->client = kclient_new(side ? &ctx->target.cfg : &ctx->source.cfg, &copts, &e);
		if (!w->client) {
			rc = msg_kerr(&e);
			goto out;
		}
	}
	for (i = 0; i < 4; i++) {
		if (pthread_create(&sh.w[i].thread, NULL, watch_main, &sh.w[i])) {
			msg_error("cannot start a watch thread");
			rc = CCLM_EXIT_FAILED;
			goto out;
		}
		sh.w[i].started = true;
	}
	for (;;) {
		long long now;
		bool changed, tick;

		pthread_mutex_lock(&sh.lock);
		if (!first && !sh.changed && !sh.failed) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&sh.cond, &sh.lock, &until);
		}
		if (sh.failed) {
			pthread_mutex_unlock(&sh.lock);
			rc = msg_kerr(&sh.err);
			break;
		}
		now = (long long)time(NULL);
		changed = sh.changed || first;
		sh.changed = false;
		/* without an event: the terminal's clock, and progress while a transfer runs */
		tick = !changed && (tty || (transferring && now_ms() - last_metrics >= METRICS_EVERY_MS) ||
				    (settle_by && now_ms() >= settle_by));
		if (!changed && !tick) {
			pthread_mutex_unlock(&sh.lock);
			continue;
		}
		free(rows);
		rows = NULL;
		n = 0;
		if (changed)
			status_read_plans(v);
		if (status_rows(v, vms, nvms, now, &rows, &n, &e)) {
			pthread_mutex_unlock(&sh.lock);
			rc = msg_kerr(&e);
			break;
		}
		pthread_mutex_unlock(&sh.lock);
		if (now_ms() - last_metrics >= METRICS_EVERY_MS) {
			status_metrics(v, rows, n);
			last_metrics = now_ms();
		}
		for (i = 0, transferring = false; i < n; i++)
			if (rows[i].total >= 0)
				transferring = true;
		if (lines_mode) {
			if (first && draw(v, rows, n, output, false, &lines, now, &e)) {
				rc = msg_kerr(&e);
				break;
			}
			append_lines(rows, n, &seen, &nseen, !first);
		} else if (doc) {
			/* a document only when something in it changed (not the clock) */
			struct buf b = BUF_INIT;
			int k;

			for (k = 0; k < n; k++)
				report_line(&rows[k], &b);
			if (!last_doc || strcmp(last_doc, b.s)) {
				if (draw(v, rows, n, output, false, &lines, now, &e)) {
					buf_release(&b);
					rc = msg_kerr(&e);
					break;
				}
				free(last_doc);
				last_doc = buf_detach(&b, NULL);
			}
			buf_release(&b);
		} else if (draw(v, rows, n, output, true, &lines, now, &e)) {
			rc = msg_kerr(&e);
			break;
		}
		first = false;
		if (o->until_done && !status_all_final(rows, n)) {
			settle_by = 0; /* a new one came: its failure gets its own wait */
		} else if (o->until_done) {
			if (!status_settled(rows, n) && !settle_by)
				settle_by = now_ms() + SETTLE_MS;
			if (!status_settled(rows, n) && now_ms() < settle_by)
				continue;
			for (i = 0; i < n; i++)
				if (rows[i].result == RESULT_FAILED)
					rc = CCLM_EXIT_FAILED;
			break;
		}
	}
out:
	stop_all(&sh);
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(last_doc);
	free(rows);
	pthread_mutex_destroy(&sh.lock);
	pthread_cond_destroy(&sh.cond);
	return rc;
}

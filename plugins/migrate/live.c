/* live.c — migrate's progress view (see live.h). */
#include <stdio.h>
#include <string.h>

#include "live.h"
#include "output.h"

void live_init(struct live *l, FILE *out, bool tty)
{
	memset(l, 0, sizeof(*l));
	l->out = out;
	l->tty = tty;
	l->t0 = sync_wall();
}

void live_format(const struct sync_vm *v, char *out, size_t n)
{
	char bar[21], a[24], b[24], r[24], eta[24] = "";
	double pct;
	int i, fill;

	if (v->data_total <= 0 || v->data_processed < 0) {
		snprintf(out, n, "  %-24.24s %-16s %s", v->name, v->phase[0] ? v->phase : "preparing",
			 v->source_phase[0] ? v->source_phase : "");
		return;
	}
	pct = 100.0 * v->data_processed / v->data_total;
	if (pct > 100)
		pct = 100; /* later rounds resend dirtied memory */
	fill = (int)(pct / 5);
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	output_bytes(v->data_processed, a, sizeof(a));
	output_bytes(v->data_total, b, sizeof(b));
	output_bytes(v->transfer_rate > 0 ? v->transfer_rate : 0, r, sizeof(r));
	if (v->transfer_rate > 0 && v->data_remaining >= 0)
		snprintf(eta, sizeof(eta), "  ETA %.0fs", v->data_remaining / v->transfer_rate);
	snprintf(out, n, "  %-24.24s %-16s [%s] %3.0f%%  %s / %s  %s/s%s", v->name, v->phase, bar, pct, a, b, r, eta);
}

static void forget(struct live *l, const struct sync_vm *v)
{
	int i;

	for (i = 0; i < l->nshown; i++)
		if (l->shown[i] == v) {
			memmove(&l->shown[i], &l->shown[i + 1], (size_t)(l->nshown - i - 1) * sizeof(l->shown[0]));
			l->nshown--;
			return;
		}
}

static void remember(struct live *l, const struct sync_vm *v)
{
	int i;

	for (i = 0; i < l->nshown; i++)
		if (l->shown[i] == v)
			return;
	if (l->nshown < LIVE_MAX)
		l->shown[l->nshown++] = v;
}

static void erase(struct live *l)
{
	if (l->drawn) {
		fprintf(l->out, "\033[%dA\033[J", l->drawn); /* up to the block's first line, clear below */
		l->drawn = 0;
	}
}

static void draw(struct live *l)
{
	char line[400];
	int i;

	for (i = 0; i < l->nshown; i++) {
		live_format(l->shown[i], line, sizeof(line));
		fprintf(l->out, "%s\n", line);
	}
	l->drawn = l->nshown;
}

void live_event(struct live *l, const struct sync_event *ev)
{
	double t = sync_wall() - l->t0;
	bool line = ev->kind == SYNC_EV_STEP || ev->kind == SYNC_EV_PHASE || ev->kind == SYNC_EV_INFO;

	if (!l->tty) {
		if (!line)
			return; /* progress is for terminals; the result goes in the summary */
		if (ev->vm)
			fprintf(l->out, "[%6.1fs] %s: %s\n", t, ev->vm->name, ev->text);
		else
			fprintf(l->out, "[%6.1fs] %s\n", t, ev->text);
		return;
	}
	erase(l);
	if (ev->vm) {
		if (ev->kind == SYNC_EV_RESULT)
			forget(l, ev->vm);
		else if (ev->kind == SYNC_EV_PHASE || ev->kind == SYNC_EV_PROGRESS)
			remember(l, ev->vm);
	}
	if (line) {
		if (ev->vm)
			fprintf(l->out, "[%6.1fs] %s: %s\n", t, ev->vm->name, ev->text);
		else
			fprintf(l->out, "[%6.1fs] %s\n", t, ev->text);
	}
	draw(l);
	fflush(l->out);
}

void live_end(struct live *l)
{
	if (l->tty) {
		erase(l);
		fflush(l->out);
	}
}

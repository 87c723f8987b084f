/*
 * live.h — migrate's progress on standard error while the engine runs.
 *
 * On a terminal: the steps and phase changes scroll, and below them one
 * line per VM in flight (phase, a bar, bytes, rate, ETA) is redrawn in
 * place as the metrics change. Otherwise: one line per step and phase
 * change, no progress lines (logs stay short).
 *
 * Ownership: struct live keeps borrowed pointers to the engine's struct
 * sync_vm entries, valid for the run; live_event() is called with the
 * engine's event lock held, one call at a time.
 */
#ifndef CCLM_MIGRATE_LIVE_H
#define CCLM_MIGRATE_LIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "sync.h"

#define LIVE_MAX 64 /* VMs shown at once; the rest are counted */

struct live {
	FILE *out;
	bool tty;
	double t0;                          /* sync_wall() at the start */
	const struct sync_vm *shown[LIVE_MAX];
	int nshown;
	int drawn;                          /* lines of the block now on screen */
};

void live_init(struct live *l, FILE *out, bool tty);
void live_event(struct live *l, const struct sync_event *ev);
/* Clear the block before the summary. */
void live_end(struct live *l);

/* One VM's progress line (no newline), for the block and for the tests. */
void live_format(const struct sync_vm *v, char *out, size_t n);

#endif

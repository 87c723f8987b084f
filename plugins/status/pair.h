/*
 * pair.h — kubectl cclm status, the pure part: the VMIMs and VMIs read from
 * both clusters in, one row per cross-cluster migration out. No I/O, no
 * clock: the caller passes "now", so tests/unit/test_status_pair.c checks
 * every rule with fixed objects.
 *
 * Rules (man/kubectl-cclm-status.1 says them to the user):
 *   - only decentralized VMIMs count: exactly one of spec.sendTo (a source
 *     half) and spec.receive (a target half);
 *   - a source half and a target half with the same migrationID are one
 *     migration; a second half with an ID already paired is a row of its own;
 *   - who started it: cclm (our labels, labels.h), an MTV plan (Forklift's
 *     labels `plan`, `migration`, `vmID`; the plan's name from the Plans
 *     given, else its UID), or by hand;
 *   - result: failed when a half failed, succeeded when the target half (or
 *     the only half left) succeeded, else in-progress;
 *   - blocker, the first found: a VMIM's decentralizedMigrationBlocked
 *     condition (source half first), a VMI's
 *     DecentralizedLiveMigrationFailure condition, a failureReason of the
 *     migration state, "waiting for sync for Ns" past STATUS_SYNC_GRACE in
 *     WaitingForSync/Synchronizing, and for a lone half "waiting for the
 *     source/target VMIM";
 *   - orphan: one half only, when that half is final or older than
 *     STATUS_SYNC_GRACE (cclm creates the target half first, so a young lone
 *     target half is a migration starting); its row carries the kubectl
 *     command that deletes it.
 *
 * Ownership: inputs are borrowed; status_pair() returns a malloc'd array
 * of rows that hold copies of every string (free() it).
 */
#ifndef CCLM_STATUS_PAIR_H
#define CCLM_STATUS_PAIR_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "err.h"

/* Seconds a half may wait for sync (or for its partner) before it is a
 * blocker (or an orphan). */
#define STATUS_SYNC_GRACE 60

enum status_origin { ORIGIN_MANUAL = 0, ORIGIN_CCLM, ORIGIN_MTV };
enum status_result { RESULT_IN_PROGRESS = 0, RESULT_SUCCEEDED, RESULT_FAILED };

struct status_half {
	bool present;
	char ns[254], name[254], vmi[254], phase[32];
	bool final;
	bool why_known;                        /* Failed, and its failureReason is in view */
	long long created, phase_since, ended; /* Unix seconds; 0 = unknown */
};

struct status_row {
	char id[254];                  /* the migrationID */
	char vm[254];                  /* the VMI's name */
	struct status_half src, tgt;
	enum status_origin origin;
	char plan[254];                /* ORIGIN_MTV: the plan's name, else its UID */
	enum status_result result;
	bool orphan;
	char blocker[1024];            /* "" = none */
	char cleanup[640];             /* orphans: the command that deletes the half */
	long long started, ended;      /* Unix seconds; ended 0 while in progress */
	/* filled by the caller from the source's metrics; total < 0 = none */
	double total, processed, remaining, rate;
};

struct status_input {
	const cJSON *src_vmims, *tgt_vmims;   /* arrays of VMIMs as listed */
	const cJSON *src_vmis, *tgt_vmis;     /* arrays of VMIs as listed (may be NULL) */
	const cJSON *plans;                   /* Forklift Plans (may be NULL) */
	long long now;                        /* Unix seconds */
	/* the kubectl prefix for cleanup commands: "kubectl --context source" */
	const char *src_kubectl, *tgt_kubectl;
	const char *const *vms;               /* only these VMs (NULL: all) */
	int nvms;
};

/* The rows, sorted by start time, then VM, then migration ID. 0, or -1
 * (KERR_NOMEM). */
int status_pair(const struct status_input *in, struct status_row **rows, int *n, struct kerr *e);

/* RFC 3339 ("2026-08-20T10:00:03Z", fractions and offsets allowed) to Unix
 * seconds; 0 when it does not parse. */
long long status_time(const char *s);

/* "in-progress", "succeeded", "failed"; "cclm", "mtv", "manual". */
const char *status_result_name(enum status_result r);
const char *status_origin_name(enum status_origin o);
/* True when every row is final (an in-progress row is not). */
bool status_all_final(const struct status_row *rows, int n);
/* True when every failed half's failureReason is in view. A watcher sees a
 * VMIM turn Failed and the VMI that says why on two streams, in either
 * order: --until-done waits a moment for this before its last view. */
bool status_settled(const struct status_row *rows, int n);

#endif

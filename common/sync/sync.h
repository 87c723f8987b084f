/*
 * sync.h — the state-sync engine (libcclm-sync): live-migrates VMs from a
 * source cluster to a target cluster, one pipeline per VM, several at once.
 *
 * Each step "ensures": it looks first (by the labels in labels.h), creates
 * only what is missing, so running the same migration again adopts what is
 * in flight and finishes it. All state is on the clusters. The pipeline, per
 * VM (DESIGN.md "The state-sync engine"):
 *   preflight (creates nothing) -> target namespace and copies (Secrets,
 *   ConfigMaps, namespaced instancetype/preference) -> blank disks ->
 *   target VM (WaitAsReceiver) -> receiver VMI WaitingForSync -> target
 *   VMIM -> its sync address -> source VMIM -> watch until the target VMIM
 *   is final -> verify -> delete both VMIMs [-> delete the source].
 * On failure or cancel: both VMIMs are deleted first, then only the target
 * objects this migration created. The source VM is never stopped, edited
 * or deleted (--delete-source deletes it only after the verification).
 *
 * The CA exchange (each cluster's kubevirt-ca into the peer's
 * kubevirt-external-ca, then waiting until the peer CA shows in the local
 * kubevirt-ca) runs once per sync_migrate() call, before any pipeline.
 *
 * Progress: while a transfer runs, the source cluster's
 * kubevirt_vmi_migration_* metrics are read from its thanos-querier (see
 * promq.h) about once a second; when they cannot be read the run says so
 * once (SYNC_EV_INFO) and reports phases only.
 *
 * Scheduling: `parallel` transfers at once, and no more per source node
 * than its parallelOutboundMigrationsPerNode; with the clusters' limits
 * (parallel 0) as many more wait synchronised in Pending for KubeVirt to
 * give them a place; more pipelines prepare the next VMs meanwhile. Largest
 * VMs first, interleaved by node; a transfer that would stop converging if
 * the link were shared once more holds the next ones back (engine.h,
 * "sched").
 *
 * Threads: one per pipeline worker (three times the parallel limit, two
 * with --parallel), each with its own two clients made from the borrowed
 * kcfgs. Events reach o->event from those threads one at
 * a time (the engine serialises them).
 *
 * Ownership: everything passed in is borrowed for the call; struct sync_vm
 * entries are the caller's and are filled in place.
 */
#ifndef CCLM_SYNC_H
#define CCLM_SYNC_H

#include <signal.h>
#include <stdbool.h>

#include "client.h"
#include "err.h"
#include "kubeconfig.h"

enum sync_result {
	SYNC_PENDING = 0,
	SYNC_MIGRATED,   /* moved, verified, VMIMs deleted */
	SYNC_ALREADY,    /* found migrated by an earlier run */
	SYNC_REFUSED,    /* preflight said no; nothing was created */
	SYNC_FAILED,     /* it started and failed; rolled back */
	SYNC_CANCELLED,  /* cancelled; rolled back */
	SYNC_DETACHED,   /* --detach: the source VMIM exists, the clusters carry on */
	SYNC_PLANNED,    /* --dry-run: preflight passed, nothing created */
};

struct sync_vm {
	char ns[64], name[254];        /* the source VM (filled by the caller) */
	char target_ns[64];            /* filled by the engine */
	char migration_id[64];
	char node[254];                /* the source VMI's node */
	enum sync_result result;
	char phase[32];                /* the last target VMIM phase seen */
	char source_phase[32];
	char message[1024];            /* why it was refused or failed, and the next step */
	char undone[512];              /* what the rollback removed */
	double started, ended;         /* CLOCK_REALTIME seconds; 0 = not yet */
	double queued;                 /* seconds of those waiting at the send gate */
	long requests;                 /* API requests this pipeline made */
	/* from the source cluster's migration metrics while the transfer runs;
	 * -1 = unknown */
	double data_total, data_processed, data_remaining, transfer_rate, dirty_rate;
	double size;                   /* bytes its transfer sends at least (the guest memory); 0 = not known */
	double transferring, sampled;  /* sync_now_ms() / 1000: target VMIM Running, rates read; 0 = not yet */
	double admitted;               /* sync_now_ms() / 1000: the send gate let it send; 0 = not yet */
};

enum sync_event_kind {
	SYNC_EV_STEP,     /* a pipeline step done ("target VM created") */
	SYNC_EV_PHASE,    /* the VMIM phases changed */
	SYNC_EV_PROGRESS, /* vm->data_* changed (about once a second while the transfer runs) */
	SYNC_EV_RESULT,   /* vm->result is final */
	SYNC_EV_INFO,     /* about the run ("CA exchanged") */
};

struct sync_event {
	enum sync_event_kind kind;
	const struct sync_vm *vm;      /* NULL for SYNC_EV_INFO */
	const char *text;
};

struct sync_opts {
	const char *target_ns;                 /* NULL: each VM's own namespace */
	const char *const *network_map;        /* "SRC=DST" entries (NAD names, or "pod") */
	int n_network_map;
	const char *const *storage_map;        /* "SRC=DST[:ACCESS[:VOLUMEMODE]]" */
	int n_storage_map;
	int parallel;                          /* transfers at once; 0 = both clusters' parallelMigrationsPerCluster */
	long timeout_ms;                       /* one VM, start to end; 0 = none */
	long sync_timeout_ms;                  /* in WaitingForSync / Synchronizing, and for the receiver */
	bool detach, dry_run, delete_source;
	volatile sig_atomic_t *cancel;         /* set (by a signal handler) to cancel and roll back */
	void (*event)(void *ctx, const struct sync_event *ev);
	void *event_ctx;
	const struct kclient_opts *client_opts; /* for the pipelines' clients (verbosity, log) */
};

/*
 * Migrate vms[0..n-1]. Returns 0 when every pipeline ran (each vms[i].result
 * says how it ended), -1 with e set when the run could not start: a cluster
 * without the gate or a sync address ("run kubectl cclm enable"), the CA
 * exchange failing, an API or auth error on the first reads.
 */
int sync_migrate(const struct kcfg *source, const struct kcfg *target, struct sync_vm *vms, int n,
		 const struct sync_opts *o, struct kerr *e);

/* The wall clock (CLOCK_REALTIME) in seconds, as in struct sync_vm. */
double sync_wall(void);

/* "migrated", "refused", ... for messages and JSON. */
const char *sync_result_name(enum sync_result r);

#endif

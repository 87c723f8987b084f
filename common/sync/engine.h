/*
 * engine.h — inside libcclm-sync (not for plugins; they use sync.h):
 * the pure spec transformations (vmspec.c), the maps (maps.c), the waiting
 * and labelling helpers (kube.c), the CA exchange (ca.c), one VM's pipeline
 * (pipeline.c), the rollback (rollback.c) and the scheduler (run.c).
 *
 * Ownership: as in json.h; struct vm_deps owns its arrays (vm_deps_release);
 * maps own their entries (maps_release).
 */
#ifndef CCLM_SYNC_ENGINE_H
#define CCLM_SYNC_ENGINE_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>

#include "client.h"
#include "labels.h"
#include "promq.h"
#include "sync.h"

/* --- maps.c ----------------------------------------------------------------- */

struct map_entry {
	char from[254], to[254];
	char access[32], mode[32]; /* storage only; "" = as the source */
};

struct maps {
	struct map_entry *net, *store;
	int nnet, nstore;
};

/* Parse --network-map SRC=DST and --storage-map SRC=DST[:ACCESS[:VOLUMEMODE]]
 * (ACCESS ReadWriteOnce|ReadWriteMany|ReadOnlyMany, VOLUMEMODE Block|Filesystem);
 * KERR_USAGE on a malformed entry. */
int maps_parse(const char *const *net, int nnet, const char *const *store, int nstore, struct maps *m,
	       struct kerr *e);
void maps_release(struct maps *m);
const struct map_entry *maps_net(const struct maps *m, const char *from);
const struct map_entry *maps_store(const struct maps *m, const char *from);

/* --- vmspec.c --------------------------------------------------------------- */

/* What a VM refers to that must exist on the target. Arrays of strings. */
struct vm_deps {
	cJSON *secrets, *configmaps, *dvs, *pvcs, *networks;
	char it_kind[64], it_name[254];     /* instancetype; it_name "" = none */
	char pref_kind[64], pref_name[254]; /* preference */
	bool it_namespaced, pref_namespaced;
};

int vm_deps_read(const cJSON *vm, struct vm_deps *d, struct kerr *e);
void vm_deps_release(struct vm_deps *d);

/* The source VM's run strategy ("Always" for legacy spec.running: true). */
const char *vmspec_run_strategy(const cJSON *vm);

/*
 * The target VM: the source's labels, annotations and spec, with
 * runStrategy WaitAsReceiver (spec.running removed), annotation
 * kubevirt.io/restore-run-strategy, multus networkNames mapped through `nets`
 * (from -> to, already resolved by the caller; a JSON object, may be NULL),
 * firmware uuid/serial from the running source VMI when the spec has none,
 * instancetype/preference revisionName dropped, dataVolumeTemplates dropped
 * (their disks are made blank beforehand), our labels. NULL on ENOMEM.
 */
cJSON *vmspec_target_vm(const cJSON *vm, const cJSON *vmi, const char *target_ns, const char *id,
			const char *source_server, const cJSON *nets);

/* A copy for the target of a Secret (type kept), ConfigMap, or namespaced
 * instancetype/preference: name, labels, annotations and content; ours when
 * `id` is given. */
cJSON *vmspec_copy(const cJSON *obj, const char *target_ns, const char *id, const char *vm);
/* Same content for a copy's purposes (data+type, data+binaryData, spec). */
bool vmspec_same_content(const cJSON *a, const cJSON *b);

/* A blank DataVolume (or, when `dv` is false, an empty PVC) named `name`
 * in `ns` sized like the source PVC `src` (capacity, else request), with
 * storage class `sc`, and the source's access and volume modes unless
 * `access`/`mode` are given. */
cJSON *vmspec_blank_disk(const char *name, const char *ns, const cJSON *src, bool dv, const char *sc,
			 const char *access, const char *mode, const char *id, const char *vm);

/* Add our labels (migration id, vm, role, managed-by) to obj's metadata. */
void vmspec_label(cJSON *obj, const char *id, const char *vm, const char *role);

/* --- kube.c ----------------------------------------------------------------- */

/* One pipeline's world: its clients and the run it belongs to. */
struct run;

struct job {
	struct run *run;
	struct sync_vm *vm;
	struct kclient *src, *tgt;
	cJSON *src_vm, *src_vmi;       /* as read in preflight */
	struct vm_deps deps;
	cJSON *nets;                   /* networkName -> target networkName */
	cJSON *disks;                  /* [{name, dv (bool), sc, access, mode, src (PVC)}] */
	cJSON *copies;                 /* "Kind/name" -> the source object preflight read, or absent */
	cJSON *on_target;              /* "Kind/name" -> true: preflight found it on the target */
	bool adopted;                  /* a target VM of ours was there */
	bool created_ns;
	char restore[32];              /* the run strategy the target VM gets back */
	char src_vmim[254], tgt_vmim[254];
	long long deadline;            /* ms, CLOCK_MONOTONIC; 0 = none */
	bool sending;                  /* admitted by the send gate, not released */
	long long admitted_ms;         /* when, until its transfer began; 0 = not waiting for that */
	bool lead_alone;               /* admitted while no other admitted one was getting going */
	long requests0;                /* the clients' request count when this job began */
};

long long sync_now_ms(void);
void sync_pause_ms(long ms); /* sleep, for retries and backoff */
bool job_cancelled(const struct job *j);

/* Tell the user (through o->event); printf-style text. */
void job_event(struct job *j, enum sync_event_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void run_info(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vm_event(struct run *r, const struct sync_vm *vm, enum sync_event_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Wait until pred(obj) is true for the object ns/name of `res` (pred gets
 * NULL when it does not exist; return 1 done, 0 not yet, -1 failed with e
 * set). GET first, then watch from its resourceVersion; gives up at
 * `until_ms` (CLOCK_MONOTONIC; returns 1 = timed out) or on cancel
 * (returns 2). 0 when pred said done; *last (may be NULL) gets a copy of
 * the object seen last.
 */
typedef int (*obj_pred)(void *ctx, const cJSON *obj, struct kerr *e);
int wait_object(struct job *j, struct kclient *c, const struct kres *res, const char *ns, const char *name,
		obj_pred pred, void *ctx, long long until_ms, cJSON **last, struct kerr *e);

/* Create, and on 409 AlreadyExists GET what is there into *out (with
 * *existed = true); retries transient errors. */
int ensure_create(struct kclient *c, const struct kres *res, const char *ns, const cJSON *obj, cJSON **out,
		  bool *existed, struct kerr *e);
/* Delete; 404 is success; transient errors retried. */
int delete_quiet(struct kclient *c, const struct kres *res, const char *ns, const char *name, struct kerr *e);

/*
 * One step's two halves at once, each on its own cluster's client: `fn`
 * for the source (`source` true) in a thread of its own and for the target
 * in the caller's, so the two API servers answer side by side (clusters far
 * apart each cost a round trip). A half returns as wait_object() does (0
 * done, 1 not within its time, 2 cancelled, -1 with e set) and says in
 * `why` what went wrong when it returns 1; it must not write the job's
 * message (the other half may be failing too): the caller says what
 * happened from both results.
 */
struct side_result {
	int rc;
	struct kerr e;
	char why[300];
};
typedef int (*side_fn)(struct job *j, bool source, struct kerr *e, char *why, size_t nwhy);
void both_sides(struct job *j, side_fn fn, struct side_result *src, struct side_result *tgt);

/* --- ca.c ------------------------------------------------------------------- */

/* Both directions, then wait until each kubevirt-ca holds the peer's CA. */
int ca_exchange(struct kclient *src, struct kclient *tgt, const char *src_ns, const char *tgt_ns,
		long long until_ms, volatile sig_atomic_t *cancel, struct kerr *e);

/* --- pipeline.c, rollback.c -------------------------------------------------- */

void pipeline_run(struct job *j);
/* Delete both VMIMs, then the target objects of this migration (copies
 * another target VM uses stay). Fills vm->undone. */
void rollback(struct job *j);
/* With no target VM of ours: remove what earlier attempts for this VM left
 * (a killed run), found by cclm.io/vm. */
void rollback_stale(struct job *j);
/* Before the workers start: the names (an object's keys) of the VMs that
 * have objects of ours (app.kubernetes.io/managed-by=cclm) in the run's
 * namespaces on either cluster, so rollback_stale() of the others lists
 * nothing; tns: --target-namespace or NULL. One LIST per kind and
 * namespace instead of one per kind and VM. NULL when a LIST failed (each
 * job then looks for itself). The caller owns the result. */
cJSON *rollback_scan(struct kclient *src, struct kclient *tgt, const struct sync_vm *vms, int n, const char *tns);

/* --- sched.c ---------------------------------------------------------------- */

/*
 * The send gate. Workers prepare VMs (copies, disks, receiver) ahead of the
 * transfers; before its target VMIM a pipeline asks sched_admit(). A new
 * one is admitted when fewer than `senders` are, its source node has fewer
 * than `per_node`, and no running transfer would stop converging: when the
 * link is shared equally, one more transfer cuts each share to n/(n+1), so
 * a transfer whose guest dirties memory at half or more of that share holds
 * the others back until it is done — unless it will be done within the
 * horizon: `lead` (how long an admitted migration takes to start
 * transferring, learnt as they go) and twice `lead_spread` (how much that
 * varies): a link left idle costs all of its time, two transfers side by
 * side only the memory their guests dirty meanwhile, so the gate plans for
 * a slow start. Transfers at bandwidthPerMigration are not link-bound and hold
 * nothing back. Without metrics the gate only counts.
 *
 * With `learn`, the gate also finds out whether concurrent transfers share
 * one link: the first runs alone (its rate is what the link carries), then
 * a second beside it; if the two together move no more than SCHED_OWN_LINK
 * times the first alone, the link is shared, and each more transfer only
 * re-sends memory its guest dirtied meanwhile. On a shared link a new
 * transfer is admitted only when the link's backlog drains within the
 * horizon (also while the second is not measured yet, once the first was): it
 * starts as the link frees, so the link seldom idles and carries little more
 * than it must. The backlog is the link as a queue: the running transfers'
 * bytes left (with what their guests dirtied since their pass began, which
 * the metrics count only at the next pass) at the link's rate less their
 * dirty rate, then each admitted one not sending yet, in the order they
 * were admitted, from when it will start (`lead` after its admission, or as
 * the one before it ends) for its memory at the link's rate. When each
 * transfer has a link of its own, only the rules above apply.
 */
/* FREE: each transfer has a link of its own, or transfers end before the
 * metrics show them: the link needs no managing */
enum sched_link { SCHED_LINK_UNKNOWN, SCHED_LINK_SHARED, SCHED_LINK_FREE };

struct sched_limits {
	int senders;           /* transfers at once (the parallel limit) */
	int per_node;          /* the source's parallelOutboundMigrationsPerNode */
	double cap;            /* the source's bandwidthPerMigration, bytes/s; 0 = none */
	bool metrics;          /* the source's metrics can be read */
	double lead;           /* seconds from admission to transferring; 0 = not known yet */
	bool learn;            /* find out whether the transfers share a link (above) */
	enum sched_link link;  /* what was found out */
	double link_rate;      /* what the link carried at best, bytes/s; 0 = not known yet */
	double lead_spread;    /* how far a lead strays from `lead` (mean absolute deviation), seconds */
};

struct sched_view {
	char name[254], node[254];
	double transfer_rate, dirty_rate; /* bytes/s; < 0 or 0 = no sample yet */
	double remaining;                 /* bytes; < 0 = not known */
	double size;                      /* bytes it sends at least; 0 = not known */
	double transferring, sampled;     /* seconds: when it began to transfer, when its rates were read */
	double waited;                    /* seconds since it was admitted, while it is not transferring yet */
};

/* The decision alone (pure; for the tests): may a VM on `node` start now,
 * with active[0..n-1] running? When not, `why` says what it waits for. */
bool sched_may_send(const struct sched_view *active, int n, const char *node, const struct sched_limits *l,
		    char *why, size_t nwhy);
/* Learn from one sample of the active transfers (pure; for the tests):
 * l->link_rate and l->link, from rates all read after the last of the
 * moving transfers began (a rate read before then tells nothing of sharing). */
void sched_learn(struct sched_limits *l, const struct sched_view *active, int n);
/* What is left of `remaining` bytes read `age` seconds ago, moving at
 * rate less dirty (pure; for the tests): the samples are up to half a
 * second old, a hand-over is decided on tenths. */
double sched_left_now(double remaining, double rate, double dirty, double age);
/* Which VM to send second, beside the first, to learn the link (pure; for
 * the tests): the index of the smallest of sizes[0..n-1] (bytes) whose
 * transfer beside the first, at half of `rate` (the first's alone, bytes/s),
 * lasts 2 x SCHED_PROBE_SECONDS, long enough for the two rates to be read
 * together once they settle; side by side, both re-send what their guests
 * dirty for as long as it sends, so the smallest costs least. -1 when none
 * is that large, `rate` is not known, or it is bandwidthPerMigration's
 * (`cap`, bytes/s; 0 = none), which leaves nothing to learn. */
#define SCHED_PROBE_SECONDS 0.6
int sched_probe(const double *sizes, int n, double rate, double cap);
/* What a transfer still has to send (pure; for the tests): `remaining`
 * bytes of its current pass as the metrics say, and, while its first pass
 * runs (less than `total` processed), what its guest dirtied meanwhile at
 * `dirty` bytes/s for the `elapsed` seconds it has been transferring, at
 * most all of `total`: the next pass re-sends those, and the metrics count
 * them only when it begins. Later passes are short; what they dirtied is
 * left out. -1 when `remaining` is not known. */
double sched_left_bytes(double remaining, double processed, double total, double dirty, double elapsed);

struct sched {
	struct sched_limits limits;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const struct sync_vm **active; /* borrowed; `cap` slots */
	int nactive, cap;
};

/* For a run of `vms` VMs; -1 on ENOMEM. */
int sched_init(struct sched *s, const struct sched_limits *l, int vms);
void sched_destroy(struct sched *s);
/* Block until j may send: 0 admitted, 1 j's deadline passed, 2 cancelled,
 * -1 out of memory. Waits in 100 ms steps (the samples change). `now`
 * takes a place without asking (a transfer already under way, resumed). */
int sched_admit(struct sched *s, struct job *j, bool now);
/* j's transfer began (its VMIM is Running): note when, and learn the lead time. */
void sched_started(struct sched *s, struct job *j);
/* j's transfer is over (its target VMIM is final, or it failed). */
void sched_release(struct sched *s, struct job *j);

/* --- run.c ------------------------------------------------------------------ */

struct run {
	const struct sync_opts *o;
	const struct kcfg *src_cfg, *tgt_cfg;
	struct maps maps;
	char src_kv_ns[64], tgt_kv_ns[64];
	char src_server[512];
	cJSON *tgt_classes;            /* the target's StorageClass names */
	struct kclient_opts copts;     /* o->client_opts, watches ended by o->cancel */
	pthread_mutex_t lock;          /* events, and the fields below */
	bool metrics_off;              /* the source's metrics could not be read: said once */
	struct sched sched;            /* the send gate */
	struct promq *metrics;         /* the source's querier, opened on first use by the sampler; owned */
	cJSON *stale;                  /* rollback_scan(): VMs with leftovers; NULL = not known; owned */
};

/* --- progress.c --------------------------------------------------------------- */

/*
 * The run's reader of the source's migration metrics: a thread that, while
 * any VM's target VMIM is Running, reads them for all such VMs with one
 * query twice a second (five times while one has no sample yet: the
 * send gate waits for it), keeps each VM's sample for the gate, and reports its
 * progress. Unreachable metrics are said once; the run goes on with phases.
 * Ownership: the sampler borrows the run and the VMs until progress_stop().
 */
struct progress_sampler {
	struct run *run;
	struct sync_vm *vms;
	int n;
	struct kclient *src;   /* the source's API, to find the querier; owned */
	long long last_read;   /* sync_now_ms() of the last query */
	bool stop, running;    /* stop: under run->lock */
	pthread_t th;
};
int progress_start(struct progress_sampler *ps, struct run *r, struct sync_vm *vms, int n, struct kerr *e);
void progress_stop(struct progress_sampler *ps);

#endif

/*
 * enable.h — kubectl cclm enable, inside: what it reads of each cluster
 * (observe.c), what it decides to write (plan.c), whether the user may
 * (access.c), the writes (apply.c), the wait (await.c) and the report
 * (report.c). enable.c holds the option table and runs the steps in order.
 *
 * Ownership: struct side owns every cJSON and string it points to
 * (side_release); struct enable_opts points into argv (borrowed).
 */
#ifndef CCLM_ENABLE_H
#define CCLM_ENABLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "buf.h"
#include "ipam.h"
#include "plugin.h"

#define ENABLE_DEFAULT_NAD "livemigration-network"
#define ENABLE_FIELD_MANAGER "kubectl-cclm-enable"
/* The label cclm puts on what it creates (the project's label domain). */
#define CCLM_LABEL_MANAGED "app.kubernetes.io/managed-by"
#define CCLM_MANAGED_VALUE "cclm"

struct enable_opts {
	const char *mtv;              /* auto, yes, no */
	const char *nic, *bridge;     /* the migration NIC (macvlan) or bridge */
	long vlan, mtu;               /* 0 = not named */
	const char *subnet;
	const char *nad;              /* NULL: the configured one, else livemigration-network */
	const char *network;          /* NULL, "nad" or "pod" */
	bool replace_nad;
	/* tuning; NULL / -1 = not named */
	const char *bandwidth;
	long completion_timeout, progress_timeout, parallel_cluster, parallel_node;
	int post_copy, auto_converge;
	long timeout_ms;
	bool dry_run, disable;
	struct ipv4_net subnet_net;   /* parsed --subnet */
};

/* One finding of the preflight: an error blocks every write. */
struct finding {
	bool error;
	char text[512];
};

/* One write the plan makes, in order. */
enum write_kind { W_CREATE, W_UPDATE, W_PATCH_MERGE, W_DELETE };

struct write {
	enum write_kind kind;
	const struct kres *res;
	char ns[64], name[128];
	cJSON *body;          /* object or patch; NULL for a delete */
	char what[160];       /* for the report: "feature gate and migration network" */
	bool done;
};

enum side_state {
	SIDE_UNTOUCHED,       /* nothing written (preflight failed, or dry run) */
	SIDE_ALREADY,         /* nothing needed writing */
	SIDE_WRITTEN,         /* every write done */
	SIDE_WRITE_FAILED,    /* some writes done, one failed */
};

struct side {
	struct cclm_cluster *cl;
	const char *role;
	/* observed */
	char kv_ns[64];
	cJSON *kubevirt, *hco, *forklift, *nad;
	bool have_hco, have_mtv;
	char ocp[32], cnv[32], kv_version[32];
	bool gate_on;
	char network[128];            /* the configured migration network, "" = pod network */
	struct nad_net nadnet;        /* the existing NAD, parsed (when nad != NULL) */
	bool nad_parsed;
	cJSON *inflight;              /* names of non-final cross-cluster VMIMs ("ns/name") */
	struct buf forbidden;         /* reads refused with 403, "verb resource" lines */
	/* planned */
	struct finding *findings;
	int nfindings;
	struct write *writes;
	int nwrites;
	char nad_name[128];           /* the NAD the pair uses ("" = pod network) */
	bool pool_known;
	struct ipam_pool pool;        /* this cluster's planned pool */
	struct ipv4_net subnet;
	bool nad_replaced;            /* the plan rewrites the NAD: stale pods get restarted */
	/* done */
	enum side_state state;
	char failure[1024];           /* why a write or the wait failed */
	/* awaited */
	bool ready;
	char sync_address[64];
	cJSON *handlers;              /* [{node, pod, address}] */
	int sync_ready, sync_want;
	char waiting_for[512];        /* what the wait is missing, for the timeout message */
};

/* enable.c: the command's descriptor (main.c runs it). */
extern const struct plugin enable_plugin;

void side_release(struct side *s);
int side_find(struct side *s, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int side_add_write(struct side *s, enum write_kind kind, const struct kres *res, const char *ns, const char *name,
		   cJSON *body, const char *what);
bool side_has_errors(const struct side *s);

void side_init(struct side *s, struct cclm_cluster *cl);

/* observe.c: read everything enable needs but the NAD; API errors other
 * than 403/404 fail (KERR_*), 403s are collected in s->forbidden. */
int observe_side(struct side *s, struct kerr *e);
/* The NAD `name` in the KubeVirt namespace (s->nad stays NULL when absent). */
int observe_nad(struct side *s, const char *name, struct kerr *e);
/* Read the side again after the writes (for the report). */
int observe_refresh(struct side *s, struct kerr *e);

/* plan.c: preflight findings and the writes, for both sides at once (the
 * NADs and pools depend on each other). */
void plan_pair(struct side *src, struct side *tgt, const struct enable_opts *o);
/* "4.20.3" -> minor 20 of major 4; -1 when it does not parse. */
int version_minor(const char *v, int *major, int *minor, int *patch);

/* access.c: one SelfSubjectAccessReview per write and per refused read;
 * what is missing becomes error findings. */
int access_check(struct side *s, struct kerr *e);

/* apply.c: do the writes in order (server dry run with `dry_run`);
 * transient errors (429, 5xx, connection) are retried; the first failure
 * stops this side. */
int apply_side(struct side *s, bool dry_run, struct kerr *e);
/* The write as text: "PATCH hyperconvergeds/kubevirt-hyperconverged -n openshift-cnv (merge)\n<json>". */
int write_describe(const struct write *w, struct buf *out);

/* await.c: wait until both sides can sync (or, disabling, until the sync
 * controller is gone); progress on stderr. Returns 0 when both are ready. */
int await_pair(struct side *src, struct side *tgt, const struct enable_opts *o, bool tty);

/* The pod's migration0 address from its Multus network-status; 0, or -1
 * when it has none. */
int pod_migration_ip(const cJSON *pod, char *out, size_t n);

/* report.c */
void report_preflight(const struct side *src, const struct side *tgt);
int report_pair(const struct side *src, const struct side *tgt, const struct enable_opts *o, const char *output,
		const char *result);

#endif

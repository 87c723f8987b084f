/*
 * netcheck.h — kubectl cclm netcheck, inside: what it reads of each cluster
 * (observe.c), the static checks (static.c), the probe plan, the probe's
 * output lines and how they become a matrix (probe.c, no cluster access, unit
 * tested), the probe pods' lives (pods.c), and the report (report.c).
 * netcheck.c holds the option table and runs the steps in order. The probe
 * itself is the POSIX shell script probe.sh, embedded by script.c.
 *
 * Ownership: struct nc_side owns every cJSON and array it points to
 * (nc_side_release); struct nc_run owns its findings (nc_run_release);
 * struct nc_opts points into argv (borrowed).
 */
#ifndef CCLM_NETCHECK_H
#define CCLM_NETCHECK_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdbool.h>

#include "buf.h"
#include "ipam.h"
#include "plugin.h"

#define NC_LABEL_MANAGED "app.kubernetes.io/managed-by"
#define NC_MANAGED_VALUE "cclm"
#define NC_LABEL_ROLE "cclm.io/role"
#define NC_ROLE_VALUE "netcheck-probe"
#define NC_LABEL_RUN "cclm.io/netcheck-run"
#define NC_PLAN_ENV "CCLM_NETCHECK_PLAN"
#define NC_LINE_PREFIX "cclm-netcheck/1"
#define NC_DEFAULT_MTU 1500

struct nc_opts {
	bool static_only, keep_pods;
	const char *image;            /* NULL: each cluster's virt-handler image */
	long timeout_ms;              /* the probes, from the first create to the last log */
	long test_timeout;            /* seconds per test inside the probe */
};

/* A virt-handler or sync-controller pod and its migration address. */
struct nc_ep {
	bool sync;                    /* virt-synchronization-controller, else virt-handler */
	char node[128], pod[256], ip[64];
	bool ready, leader;
};

/* One line of a probe's output. */
struct nc_result {
	char test[8];                 /* tcp, icmp, arp, mtu */
	char dst[64];
	int port;                     /* tcp; 0 otherwise */
	int size;                     /* mtu: the MTU tried */
	int max;                      /* mtu: the largest that passes, when the probe found it; else 0 */
	char result[16];              /* ok, fail, unsupported */
	long ms;                      /* -1 when not measured */
	char detail[256];
};

/* One probe pod: pinned to a node of one cluster. */
struct nc_probe {
	char node[128], pod[256];
	char phase[16];               /* "" until seen; Pending, Running, Succeeded, Failed */
	char waiting[256];            /* why it has not run (image pull, sandbox), for a timeout */
	char src[64];                 /* its own migration0 address, from the start line */
	bool created, done, deleted;
	char error[1200];             /* create, log or parse failure */
	struct nc_result *results;
	int nresults;
};

/* One address of the peer a probe tests. */
struct nc_target {
	bool sync;
	char node[128], ip[64];
	int port;                     /* sync: from the advertised address; 0 for a handler */
};

struct nc_side {
	struct cclm_cluster *cl;
	const char *role;
	/* observed */
	char kv_ns[64];
	cJSON *kubevirt, *hco, *nad, *pods, *lease, *ds;
	bool gate_on;
	char network[128];
	struct nad_net nadnet;
	bool nad_parsed;
	char image[512];
	char kv_version[32], cnv[32];
	cJSON *sync_addrs;            /* status.synchronizationAddresses (a copy), or an empty array */
	char leader[256];             /* the sync Lease holder, "" when none */
	int want_handlers;            /* the DaemonSet's desiredNumberScheduled, -1 unknown */
	struct nc_ep *eps;
	int neps;
	int stale_probes;             /* probe pods left over from an earlier run */
	/* checked */
	bool blocked;                 /* a static error that makes probing pointless */
	/* probed */
	struct nc_target *targets;    /* the peer's addresses this side's probes test */
	int ntargets;
	struct nc_probe *probes;
	int nprobes;
};

struct nc_finding {
	const char *cluster;          /* "source", "target" or "both" */
	bool error;
	char object[256];
	char text[768];
	char fix[384];
};

enum nc_verdict { NC_PASS, NC_WARN, NC_FAIL };

struct nc_run {
	struct cclm_ctx *ctx;
	const struct nc_opts *o;
	struct nc_side side[2];       /* source, target */
	struct nc_finding *findings;
	int nfindings;
	bool probed;                  /* the probes ran (possibly cut short) */
	char skipped[256];            /* why they did not */
	char run_id[16];
	bool interrupted, timed_out;
	volatile sig_atomic_t *cancel;
};

/* netcheck.c */
extern const struct plugin netcheck_plugin;
void nc_find(struct nc_run *r, const char *cluster, bool error, const char *object, const char *fix,
	     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* observe.c: one read per resource per cluster; API errors other than 403
 * (remembered as a finding) and 404 fail. */
int nc_observe(struct nc_run *r, struct nc_side *s, struct kerr *e);
void nc_side_release(struct nc_side *s);
void nc_run_release(struct nc_run *r);

/* static.c: every API-only check, as findings; sets side->blocked. */
void nc_static_checks(struct nc_run *r);

/* probe.c (pure) */
/* The peer addresses a side's probes test: the peer's advertised sync
 * address, then its virt-handlers. */
int nc_plan_targets(struct nc_side *s, const struct nc_side *peer);
/* The plan (compact JSON, the contract of probe.sh) for a probe on `node`. */
char *nc_plan_json(const struct nc_side *s, const char *node, long test_timeout);
/* Parse one output line into res; 0, 1 for a line that is not a test
 * result (start/done/noise), -1 for a malformed result line. */
int nc_parse_line(const char *line, struct nc_result *res, char *src, size_t nsrc);
/* Parse a probe's whole log into p->results; 0 or -1 (p->error set) when
 * no done line came. */
int nc_parse_log(struct nc_probe *p, const char *log);
/* The matrix cell of a probe and a target: ok, routed, mtu, unreachable,
 * unsupported, not-run; *detail (may be NULL) the first failure's text. */
const char *nc_cell(const struct nc_probe *p, const struct nc_target *t, const char **detail);
/* Severity of a cell: NC_PASS ok, NC_WARN routed/unsupported, NC_FAIL others. */
enum nc_verdict nc_cell_severity(const char *cell);

/* script.c: probe.sh, NUL-terminated */
extern const char nc_probe_script[];

/* pods.c: create the probe pods on both clusters at once, watch them to the
 * end (or --timeout, or *r->cancel), read their logs; always delete them
 * unless --keep-pods. Fills side->probes. */
int nc_run_probes(struct nc_run *r, struct kerr *e);

/* report.c */
enum nc_verdict nc_verdict_of(const struct nc_run *r);
int nc_report(const struct nc_run *r, const char *output);

#endif

/*
 * status.h — kubectl cclm status, inside: what it reads of both clusters
 * (read.c: one LIST per resource per cluster, from the watch cache, the source's metrics),
 * how it pairs the halves (pair.c, pure), what it prints (report.c: table,
 * wide, json, yaml, watch lines) and the live view (watch.c). status.c
 * holds the option table and runs them.
 *
 * Ownership: struct status_view owns every cJSON it points to
 * (status_view_release); struct status_opts points into argv (borrowed).
 */
#ifndef CCLM_STATUS_H
#define CCLM_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "pair.h"
#include "plugin.h"
#include "promq.h"

struct status_opts {
	bool all_namespaces, watch, until_done;
	const char *target_ns;
};

/* What was read: per side (0 source, 1 target) the VMIMs and VMIs, the
 * resourceVersions the LISTs ended at (where the watches start), the MTV
 * plans, and the source's migration metrics. */
struct status_view {
	struct cclm_ctx *ctx;
	const char *ns[2];                 /* NULL: every namespace */
	cJSON *vmims[2], *vmis[2];         /* arrays */
	char rv_vmims[2][64], rv_vmis[2][64];
	cJSON *plans;                      /* array, or NULL when not read */
	bool plans_read;
	char kubectl[2][600];              /* "kubectl --context source", for cleanup commands */
	/* metrics */
	struct promq *prom;
	bool metrics_off;                  /* unreachable: said once, not asked again */
	char metrics_why[KERR_MSG_MAX];
	cJSON *metrics;                    /* last data.result, or NULL */
};

extern const struct plugin status_plugin;

void status_view_init(struct status_view *v, struct cclm_ctx *ctx, const struct status_opts *o);
void status_view_release(struct status_view *v);

/* read.c: the LISTs of both clusters (VMIMs, the VMIs, Plans when an MTV
 * label is seen); 0 or -1 with e set (prefixed with the side). */
int status_read(struct status_view *v, struct kerr *e);
/* Read the Plans (target first, then source) if a VMIM carries MTV's plan
 * label and they were not read yet; failures leave the UIDs showing. */
void status_read_plans(struct status_view *v);
/* The source's kubevirt_vmi_migration_* series for the rows in transfer,
 * into the rows; says once on stderr when they cannot be read. */
void status_metrics(struct status_view *v, struct status_row *rows, int n);
/* Apply the last metrics read to rows (after rows are rebuilt). */
void status_metrics_apply(const struct status_view *v, struct status_row *rows, int n);
/* Rows from the view, at `now`. */
int status_rows(const struct status_view *v, const char *const *vms, int nvms, long long now,
		struct status_row **rows, int *n, struct kerr *e);

/* report.c */
/* The whole view: a table (wide adds IDs and VMIM names) with the orphans'
 * cleanup commands after it, or one json/yaml document (`compact`: json on
 * one line, for --watch). */
int report_print(FILE *f, const struct status_view *v, const struct status_row *rows, int n, const char *output,
		 bool compact, long long now, struct kerr *e);
/* One line per row for --watch without a terminal: what changed. Fills
 * `out` with the row's line minus the time (for comparing). */
void report_line(const struct status_row *r, struct buf *out);
/* "45s", "3m12s", "2h5m", "3d4h" */
void report_duration(long long s, char *out, size_t n);

/* watch.c: follow the four collections (VMIMs and VMIs on both sides) from
 * the LISTs' resourceVersions; redraw on a TTY, append lines otherwise;
 * with until_done stop once every row is final. Returns an exit code. */
int status_watch(struct status_view *v, const struct status_opts *o, const char *const *vms, int nvms);

#endif

/* status.c — kubectl cclm status: the option table, then read both
 * clusters, pair the halves, print (or follow with --watch); see status.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "status.h"

static struct status_opts o;

static const struct opt status_options[] = {
	{ OPT_BOOL, 'A', "all-namespaces", &o.all_namespaces, NULL, "the migrations of every namespace", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "target-namespace", &o.target_ns, "NAMESPACE",
	  "where the target halves are (default: the same namespace)", NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 'w', "watch", &o.watch, NULL, "keep the view live from watches (Ctrl-C ends)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "until-done", &o.until_done, NULL,
	  "with --watch: end once every migration shown is final (exit 1 if one failed)", NULL, COMPLETE_NONE, 0 },
	{ OPT_END },
};

static int usage_error(const char *what)
{
	msg_error("%s", what);
	fprintf(stderr, "See 'kubectl cclm status --help' for usage.\n");
	return CCLM_EXIT_USAGE;
}

static int run_status(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct status_view v;
	struct kerr e = KERR_INIT;
	struct status_row *rows = NULL;
	const char *const *vms = (const char *const *)argv;
	long long now;
	int n = 0, rc = CCLM_EXIT_OK;

	if (o.until_done && !o.watch)
		return usage_error("--until-done needs --watch");
	if (o.all_namespaces && (ctx->kflags.namespace || o.target_ns))
		return usage_error("-A and -n/--target-namespace exclude each other");
	/* the clusters only once the command line is known good */
	if (cclm_load_cluster(ctx, &ctx->source, &e) || cclm_load_cluster(ctx, &ctx->target, &e))
		return e.kind == KERR_USAGE ? usage_error(e.msg) : (int)msg_kerr(&e);
	status_view_init(&v, ctx, &o);
	if (status_read(&v, &e)) {
		rc = msg_kerr(&e);
		goto out;
	}
	if (o.watch) {
		rc = status_watch(&v, &o, vms, argc);
		goto out;
	}
	now = (long long)time(NULL);
	if (status_rows(&v, vms, argc, now, &rows, &n, &e)) {
		rc = msg_kerr(&e);
		goto out;
	}
	status_metrics(&v, rows, n);
	if (!n && !ctx->output) {
		if (v.ns[0])
			msg_info("no cross-cluster migrations in namespace '%s'%s%s%s", v.ns[0],
				 strcmp(v.ns[0], v.ns[1]) ? " (target: '" : "", strcmp(v.ns[0], v.ns[1]) ? v.ns[1] : "",
				 strcmp(v.ns[0], v.ns[1]) ? "')" : "");
		else
			msg_info("no cross-cluster migrations in any namespace");
		goto out;
	}
	if (report_print(stdout, &v, rows, n, ctx->output, false, now, &e))
		rc = msg_kerr(&e);
out:
	free(rows);
	status_view_release(&v);
	return rc;
}

static const char *const status_usage[] = {
	"[VM...] --source CONTEXT --target CONTEXT [-n NAMESPACE | -A] [--watch [--until-done]] [-o json|yaml|wide]",
	NULL,
};

const struct plugin status_plugin = {
	.name = "status",
	.summary = "Every cross-cluster migration between two clusters, both halves, with its blocker",
	.usage = status_usage,
	.description =
		"Lists the VMIMs of both clusters (and the VMIs they name) once each, and pairs the halves by\n"
		"migration ID: spec.sendTo on the source, spec.receive on the target. Per migration: the VM,\n"
		"the phase on each side, progress from the source's migration metrics, when it started, how\n"
		"long it took, the result, who started it (cclm, an MTV plan or by hand) and what blocks it.\n"
		"A half without its partner is an orphan, shown with the command that deletes it. --watch\n"
		"follows watches of the same collections; it writes nothing to either cluster.",
	.options = status_options,
	.min_args = 0,
	.max_args = -1,
	.needs = PLUGIN_TWO_CLUSTERS | PLUGIN_CLUSTERS_OPTIONAL | PLUGIN_OUTPUT,
	.run = run_status,
};

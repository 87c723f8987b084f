/* netcheck.c — kubectl cclm netcheck: the option table and the steps in
 * order (read both clusters, static checks, probes unless --static-only or a
 * static check makes them pointless, report); see netcheck.h. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "netcheck.h"

static struct nc_opts o = {
	.timeout_ms = 2 * 60 * 1000,
	.test_timeout = 2,
};

static const struct opt netcheck_options[] = {
	{ OPT_BOOL, 0, "static-only", &o.static_only, NULL, "only the checks from the API: no probe pod, no write", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "image", &o.image, "IMAGE",
	  "the probe pods' image (default: each cluster's own virt-handler image)", NULL, COMPLETE_NONE, 0 },
	{ OPT_DURATION, 0, "timeout", &o.timeout_ms, "DURATION",
	  "how long the probes may take, from the first pod created (default 2m)", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "test-timeout", &o.test_timeout, "SECONDS", "how long each probe test waits (default 2)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "keep-pods", &o.keep_pods, NULL, "leave the probe pods in place (for their logs)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_END },
};

static volatile sig_atomic_t cancel_flag;

static void on_interrupt(int sig)
{
	(void)sig;
	cancel_flag = 1;
	/* a second Ctrl-C ends at once */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

void nc_find(struct nc_run *r, const char *cluster, bool error, const char *object, const char *fix,
	     const char *fmt, ...)
{
	struct nc_finding *f = realloc(r->findings, (size_t)(r->nfindings + 1) * sizeof(*f));
	va_list ap;

	if (!f)
		return;
	r->findings = f;
	f = &r->findings[r->nfindings++];
	f->cluster = cluster;
	f->error = error;
	snprintf(f->object, sizeof(f->object), "%s", object ? object : "");
	snprintf(f->fix, sizeof(f->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

static void make_run_id(char *out, size_t n)
{
	struct timespec ts;
	unsigned v;

	clock_gettime(CLOCK_REALTIME, &ts);
	v = (unsigned)ts.tv_nsec ^ ((unsigned)ts.tv_sec << 7) ^ ((unsigned)getpid() << 16);
	snprintf(out, n, "%08x", v);
}

static int run_netcheck(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct nc_run r;
	struct kerr e = KERR_INIT;
	struct sigaction sa;
	int i, rc = 0;
	enum nc_verdict v;

	(void)argc;
	(void)argv;
	if (o.timeout_ms <= 0 || o.test_timeout < 1 || o.test_timeout > 60) {
		msg_error("--timeout must be more than 0 and --test-timeout 1-60 seconds");
		fprintf(stderr, "See 'kubectl cclm netcheck --help' for usage.\n");
		return CCLM_EXIT_USAGE;
	}
	if (o.static_only && (o.image || o.keep_pods)) {
		msg_error("--static-only runs no probe: no --image or --keep-pods");
		fprintf(stderr, "See 'kubectl cclm netcheck --help' for usage.\n");
		return CCLM_EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.o = &o;
	r.cancel = &cancel_flag;
	r.side[0].cl = &ctx->source;
	r.side[0].role = "source";
	r.side[1].cl = &ctx->target;
	r.side[1].role = "target";
	make_run_id(r.run_id, sizeof(r.run_id));
	for (i = 0; i < 2 && !rc; i++)
		if (nc_observe(&r, &r.side[i], &e))
			rc = msg_kerr(&e);
	if (rc)
		goto out;
	nc_static_checks(&r);
	if (o.static_only)
		snprintf(r.skipped, sizeof(r.skipped), "--static-only");
	else if (r.side[0].blocked || r.side[1].blocked)
		snprintf(r.skipped, sizeof(r.skipped), "the static checks found no usable migration network on %s",
			 r.side[0].blocked && r.side[1].blocked ? "either cluster" :
			 r.side[0].blocked			? "the source cluster" :
								  "the target cluster");
	if (!r.skipped[0]) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_interrupt;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (!ctx->output || !strcmp(ctx->output, "wide"))
			msg_info("probing: one pod per node on each cluster (run %s)", r.run_id);
		if (nc_run_probes(&r, &e))
			rc = msg_kerr(&e);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (r.interrupted) {
			msg_error("interrupted: %s", o.keep_pods ? "the probe pods are kept (--keep-pods)" :
								     "the probe pods are deleted");
			rc = CCLM_EXIT_FAILED;
			goto out;
		}
		if (rc)
			goto out;
	}
	if (nc_report(&r, ctx->output))
		rc = CCLM_EXIT_FAILED;
	v = nc_verdict_of(&r);
	if (!rc && v == NC_FAIL)
		rc = CCLM_EXIT_FAILED;
out:
	nc_run_release(&r);
	return rc;
}

static const char *const netcheck_usage[] = {
	"--source CONTEXT --target CONTEXT [--static-only] [--image IMAGE] [--timeout D] [--keep-pods] [-o json|yaml|wide]",
	NULL,
};

const struct plugin netcheck_plugin = {
	.name = "netcheck",
	.summary = "Prove the migration network works between the two clusters: static checks and probes",
	.usage = netcheck_usage,
	.description =
		"Checks both clusters from the API (the gate, the migration network and its NAD, the NADs alike,\n"
		"disjoint address pools, every virt-handler and sync controller with a migration0 address from its\n"
		"own pool and none twice, the advertised sync address the leader's), then proves the paths with\n"
		"real traffic: one short-lived probe pod per node on each cluster, attached to the migration\n"
		"network, tests TCP to the peer's sync address, ICMP, ARP (one L2 segment) and the path MTU\n"
		"toward every peer address. Prints a matrix per direction and a verdict: pass, warn or fail.\n"
		"The probe pods are always deleted (unless --keep-pods), also on failure, timeout and Ctrl-C.",
	.options = netcheck_options,
	.min_args = 0,
	.max_args = 0,
	.needs = PLUGIN_TWO_CLUSTERS | PLUGIN_OUTPUT,
	.run = run_netcheck,
};

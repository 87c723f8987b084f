/* plugin.c — see plugin.h. */
#include "plugin.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "output.h"
#include "version.h"


static struct cclm_ctx g;
static bool want_help, want_version;
static const char *const output_choices[] = { "json", "yaml", "wide", NULL };

static const struct opt common_opts[] = {
	{ OPT_STRING, 0, "kubeconfig", &g.kflags.kubeconfig, "FILE", "use this kubeconfig file only", NULL,
	  COMPLETE_FILE, 0 },
	{ OPT_STRING, 0, "context", &g.kflags.context, "CONTEXT", "the kubeconfig context to use", NULL,
	  COMPLETE_CONTEXT, 0 },
	{ OPT_STRING, 0, "cluster", &g.kflags.cluster, "CLUSTER", "the kubeconfig cluster to use", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "user", &g.kflags.user, "USER", "the kubeconfig user to use", NULL, COMPLETE_NONE, 0 },
	{ OPT_STRING, 'n', "namespace", &g.kflags.namespace, "NAMESPACE", "the namespace to work in", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "request-timeout", &g.kflags.request_timeout, "DURATION",
	  "give up on one request after this long (30, 1m30s; 0 = never)", NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "insecure-skip-tls-verify", &g.kflags.insecure_skip_tls_verify, NULL,
	  "do not verify the server's certificate (insecure)", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 'v', "v", &g.verbosity, "N", "log requests: 6 URLs, 7 headers, 9 bodies (tokens masked)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_BOOL, 'h', "help", &want_help, NULL, "show this help", NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "version", &want_version, NULL, "print the version", NULL, COMPLETE_NONE, 0 },
	{ OPT_END },
};

static const struct opt two_cluster_opts[] = {
	{ OPT_STRING, 0, "source", &g.source_context, "CONTEXT", "kubeconfig context of the source cluster", NULL,
	  COMPLETE_CONTEXT, 0 },
	{ OPT_STRING, 0, "target", &g.target_context, "CONTEXT", "kubeconfig context of the target cluster", NULL,
	  COMPLETE_CONTEXT, 0 },
	{ OPT_STRING, 0, "source-kubeconfig", &g.source_kubeconfig, "FILE",
	  "kubeconfig file of the source cluster (its current context)", NULL, COMPLETE_FILE, 0 },
	{ OPT_STRING, 0, "target-kubeconfig", &g.target_kubeconfig, "FILE",
	  "kubeconfig file of the target cluster (its current context)", NULL, COMPLETE_FILE, 0 },
	{ OPT_END },
};

static const struct opt output_opts[] = {
	{ OPT_CHOICE, 'o', "output", &g.output, "FORMAT", "print json, yaml or a wide table", output_choices,
	  COMPLETE_CHOICES, 0 },
	{ OPT_END },
};

const char *cclm_version(void)
{
	static char v[96];

	if (!v[0])
		snprintf(v, sizeof(v), "v%s (%s)", cclm_version_number, cclm_build_commit);
	return v;
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", msg_prog(), line);
}

static void groups_for(const struct plugin *p, const struct opt_group *out[5], struct opt_group store[4])
{
	int n = 0;

	if (p->options && p->options->kind != OPT_END) {
		store[n] = (struct opt_group){ "Options", p->options };
		out[n] = &store[n];
		n++;
	}
	if (p->needs & PLUGIN_OUTPUT) {
		store[n] = (struct opt_group){ "Output", output_opts };
		out[n] = &store[n];
		n++;
	}
	if (p->needs & PLUGIN_TWO_CLUSTERS) {
		store[n] = (struct opt_group){ "Clusters", two_cluster_opts };
		out[n] = &store[n];
		n++;
	}
	store[n] = (struct opt_group){ "Common options", common_opts };
	out[n] = &store[n];
	n++;
	out[n] = NULL;
}

static void print_help(const struct plugin *p, const struct opt_group *const *groups)
{
	const char *const *u;

	printf("%s\n\nUsage:\n", p->summary);
	for (u = p->usage; u && *u; u++)
		printf("  %s %s\n", g.prog, *u);
	if (p->description)
		printf("\n%s\n", p->description);
	opts_print_help(stdout, groups);
	printf("\nExit status: 0 ok, 1 a check or operation failed, 2 usage error, "
	       "3 kubeconfig, cluster, TLS, auth or API error.\n");
}

static char **context_names(void)
{
	char **names = NULL;

	if (kcfg_context_names(&g.kflags, &names, NULL))
		return NULL;
	return names;
}

int cclm_load_cluster(struct cclm_ctx *ctx, struct cclm_cluster *cl, struct kerr *e)
{
	struct kcfg_flags f = ctx->kflags;
	struct kclient_opts o = { 0 };

	if (cl->loaded)
		return 0;
	if (cl == &ctx->source || cl == &ctx->target) {
		bool src = cl == &ctx->source;
		const char *context = src ? ctx->source_context : ctx->target_context;
		const char *file = src ? ctx->source_kubeconfig : ctx->target_kubeconfig;

		if (!context && !file)
			return kerr_set(e, KERR_USAGE, "the %s cluster is needed: give --%s CONTEXT or --%s-kubeconfig FILE",
					cl->role, cl->role, cl->role);
		f.context = context;
		if (file)
			f.kubeconfig = file;
		/* --cluster/--user name entries of the one-cluster case only */
		f.cluster = NULL;
		f.user = NULL;
	}
	if (kcfg_load(&cl->cfg, &f, e)) {
		if (strcmp(cl->role, "cluster"))
			kerr_prefix(e, "%s cluster", cl->role);
		return -1;
	}
	o.verbosity = (int)ctx->verbosity;
	o.log = log_line;
	o.stdin_tty = term_is_tty(0);
	cl->client = kclient_new(&cl->cfg, &o, e);
	if (!cl->client) {
		kcfg_release(&cl->cfg);
		return -1;
	}
	if (ctx->verbosity >= 6) {
		char line[1024];

		snprintf(line, sizeof(line), "%s: context '%s', server %s, from %s", cl->role,
			 cl->cfg.context_name ? cl->cfg.context_name : "(in-cluster)", cl->cfg.server,
			 cl->cfg.origin ? cl->cfg.origin : "?");
		log_line(NULL, line);
	}
	cl->loaded = true;
	return 0;
}

static void release_cluster(struct cclm_cluster *cl)
{
	if (!cl->loaded)
		return;
	kclient_free(cl->client);
	kcfg_release(&cl->cfg);
	cl->loaded = false;
}

/* kubectl_complete-cclm-NAME calls the plugin with the words to complete. */
static int complete(const struct plugin *p, const struct opt_group *const *groups, int nwords, char **words)
{
	opts_complete(stdout, groups, nwords, words, context_names, p->complete_args);
	return 0;
}

static int finish_stdout(void)
{
	/* A closed pipe or a full disk must not pass for success. */
	if (fflush(stdout) || ferror(stdout)) {
		msg_error("cannot write the output");
		return CCLM_EXIT_FAILED;
	}
	return CCLM_EXIT_OK;
}

int cclm_main(const struct plugin *p, int argc, char **argv)
{
	const struct opt_group *groups[5];
	struct opt_group store[4];
	char prog[128], **pos = NULL;
	const char *base = strrchr(argv[0], '/');
	struct kerr e = KERR_INIT;
	int npos = 0, rc;

	base = base ? base + 1 : argv[0];
	msg_set_prog(!strcmp(p->name, "cclm") ? "kubectl-cclm" : base);
	snprintf(prog, sizeof(prog), "kubectl cclm%s%s", strcmp(p->name, "cclm") ? " " : "",
		 strcmp(p->name, "cclm") ? p->name : "");
	g.plugin = p;
	g.prog = prog;
	g.one.role = "cluster";
	g.source.role = "source";
	g.target.role = "target";
	groups_for(p, groups, store);

	if (argc >= 2 && !strcmp(argv[1], "--completion-helper"))
		return complete(p, groups, argc - 2, argv + 2);
	if (!strncmp(base, "kubectl_complete-", 17) || !strncmp(base, "oc_complete-", 12))
		return complete(p, groups, argc - 1, argv + 1);

	if (opts_parse(groups, argc, argv, &pos, &npos, &e)) {
		msg_error("%s", e.msg);
		fprintf(stderr, "See '%s --help' for usage.\n", prog);
		return CCLM_EXIT_USAGE;
	}
	if (want_help) {
		print_help(p, groups);
		free(pos);
		return finish_stdout();
	}
	if (want_version) {
		printf("%s %s\n", msg_prog(), cclm_version());
		free(pos);
		return finish_stdout();
	}
	if (npos < p->min_args || (p->max_args >= 0 && npos > p->max_args)) {
		if (npos < p->min_args)
			msg_error("missing argument: usage: %s %s", prog, p->usage ? p->usage[0] : "");
		else
			msg_error("unexpected argument '%s'", pos[p->max_args]);
		fprintf(stderr, "See '%s --help' for usage.\n", prog);
		free(pos);
		return CCLM_EXIT_USAGE;
	}
	if (g.kflags.request_timeout) {
		long ms;

		if (kcfg_parse_timeout(g.kflags.request_timeout, &ms, &e)) {
			msg_error("%s", e.msg);
			free(pos);
			return CCLM_EXIT_USAGE;
		}
	}
	g.tty = term_fancy();
	curl_global_init(CURL_GLOBAL_DEFAULT);

	rc = 0;
	if (p->needs & PLUGIN_ONE_CLUSTER)
		rc = cclm_load_cluster(&g, &g.one, &e);
	if (!rc && (p->needs & PLUGIN_TWO_CLUSTERS) && !(p->needs & PLUGIN_CLUSTERS_OPTIONAL))
		rc = cclm_load_cluster(&g, &g.source, &e) || cclm_load_cluster(&g, &g.target, &e) ? -1 : 0;
	if (rc) {
		if (e.kind == KERR_USAGE) {
			msg_error("%s", e.msg);
			fprintf(stderr, "See '%s --help' for usage.\n", prog);
			rc = CCLM_EXIT_USAGE;
		} else {
			rc = msg_kerr(&e);
		}
	} else {
		rc = p->run(&g, npos, pos);
		if (finish_stdout() && rc == CCLM_EXIT_OK)
			rc = CCLM_EXIT_FAILED;
	}
	release_cluster(&g.one);
	release_cluster(&g.source);
	release_cluster(&g.target);
	free(pos);
	curl_global_cleanup();
	return rc;
}

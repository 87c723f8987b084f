/* enable.c — kubectl cclm enable: the option table and the steps in order
 * (observe, plan, access check, write, wait, report); see enable.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "enable.h"
#include "msg.h"
#include "output.h"
#include "quantity.h"

static struct enable_opts o = {
	.mtv = "auto",
	.completion_timeout = -1,
	.progress_timeout = -1,
	.parallel_cluster = -1,
	.parallel_node = -1,
	.post_copy = -1,
	.auto_converge = -1,
	.timeout_ms = 5 * 60 * 1000,
};

static const char *const mtv_choices[] = { "auto", "yes", "no", NULL };
static const char *const network_choices[] = { "nad", "pod", NULL };

static const struct opt enable_options[] = {
	{ OPT_STRING, 0, "nic", &o.nic, "IFACE", "the migration NIC on every node (a macvlan NAD on it)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "bridge", &o.bridge, "BR", "the Linux bridge on every node (a bridge NAD on it)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "vlan", &o.vlan, "N", "the VLAN tag of the migration network (1-4094)", NULL, COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "subnet", &o.subnet, "CIDR", "the migration subnet; each cluster gets half of it", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "mtu", &o.mtu, "N", "the MTU of the migration network (576-9216)", NULL, COMPLETE_NONE, 0 },
	{ OPT_STRING, 0, "nad", &o.nad, "NAME",
	  "the NetworkAttachmentDefinition (default: the configured one, else " ENABLE_DEFAULT_NAD ")", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_CHOICE, 0, "network", &o.network, "MODE", "nad: a migration network (default); pod: the pod network",
	  network_choices, COMPLETE_CHOICES, 0 },
	{ OPT_BOOL, 0, "replace-nad", &o.replace_nad, NULL,
	  "rewrite existing NADs (disjoint pools) and restart virt-handlers onto them", NULL, COMPLETE_NONE, 0 },
	{ OPT_CHOICE, 0, "mtv", &o.mtv, "MODE", "turn on MTV's live migration: auto (where installed), yes, no",
	  mtv_choices, COMPLETE_CHOICES, 0 },
	{ OPT_STRING, 0, "bandwidth-per-migration", &o.bandwidth, "QUANTITY",
	  "bandwidth cap per migration, bytes/s (e.g. 1Gi, 500Mi)", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "completion-timeout-per-gib", &o.completion_timeout, "SECONDS",
	  "fail a migration after this many seconds per GiB of memory and disks", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "progress-timeout", &o.progress_timeout, "SECONDS",
	  "fail a migration that makes no progress for this long", NULL, COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "parallel-per-cluster", &o.parallel_cluster, "N", "migrations at once per cluster", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_INT, 0, "parallel-per-node", &o.parallel_node, "N", "outbound migrations at once per node", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_TRIBOOL, 0, "allow-post-copy", &o.post_copy, NULL, "allow post-copy (=false forbids it)", NULL,
	  COMPLETE_NONE, 0 },
	{ OPT_TRIBOOL, 0, "allow-auto-converge", &o.auto_converge, NULL, "allow auto-converge (=false forbids it)",
	  NULL, COMPLETE_NONE, 0 },
	{ OPT_DURATION, 0, "timeout", &o.timeout_ms, "DURATION", "how long to wait for both clusters (default 5m)",
	  NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "dry-run", &o.dry_run, NULL, "print the writes, have the servers check them, write nothing",
	  NULL, COMPLETE_NONE, 0 },
	{ OPT_BOOL, 0, "disable", &o.disable, NULL,
	  "turn the gate off again (refused while a cross-cluster migration is in flight)", NULL, COMPLETE_NONE, 0 },
	{ OPT_END },
};

static bool dns_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 253 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static int usage(const char *fmt, const char *arg)
{
	char line[KERR_MSG_MAX + 256];

	snprintf(line, sizeof(line), fmt, arg);
	msg_error("%s", line);
	fprintf(stderr, "See 'kubectl cclm enable --help' for usage.\n");
	return CCLM_EXIT_USAGE;
}

static int check_options(void)
{
	struct kerr e = KERR_INIT;
	double bw;
	bool net = o.nic || o.bridge || o.vlan || o.subnet || o.mtu || o.replace_nad || o.nad;
	bool tune = o.bandwidth || o.completion_timeout >= 0 || o.progress_timeout >= 0 || o.parallel_cluster >= 0 ||
		    o.parallel_node >= 0 || o.post_copy >= 0 || o.auto_converge >= 0;

	if (o.nic && o.bridge)
		return usage("--nic and --bridge exclude each other: a macvlan NAD on a NIC, or a bridge NAD%s", "");
	if (o.network && !strcmp(o.network, "pod") && net)
		return usage("--network pod takes no migration network options (--nic, --bridge, --vlan, --subnet, --mtu, --nad, --replace-nad)%s",
			     "");
	if (o.disable && (net || tune || o.network))
		return usage("--disable takes no network or tuning options%s", "");
	if (o.vlan && (o.vlan < 1 || o.vlan > 4094))
		return usage("--vlan must be 1-4094, got %s", "out of range");
	if (o.mtu && (o.mtu < 576 || o.mtu > 9216))
		return usage("--mtu must be 576-9216%s", "");
	if (o.subnet) {
		if (ipv4_net_parse(o.subnet, &o.subnet_net, "--subnet", &e))
			return usage("%s", e.msg);
		if (o.subnet_net.prefix < 8 || o.subnet_net.prefix > 29)
			return usage("--subnet '%s' must be between /8 and /29", o.subnet);
	}
	if (o.nic && !*o.nic)
		return usage("--nic needs an interface name%s", "");
	if (o.bridge && !*o.bridge)
		return usage("--bridge needs a bridge name%s", "");
	if (o.nad && !dns_name(o.nad))
		return usage("--nad '%s' is not a valid object name (lower case letters, digits, '-' and '.')", o.nad);
	if (o.bandwidth && !quantity_parse(o.bandwidth, &bw))
		return usage("--bandwidth-per-migration '%s' is not a quantity like 1Gi or 500Mi", o.bandwidth);
	if ((o.completion_timeout >= 0 && o.completion_timeout < 1) || (o.progress_timeout >= 0 && o.progress_timeout < 1))
		return usage("timeouts are whole seconds, 1 or more%s", "");
	if ((o.parallel_cluster >= 0 && o.parallel_cluster < 1) || (o.parallel_node >= 0 && o.parallel_node < 1))
		return usage("--parallel-per-cluster and --parallel-per-node are 1 or more%s", "");
	if (o.timeout_ms <= 0)
		return usage("--timeout must be more than 0%s", "");
	return 0;
}

/* The NAD both clusters use: named, else the configured one, else the default. */
static void observe_nads(struct side *src, struct side *tgt, struct kerr *e, int *rc)
{
	const char *name = o.nad;

	if (!name && src->network[0] && tgt->network[0] && strcmp(src->network, tgt->network)) {
		side_find(src, true, "the clusters use different migration networks ('%s' here, '%s' on target): name one with --nad",
			  src->network, tgt->network);
		side_find(tgt, true, "the clusters use different migration networks ('%s' here, '%s' on source): name one with --nad",
			  tgt->network, src->network);
		return;
	}
	if (!name)
		name = src->network[0] ? src->network : tgt->network[0] ? tgt->network : ENABLE_DEFAULT_NAD;
	if (observe_nad(src, name, e) || observe_nad(tgt, name, e))
		*rc = msg_kerr(e);
}

static void print_writes(const struct side *s)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < s->nwrites; i++) {
		buf_reset(&b);
		if (!write_describe(&s->writes[i], &b))
			printf("# %s: %s", s->role, b.s);
	}
	if (s->nad_replaced)
		printf("# %s: DELETE pods -l 'kubevirt.io in (virt-handler,virt-synchronization-controller)' -n %s whose migration0 address is outside the new pool\n",
		       s->role, s->kv_ns);
	buf_release(&b);
}

static const char *result_of(const struct side *src, const struct side *tgt)
{
	if (src->failure[0] || tgt->failure[0])
		return "failed";
	if (src->state == SIDE_ALREADY && tgt->state == SIDE_ALREADY)
		return o.disable ? "already-disabled" : "already-enabled";
	return o.disable ? "disabled" : "enabled";
}

static int run_enable(struct cclm_ctx *ctx, int argc, char **argv)
{
	struct side src, tgt;
	struct kerr e = KERR_INIT;
	int rc = 0, i;
	struct side *sides[2] = { &src, &tgt };
	const char *result;

	(void)argc;
	(void)argv;
	if ((rc = check_options()))
		return rc;
	side_init(&src, &ctx->source);
	side_init(&tgt, &ctx->target);
	for (i = 0; i < 2 && !rc; i++)
		if (observe_side(sides[i], &e))
			rc = msg_kerr(&e);
	if (!rc && !o.disable && !(o.network && !strcmp(o.network, "pod")) && src.kubevirt && tgt.kubevirt)
		observe_nads(&src, &tgt, &e, &rc);
	if (rc)
		goto out;
	plan_pair(&src, &tgt, &o);
	for (i = 0; i < 2 && !rc; i++)
		if (access_check(sides[i], &e))
			rc = msg_kerr(&e);
	if (rc)
		goto out;
	if (side_has_errors(&src) || side_has_errors(&tgt)) {
		if (ctx->output && strcmp(ctx->output, "wide")) {
			report_pair(&src, &tgt, &o, ctx->output, "preflight-failed");
		} else {
			report_preflight(&src, &tgt);
			msg_error("preflight failed on %s: nothing was written",
				  side_has_errors(&src) && side_has_errors(&tgt) ? "both clusters" :
				  side_has_errors(&src)			     ? "the source cluster" :
										       "the target cluster");
		}
		rc = CCLM_EXIT_FAILED;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		int k;

		for (k = 0; k < sides[i]->nfindings; k++)
			msg_warn("%s: %s", sides[i]->role, sides[i]->findings[k].text);
	}
	if (o.dry_run) {
		if (!ctx->output || !strcmp(ctx->output, "wide")) {
			print_writes(&src);
			print_writes(&tgt);
			if (!src.nwrites && !tgt.nwrites)
				printf("# nothing to write: already %s\n", o.disable ? "disabled" : "enabled");
		}
		for (i = 0; i < 2; i++)
			if (apply_side(sides[i], true, &e)) {
				rc = msg_kerr(&e);
				goto out;
			}
		report_pair(&src, &tgt, &o, ctx->output, "dry-run");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (apply_side(sides[i], false, &e))
			msg_error("%s", e.msg);
		kerr_clear(&e);
	}
	await_pair(&src, &tgt, &o, ctx->tty);
	for (i = 0; i < 2; i++)
		if (!sides[i]->failure[0] && observe_refresh(sides[i], &e)) {
			snprintf(sides[i]->failure, sizeof(sides[i]->failure), "%s", e.msg);
			kerr_clear(&e);
		}
	result = result_of(&src, &tgt);
	report_pair(&src, &tgt, &o, ctx->output, result);
	if (!strcmp(result, "failed")) {
		for (i = 0; i < 2; i++)
			if (sides[i]->failure[0])
				msg_error("%s: %s", sides[i]->role, sides[i]->failure);
		msg_error("not %s on both clusters: fix the cause and run the same command again; it finishes the job",
			  o.disable ? "disabled" : "enabled");
		rc = CCLM_EXIT_FAILED;
	}
out:
	side_release(&src);
	side_release(&tgt);
	return rc;
}

static const char *const enable_usage[] = {
	"--source CONTEXT --target CONTEXT [--nic IFACE | --bridge BR] [--vlan N] [--subnet CIDR] [--mtu N] [--nad NAME] [options]",
	"--source CONTEXT --target CONTEXT --network pod [options]",
	"--source CONTEXT --target CONTEXT --disable",
	NULL,
};

const struct plugin enable_plugin = {
	.name = "enable",
	.summary = "Make two clusters a live-migration pair: feature gates, migration network, tuning",
	.usage = enable_usage,
	.description =
		"Checks both clusters first (access, OpenShift and CNV versions, HCO not upgrading, the migration\n"
		"network and its address pools), and writes nothing if a check fails. Then turns on the\n"
		"decentralizedLiveMigration gate (HCO, or the KubeVirt CR without HCO) and MTV's live migration,\n"
		"creates the same migration NAD on both clusters with disjoint per-cluster address pools, sets\n"
		"liveMigrationConfig, and waits until both clusters advertise a sync address. Run it again at any\n"
		"time: it writes only what differs, and finishes a run that stopped halfway.",
	.options = enable_options,
	.min_args = 0,
	.max_args = 0,
	.needs = PLUGIN_TWO_CLUSTERS | PLUGIN_OUTPUT,
	.run = run_enable,
};

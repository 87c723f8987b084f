/* test_kubeconfig.c — kcfg_load and friends against kubeconfigs written at
 * run time into a private temporary directory (HOME and KUBECONFIG point
 * there; the real ~/.kube is never read). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubeconfig.h"
#include "fixture.h"

/* base64 of "CA-PEM\n", "CERT-PEM\n", "KEY-PEM\n" */
#define CA_B64 "Q0EtUEVNCg=="
#define CERT_B64 "Q0VSVC1QRU0K"
#define KEY_B64 "S0VZLVBFTQo="

#define P fx_path
#define wfile(rel, text) fx_write(rel, text, 0644)

static int group_setup(void **state)
{
	(void)state;
	return fx_open_root("kcfg");
}

static int group_teardown(void **state)
{
	(void)state;
	return fx_close_root();
}

/* Every test: a fresh directory, HOME inside it, no kubeconfig or
 * in-cluster variables. */
static int setup(void **state)
{
	(void)state;
	if (fx_new_dir())
		return -1;
	fx_kube_env();
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, NULL)


/* Load with flags (may be NULL), expecting failure of `kind`. */
static void load_fails(const struct kcfg_flags *fl, enum kerr_kind kind, struct kerr *e)
{
	struct kcfg c;

	kerr_clear(e);
	assert_int_equal(kcfg_load(&c, fl, e), -1);
	assert_int_equal(e->kind, kind);
	assert_null(c.server);
	assert_null(c.token);
	assert_int_equal(c.ca.len, 0);
	if (strchr(e->msg, '\n'))
		fail_msg("message has a newline: '%s'", e->msg);
	kcfg_release(&c);
}

static void load_ok(const struct kcfg_flags *fl, struct kcfg *c)
{
	struct kerr e = KERR_INIT;

	if (kcfg_load(c, fl, &e))
		fail_msg("kcfg_load failed: %s", e.msg);
}

static const char single[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: dev\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:6443\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"    tls-server-name: kubernetes\n"
	"- name: c2\n"
	"  cluster:\n"
	"    server: https://10.0.0.2:6443\n"
	"    insecure-skip-tls-verify: true\n"
	"    proxy-url: socks5://127.0.0.1:1080\n"
	"    disable-compression: true\n"
	"users:\n"
	"- name: u1\n"
	"  user:\n"
	"    token: tok-u1\n"
	"- name: u2\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n"
	"- name: u3\n"
	"  user:\n"
	"    username: admin\n"
	"    password: secret\n"
	"contexts:\n"
	"- name: dev\n"
	"  context: {cluster: c1, user: u1, namespace: team-a}\n"
	"- name: prod\n"
	"  context: {cluster: c2, user: u2}\n"
	"- name: basic\n"
	"  context: {cluster: c1, user: u3}\n";

/* ---- single file ---------------------------------------------------------- */

static void test_single_file(void **state)
{
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(NULL, &c);
	assert_string_equal(c.context_name, "dev");
	assert_string_equal(c.cluster_name, "c1");
	assert_string_equal(c.user_name, "u1");
	assert_string_equal(c.origin, P("home/.kube/config"));
	assert_string_equal(c.server, "https://127.0.0.1:6443");
	assert_string_equal(c.namespace, "team-a");
	assert_false(c.namespace_from_flag);
	assert_int_equal(c.ca.len, 7);
	assert_memory_equal(c.ca.s, "CA-PEM\n", 7);
	assert_non_null(strstr(c.ca_origin, "certificate-authority-data of cluster 'c1'"));
	assert_false(c.insecure);
	assert_string_equal(c.tls_server_name, "kubernetes");
	assert_null(c.proxy_url);
	assert_false(c.disable_compression);
	assert_string_equal(c.token, "tok-u1");
	assert_null(c.token_file);
	assert_int_equal(c.client_cert.len, 0);
	assert_null(c.username);
	assert_null(c.exec);
	assert_int_equal(c.timeout_ms, 0);
	kcfg_release(&c);
	assert_null(c.server);
}

static void test_single_file_other_context(void **state)
{
	struct kcfg_flags fl = { .context = "prod" };
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(&fl, &c);
	assert_string_equal(c.context_name, "prod");
	assert_string_equal(c.server, "https://10.0.0.2:6443");
	assert_true(c.insecure);
	assert_int_equal(c.ca.len, 0);
	assert_null(c.ca_origin);
	assert_string_equal(c.proxy_url, "socks5://127.0.0.1:1080");
	assert_true(c.disable_compression);
	assert_null(c.token);
	assert_int_equal(c.client_cert.len, 9);
	assert_memory_equal(c.client_cert.s, "CERT-PEM\n", 9);
	assert_int_equal(c.client_key.len, 8);
	assert_memory_equal(c.client_key.s, "KEY-PEM\n", 8);
	assert_string_equal(c.namespace, "default");
	kcfg_release(&c);
}

static void test_basic_auth(void **state)
{
	struct kcfg_flags fl = { .context = "basic" };
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(&fl, &c);
	assert_string_equal(c.username, "admin");
	assert_string_equal(c.password, "secret");
	assert_null(c.token);
	kcfg_release(&c);
}

static void test_kubeconfig_env_single(void **state)
{
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", "current-context: nope\n");
	wfile("kc", single);
	setenv("KUBECONFIG", P("kc"), 1);
	load_ok(NULL, &c);
	assert_string_equal(c.context_name, "dev");
	assert_string_equal(c.origin, P("kc"));
	kcfg_release(&c);
}

/* ---- merging ---------------------------------------------------------------- */

static const char merge_a[] =
	"clusters:\n"
	"- name: shared\n"
	"  cluster: {server: 'https://a.example:6443'}\n"
	"users:\n"
	"- name: u1\n"
	"  user: {token: tok-a}\n"
	"contexts:\n"
	"- name: ctx1\n"
	"  context: {cluster: shared, user: u1}\n";

static const char merge_b[] =
	"current-context: ctx2\n"
	"clusters:\n"
	"- name: shared\n"
	"  cluster: {server: 'https://b.example:6443', insecure-skip-tls-verify: true}\n"
	"- name: only-b\n"
	"  cluster: {server: 'https://only-b.example'}\n"
	"users:\n"
	"- name: u1\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n"
	"contexts:\n"
	"- name: ctx1\n"
	"  context: {cluster: only-b, user: u1}\n"
	"- name: ctx2\n"
	"  context: {cluster: shared, user: u1, namespace: from-b}\n";

static void test_merge_two_first_wins(void **state)
{
	struct kcfg c;
	char list[1200];

	(void)state;
	wfile("a/config", merge_a);
	wfile("b/config", merge_b);
	snprintf(list, sizeof(list), "%s:%s", P("a/config"), P("b/config"));
	setenv("KUBECONFIG", list, 1);
	load_ok(NULL, &c);
	/* current-context from b (a sets none); cluster and user wholly from a */
	assert_string_equal(c.context_name, "ctx2");
	assert_string_equal(c.origin, P("b/config"));
	assert_string_equal(c.namespace, "from-b");
	assert_string_equal(c.server, "https://a.example:6443");
	assert_false(c.insecure);
	assert_string_equal(c.token, "tok-a");
	assert_int_equal(c.client_cert.len, 0);
	assert_int_equal(c.client_key.len, 0);
	kcfg_release(&c);
}

static void test_merge_context_first_wins(void **state)
{
	struct kcfg_flags fl = { .context = "ctx1" };
	struct kcfg c;
	char list[1200];

	(void)state;
	wfile("a/config", merge_a);
	wfile("b/config", merge_b);
	snprintf(list, sizeof(list), "%s:%s", P("a/config"), P("b/config"));
	setenv("KUBECONFIG", list, 1);
	load_ok(&fl, &c);
	/* ctx1 of a (cluster shared), not ctx1 of b (cluster only-b) */
	assert_string_equal(c.cluster_name, "shared");
	assert_string_equal(c.origin, P("a/config"));
	kcfg_release(&c);
}

static void test_merge_three_files(void **state)
{
	struct kcfg c;
	char list[2000];

	(void)state;
	wfile("1", "current-context: ''\nusers:\n- name: u\n  user: {token: first}\n");
	wfile("2", "current-context: from-two\n"
		   "contexts:\n- name: from-two\n  context: {cluster: cl, user: u, namespace: two}\n"
		   "- name: from-three\n  context: {cluster: cl, user: u, namespace: two-wins}\n");
	wfile("3", "current-context: from-three\n"
		   "clusters:\n- name: cl\n  cluster: {server: 'https://three'}\n"
		   "users:\n- name: u\n  user: {token: third}\n"
		   "contexts:\n- name: from-three\n  context: {cluster: cl, user: u, namespace: three}\n");
	snprintf(list, sizeof(list), "%s:%s:%s", P("1"), P("2"), P("3"));
	setenv("KUBECONFIG", list, 1);
	load_ok(NULL, &c);
	assert_string_equal(c.context_name, "from-two");
	assert_string_equal(c.namespace, "two");
	assert_string_equal(c.server, "https://three");
	assert_string_equal(c.token, "first");
	kcfg_release(&c);

	/* the context defined in 2 and 3 comes from 2 */
	{
		struct kcfg_flags fl = { .context = "from-three" };

		load_ok(&fl, &c);
		assert_string_equal(c.namespace, "two-wins");
		assert_string_equal(c.origin, P("2"));
		kcfg_release(&c);
	}
}

static void test_merge_empty_entries_and_missing_files(void **state)
{
	struct kcfg c;
	char list[2000];

	(void)state;
	wfile("b/config", merge_b);
	snprintf(list, sizeof(list), "::%s::%s:%s:", P("missing/config"), P("b/config"), P("b/config"));
	setenv("KUBECONFIG", list, 1);
	load_ok(NULL, &c);
	assert_string_equal(c.context_name, "ctx2");
	assert_string_equal(c.server, "https://b.example:6443");
	assert_true(c.insecure);
	kcfg_release(&c);
}

static void test_merge_all_missing(void **state)
{
	struct kerr e;
	char list[1200];

	(void)state;
	wfile("home/.kube/config", single); /* not read: KUBECONFIG is set */
	snprintf(list, sizeof(list), "%s:%s", P("x"), P("y"));
	setenv("KUBECONFIG", list, 1);
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "no kubeconfig");
	assert_msg_has(&e, P("x"));
}

static void test_no_kubeconfig_at_all(void **state)
{
	struct kerr e;

	(void)state;
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "no kubeconfig");
	assert_msg_has(&e, P("home/.kube/config"));
}

static void test_malformed_second_file(void **state)
{
	struct kerr e;
	char list[1200];

	(void)state;
	wfile("a/config", merge_a);
	wfile("b/config", "clusters: [\n  - name: x\n   bad: : :\n");
	snprintf(list, sizeof(list), "%s:%s", P("a/config"), P("b/config"));
	setenv("KUBECONFIG", list, 1);
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, P("b/config"));
}

static void test_malformed_yaml(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "apiVersion: v1\nclusters:\n- name: a\n  cluster: {server: x\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, P("home/.kube/config"));
}

static void test_not_a_kubeconfig(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "- just\n- a list\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, P("home/.kube/config"));
	wfile("home/.kube/config", "clusters: {a: b}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "'clusters' must be a list");
}

static void test_duplicate_name_in_one_file(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "clusters:\n- name: x\n  cluster: {server: 'https://1'}\n"
				   "- name: x\n  cluster: {server: 'https://2'}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'x' is defined twice");
}

/* ---- relative paths ----------------------------------------------------------- */

static void test_relative_paths(void **state)
{
	struct kcfg c;
	char list[1200];

	(void)state;
	wfile("kc/a/config", "current-context: ctx\n"
			     "contexts:\n- name: ctx\n  context: {cluster: cb, user: ub}\n");
	wfile("kc/b/config", "clusters:\n- name: cb\n  cluster:\n"
			     "    server: https://b:6443\n"
			     "    certificate-authority: ../b/ca-b.crt\n"
			     "users:\n- name: ub\n  user:\n"
			     "    client-certificate: certs/client.crt\n"
			     "    client-key: certs/client.key\n"
			     "    tokenFile: tok\n");
	wfile("kc/b/ca-b.crt", "CA-PEM\n");
	wfile("kc/b/certs/client.crt", "CERT-PEM\n");
	wfile("kc/b/certs/client.key", "KEY-PEM\n");
	wfile("kc/b/tok", "file-token\n");
	snprintf(list, sizeof(list), "%s:%s", P("kc/a/config"), P("kc/b/config"));
	setenv("KUBECONFIG", list, 1);
	load_ok(NULL, &c);
	assert_string_equal(c.origin, P("kc/a/config"));
	assert_string_equal(c.ca.s, "CA-PEM\n");
	assert_string_equal(c.ca_origin, P("kc/b/../b/ca-b.crt"));
	assert_string_equal(c.client_cert.s, "CERT-PEM\n");
	assert_string_equal(c.client_key.s, "KEY-PEM\n");
	assert_null(c.token);
	assert_string_equal(c.token_file, P("kc/b/tok"));
	kcfg_release(&c);
}

static void test_relative_exec_command(void **state)
{
	struct kcfg_flags fl = { .kubeconfig = NULL };
	struct kcfg c;

	(void)state;
	wfile("kc/config", "current-context: a\n"
			   "clusters:\n- name: c\n  cluster: {server: 'https://s'}\n"
			   "users:\n"
			   "- name: rel\n  user:\n    exec:\n"
			   "      apiVersion: client.authentication.k8s.io/v1beta1\n"
			   "      command: ./bin/get-token\n"
			   "- name: bare\n  user:\n    exec:\n"
			   "      apiVersion: client.authentication.k8s.io/v1\n"
			   "      interactiveMode: Never\n"
			   "      command: get-token\n"
			   "- name: abs\n  user:\n    exec:\n"
			   "      apiVersion: client.authentication.k8s.io/v1\n"
			   "      interactiveMode: Always\n"
			   "      command: /usr/bin/get-token\n"
			   "contexts:\n- name: a\n  context: {cluster: c, user: rel}\n");
	fl.kubeconfig = P("kc/config");
	load_ok(&fl, &c);
	assert_non_null(c.exec);
	assert_string_equal(c.exec->command, P("kc/./bin/get-token"));
	assert_int_equal(c.exec->interactive, KCFG_INTERACTIVE_IF_AVAILABLE);
	kcfg_release(&c);
	fl.user = "bare";
	load_ok(&fl, &c);
	assert_string_equal(c.exec->command, "get-token");
	assert_int_equal(c.exec->interactive, KCFG_INTERACTIVE_NEVER);
	kcfg_release(&c);
	fl.user = "abs";
	load_ok(&fl, &c);
	assert_string_equal(c.exec->command, "/usr/bin/get-token");
	assert_int_equal(c.exec->interactive, KCFG_INTERACTIVE_ALWAYS);
	kcfg_release(&c);
}

/* ---- --kubeconfig ----------------------------------------------------------------- */

static void test_explicit_kubeconfig_missing(void **state)
{
	struct kcfg_flags fl = { .kubeconfig = NULL };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	fl.kubeconfig = P("nope/config");
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, P("nope/config"));
	assert_msg_has(&e, "does not exist");
}

static void test_explicit_kubeconfig_only_that_file(void **state)
{
	struct kcfg_flags fl = { .kubeconfig = NULL };
	struct kcfg c;
	struct kerr e;

	(void)state;
	wfile("a/config", merge_a);
	wfile("b/config", merge_b);
	setenv("KUBECONFIG", P("b/config"), 1);
	fl.kubeconfig = P("a/config");
	/* a has no current-context, and b is not merged */
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "no current-context");
	assert_msg_has(&e, "(contexts: ctx1)");
	fl.context = "ctx1";
	load_ok(&fl, &c);
	assert_string_equal(c.server, "https://a.example:6443");
	kcfg_release(&c);
}

/* ---- overrides and unknown names ---------------------------------------------------- */

static void test_override_cluster_and_user(void **state)
{
	struct kcfg_flags fl = { .cluster = "c2", .user = "u3" };
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(&fl, &c);
	assert_string_equal(c.context_name, "dev");
	assert_string_equal(c.cluster_name, "c2");
	assert_string_equal(c.user_name, "u3");
	assert_string_equal(c.server, "https://10.0.0.2:6443");
	assert_string_equal(c.username, "admin");
	assert_null(c.token);
	assert_string_equal(c.namespace, "team-a");
	kcfg_release(&c);
}

static void test_unknown_context(void **state)
{
	struct kcfg_flags fl = { .context = "nope" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "context 'nope' not found in ");
	assert_msg_has(&e, P("home/.kube/config"));
	assert_msg_has(&e, "(contexts: dev, prod, basic)");
}

static void test_unknown_cluster(void **state)
{
	struct kcfg_flags fl = { .cluster = "nope" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'nope' not found");
	assert_msg_has(&e, "(clusters: c1, c2)");
}

static void test_unknown_user(void **state)
{
	struct kcfg_flags fl = { .user = "nope" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'nope' not found");
	assert_msg_has(&e, "(users: u1, u2, u3)");
}

static void test_current_context_dangling(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "current-context: gone\ncontexts:\n- name: x\n  context: {cluster: a, user: b}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "current-context 'gone' not found");
	assert_msg_has(&e, "(contexts: x)");
}

static void test_no_current_context(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "contexts:\n- name: x\n  context: {cluster: a, user: b}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "no current-context");
	assert_msg_has(&e, "--context");
}

static const char dangling[] =
	"clusters:\n- name: c\n  cluster: {server: 'https://s'}\n"
	"users:\n- name: u\n  user: {token: t}\n"
	"contexts:\n"
	"- name: no-cluster\n  context: {user: u}\n"
	"- name: no-user\n  context: {cluster: c}\n"
	"- name: bad-cluster\n  context: {cluster: gone, user: u}\n"
	"- name: bad-user\n  context: {cluster: c, user: gone}\n";

static void test_context_without_cluster(void **state)
{
	struct kcfg_flags fl = { .context = "no-cluster" };
	struct kcfg c;
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", dangling);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "context 'no-cluster' in ");
	assert_msg_has(&e, "has no cluster");
	/* --cluster fills the gap */
	fl.cluster = "c";
	load_ok(&fl, &c);
	assert_string_equal(c.server, "https://s");
	kcfg_release(&c);
}

static void test_context_without_user(void **state)
{
	struct kcfg_flags fl = { .context = "no-user" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", dangling);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "context 'no-user' in ");
	assert_msg_has(&e, "has no user");
}

static void test_context_dangling_cluster(void **state)
{
	struct kcfg_flags fl = { .context = "bad-cluster" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", dangling);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "context 'bad-cluster' in ");
	assert_msg_has(&e, "cluster 'gone' not found (clusters: c)");
}

static void test_context_dangling_user(void **state)
{
	struct kcfg_flags fl = { .context = "bad-user" };
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", dangling);
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'gone' not found (users: u)");
}

static void test_cluster_without_server(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", "current-context: x\nclusters:\n- name: c\n  cluster: {insecure-skip-tls-verify: true}\n"
				   "users:\n- name: u\n  user: {}\n"
				   "contexts:\n- name: x\n  context: {cluster: c, user: u}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'c' in ");
	assert_msg_has(&e, "has no server");
}

/* ---- validation of the entries ---------------------------------------------------- */

/* A kubeconfig with one context "x" over cluster `cluster_body` and user
 * `user_body` (flow mappings). */
static void write_one(const char *cluster_body, const char *user_body)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "current-context: x\n"
		 "clusters:\n- name: c\n  cluster: %s\n"
		 "users:\n- name: u\n  user: %s\n"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n",
		 cluster_body, user_body);
	wfile("home/.kube/config", text);
}

static void test_bad_base64_ca(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s', certificate-authority-data: 'not*base64!'}", "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'c' in ");
	assert_msg_has(&e, P("home/.kube/config"));
	assert_msg_has(&e, "certificate-authority-data is not valid base64");
}

static void test_bad_base64_client_cert(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{client-certificate-data: 'Q0VSVC1QRU0K%%', client-key-data: " KEY_B64 "}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'u' in ");
	assert_msg_has(&e, "client-certificate-data is not valid base64");
}

static void test_bad_base64_client_key(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{client-certificate-data: " CERT_B64 ", client-key-data: '@@@@'}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'u' in ");
	assert_msg_has(&e, P("home/.kube/config"));
	assert_msg_has(&e, "client-key-data is not valid base64");
}

static void test_cert_without_key(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{client-certificate-data: " CERT_B64 "}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'u' in ");
	assert_msg_has(&e, "client certificate but no client key");
}

static void test_key_without_cert(void **state)
{
	struct kerr e;

	(void)state;
	wfile("key.pem", "KEY-PEM\n");
	write_one("{server: 'https://s'}", "{client-key: ../../key.pem}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "client key but no client certificate");
}

static void test_cert_file_and_data(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/c.pem", "CERT-PEM\n");
	write_one("{server: 'https://s'}",
		  "{client-certificate: c.pem, client-certificate-data: " CERT_B64 ", client-key-data: " KEY_B64 "}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "sets both client-certificate and client-certificate-data");
}

static void test_missing_cert_file(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{client-certificate: nope.crt, client-key: nope.key}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'u' in ");
	assert_msg_has(&e, P("home/.kube/nope.crt"));
	assert_msg_has(&e, "No such file or directory");
}

static void test_missing_ca_file(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s', certificate-authority: /nonexistent/ca.crt}", "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'c' in ");
	assert_msg_has(&e, "cannot read certificate-authority '/nonexistent/ca.crt'");
}

static void test_token_and_basic_auth(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{token: t, username: a, password: b}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "user 'u' in ");
	assert_msg_has(&e, "both a token and a username/password");
	assert_null(strstr(e.msg, ": t,"));
}

static void test_token_beats_token_file(void **state)
{
	struct kcfg c;

	(void)state;
	/* the token file does not even have to exist */
	write_one("{server: 'https://s'}", "{token: direct, tokenFile: /nonexistent}");
	load_ok(NULL, &c);
	assert_string_equal(c.token, "direct");
	assert_null(c.token_file);
	kcfg_release(&c);
}

static void test_token_file_unreadable(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{tokenFile: missing-token}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cannot read tokenFile");
	assert_msg_has(&e, P("home/.kube/missing-token"));
	wfile("home/.kube/missing-token", "\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "is empty");
}

static void test_http_server_with_token_refused(void **state)
{
	struct kerr e;
	struct kcfg c;

	(void)state;
	write_one("{server: 'http://plain:8080'}", "{token: very-secret}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_string_equal(e.msg, "refusing to send credentials of user 'u' to 'http://plain:8080': "
				   "the server must be https");
	assert_null(strstr(e.msg, "very-secret"));
	/* without credentials, http is fine */
	write_one("{server: 'http://plain:8080'}", "{}");
	load_ok(NULL, &c);
	assert_string_equal(c.server, "http://plain:8080");
	kcfg_release(&c);
}

static void test_server_without_scheme(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	write_one("{server: '10.1.1.1:6443', certificate-authority-data: " CA_B64 "}", "{token: t}");
	load_ok(NULL, &c);
	assert_string_equal(c.server, "https://10.1.1.1:6443");
	kcfg_release(&c);
	write_one("{server: '10.1.1.1:6443'}", "{token: t}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "'http://10.1.1.1:6443'");
}

static void test_insecure_and_ca(void **state)
{
	struct kcfg_flags fl = { .insecure_skip_tls_verify = true };
	struct kcfg c;
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s', insecure-skip-tls-verify: true, certificate-authority-data: " CA_B64 "}",
		  "{token: t}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "cluster 'c' in ");
	assert_msg_has(&e, "both insecure-skip-tls-verify and certificate-authority-data");
	/* the flag clears the CA */
	load_ok(&fl, &c);
	assert_true(c.insecure);
	assert_int_equal(c.ca.len, 0);
	assert_null(c.ca_origin);
	kcfg_release(&c);
	/* even a CA file that does not exist */
	write_one("{server: 'https://s', certificate-authority: /nonexistent}", "{token: t}");
	load_ok(&fl, &c);
	assert_true(c.insecure);
	kcfg_release(&c);
}

static void test_ca_file_and_data(void **state)
{
	struct kerr e;

	(void)state;
	wfile("home/.kube/ca.crt", "CA-PEM\n");
	write_one("{server: 'https://s', certificate-authority: ca.crt, certificate-authority-data: " CA_B64 "}",
		  "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "both certificate-authority and certificate-authority-data");
}

static void test_bad_proxy_url(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s', proxy-url: 'ftp://p'}", "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "proxy-url 'ftp://p'");
}

static void test_auth_provider_refused(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'https://s'}", "{auth-provider: {name: oidc, config: {}}}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "auth-provider 'oidc'");
}

static void test_wrong_types(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: [a, b]}", "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "'server' must be a string");
	write_one("{server: 'https://s', insecure-skip-tls-verify: 'yes please'}", "{}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "'insecure-skip-tls-verify' must be true or false");
}

static void test_numeric_names(void **state)
{
	struct kcfg c;

	(void)state;
	wfile("home/.kube/config", "current-context: 1234\n"
				   "clusters:\n- name: 42\n  cluster: {server: 'https://s'}\n"
				   "users:\n- name: true\n  user: {token: t}\n"
				   "contexts:\n- name: 1234\n  context: {cluster: 42, user: true}\n");
	load_ok(NULL, &c);
	assert_string_equal(c.context_name, "1234");
	assert_string_equal(c.cluster_name, "42");
	assert_string_equal(c.user_name, "true");
	kcfg_release(&c);
}

/* ---- exec stanzas ---------------------------------------------------------------------- */

static void test_exec_stanza(void **state)
{
	struct kcfg c;

	(void)state;
	write_one("{server: 'https://s'}",
		  "\n    exec:\n"
		  "      apiVersion: client.authentication.k8s.io/v1\n"
		  "      command: aws\n"
		  "      args: [eks, get-token, --cluster-name, 7]\n"
		  "      env:\n      - {name: AWS_PROFILE, value: prod}\n      - {name: EMPTY}\n"
		  "      installHint: install the aws cli\n"
		  "      interactiveMode: IfAvailable\n"
		  "      provideClusterInfo: true\n");
	load_ok(NULL, &c);
	assert_non_null(c.exec);
	assert_string_equal(c.exec->command, "aws");
	assert_int_equal(c.exec->nargs, 4);
	assert_string_equal(c.exec->args[0], "eks");
	assert_string_equal(c.exec->args[3], "7");
	assert_int_equal(c.exec->nenv, 2);
	assert_string_equal(c.exec->env[0], "AWS_PROFILE=prod");
	assert_string_equal(c.exec->env[1], "EMPTY=");
	assert_string_equal(c.exec->api_version, "client.authentication.k8s.io/v1");
	assert_string_equal(c.exec->install_hint, "install the aws cli");
	assert_int_equal(c.exec->interactive, KCFG_INTERACTIVE_IF_AVAILABLE);
	assert_true(c.exec->provide_cluster_info);
	kcfg_release(&c);
}

static void test_exec_stanza_invalid(void **state)
{
	static const struct {
		const char *user;
		const char *msg;
	} cases[] = {
		{ "{exec: {apiVersion: client.authentication.k8s.io/v1beta1}}", "exec has no command" },
		{ "{exec: {command: x}}", "exec has no apiVersion" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}",
		  "exec apiVersion 'client.authentication.k8s.io/v1alpha1' is not supported" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}", "exec needs interactiveMode" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Sometimes}}",
		  "interactiveMode 'Sometimes' is not one of" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, env: [{value: v}]}}",
		  "exec env entry has no valid name" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1, args: a}}",
		  "exec args must be a list" },
		{ "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1}, auth-provider: {name: oidc}}",
		  "both exec and auth-provider" },
	};
	struct kerr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_one("{server: 'https://s'}", cases[i].user);
		load_fails(NULL, KERR_CONFIG, &e);
		assert_msg_has(&e, "user 'u' in ");
		assert_msg_has(&e, cases[i].msg);
	}
}

static void test_exec_http_refused(void **state)
{
	struct kerr e;

	(void)state;
	write_one("{server: 'http://s'}", "{exec: {command: x, apiVersion: client.authentication.k8s.io/v1beta1}}");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "refusing to send credentials of user 'u'");
}

/* ---- namespace ----------------------------------------------------------------------- */

static void test_namespace_resolution(void **state)
{
	struct kcfg_flags fl = { .namespace = "flag-ns" };
	struct kcfg c;
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(&fl, &c); /* flag beats the context's team-a */
	assert_string_equal(c.namespace, "flag-ns");
	assert_true(c.namespace_from_flag);
	kcfg_release(&c);
	load_ok(NULL, &c);
	assert_string_equal(c.namespace, "team-a");
	assert_false(c.namespace_from_flag);
	kcfg_release(&c);
	fl.namespace = NULL;
	fl.context = "prod";
	load_ok(&fl, &c);
	assert_string_equal(c.namespace, "default");
	kcfg_release(&c);
	/* in-cluster files do not count when a kubeconfig is used */
	wfile("sa/token", "sa-token");
	wfile("sa/namespace", "sa-ns");
	setenv("CCLM_SERVICEACCOUNT_DIR", P("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	load_ok(&fl, &c);
	assert_string_equal(c.namespace, "default");
	assert_string_equal(c.server, "https://10.0.0.2:6443");
	kcfg_release(&c);
	/* a context namespace must be a DNS label */
	write_one("{server: 'https://s'}", "{}");
	wfile("home/.kube/config", "current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://s'}\n"
				   "users:\n- name: u\n  user: {}\n"
				   "contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: Bad_NS}\n");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "namespace 'Bad_NS'");
}

/* ---- request timeout ------------------------------------------------------------------ */

static void test_timeout_good(void **state)
{
	static const struct {
		const char *in;
		long ms;
	} cases[] = {
		{ "0", 0 },        { "", 0 },         { "30", 30000 },    { "1m30s", 90000 },
		{ "500ms", 500 },  { "2h", 7200000 }, { "1.5s", 1500 },   { "0s", 0 },
		{ "1h1m1s", 3661000 }, { "250us", 1 }, { "007", 7000 },  { "1m0.5s", 60500 },
	};
	struct kerr e = KERR_INIT;
	size_t i;
	long ms;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = -1;
		if (kcfg_parse_timeout(cases[i].in, &ms, &e))
			fail_msg("'%s': %s", cases[i].in, e.msg);
		if (ms != cases[i].ms)
			fail_msg("'%s': %ld ms, expected %ld", cases[i].in, ms, cases[i].ms);
	}
}

static void test_timeout_bad(void **state)
{
	static const char *const cases[] = {
		"abc", "1.5", "-1", "-5s", "10x", "1m30", "s", "1 s", "99999999999999999999", "9999999999h", "m5",
	};
	struct kerr e;
	size_t i;
	long ms;
	char want[200];

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kerr_clear(&e);
		if (!kcfg_parse_timeout(cases[i], &ms, &e))
			fail_msg("'%s' was accepted as %ld ms", cases[i], ms);
		assert_int_equal(e.kind, KERR_USAGE);
		snprintf(want, sizeof(want),
			 "invalid --request-timeout '%s': use a number of seconds or a duration like 1m30s", cases[i]);
		assert_string_equal(e.msg, want);
	}
}

static void test_timeout_through_load(void **state)
{
	struct kcfg_flags fl = { .request_timeout = "1m" };
	struct kcfg c;
	struct kerr e;

	(void)state;
	wfile("home/.kube/config", single);
	load_ok(&fl, &c);
	assert_int_equal(c.timeout_ms, 60000);
	kcfg_release(&c);
	fl.request_timeout = "soon";
	load_fails(&fl, KERR_USAGE, &e);
	assert_msg_has(&e, "'soon'");
}

/* ---- in-cluster ---------------------------------------------------------------------- */

static void in_cluster_env(const char *host)
{
	wfile("sa/token", "sa-token\n");
	wfile("sa/ca.crt", "SA-CA\n");
	wfile("sa/namespace", "sa-ns\n");
	setenv("CCLM_SERVICEACCOUNT_DIR", P("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", host, 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
}

static void test_in_cluster(void **state)
{
	struct kcfg c;

	(void)state;
	in_cluster_env("10.96.0.1");
	load_ok(NULL, &c);
	assert_null(c.context_name);
	assert_string_equal(c.origin, "in-cluster");
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.token_file, P("sa/token"));
	assert_null(c.token);
	assert_string_equal(c.ca.s, "SA-CA\n");
	assert_string_equal(c.ca_origin, P("sa/ca.crt"));
	assert_string_equal(c.namespace, "sa-ns");
	assert_false(c.namespace_from_flag);
	kcfg_release(&c);
}

static void test_in_cluster_ipv6_and_overrides(void **state)
{
	struct kcfg_flags fl = { .namespace = "mine", .insecure_skip_tls_verify = true, .request_timeout = "5s" };
	struct kcfg c;

	(void)state;
	in_cluster_env("fd00::1");
	load_ok(&fl, &c);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_string_equal(c.namespace, "mine");
	assert_true(c.namespace_from_flag);
	assert_true(c.insecure);
	assert_int_equal(c.ca.len, 0);
	assert_int_equal(c.timeout_ms, 5000);
	kcfg_release(&c);
}

static void test_in_cluster_namespace_fallbacks(void **state)
{
	struct kcfg c;

	(void)state;
	in_cluster_env("10.96.0.1");
	setenv("POD_NAMESPACE", "pod-ns", 1);
	load_ok(NULL, &c);
	assert_string_equal(c.namespace, "pod-ns");
	kcfg_release(&c);
	unsetenv("POD_NAMESPACE");
	assert_int_equal(unlink(P("sa/namespace")), 0);
	assert_int_equal(unlink(P("sa/ca.crt")), 0);
	load_ok(NULL, &c);
	assert_string_equal(c.namespace, "default");
	assert_int_equal(c.ca.len, 0); /* no CA file: the system's */
	kcfg_release(&c);
}

static void test_in_cluster_empty_kubeconfig(void **state)
{
	struct kcfg c;

	(void)state;
	in_cluster_env("10.96.0.1");
	wfile("home/.kube/config", "apiVersion: v1\nkind: Config\nclusters: []\n");
	load_ok(NULL, &c);
	assert_string_equal(c.origin, "in-cluster");
	kcfg_release(&c);
}

static void test_in_cluster_not_possible(void **state)
{
	struct kcfg_flags fl = { .context = "x" };
	struct kerr e;

	(void)state;
	in_cluster_env("10.96.0.1");
	/* a context asked for by name does not fall back to in-cluster */
	load_fails(&fl, KERR_CONFIG, &e);
	assert_msg_has(&e, "context 'x' not found");
	/* no token file, no in-cluster */
	assert_int_equal(unlink(P("sa/token")), 0);
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "no kubeconfig");
	/* no port, no in-cluster */
	wfile("sa/token", "t\n");
	unsetenv("KUBERNETES_SERVICE_PORT");
	load_fails(NULL, KERR_CONFIG, &e);
	assert_msg_has(&e, "no kubeconfig");
}

/* ---- context names ---------------------------------------------------------------------- */

static void test_context_names(void **state)
{
	struct kcfg_flags fl = { .kubeconfig = NULL };
	char **names;
	struct kerr e = KERR_INIT;
	char list[1200];

	(void)state;
	wfile("a/config", merge_a);
	wfile("b/config", merge_b);
	snprintf(list, sizeof(list), "%s:%s", P("a/config"), P("b/config"));
	setenv("KUBECONFIG", list, 1);
	assert_int_equal(kcfg_context_names(NULL, &names, &e), 0);
	assert_non_null(names);
	assert_string_equal(names[0], "ctx1");
	assert_string_equal(names[1], "ctx2");
	assert_null(names[2]);
	kcfg_names_free(names);

	fl.kubeconfig = P("a/config");
	assert_int_equal(kcfg_context_names(&fl, &names, &e), 0);
	assert_string_equal(names[0], "ctx1");
	assert_null(names[1]);
	kcfg_names_free(names);

	/* nothing at all: an empty list */
	unsetenv("KUBECONFIG");
	assert_int_equal(kcfg_context_names(NULL, &names, &e), 0);
	assert_null(names[0]);
	kcfg_names_free(names);

	/* a malformed file is an error */
	wfile("bad", "contexts: [\n");
	fl.kubeconfig = P("bad");
	assert_int_equal(kcfg_context_names(&fl, &names, &e), -1);
	assert_null(names);
	assert_int_equal(e.kind, KERR_CONFIG);
	assert_msg_has(&e, P("bad"));
	kcfg_names_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_single_file),
		TEST(test_single_file_other_context),
		TEST(test_basic_auth),
		TEST(test_kubeconfig_env_single),
		TEST(test_merge_two_first_wins),
		TEST(test_merge_context_first_wins),
		TEST(test_merge_three_files),
		TEST(test_merge_empty_entries_and_missing_files),
		TEST(test_merge_all_missing),
		TEST(test_no_kubeconfig_at_all),
		TEST(test_malformed_second_file),
		TEST(test_malformed_yaml),
		TEST(test_not_a_kubeconfig),
		TEST(test_duplicate_name_in_one_file),
		TEST(test_relative_paths),
		TEST(test_relative_exec_command),
		TEST(test_explicit_kubeconfig_missing),
		TEST(test_explicit_kubeconfig_only_that_file),
		TEST(test_override_cluster_and_user),
		TEST(test_unknown_context),
		TEST(test_unknown_cluster),
		TEST(test_unknown_user),
		TEST(test_current_context_dangling),
		TEST(test_no_current_context),
		TEST(test_context_without_cluster),
		TEST(test_context_without_user),
		TEST(test_context_dangling_cluster),
		TEST(test_context_dangling_user),
		TEST(test_cluster_without_server),
		TEST(test_bad_base64_ca),
		TEST(test_bad_base64_client_cert),
		TEST(test_bad_base64_client_key),
		TEST(test_cert_without_key),
		TEST(test_key_without_cert),
		TEST(test_cert_file_and_data),
		TEST(test_missing_cert_file),
		TEST(test_missing_ca_file),
		TEST(test_token_and_basic_auth),
		TEST(test_token_beats_token_file),
		TEST(test_token_file_unreadable),
		TEST(test_http_server_with_token_refused),
		TEST(test_server_without_scheme),
		TEST(test_insecure_and_ca),
		TEST(test_ca_file_and_data),
		TEST(test_bad_proxy_url),
		TEST(test_auth_provider_refused),
		TEST(test_wrong_types),
		TEST(test_numeric_names),
		TEST(test_exec_stanza),
		TEST(test_exec_stanza_invalid),
		TEST(test_exec_http_refused),
		TEST(test_namespace_resolution),
		TEST(test_timeout_good),
		TEST(test_timeout_bad),
		TEST(test_timeout_through_load),
		TEST(test_in_cluster),
		TEST(test_in_cluster_ipv6_and_overrides),
		TEST(test_in_cluster_namespace_fallbacks),
		TEST(test_in_cluster_empty_kubeconfig),
		TEST(test_in_cluster_not_possible),
		TEST(test_context_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

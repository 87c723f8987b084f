/* test_exec_cred.c — kexec_get against small /bin/sh plugins written at run
 * time into a private temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec_cred.h"
#include "kubeconfig.h"
#include "fixture.h"

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"
#define CA_B64 "Q0EtUEVNCg==" /* "CA-PEM\n" */

/* 2030-01-01T00:00:00Z */
#define T2030 ((time_t)1893456000)

static char *saved_path;

#define P fx_path
#define wfile_mode fx_write
#define slurp fx_slurp

/* A /bin/sh plugin; its output directory is $OUTDIR (from the stanza env). */
static void wscript(const char *rel, const char *body)
{
	char text[8192];

	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	wfile_mode(rel, text, 0755);
}

static int group_setup(void **state)
{
	const char *path = getenv("PATH");

	(void)state;
	saved_path = strdup(path ? path : "/usr/bin:/bin");
	if (!saved_path)
		return -1;
	return fx_open_root("exec");
}

static int group_teardown(void **state)
{
	(void)state;
	setenv("PATH", saved_path, 1);
	free(saved_path);
	return fx_close_root();
}

static int setup(void **state)
{
	(void)state;
	if (fx_new_dir())
		return -1;
	fx_kube_env();
	setenv("PATH", saved_path, 1);
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, NULL)


/*
 * Write a kubeconfig whose user runs `command` with apiVersion `api`;
 * `exec_extra` adds lines to the exec stanza (6-space indent), and
 * `cluster_extra` to the cluster. Load it into *c.
 */
static void load_with(struct kcfg *c, const char *api, const char *command, const char *exec_extra,
		      const char *cluster_extra)
{
	char text[8192];
	struct kcfg_flags fl = { .kubeconfig = NULL };
	struct kerr e = KERR_INIT;

	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
		 "clusters:\n- name: c\n  cluster:\n    server: https://k.example:6443\n%s"
		 "users:\n- name: u\n  user:\n    exec:\n"
		 "      apiVersion: %s\n"
		 "      command: '%s'\n"
		 "      env:\n      - {name: OUTDIR, value: '%s'}\n"
		 "%s"
		 "contexts:\n- name: x\n  context: {cluster: c, user: u}\n",
		 cluster_extra ? cluster_extra : "", api, command, fx_dir(), exec_extra ? exec_extra : "");
	wfile_mode("kc", text, 0644);
	fl.kubeconfig = P("kc");
	if (kcfg_load(c, &fl, &e))
		fail_msg("kcfg_load: %s", e.msg);
}

/* A plugin that prints `json` (a here-document, so quotes are fine). */
static void printing_plugin(const char *rel, const char *json)
{
	char body[4096];

	snprintf(body, sizeof(body), "cat <<'EOF'\n%s\nEOF\n", json);
	wscript(rel, body);
}

/* Run the plugin of kubeconfig `c` expecting failure of `kind`. */
static void get_fails(struct kcfg *c, bool tty, enum kerr_kind kind, struct kerr *e)
{
	struct kcred cred;

	kerr_clear(e);
	assert_int_equal(kexec_get(c, tty, &cred, e), -1);
	assert_int_equal(e->kind, kind);
	assert_null(cred.token);
	assert_int_equal(cred.cert.len, 0);
	if (strchr(e->msg, '\n'))
		fail_msg("message has a newline: '%s'", e->msg);
	kcred_release(&cred);
}

static cJSON *read_info(void)
{
	char *s = slurp("info.json");
	cJSON *j;

	assert_non_null(s);
	j = cJSON_Parse(s);
	free(s);
	assert_non_null(j);
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* ---- success --------------------------------------------------------------------- */

static const char recording_body[] =
	"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUTDIR/info.json\"\n"
	"printf '%s\\n' \"$@\" > \"$OUTDIR/args\"\n"
	"printf '%s|%s' \"$MY_VAR\" \"$PARENT_ONLY\" > \"$OUTDIR/env\"\n"
	"if read -r line; then echo has-stdin; else echo no-stdin; fi > \"$OUTDIR/stdin\"\n"
	"cat <<'EOF'\n"
	"{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	"\"status\":{\"token\":\"tok-123\"}}\n"
	"EOF\n";

static void test_token_success(void **state)
{
	struct kcfg c;
	struct kcred cred;
	struct kerr e = KERR_INIT;
	cJSON *info, *spec, *cl;
	char *s;

	(void)state;
	wscript("plugin.sh", recording_body);
	setenv("MY_VAR", "from-parent", 1);
	setenv("PARENT_ONLY", "kept", 1);
	setenv("KUBERNETES_EXEC_INFO", "stale", 1);
	load_with(&c, V1, P("plugin.sh"),
		  "      - {name: MY_VAR, value: from-stanza}\n"
		  "      args: [get-token, '--name', 'two words']\n"
		  "      interactiveMode: Never\n"
		  "      provideClusterInfo: true\n",
		  "    certificate-authority-data: " CA_B64 "\n"
		  "    tls-server-name: kube.internal\n"
		  "    proxy-url: http://proxy:3128\n"
		  "    disable-compression: true\n");
	if (kexec_get(&c, true, &cred, &e))
		fail_msg("kexec_get: %s", e.msg);
	assert_string_equal(cred.token, "tok-123");
	assert_int_equal(cred.cert.len, 0);
	assert_int_equal(cred.expiry, 0);
	assert_true(kcred_valid(&cred, time(NULL)));

	info = read_info();
	assert_string_equal(jstr(info, "kind"), "ExecCredential");
	assert_string_equal(jstr(info, "apiVersion"), V1);
	spec = cJSON_GetObjectItemCaseSensitive(info, "spec");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(spec, "interactive")));
	cl = cJSON_GetObjectItemCaseSensitive(spec, "cluster");
	assert_non_null(cl);
	assert_string_equal(jstr(cl, "server"), "https://k.example:6443");
	assert_string_equal(jstr(cl, "tls-server-name"), "kube.internal");
	assert_string_equal(jstr(cl, "certificate-authority-data"), CA_B64);
	assert_string_equal(jstr(cl, "proxy-url"), "http://proxy:3128");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cl, "disable-compression")));
	assert_null(cJSON_GetObjectItemCaseSensitive(cl, "insecure-skip-tls-verify"));
	cJSON_Delete(info);

	s = slurp("args");
	assert_string_equal(s, "get-token\n--name\ntwo words\n");
	free(s);
	s = slurp("env");
	assert_string_equal(s, "from-stanza|kept");
	free(s);
	s = slurp("stdin");
	assert_string_equal(s, "no-stdin\n");
	free(s);
	kcred_release(&cred);
	assert_null(cred.token);
	kcfg_release(&c);
	unsetenv("MY_VAR");
	unsetenv("PARENT_ONLY");
}

static void test_cert_key_success(void **state)
{
	struct kcfg c;
	struct kcred cred;
	struct kerr e = KERR_INIT;
	cJSON *info, *spec;

	(void)state;
	wscript("plugin.sh",
		"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUTDIR/info.json\"\n"
		"cat <<'EOF'\n"
		"{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{"
		"\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nAAA\\n-----END CERTIFICATE-----\\n\","
		"\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\nBBB\\n-----END PRIVATE KEY-----\\n\"}}\n"
		"EOF\n");
	load_with(&c, V1BETA1, P("plugin.sh"), NULL, NULL);
	assert_int_equal(c.exec->interactive, KCFG_INTERACTIVE_IF_AVAILABLE);
	if (kexec_get(&c, false, &cred, &e))
		fail_msg("kexec_get: %s", e.msg);
	assert_null(cred.token);
	assert_string_equal(cred.cert.s, "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n");
	assert_string_equal(cred.key.s, "-----BEGIN PRIVATE KEY-----\nBBB\n-----END PRIVATE KEY-----\n");
	assert_true(kcred_valid(&cred, time(NULL)));
	/* v1beta1, no cluster info asked for, IfAvailable without a terminal */
	info = read_info();
	assert_string_equal(jstr(info, "apiVersion"), V1BETA1);
	spec = cJSON_GetObjectItemCaseSensitive(info, "spec");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(spec, "interactive")));
	assert_null(cJSON_GetObjectItemCaseSensitive(spec, "cluster"));
	cJSON_Delete(info);
	kcred_release(&cred);
	assert_int_equal(cred.key.len, 0);
	kcfg_release(&c);
}

static void test_bare_command_on_path(void **state)
{
	struct kcfg c;
	struct kcred cred;
	struct kerr e = KERR_INIT;
	char path[2048];

	(void)state;
	printing_plugin("bin/cclm-test-credential",
			"{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
			"\"status\":{\"token\":\"from-path\"}}");
	snprintf(path, sizeof(path), "%s:%s", P("bin"), saved_path);
	setenv("PATH", path, 1);
	load_with(&c, V1, "cclm-test-credential", "      interactiveMode: Never\n", NULL);
	assert_string_equal(c.exec->command, "cclm-test-credential");
	if (kexec_get(&c, false, &cred, &e))
		fail_msg("kexec_get: %s", e.msg);
	assert_string_equal(cred.token, "from-path");
	kcred_release(&cred);
	kcfg_release(&c);
}

/* ---- expiry ---------------------------------------------------------------------- */

static void run_with_expiry(const char *ts, struct kcred *cred)
{
	char json[512];
	struct kcfg c;
	struct kerr e = KERR_INIT;

	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		 "\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"%s\"}}",
		 ts);
	printing_plugin("plugin.sh", json);
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	if (kexec_get(&c, false, cred, &e))
		fail_msg("kexec_get (%s): %s", ts, e.msg);
	kcfg_release(&c);
}

static void test_expiry_past(void **state)
{
	struct kcred cred;

	(void)state;
	run_with_expiry("2001-02-03T04:05:06Z", &cred);
	assert_int_equal(cred.expiry, 981173106);
	assert_false(kcred_valid(&cred, time(NULL)));
	kcred_release(&cred);
}

static void test_expiry_future(void **state)
{
	struct kcred cred;

	(void)state;
	run_with_expiry("2099-12-31T23:59:59Z", &cred);
	assert_true(kcred_valid(&cred, time(NULL)));
	kcred_release(&cred);
}

static void test_expiry_formats(void **state)
{
	static const char *const same[] = {
		"2030-01-01T00:00:00Z",
		"2030-01-01T01:00:00+01:00",
		"2029-12-31T19:00:00-05:00",
		"2030-01-01T00:00:00.123456789Z",
		"2030-01-01t00:00:00z",
		"2030-01-01T05:30:00.5+05:30",
	};
	struct kcred cred;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		run_with_expiry(same[i], &cred);
		if (cred.expiry != T2030)
			fail_msg("'%s' gave %lld", same[i], (long long)cred.expiry);
		assert_true(kcred_valid(&cred, T2030 - 11));
		assert_false(kcred_valid(&cred, T2030 - 10)); /* the 10 s margin */
		kcred_release(&cred);
	}
}

static void test_expiry_invalid(void **state)
{
	static const char *const bad[] = {
		"tomorrow", "2030-01-01", "2030-01-01T00:00:00", "2030-02-30T00:00:00Z", "2030-13-01T00:00:00Z",
		"2030-01-01T24:00:00Z", "2030-01-01T00:00:00+0100", "2030-01-01T00:00:00.Z", "2030-01-01T00:00:00Zjunk",
	};
	char json[512];
	struct kcfg c;
	struct kerr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
			 "\"status\":{\"token\":\"secret-tok\",\"expirationTimestamp\":\"%s\"}}",
			 bad[i]);
		printing_plugin("plugin.sh", json);
		load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
		get_fails(&c, false, KERR_CRED, &e);
		assert_msg_has(&e, "invalid expirationTimestamp");
		assert_null(strstr(e.msg, "secret-tok"));
		kcfg_release(&c);
	}
}

static void test_kcred_valid(void **state)
{
	struct kcred c = { NULL, BUF_INIT, BUF_INIT, 0 };
	char tok[] = "t";

	(void)state;
	assert_false(kcred_valid(NULL, 0));
	assert_false(kcred_valid(&c, 1000)); /* nothing in it */
	c.token = tok;
	assert_true(kcred_valid(&c, 1000));
	c.expiry = 1000;
	assert_false(kcred_valid(&c, 995));
	assert_true(kcred_valid(&c, 989));
	assert_false(kcred_valid(&c, 2000));
}

/* ---- failures -------------------------------------------------------------------- */

static void test_nonzero_exit(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	wscript("plugin.sh", "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
			     "\"status\":{\"token\":\"tok-secret\"}}'\nexit 3\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "failed with exit code 3");
	assert_msg_has(&e, P("plugin.sh"));
	assert_msg_has(&e, "of user 'u'");
	assert_null(strstr(e.msg, "tok-secret"));
	kcfg_release(&c);
}

static void test_killed_by_signal(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	wscript("plugin.sh", "kill -9 $$\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "killed by signal 9");
	kcfg_release(&c);
}

static void test_bad_json(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	wscript("plugin.sh", "echo 'token: tok-secret is not json'\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "not valid JSON");
	assert_msg_has(&e, "exec plugin");
	assert_null(strstr(e.msg, "tok-secret"));
	kcfg_release(&c);
	/* empty output */
	wscript("plugin.sh", "exit 0\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "empty");
	kcfg_release(&c);
	/* JSON, but not an object */
	printing_plugin("plugin.sh", "[\"tok-secret\"]");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "did not write an ExecCredential");
	assert_null(strstr(e.msg, "tok-secret"));
	kcfg_release(&c);
}

static void test_wrong_kind(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Secret\","
				     "\"status\":{\"token\":\"tok-secret\"}}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "did not write an ExecCredential (kind 'Secret')");
	kcfg_release(&c);
}

static void test_wrong_api_version(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
				     "\"status\":{\"token\":\"tok-secret\"}}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "returned apiVersion 'client.authentication.k8s.io/v1beta1', expected "
			   "'client.authentication.k8s.io/v1'");
	assert_null(strstr(e.msg, "tok-secret"));
	kcfg_release(&c);
}

static void test_missing_status(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "without status");
	kcfg_release(&c);
	/* a status with nothing usable */
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
				     "\"status\":{\"token\":\"\"}}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "neither a token nor a client certificate");
	kcfg_release(&c);
}

static void test_cert_without_key(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
				     "\"status\":{\"clientCertificateData\":\"CERT\"}}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "returned clientCertificateData without clientKeyData");
	kcfg_release(&c);
	printing_plugin("plugin.sh", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
				     "\"status\":{\"token\":\"t\",\"clientKeyData\":\"KEY\"}}");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "returned clientKeyData without clientCertificateData");
	kcfg_release(&c);
}

static void test_missing_binary_with_hint(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	load_with(&c, V1, "cclm-no-such-credential-plugin",
		  "      interactiveMode: Never\n"
		  "      installHint: |\n"
		  "        cclm-no-such-credential-plugin is required.\n"
		  "        Install it with: apt install cclm-plugin\n",
		  NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "exec plugin 'cclm-no-such-credential-plugin' of user 'u' not found: "
			   "cclm-no-such-credential-plugin is required. Install it with: apt install cclm-plugin");
	kcfg_release(&c);
}

static void test_missing_binary_without_hint(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	load_with(&c, V1, "./nope/plugin", "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "not found");
	assert_msg_has(&e, P("./nope/plugin"));
	kcfg_release(&c);
}

static void test_not_executable(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	wfile_mode("plugin.sh", "#!/bin/sh\necho {}\n", 0644);
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "cannot run exec plugin");
	assert_msg_has(&e, "Permission denied");
	kcfg_release(&c);
}

static void test_output_too_large(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	wscript("plugin.sh", "head -c 3000000 /dev/zero | tr '\\0' x\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Never\n", NULL);
	get_fails(&c, false, KERR_LIMIT, &e);
	assert_msg_has(&e, "more than 1 MiB");
	kcfg_release(&c);
}

/* ---- interactive ----------------------------------------------------------------------- */

static void test_interactive_always_without_tty(void **state)
{
	struct kcfg c;
	struct kcred cred;
	struct kerr e = KERR_INIT;
	cJSON *info;

	(void)state;
	wscript("plugin.sh",
		"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUTDIR/info.json\"\n"
		"echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		"\"status\":{\"token\":\"t\"}}'\n");
	load_with(&c, V1, P("plugin.sh"), "      interactiveMode: Always\n", NULL);
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "needs a terminal");
	assert_msg_has(&e, "standard input is not a terminal");
	assert_int_equal(access(P("info.json"), F_OK), -1); /* never started */

	/* with a terminal it runs, and is told it is interactive */
	if (kexec_get(&c, true, &cred, &e))
		fail_msg("kexec_get: %s", e.msg);
	info = read_info();
	assert_true(cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(info, "spec"), "interactive")));
	cJSON_Delete(info);
	kcred_release(&cred);
	kcfg_release(&c);
}

static void test_interactive_modes(void **state)
{
	static const struct {
		const char *mode;
		bool tty;
		bool want;
	} cases[] = {
		{ "Never", true, false },
		{ "IfAvailable", true, true },
		{ "IfAvailable", false, false },
	};
	char extra[100];
	struct kcfg c;
	struct kcred cred;
	struct kerr e = KERR_INIT;
	cJSON *info;
	size_t i;

	(void)state;
	wscript("plugin.sh",
		"printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUTDIR/info.json\"\n"
		"echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		"\"status\":{\"token\":\"t\"}}'\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(extra, sizeof(extra), "      interactiveMode: %s\n", cases[i].mode);
		load_with(&c, V1, P("plugin.sh"), extra, NULL);
		if (kexec_get(&c, cases[i].tty, &cred, &e))
			fail_msg("kexec_get: %s", e.msg);
		info = read_info();
		assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
					 cJSON_GetObjectItemCaseSensitive(info, "spec"), "interactive")),
				 cases[i].want);
		cJSON_Delete(info);
		kcred_release(&cred);
		kcfg_release(&c);
	}
}

static void test_no_exec_stanza(void **state)
{
	struct kcfg c;
	struct kerr e;

	(void)state;
	memset(&c, 0, sizeof(c));
	get_fails(&c, false, KERR_CRED, &e);
	assert_msg_has(&e, "no exec credential plugin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_token_success),
		TEST(test_cert_key_success),
		TEST(test_bare_command_on_path),
		TEST(test_expiry_past),
		TEST(test_expiry_future),
		TEST(test_expiry_formats),
		TEST(test_expiry_invalid),
		TEST(test_kcred_valid),
		TEST(test_nonzero_exit),
		TEST(test_killed_by_signal),
		TEST(test_bad_json),
		TEST(test_wrong_kind),
		TEST(test_wrong_api_version),
		TEST(test_missing_status),
		TEST(test_cert_without_key),
		TEST(test_missing_binary_with_hint),
		TEST(test_missing_binary_without_hint),
		TEST(test_not_executable),
		TEST(test_output_too_large),
		TEST(test_interactive_always_without_tty),
		TEST(test_interactive_modes),
		TEST(test_no_exec_stanza),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* exec_cred.c — see exec_cred.h. */
#include "exec_cred.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

extern char **environ;

/* The most a plugin may write on stdout. */
#define EXEC_OUT_MAX ((size_t)1 << 20)
/* How long a plugin may run before it is killed: a minute, or five when it
 * talks to the user (a password prompt, a browser login). */
#define EXEC_TIMEOUT_MS 60000L
#define EXEC_TIMEOUT_INTERACTIVE_MS 300000L
/* Credentials count as expired this many seconds early. */
#define EXPIRY_MARGIN_S 10

#define EXEC_INFO_VAR "KUBERNETES_EXEC_INFO"

static int nomem(struct kerr *e)
{
	return kerr_set(e, KERR_NOMEM, "out of memory");
}

static void buf_release_secret(struct buf *b)
{
	if (b->alloc && b->s)
		explicit_bzero(b->s, b->alloc);
	buf_release(b);
}

void kcred_release(struct kcred *c)
{
	if (!c)
		return;
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = NULL;
	buf_release(&c->cert);
	buf_release_secret(&c->key);
	c->expiry = 0;
}

bool kcred_valid(const struct kcred *c, time_t now)
{
	if (!c || (!c->token && !c->cert.len))
		return false;
	if (!c->expiry)
		return true;
	return now + EXPIRY_MARGIN_S < c->expiry;
}

/* ---- the request: KUBERNETES_EXEC_INFO ------------------------------------ */

static char *exec_info(const struct kcfg *cfg, bool interactive, struct kerr *e)
{
	cJSON *root, *spec, *cl;
	struct buf ca = BUF_INIT;
	bool ok = true;
	char *text = NULL;

	root = cJSON_CreateObject();
	if (!root) {
		nomem(e);
		return NULL;
	}
	ok &= cJSON_AddStringToObject(root, "kind", "ExecCredential") != NULL;
	ok &= cJSON_AddStringToObject(root, "apiVersion", cfg->exec->api_version) != NULL;
	spec = cJSON_AddObjectToObject(root, "spec");
	ok &= spec != NULL;
	if (spec)
		ok &= cJSON_AddBoolToObject(spec, "interactive", interactive) != NULL;
	if (spec && cfg->exec->provide_cluster_info) {
		cl = cJSON_AddObjectToObject(spec, "cluster");
		ok &= cl != NULL;
		if (cl) {
			ok &= cJSON_AddStringToObject(cl, "server", cfg->server ? cfg->server : "") != NULL;
			if (cfg->tls_server_name)
				ok &= cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name) != NULL;
			if (cfg->insecure)
				ok &= cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true) != NULL;
			if (cfg->ca.len) {
				if (b64_encode(cfg->ca.s, cfg->ca.len, &ca, e)) {
					cJSON_Delete(root);
					buf_release(&ca);
					return NULL;
				}
				ok &= cJSON_AddStringToObject(cl, "certificate-authority-data", ca.s) != NULL;
			}
			if (cfg->proxy_url)
				ok &= cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url) != NULL;
			if (cfg->disable_compression)
				ok &= cJSON_AddBoolToObject(cl, "disable-compression", true) != NULL;
		}
	}
	if (ok)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	buf_release(&ca);
	if (!text)
		nomem(e);
	return text;
}

/* ---- running the plugin ---------------------------------------------------- */

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool same_name(const char *a, const char *b)
{
	size_t n = name_len(a);

	return n == name_len(b) && !strncmp(a, b, n);
}

/* environ + the stanza's env + KUBERNETES_EXEC_INFO; a later setting of a
 * name replaces an earlier one. The array is new; its strings are borrowed
 * except `info_entry`, which the caller frees too. */
static char **build_env(const struct kcfg_exec *x, const char *info_entry)
{
	size_t n = 0, i, j, k = 0;
	char **envp;
	bool dup;

	while (environ && environ[n])
		n++;
	envp = calloc(n + x->nenv + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (i = 0; i < n; i++) {
		dup = same_name(environ[i], info_entry);
		for (j = 0; j < x->nenv && !dup; j++)
			dup = same_name(environ[i], x->env[j]);
		if (!dup)
			envp[k++] = environ[i];
	}
	for (i = 0; i < x->nenv; i++) {
		dup = same_name(x->env[i], info_entry);
		for (j = i + 1; j < x->nenv && !dup; j++)
			dup = same_name(x->env[i], x->env[j]);
		if (!dup)
			envp[k++] = x->env[i];
	}
	envp[k++] = (char *)info_entry;
	envp[k] = NULL;
	return envp;
}

/* Move a descriptor above stderr, so that the dup2()s in the child cannot
 * clobber it. -1 on failure (the original is closed either way). */
static int above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The child: set up stdio and exec; report an exec failure's errno on
 * `status_fd`. Only async-signal-safe calls from here on. */
static void __attribute__((noreturn)) child(char **argv, char **envp, int in_fd, int out_fd, int status_fd)
{
	struct sigaction sa;
	sigset_t none;
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((in_fd >= 0 && dup2(in_fd, STDIN_FILENO) < 0) || dup2(out_fd, STDOUT_FILENO) < 0) {
		err = errno;
		goto fail;
	}
	execvpe(argv[0], argv, envp);
	err = errno;
fail:
	while (write(status_fd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

enum run_result { RUN_OK, RUN_EXEC_FAILED, RUN_TIMEOUT, RUN_TOO_BIG, RUN_ERROR };

struct run {
	enum run_result result;
	int exec_errno; /* RUN_EXEC_FAILED */
	int status;     /* wait status, RUN_OK */
	int err;        /* errno, RUN_ERROR */
	struct buf out; /* stdout */
};

/* Read stdout until EOF or the deadline; then reap the child. */
static void collect(struct run *r, pid_t pid, int out_fd, long deadline)
{
	char tmp[8192];
	struct pollfd pfd = { out_fd, POLLIN, 0 };
	struct timespec nap = { 0, 5 * 1000000L };
	ssize_t n;
	long left;
	pid_t w;
	int pr;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			r->result = RUN_TIMEOUT;
			goto kill_it;
		}
		pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			r->result = RUN_ERROR;
			r->err = errno;
			goto kill_it;
		}
		if (pr == 0)
			continue;
		n = read(out_fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			r->result = RUN_ERROR;
			r->err = errno;
			goto kill_it;
		}
		if (n == 0)
			break;
		if (buf_add(&r->out, tmp, (size_t)n)) {
			r->result = errno == EFBIG ? RUN_TOO_BIG : RUN_ERROR;
			r->err = errno;
			goto kill_it;
		}
	}
	explicit_bzero(tmp, sizeof(tmp));
	/* stdout is closed; the child should be exiting */
	for (;;) {
		w = waitpid(pid, &r->status, WNOHANG);
		if (w == pid) {
			r->result = RUN_OK;
			return;
		}
		if (w < 0 && errno != EINTR) {
			r->result = RUN_ERROR;
			r->err = errno;
			return;
		}
		if (now_ms() >= deadline) {
			r->result = RUN_TIMEOUT;
			goto kill_it;
		}
		nanosleep(&nap, NULL);
	}
kill_it:
	explicit_bzero(tmp, sizeof(tmp));
	kill(pid, SIGKILL);
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
}

static int run_plugin(const struct kcfg *cfg, bool interactive, const char *info, struct run *r,
		      const char *who, struct kerr *e)
{
	const struct kcfg_exec *x = cfg->exec;
	char **argv = NULL, **envp = NULL, *info_entry = NULL;
	int outp[2] = { -1, -1 }, statp[2] = { -1, -1 }, in_fd = -1, err;
	struct buf b = BUF_INIT;
	ssize_t n;
	size_t i;
	pid_t pid;
	int ret = -1;

	if (buf_addf(&b, "%s=%s", EXEC_INFO_VAR, info)) {
		buf_release(&b);
		return nomem(e);
	}
	info_entry = buf_detach(&b, NULL);
	argv = calloc(x->nargs + 2, sizeof(*argv));
	if (!info_entry || !argv)
		goto oom;
	argv[0] = x->command;
	for (i = 0; i < x->nargs; i++)
		argv[i + 1] = x->args[i];
	envp = build_env(x, info_entry);
	if (!envp)
		goto oom;

	if (pipe2(outp, O_CLOEXEC) || pipe2(statp, O_CLOEXEC)) {
		kerr_set(e, KERR_IO, "cannot run exec plugin %s: %s", who, strerror(errno));
		goto out;
	}
	if (!interactive) {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in_fd < 0) {
			kerr_set(e, KERR_IO, "cannot open /dev/null: %s", strerror(errno));
			goto out;
		}
	}
	outp[0] = above_stdio(outp[0]);
	outp[1] = above_stdio(outp[1]);
	statp[0] = above_stdio(statp[0]);
	statp[1] = above_stdio(statp[1]);
	in_fd = interactive ? -1 : above_stdio(in_fd);
	if (outp[0] < 0 || outp[1] < 0 || statp[0] < 0 || statp[1] < 0 || (!interactive && in_fd < 0)) {
		kerr_set(e, KERR_IO, "cannot run exec plugin %s: %s", who, strerror(errno));
		goto out;
	}

	pid = fork();
	if (pid < 0) {
		kerr_set(e, KERR_IO, "cannot run exec plugin %s: %s", who, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, envp, in_fd, outp[1], statp[1]);

	close(outp[1]);
	close(statp[1]);
	outp[1] = statp[1] = -1;
	do
		n = read(statp[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(err)) {
		r->result = RUN_EXEC_FAILED;
		r->exec_errno = err;
		while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
			;
	} else {
		collect(r, pid, outp[0],
			now_ms() + (interactive ? EXEC_TIMEOUT_INTERACTIVE_MS : EXEC_TIMEOUT_MS));
	}
	ret = 0;
	goto out;
oom:
	nomem(e);
out:
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (statp[0] >= 0)
		close(statp[0]);
	if (statp[1] >= 0)
		close(statp[1]);
	if (in_fd >= 0)
		close(in_fd);
	free(argv);
	free(envp);
	if (info_entry) {
		explicit_bzero(info_entry, strlen(info_entry));
		free(info_entry);
	}
	return ret;
}

/* ---- the response: an ExecCredential --------------------------------------- */

static int digits(const char **s, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

/* RFC 3339: 2006-01-02T15:04:05[.999999999](Z|±07:00). */
static int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm, back;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
		return -1;
	if (*s != 'T' && *s != 't')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* reject days a month does not have (timegm would roll them over) */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	t -= sign * (oh * 3600 + om * 60);
	*out = t;
	return 0;
}

/* A string member of status: 0 (absent or empty: *out NULL), or -1 when it
 * is not a string. */
static int status_str(const cJSON *status, const char *key, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(status, key);

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it))
		return -1;
	if (*it->valuestring)
		*out = it->valuestring;
	return 0;
}

static int parse_credential(const struct kcfg *cfg, const struct buf *text, const char *who, struct kcred *out,
			    struct kerr *e)
{
	const char *api = cfg->exec->api_version, *kind, *got_api;
	const char *token, *cert, *key, *exp;
	const cJSON *status;
	char what[600];
	cJSON *root;
	int ret = -1;

	snprintf(what, sizeof(what), "the output of exec plugin %s", who);
	root = json_parse(text->s, text->len, what, e);
	if (!root) {
		if (e && e->kind == KERR_PARSE)
			e->kind = KERR_CRED;
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		kerr_set(e, KERR_CRED, "exec plugin %s did not write an ExecCredential (not a JSON object)", who);
		goto out;
	}
	kind = json_str(root, "kind", NULL);
	if (!kind || strcmp(kind, "ExecCredential")) {
		kerr_set(e, KERR_CRED, "exec plugin %s did not write an ExecCredential (kind '%.64s')", who,
			 kind ? kind : "");
		goto out;
	}
	got_api = json_str(root, "apiVersion", NULL);
	if (!got_api || strcmp(got_api, api)) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned apiVersion '%.80s', expected '%s'", who,
			 got_api ? got_api : "", api);
		goto out;
	}
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!status || cJSON_IsNull(status)) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned an ExecCredential without status", who);
		goto out;
	}
	if (!cJSON_IsObject(status)) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned a status that is not an object", who);
		goto out;
	}
	if (status_str(status, "token", &token) || status_str(status, "clientCertificateData", &cert) ||
	    status_str(status, "clientKeyData", &key) || status_str(status, "expirationTimestamp", &exp)) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned a status with a field that is not a string", who);
		goto out;
	}
	if (!!cert != !!key) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned %s without %s", who,
			 cert ? "clientCertificateData" : "clientKeyData", cert ? "clientKeyData" : "clientCertificateData");
		goto out;
	}
	if (!token && !cert) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned neither a token nor a client certificate and key", who);
		goto out;
	}
	if (exp && parse_rfc3339(exp, &out->expiry)) {
		kerr_set(e, KERR_CRED, "exec plugin %s returned an invalid expirationTimestamp '%.64s' (want RFC 3339)",
			 who, exp);
		goto out;
	}
	if (token && !(out->token = strdup(token))) {
		nomem(e);
		goto out;
	}
	if (cert && (buf_addstr(&out->cert, cert) || buf_addstr(&out->key, key))) {
		nomem(e);
		goto out;
	}
	ret = 0;
out:
	if (root) {
		/* scrub the secrets in the tree before it goes */
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
		const cJSON *it;

		if (!cJSON_IsObject(st))
			st = NULL;
		cJSON_ArrayForEach(it, st)
			if (cJSON_IsString(it) && it->valuestring)
				explicit_bzero(it->valuestring, strlen(it->valuestring));
		cJSON_Delete(root);
	}
	return ret;
}

/* installHint on one line (messages are one line). */
static void one_line(const char *in, char *out, size_t size)
{
	size_t k = 0;
	bool space = false;

	for (; *in && k + 1 < size; in++) {
		if (isspace((unsigned char)*in)) {
			space = k > 0;
			continue;
		}
		if (space && k + 2 < size)
			out[k++] = ' ';
		space = false;
		out[k++] = *in;
	}
	out[k] = '\0';
}

int kexec_get(const struct kcfg *cfg, bool stdin_tty, struct kcred *out, struct kerr *e)
{
	const struct kcfg_exec *x;
	struct run r;
	char who[400], hint[512];
	char *info = NULL;
	bool interactive;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&out->cert, 0);
	buf_init(&out->key, 0);
	if (!cfg || !cfg->exec || !cfg->exec->command || !cfg->exec->api_version)
		return kerr_set(e, KERR_CRED, "user '%s' has no exec credential plugin",
				cfg && cfg->user_name ? cfg->user_name : "");
	x = cfg->exec;
	if (cfg->user_name)
		snprintf(who, sizeof(who), "'%s' of user '%s'", x->command, cfg->user_name);
	else
		snprintf(who, sizeof(who), "'%s'", x->command);

	switch (x->interactive) {
	case KCFG_INTERACTIVE_NEVER:
		interactive = false;
		break;
	case KCFG_INTERACTIVE_ALWAYS:
		if (!stdin_tty)
			return kerr_set(e, KERR_CRED,
					"exec plugin %s needs a terminal (interactiveMode Always), but standard input is not a terminal",
					who);
		interactive = true;
		break;
	default:
		interactive = stdin_tty;
		break;
	}

	info = exec_info(cfg, interactive, e);
	if (!info)
		return -1;
	memset(&r, 0, sizeof(r));
	buf_init(&r.out, EXEC_OUT_MAX);
	if (run_plugin(cfg, interactive, info, &r, who, e))
		goto out;

	switch (r.result) {
	case RUN_EXEC_FAILED:
		if (r.exec_errno == ENOENT && x->install_hint) {
			one_line(x->install_hint, hint, sizeof(hint));
			kerr_set(e, KERR_CRED, "exec plugin %s not found: %s", who, hint);
		} else if (r.exec_errno == ENOENT) {
			kerr_set(e, KERR_CRED, "exec plugin %s not found: install it or put it on PATH", who);
		} else {
			kerr_set(e, KERR_CRED, "cannot run exec plugin %s: %s", who, strerror(r.exec_errno));
		}
		goto out;
	case RUN_TIMEOUT:
		kerr_set(e, KERR_CRED, "exec plugin %s did not finish within %ld s and was killed", who,
			 (interactive ? EXEC_TIMEOUT_INTERACTIVE_MS : EXEC_TIMEOUT_MS) / 1000);
		goto out;
	case RUN_TOO_BIG:
		kerr_set(e, KERR_LIMIT, "exec plugin %s wrote more than 1 MiB and was killed", who);
		goto out;
	case RUN_ERROR:
		kerr_set(e, KERR_IO, "cannot read from exec plugin %s: %s", who, strerror(r.err));
		goto out;
	case RUN_OK:
		break;
	}
	if (WIFSIGNALED(r.status)) {
		kerr_set(e, KERR_CRED, "exec plugin %s was killed by signal %d (%s)", who, WTERMSIG(r.status),
			 strsignal(WTERMSIG(r.status)));
		goto out;
	}
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status)) {
		kerr_set(e, KERR_CRED, "exec plugin %s failed with exit code %d", who,
			 WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1);
		goto out;
	}
	if (parse_credential(cfg, &r.out, who, out, e))
		goto out;
	ret = 0;
out:
	buf_release_secret(&r.out);
	free(info);
	if (ret)
		kcred_release(out);
	return ret;
}

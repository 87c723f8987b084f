/* client.c — see client.h. */
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "exec_cred.h"
#include "json.h"
#include "redact.h"
#include "version.h"


#define DEFAULT_MAX_BODY (256UL << 20)
#define TOKEN_FILE_REREAD_S 60

struct kclient {
	CURL *curl;
	const struct kcfg *cfg;
	struct kclient_opts o;
	char name[256];
	char errbuf[CURL_ERROR_SIZE];
	char *connect_to_host;       /* tls-server-name routing */
	struct curl_slist *connect_to;
	struct kcred cred;           /* exec plugin credential, cached */
	bool have_cred;
	char *file_token;            /* tokenFile contents, re-read periodically */
	time_t file_token_read;
	struct kclient_stats stats;
	/* per-request state used by the curl callbacks */
	struct kresp *resp;
	int (*sink)(void *ctx, const char *data, size_t n); /* streaming body consumer */
	void *sink_ctx;
	bool over_cap;
	bool sink_stopped;
	bool watch_stopped;         /* o.stop_watches ended the stream */
	struct {                    /* kclient_write_rv: per resource, the last object written */
		const char *plural, *group;
		char rv[64];
	} written[16];
	int nwritten;
};

static void vlog(struct kclient *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void vlog(struct kclient *c, int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (!c->o.log || c->o.verbosity < level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->o.log(c->o.log_ctx, line);
}

void kresp_init(struct kresp *r)
{
	r->status = 0;
	buf_init(&r->body, 0);
	r->retry_after = -1;
	r->content_type[0] = '\0';
}

void kresp_release(struct kresp *r)
{
	buf_release(&r->body);
	kresp_init(r);
}

bool kclient_watches_stopped(const struct kclient *c)
{
	return c->o.stop_watches && *c->o.stop_watches;
}

const char *kclient_name(const struct kclient *c)
{
	return c->name;
}

const struct kcfg *kclient_config(const struct kclient *c)
{
	return c->cfg;
}

void kclient_stats(const struct kclient *c, struct kclient_stats *out)
{
	*out = c->stats;
}

/* ---- set-up -------------------------------------------------------------- */

static int set_tls_server_name(struct kclient *c, struct kerr *e)
{
	/* Route the URL's host to the real server and verify the certificate
	 * (and send SNI) for tls-server-name: curl's CONNECT_TO does exactly
	 * that when the URL names tls-server-name. */
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, line[1024];
	int rc = -1;

	if (!u || curl_url_set(u, CURLUPART_URL, c->cfg->server, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
		kerr_set(e, KERR_CONFIG, "server '%s' of context '%s' is not a valid URL", c->cfg->server, c->name);
		goto out;
	}
	snprintf(line, sizeof(line), "%s:%s:%s:%s", c->cfg->tls_server_name, port, host, port);
	c->connect_to = curl_slist_append(NULL, line);
	c->connect_to_host = strdup(c->cfg->tls_server_name);
	if (!c->connect_to || !c->connect_to_host) {
		kerr_set(e, KERR_NOMEM, "out of memory");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_CONNECT_TO, c->connect_to);
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int sockopt_cb(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	struct kclient *c = ctx;

	(void)fd;
	if (purpose == CURLSOCKTYPE_IPCXN)
		c->stats.connects++;
	return CURL_SOCKOPT_OK;
}

struct kclient *kclient_new(const struct kcfg *cfg, const struct kclient_opts *o, struct kerr *e)
{
	struct kclient *c = calloc(1, sizeof(*c));
	static char default_ua[128];

	if (!c) {
		kerr_set(e, KERR_NOMEM, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	if (o)
		c->o = *o;
	if (!c->o.max_body)
		c->o.max_body = DEFAULT_MAX_BODY;
	if (!c->o.max_retries)
		c->o.max_retries = 5;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = 10000;
	if (!c->o.user_agent) {
		snprintf(default_ua, sizeof(default_ua), "kubectl-cclm/v%s (linux) cclm/%s", cclm_version_number,
			 cclm_build_commit);
		c->o.user_agent = default_ua;
	}
	snprintf(c->name, sizeof(c->name), "%s", cfg->context_name ? cfg->context_name : cfg->server);

	if (strncmp(cfg->server, "https://", 8) && (cfg->token || cfg->token_file || cfg->exec ||
						    cfg->client_cert.len || cfg->username)) {
		kerr_set(e, KERR_CONFIG, "refusing to send credentials of context '%s' to '%s': the server must be https",
			 c->name, cfg->server);
		free(c);
		return NULL;
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		kerr_set(e, KERR_NOMEM, "cannot initialise libcurl");
		free(c);
		return NULL;
	}
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, c->o.user_agent);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(c->curl, CURLOPT_SOCKOPTDATA, c);
	if (!cfg->disable_compression)
		curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	if (cfg->insecure) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (cfg->ca.len) {
		struct curl_blob blob = { cfg->ca.s, cfg->ca.len, CURL_BLOB_COPY };

		curl_easy_setopt(c->curl, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (cfg->client_cert.len) {
		struct curl_blob cert = { cfg->client_cert.s, cfg->client_cert.len, CURL_BLOB_COPY };
		struct curl_blob key = { cfg->client_key.s, cfg->client_key.len, CURL_BLOB_COPY };

		curl_easy_setopt(c->curl, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(c->curl, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(c->curl, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (cfg->username) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, cfg->username);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
	if (cfg->proxy_url)
		curl_easy_setopt(c->curl, CURLOPT_PROXY, cfg->proxy_url);
	else
		curl_easy_setopt(c->curl, CURLOPT_NOPROXY, ""); /* still honour *_proxy variables */
	if (cfg->tls_server_name && set_tls_server_name(c, e)) {
		kclient_free(c);
		return NULL;
	}
	return c;
}

void kclient_free(struct kclient *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->connect_to);
	free(c->connect_to_host);
	kcred_release(&c->cred);
	if (c->file_token) {
		explicit_bzero(c->file_token, strlen(c->file_token));
		free(c->file_token);
	}
	free(c);
}

/* ---- credentials ------------------------------------------------------------ */

static int read_token_file(struct kclient *c, struct kerr *e)
{
	FILE *f;
	char tok[16384];
	size_t n;
	time_t now = time(NULL);

	if (c->file_token && now - c->file_token_read < TOKEN_FILE_REREAD_S)
		return 0;
	f = fopen(c->cfg->token_file, "r");
	if (!f) {
		if (c->file_token)
			return 0; /* keep the last good one */
		return kerr_set(e, KERR_CRED, "cannot read tokenFile '%s' of context '%s': %s", c->cfg->token_file,
				c->name, strerror(errno));
	}
	n = fread(tok, 1, sizeof(tok) - 1, f);
	fclose(f);
	tok[n] = '\0';
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = '\0';
	if (c->file_token) {
		explicit_bzero(c->file_token, strlen(c->file_token));
		free(c->file_token);
	}
	c->file_token = strdup(tok);
	explicit_bzero(tok, sizeof(tok));
	if (!c->file_token)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	c->file_token_read = now;
	return 0;
}

/* Set the client certificate from an exec credential when it gave one. */
static void apply_exec_cert(struct kclient *c)
{
	struct curl_blob cert = { c->cred.cert.s, c->cred.cert.len, CURL_BLOB_COPY };
	struct curl_blob key = { c->cred.key.s, c->cred.key.len, CURL_BLOB_COPY };

	if (!c->cred.cert.len)
		return;
	curl_easy_setopt(c->curl, CURLOPT_SSLCERT_BLOB, &cert);
	curl_easy_setopt(c->curl, CURLOPT_SSLCERTTYPE, "PEM");
	curl_easy_setopt(c->curl, CURLOPT_SSLKEY_BLOB, &key);
	curl_easy_setopt(c->curl, CURLOPT_SSLKEYTYPE, "PEM");
}

static int ensure_exec_cred(struct kclient *c, bool force, struct kerr *e)
{
	if (!c->cfg->exec)
		return 0;
	if (c->have_cred && !force && kcred_valid(&c->cred, time(NULL)))
		return 0;
	kcred_release(&c->cred);
	c->have_cred = false;
	if (kexec_get(c->cfg, c->o.stdin_tty, &c->cred, e)) {
		kerr_prefix(e, "context '%s'", c->name);
		return -1;
	}
	c->have_cred = true;
	apply_exec_cert(c);
	return 0;
}

/* The bearer token to send now, or NULL. */
static const char *bearer(struct kclient *c)
{
	if (c->have_cred && c->cred.token)
		return c->cred.token;
	if (c->cfg->token)
		return c->cfg->token;
	if (c->file_token && *c->file_token)
		return c->file_token;
	return NULL;
}

/* ---- one HTTP exchange ------------------------------------------------------ */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct kclient *c = ctx;
	size_t n = size * nmemb;

	if (c->sink) {
		if (c->resp->status == 0)
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->resp->status);
		if (c->resp->status >= 200 && c->resp->status < 300) {
			if (c->sink(c->sink_ctx, data, n)) {
				c->sink_stopped = true;
				return 0;
			}
			return n;
		}
	}
	if (c->resp->body.len + n > c->o.max_body) {
		c->over_cap = true;
		return 0;
	}
	if (buf_add(&c->resp->body, data, n))
		return 0;
	return n;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct kclient *c = ctx;
	size_t n = size * nmemb;
	char line[512];
	size_t l = n < sizeof(line) - 1 ? n : sizeof(line) - 1;

	memcpy(line, data, l);
	line[l] = '\0';
	while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
		line[--l] = '\0';
	if (!strncasecmp(line, "HTTP/", 5)) { /* a new response (after 100-continue or a retry) */
		c->resp->retry_after = -1;
		c->resp->content_type[0] = '\0';
	} else if (!strncasecmp(line, "Retry-After:", 12)) {
		char *end;
		long v = strtol(line + 12, &end, 10);

		if (end != line + 12 && v >= 0 && v < 3600)
			c->resp->retry_after = (int)v;
	} else if (!strncasecmp(line, "Content-Type:", 13)) {
		const char *v = line + 13;

		while (*v == ' ')
			v++;
		snprintf(c->resp->content_type, sizeof(c->resp->content_type), "%.127s", v);
	} else if (!strncasecmp(line, "Warning:", 8)) {
		vlog(c, 0, "Warning:%s", line + 8);
	}
	if (l)
		vlog(c, 8, "Response Header: %s", line);
	return n;
}

static bool is_tls_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	       rc == CURLE_SSL_ENGINE_INITFAILED || rc == CURLE_USE_SSL_FAILED;
}

static bool is_retryable_transport(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 ||
	       rc == CURLE_HTTP2_STREAM || rc == CURLE_COULDNT_RESOLVE_HOST;
}

static void transport_error(struct kclient *c, CURLcode rc, const char *url, struct kerr *e)
{
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);

	if (is_tls_error(rc)) {
		const char *ca = c->cfg->ca.len ? (c->cfg->ca_origin ? c->cfg->ca_origin : "the kubeconfig")
						: "the system's CA bundle";

		kerr_set(e, KERR_TLS, "TLS with '%s' (context '%s') failed, checked against the CA from %s: %s",
			 c->cfg->server, c->name, ca, why);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		kerr_set(e, KERR_TRANSPORT, "'%s' (context '%s') did not answer in time: %s", url, c->name, why);
	} else {
		kerr_set(e, KERR_TRANSPORT, "cannot reach '%s' (context '%s'): %s", c->cfg->server, c->name, why);
	}
}

void kclient_status_error(long http, const char *body, size_t len, struct kerr *e)
{
	cJSON *st = body && len ? json_parse(body, len, "status", NULL) : NULL;
	const char *reason = NULL, *msg = NULL;
	struct buf causes = BUF_INIT;

	if (st && !strcmp(json_str(st, "kind", ""), "Status")) {
		const cJSON *c, *list = json_get(st, "details.causes");

		reason = json_str(st, "reason", NULL);
		msg = json_str(st, "message", NULL);
		cJSON_ArrayForEach(c, list) {
			const char *field = json_str(c, "field", NULL), *m = json_str(c, "message", "");

			if (msg && strstr(msg, m) && *m)
				continue; /* already in the message */
			buf_addf(&causes, "; %s%s%s", field ? field : "", field ? ": " : "", m);
		}
	}
	if (!reason || !*reason) {
		switch (http) {
		case 400: reason = "BadRequest"; break;
		case 401: reason = "Unauthorized"; break;
		case 403: reason = "Forbidden"; break;
		case 404: reason = "NotFound"; break;
		case 405: reason = "MethodNotAllowed"; break;
		case 409: reason = "Conflict"; break;
		case 410: reason = "Gone"; break;
		case 413: reason = "RequestEntityTooLarge"; break;
		case 415: reason = "UnsupportedMediaType"; break;
		case 422: reason = "Invalid"; break;
		case 429: reason = "TooManyRequests"; break;
		case 500: reason = "InternalError"; break;
		case 503: reason = "ServiceUnavailable"; break;
		case 504: reason = "Timeout"; break;
		default: reason = "Error"; break;
		}
	}
	if (!msg) {
		/* Not a Status: the raw text, on one line and short. */
		char raw[300];
		size_t i, n = len < sizeof(raw) - 1 ? len : sizeof(raw) - 1;

		for (i = 0; i < n; i++)
			raw[i] = (body[i] == '\n' || body[i] == '\r' || body[i] == '\t') ? ' ' : body[i];
		while (n && raw[n - 1] == ' ')
			n--;
		raw[n] = '\0';
		kerr_set(e, KERR_API, "(%ld %s) %s", http, reason, n ? raw : "the server gave no details");
	} else {
		kerr_set(e, KERR_API, "(%ld %s) %s%s", http, reason, msg, causes.s);
	}
	if (e) {
		e->http = (int)http;
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
		if (st && json_get(st, "details.retryAfterSeconds"))
			e->retry_after = (int)json_int(st, "details.retryAfterSeconds", -1);
	}
	buf_release(&causes);
	cJSON_Delete(st);
}

static int build_url(struct kclient *c, const char *path, const struct kquery *q, bool watch,
		     struct buf *url, struct kerr *e)
{
	const char *server = c->cfg->server;
	size_t sl = strlen(server);
	char sep = strchr(path, '?') ? '&' : '?';
	struct {
		const char *k, *v;
	} params[12];
	char num[3][32];
	int np = 0, i;

	while (sl && server[sl - 1] == '/')
		sl--;
	if (c->connect_to_host) { /* the URL names tls-server-name; CONNECT_TO routes it */
		const char *hs = strstr(server, "://");
		const char *rest = hs ? strpbrk(hs + 3, ":/") : NULL;

		if (buf_addf(url, "https://%s", c->connect_to_host) ||
		    (rest && buf_add(url, rest, (size_t)(server + sl - rest))))
			return kerr_set(e, KERR_NOMEM, "out of memory");
	} else if (buf_add(url, server, sl)) {
		return kerr_set(e, KERR_NOMEM, "out of memory");
	}
	if (buf_addstr(url, path))
		return kerr_set(e, KERR_NOMEM, "out of memory");
	if (watch) {
		params[np].k = "watch";
		params[np++].v = "1";
		params[np].k = "allowWatchBookmarks";
		params[np++].v = "true";
	}
	if (q) {
		if (q->label_selector) {
			params[np].k = "labelSelector";
			params[np++].v = q->label_selector;
		}
		if (q->field_selector) {
			params[np].k = "fieldSelector";
			params[np++].v = q->field_selector;
		}
		if (q->limit > 0) {
			snprintf(num[0], sizeof(num[0]), "%ld", q->limit);
			params[np].k = "limit";
			params[np++].v = num[0];
		}
		if (q->cont) {
			params[np].k = "continue";
			params[np++].v = q->cont;
		}
		if (q->resource_version) {
			params[np].k = "resourceVersion";
			params[np++].v = q->resource_version;
		}
		if (q->timeout_seconds > 0) {
			snprintf(num[1], sizeof(num[1]), "%ld", q->timeout_seconds);
			params[np].k = "timeoutSeconds";
			params[np++].v = num[1];
		}
		if (q->dry_run) {
			params[np].k = "dryRun";
			params[np++].v = "All";
		}
		if (q->field_manager) {
			params[np].k = "fieldManager";
			params[np++].v = q->field_manager;
		}
		if (q->propagation) {
			params[np].k = "propagationPolicy";
			params[np++].v = q->propagation;
		}
		if (q->force) {
			params[np].k = "force";
			params[np++].v = "true";
		}
	}
	for (i = 0; i < np; i++) {
		char *esc = curl_easy_escape(c->curl, params[i].v, 0);
		int r;

		if (!esc)
			return kerr_set(e, KERR_NOMEM, "out of memory");
		r = buf_addf(url, "%c%s=%s", sep, params[i].k, esc);
		curl_free(esc);
		if (r)
			return kerr_set(e, KERR_NOMEM, "out of memory");
		sep = '&';
	}
	return 0;
}

static long backoff_ms(int attempt, int retry_after)
{
	long base = 200L << (attempt < 6 ? attempt : 6), cap = 5000;
	unsigned int seed = (unsigned int)(time(NULL) ^ (getpid() << 8) ^ attempt);

	if (retry_after >= 0)
		return (retry_after > 30 ? 30 : retry_after) * 1000L + rand_r(&seed) % 250;
	if (base > cap)
		base = cap;
	return base / 2 + rand_r(&seed) % (base / 2 + 1); /* jitter in [base/2, base] */
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The request with retries; the heart of every call. `sink` streams a 2xx
 * body instead of collecting it (watch). Returns 0 on 2xx, -1 on failure (e
 * set), and for streams: 1 when the sink asked to stop, 2 when the stream
 * was cut after it started, 3 when `timeout_ms` ran out while streaming. */
static int watch_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static int perform(struct kclient *c, const char *method, const char *path, const struct kquery *q,
		   bool watch, const char *ctype, const void *body, size_t len, long timeout_ms,
		   int (*sink)(void *, const char *, size_t), void *sink_ctx, struct kresp *out, struct kerr *e)
{
	struct buf url = BUF_INIT;
	struct kresp local;
	struct kresp *resp = out ? out : &local;
	bool idempotent = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool reauthed = false;
	int attempt = 0, rc = -1;

	kresp_init(resp);
	if (build_url(c, path, q, watch, &url, e))
		goto done;
	if (c->cfg->token_file && !c->cfg->token && read_token_file(c, e))
		goto done;
	if (ensure_exec_cred(c, false, e))
		goto done;

	for (;;) {
		struct curl_slist *hdrs = NULL;
		char auth[8192 + 32], ct[160], *last_url;
		const char *tok = bearer(c);
		struct timespec t0, t1;
		CURLcode cc;
		long ms;

		buf_reset(&resp->body);
		resp->status = 0;
		resp->retry_after = -1;
		c->errbuf[0] = '\0';
		c->resp = resp;
		c->sink = sink;
		c->sink_ctx = sink_ctx;
		c->over_cap = false;
		c->sink_stopped = false;
		c->watch_stopped = false;
		if (watch && c->o.stop_watches) {
			curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, watch_progress);
			curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
			curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
		} else {
			curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
		}

		hdrs = curl_slist_append(hdrs, watch ? "Accept: application/json" : "Accept: application/json, */*");
		if (tok) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
			hdrs = curl_slist_append(hdrs, auth);
			explicit_bzero(auth, sizeof(auth));
		}
		if (ctype) {
			snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
			hdrs = curl_slist_append(hdrs, ct);
		}
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(c->curl, CURLOPT_URL, url.s);
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, !strcmp(method, "HEAD") ? 1L : 0L);
		if (body) {
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		} else if (!strcmp(method, "GET")) {
			curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
			curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
		} else {
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		}
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);

		if (c->o.verbosity >= 7) {
			vlog(c, 7, "%s %s", method, url.s);
			vlog(c, 7, "Request Header: Accept: application/json");
			if (tok)
				vlog(c, 7, "Request Header: Authorization: Bearer <masked>");
			vlog(c, 7, "Request Header: User-Agent: %s", c->o.user_agent);
		}
		if (c->o.verbosity >= 9 && body && len)
			redact_log_body(c->o.log, c->o.log_ctx, "Request Body", body, len);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		c->stats.requests++;
		cc = curl_easy_perform(c->curl);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		curl_slist_free_all(hdrs);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_getinfo(c->curl, CURLINFO_EFFECTIVE_URL, &last_url);
		vlog(c, 6, "%s %s %ld %s in %ld milliseconds", method, url.s, resp->status,
		     resp->status ? "" : curl_easy_strerror(cc), ms);
		if (c->o.verbosity >= 9 && resp->body.len)
			redact_log_body(c->o.log, c->o.log_ctx, "Response Body", resp->body.s, resp->body.len);

		if (c->sink_stopped) { /* the consumer asked to stop: not an error */
			rc = 1;
			goto done;
		}
		if (c->watch_stopped) { /* o.stop_watches: as at our own deadline */
			rc = 3;
			goto done;
		}
		if (c->over_cap) {
			kerr_set(e, KERR_LIMIT, "the reply of '%s' (context '%s') is larger than %zu MiB; narrow the request",
				 path, c->name, c->o.max_body >> 20);
			goto done;
		}
		if (cc == CURLE_OK && resp->status >= 200 && resp->status < 300) {
			rc = 0;
			goto done;
		}
		if (cc != CURLE_OK && sink && resp->status >= 200 && resp->status < 300) {
			/* a stream that had started: our own deadline (3), or cut
			 * mid-way by the server or something between (2) */
			rc = cc == CURLE_OPERATION_TIMEDOUT ? 3 : 2;
			goto done;
		}
		if (cc != CURLE_OK) {
			if (idempotent && is_retryable_transport(cc) && attempt < c->o.max_retries) {
				c->stats.retries++;
				sleep_ms(backoff_ms(attempt++, -1));
				continue;
			}
			transport_error(c, cc, url.s, e);
			goto done;
		}
		if (resp->status == 401 && !reauthed && c->cfg->exec) {
			reauthed = true;
			if (ensure_exec_cred(c, true, e))
				goto done;
			continue;
		}
		if (idempotent && attempt < c->o.max_retries &&
		    (resp->status == 429 || resp->status == 500 || resp->status == 502 || resp->status == 503 ||
		     resp->status == 504)) {
			c->stats.retries++;
			sleep_ms(backoff_ms(attempt++, resp->retry_after));
			continue;
		}
		kclient_status_error(resp->status, resp->body.s, resp->body.len, e);
		if (e && resp->retry_after >= 0)
			e->retry_after = resp->retry_after;
		if (e && resp->status == 401) {
			kerr_prefix(e, "the server refused the credentials of user '%s' (context '%s'); log in again or fix the kubeconfig",
				    c->cfg->user_name ? c->cfg->user_name : "?", c->name);
		}
		goto done;
	}
done:
	c->sink = NULL;
	buf_release(&url);
	if (!out)
		kresp_release(&local);
	return rc;
}

int kclient_do(struct kclient *c, const char *method, const char *path, const struct kquery *q,
	       const char *content_type, const void *body, size_t len, struct kresp *out, struct kerr *e)
{
	return perform(c, method, path, q, false, content_type, body, len, c->cfg->timeout_ms, NULL, NULL, out, e)
		? -1 : 0;
}

/* ---- typed calls -------------------------------------------------------------- */

static int written_slot(const struct kclient *c, const struct kres *r)
{
	int i;

	for (i = 0; i < c->nwritten; i++)
		if (!strcmp(c->written[i].plural, r->plural) && !strcmp(c->written[i].group, r->group))
			return i;
	return -1;
}

void kclient_note_write(struct kclient *c, const struct kres *r, const cJSON *obj)
{
	const char *rv = json_str(obj, "metadata.resourceVersion", "");
	int i = written_slot(c, r);

	if (!rv[0] || !strcmp(json_str(obj, "kind", ""), "Status"))
		return;
	if (i < 0) {
		if (c->nwritten == (int)(sizeof(c->written) / sizeof(c->written[0])))
			return; /* more kinds than cclm writes: those read from etcd */
		i = c->nwritten++;
		c->written[i].plural = r->plural;
		c->written[i].group = r->group;
	}
	snprintf(c->written[i].rv, sizeof(c->written[i].rv), "%s", rv);
}

const char *kclient_write_rv(const struct kclient *c, const struct kres *r)
{
	int i = written_slot(c, r);

	return i < 0 ? "" : c->written[i].rv;
}

static int object_call(struct kclient *c, const char *method, const struct kres *r, const char *ns,
		       const char *name, const char *sub, const struct kquery *q, const char *ctype,
		       const cJSON *body, cJSON **out, struct kerr *e)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct kresp resp;
	struct kquery wq;
	int rc = -1;

	if (r->namespaced && !ns && name)
		return kerr_set(e, KERR_USAGE, "a namespace is needed for %s '%s'", r->kind, name);
	if (kres_path(&path, r, ns, name, sub, e))
		return -1;
	if (strcmp(method, "GET") && strcmp(method, "DELETE")) {
		wq = q ? *q : (struct kquery){ 0 };
		if (!wq.field_manager)
			wq.field_manager = "kubectl-cclm";
		q = &wq;
	}
	if (body && json_write(body, 0, false, &text, e))
		goto out;
	if (perform(c, method, path.s, q, false, ctype, body ? text.s : NULL, text.len, c->cfg->timeout_ms, NULL,
		    NULL, &resp, e)) {
		kresp_release(&resp);
		goto out;
	}
	if (out) {
		char what[300];

		snprintf(what, sizeof(what), "reply from context '%s'", c->name);
		*out = json_parse(resp.body.s, resp.body.len, what, e);
		if (!*out) {
			kresp_release(&resp);
			goto out;
		}
	}
	if (strcmp(method, "GET") && strcmp(method, "DELETE")) {
		cJSON *written = out ? NULL : cJSON_ParseWithLength(resp.body.s, resp.body.len);

		kclient_note_write(c, r, out ? *out : written);
		cJSON_Delete(written);
	}
	kresp_release(&resp);
	rc = 0;
out:
	buf_release(&path);
	buf_release(&text);
	return rc;
}

int kclient_get(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		cJSON **out, struct kerr *e)
{
	return object_call(c, "GET", r, ns, name, NULL, NULL, NULL, NULL, out, e);
}

int kclient_create(struct kclient *c, const struct kres *r, const char *ns, const cJSON *obj,
		   const struct kquery *q, cJSON **out, struct kerr *e)
{
	return object_call(c, "POST", r, ns, NULL, NULL, q, "application/json", obj, out, e);
}

int kclient_update(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		   const cJSON *obj, const struct kquery *q, cJSON **out, struct kerr *e)
{
	return object_call(c, "PUT", r, ns, name, NULL, q, "application/json", obj, out, e);
}

int kclient_patch(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		  const char *sub, enum kpatch type, const cJSON *patch, const struct kquery *q,
		  cJSON **out, struct kerr *e)
{
	static const char *const ctypes[] = {
		[KPATCH_MERGE] = "application/merge-patch+json",
		[KPATCH_JSON] = "application/json-patch+json",
		[KPATCH_STRATEGIC] = "application/strategic-merge-patch+json",
		[KPATCH_APPLY] = "application/apply-patch+yaml",
	};

	return object_call(c, "PATCH", r, ns, name, sub, q, ctypes[type], patch, out, e);
}

int kclient_delete(struct kclient *c, const struct kres *r, const char *ns, const char *name,
		   const struct kquery *q, struct kerr *e)
{
	cJSON *opts = NULL;
	int rc;

	if (q && (q->propagation || q->dry_run)) {
		/* DeleteOptions in the body, as kubectl sends them */
		opts = cJSON_CreateObject();
		if (!opts)
			return kerr_set(e, KERR_NOMEM, "out of memory");
		cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
		cJSON_AddStringToObject(opts, "apiVersion", "v1");
		if (q->propagation)
			cJSON_AddStringToObject(opts, "propagationPolicy", q->propagation);
		if (q->dry_run)
			cJSON_AddItemToObject(opts, "dryRun", cJSON_CreateStringArray((const char *[]){ "All" }, 1));
	}
	rc = object_call(c, "DELETE", r, ns, name, NULL, NULL, opts ? "application/json" : NULL, opts, NULL, e);
	cJSON_Delete(opts);
	return rc;
}

int kclient_list(struct kclient *c, const struct kres *r, const char *ns, const struct kquery *q,
		 cJSON **items, char **rv, struct kerr *e)
{
	struct buf path = BUF_INIT;
	struct kquery pq = q ? *q : (struct kquery){ 0 };
	cJSON *all = cJSON_CreateArray();
	char *cont = NULL, what[300];
	int rc = -1;

	*items = NULL;
	if (rv)
		*rv = NULL;
	if (!all)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	if (pq.limit == 0)
		pq.limit = 500;
	else if (pq.limit < 0)
		pq.limit = 0; /* one reply */
	snprintf(what, sizeof(what), "list from context '%s'", c->name);
	if (kres_path(&path, r, ns, NULL, NULL, e))
		goto out;
	for (;;) {
		struct kresp resp;
		cJSON *page, *list, *it;
		const char *next;

		pq.cont = cont;
		if (perform(c, "GET", path.s, &pq, false, NULL, NULL, 0, c->cfg->timeout_ms, NULL, NULL, &resp, e)) {
			kresp_release(&resp);
			goto out;
		}
		page = json_parse(resp.body.s, resp.body.len, what, e);
		kresp_release(&resp);
		if (!page)
			goto out;
		list = cJSON_DetachItemFromObjectCaseSensitive(page, "items");
		while (list && (it = cJSON_DetachItemViaPointer(list, list->child)))
			cJSON_AddItemToArray(all, it);
		cJSON_Delete(list);
		if (rv) {
			free(*rv);
			*rv = strdup(json_str(page, "metadata.resourceVersion", ""));
		}
		next = json_str(page, "metadata.continue", "");
		free(cont);
		cont = *next ? strdup(next) : NULL;
		cJSON_Delete(page);
		if (!cont)
			break;
	}
	*items = all;
	all = NULL;
	rc = 0;
out:
	cJSON_Delete(all);
	free(cont);
	buf_release(&path);
	if (rc && rv) {
		free(*rv);
		*rv = NULL;
	}
	return rc;
}

/* ---- watch -------------------------------------------------------------------- */

struct seen {
	char *uid, *rv;
	const cJSON *last; /* only during a relist */
};

struct watch_state {
	struct kclient *c;
	kwatch_fn fn;
	void *ctx;
	struct kerr *e;
	struct buf pending;    /* bytes of an event not yet complete */
	char *rv;              /* resume point */
	struct seen *seen;     /* what was delivered, by uid */
	size_t nseen, aseen;
	int stop;              /* >0 from fn, -1 error, 410 gone */
	char what[300];
};

static struct seen *seen_find(struct watch_state *w, const char *uid)
{
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i].uid, uid))
			return &w->seen[i];
	return NULL;
}

static int seen_note(struct watch_state *w, const char *type, const cJSON *obj)
{
	const char *uid = json_str(obj, "metadata.uid", NULL), *rv = json_str(obj, "metadata.resourceVersion", "");
	struct seen *s;

	if (!uid)
		return 0;
	s = seen_find(w, uid);
	if (!strcmp(type, "DELETED")) {
		if (s) {
			free(s->uid);
			free(s->rv);
			*s = w->seen[--w->nseen];
		}
		return 0;
	}
	if (!s) {
		if (w->nseen == w->aseen) {
			size_t n = w->aseen ? w->aseen * 2 : 64;
			struct seen *p = realloc(w->seen, n * sizeof(*p));

			if (!p)
				return kerr_set(w->e, KERR_NOMEM, "out of memory");
			w->seen = p;
			w->aseen = n;
		}
		s = &w->seen[w->nseen];
		s->uid = strdup(uid);
		s->rv = NULL;
		if (!s->uid)
			return kerr_set(w->e, KERR_NOMEM, "out of memory");
		w->nseen++;
	}
	free(s->rv);
	s->rv = strdup(rv);
	return s->rv ? 0 : kerr_set(w->e, KERR_NOMEM, "out of memory");
}

static int deliver(struct watch_state *w, const char *type, const cJSON *obj)
{
	int r;

	if (seen_note(w, type, obj))
		return -1;
	r = w->fn(w->ctx, type, obj, w->e);
	return r;
}

/* One complete JSON event from the stream. */
static int on_event(struct watch_state *w, const char *text, size_t len)
{
	cJSON *ev = json_parse(text, len, w->what, w->e);
	const char *type, *rv;
	const cJSON *obj;
	int r = 0;

	if (!ev)
		return -1;
	type = json_str(ev, "type", "");
	obj = json_get(ev, "object");
	if (!strcmp(type, "ERROR")) {
		long code = json_int(obj, "code", 500);

		if (code == 410) {
			r = 410;
		} else {
			char *t = cJSON_PrintUnformatted(obj);

			kclient_status_error(code, t, t ? strlen(t) : 0, w->e);
			free(t);
			r = -1;
		}
		cJSON_Delete(ev);
		return r;
	}
	rv = json_str(obj, "metadata.resourceVersion", NULL);
	if (rv) {
		char *n = strdup(rv);

		if (!n) {
			cJSON_Delete(ev);
			return kerr_set(w->e, KERR_NOMEM, "out of memory");
		}
		free(w->rv);
		w->rv = n;
	}
	if (strcmp(type, "BOOKMARK"))
		r = deliver(w, type, obj);
	cJSON_Delete(ev);
	return r;
}

/* curl calls this about once a second even while a stream is idle. */
static int watch_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct kclient *c = ctx;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (c->o.stop_watches && *c->o.stop_watches) {
		c->watch_stopped = true;
		return 1;
	}
	return 0;
}

/* Split the byte stream into JSON values by brace depth (not by lines). */
static int watch_sink(void *ctx, const char *data, size_t n)
{
	struct watch_state *w = ctx;
	size_t i, start = 0;
	int depth = 0, in_str = 0, esc = 0;

	if (buf_add(&w->pending, data, n)) {
		kerr_set(w->e, KERR_LIMIT, "a watch event from context '%s' is too large", w->c->name);
		w->stop = -1;
		return 1;
	}
	for (i = 0; i < w->pending.len; i++) {
		char ch = w->pending.s[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"') {
			in_str = 1;
		} else if (ch == '{') {
			if (depth++ == 0)
				start = i;
		} else if (ch == '}' && depth > 0 && --depth == 0) {
			int r = on_event(w, w->pending.s + start, i - start + 1);

			if (r) {
				w->stop = r;
				return 1;
			}
			/* drop what was consumed and rescan the rest */
			memmove(w->pending.s, w->pending.s + i + 1, w->pending.len - i - 1);
			w->pending.len -= i + 1;
			w->pending.s[w->pending.len] = '\0';
			i = (size_t)-1;
		}
	}
	if (depth == 0 && !in_str)
		buf_reset(&w->pending);
	return 0;
}

/* List, deliver the difference against what was delivered, set w->rv. */
static int relist(struct watch_state *w, const struct kres *r, const char *ns, const struct kquery *q)
{
	struct kquery lq = { 0 };
	cJSON *items = NULL, *it;
	char *rv = NULL;
	size_t i;
	int rc;

	if (q) {
		lq.label_selector = q->label_selector;
		lq.field_selector = q->field_selector;
	}
	if (kclient_list(w->c, r, ns, &lq, &items, &rv, w->e))
		return -1;
	for (i = 0; i < w->nseen; i++)
		w->seen[i].last = NULL;
	cJSON_ArrayForEach(it, items) {
		struct seen *s = seen_find(w, json_str(it, "metadata.uid", ""));

		if (s)
			s->last = it;
	}
	/* deletions first: objects delivered before but gone now */
	for (i = 0; i < w->nseen;) {
		if (!w->seen[i].last) {
			cJSON *gone = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(gone, "metadata");

			cJSON_AddStringToObject(meta, "uid", w->seen[i].uid);
			cJSON_AddStringToObject(meta, "resourceVersion", w->seen[i].rv);
			rc = deliver(w, "DELETED", gone); /* removes entry i */
			cJSON_Delete(gone);
			if (rc)
				goto out_rc;
			continue;
		}
		i++;
	}
	cJSON_ArrayForEach(it, items) {
		struct seen *s = seen_find(w, json_str(it, "metadata.uid", ""));

		if (s && !strcmp(s->rv, json_str(it, "metadata.resourceVersion", "")))
			continue;
		rc = deliver(w, s ? "MODIFIED" : "ADDED", it);
		if (rc)
			goto out_rc;
	}
	free(w->rv);
	w->rv = rv;
	rv = NULL;
	rc = 0;
out_rc:
	cJSON_Delete(items);
	free(rv);
	return rc;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int kclient_watch(struct kclient *c, const struct kres *r, const char *ns, const struct kquery *q,
		  long timeout_ms, kwatch_fn fn, void *ctx, struct kerr *e)
{
	struct watch_state w = { .c = c, .fn = fn, .ctx = ctx, .e = e };
	struct buf path = BUF_INIT;
	long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int rc = -1, cuts = 0;
	size_t i;

	buf_init(&w.pending, 16u << 20);
	snprintf(w.what, sizeof(w.what), "watch event from context '%s'", c->name);
	if (kres_path(&path, r, ns, NULL, NULL, e))
		goto out;
	if (q && q->resource_version) {
		w.rv = strdup(q->resource_version);
	} else {
		rc = relist(&w, r, ns, q);
		if (rc)
			goto out;
	}
	for (;;) {
		struct kquery wq = { 0 };
		long left = deadline ? deadline - now_ms() : 0;
		int pr;

		if ((deadline && left <= 0) || (c->o.stop_watches && *c->o.stop_watches)) {
			rc = 0;
			break;
		}
		if (q) {
			wq.label_selector = q->label_selector;
			wq.field_selector = q->field_selector;
		}
		wq.resource_version = w.rv;
		wq.timeout_seconds = deadline ? (left / 1000 < 300 ? left / 1000 + 1 : 300) : 300;
		w.stop = 0;
		buf_reset(&w.pending);
		pr = perform(c, "GET", path.s, &wq, true, NULL, NULL, 0, deadline ? left : 0, watch_sink, &w, NULL, e);
		if (w.stop > 0 && w.stop != 410) {
			rc = w.stop;
			break;
		}
		if (w.stop < 0) {
			rc = -1;
			break;
		}
		if (w.stop == 410) { /* too old: relist and go on from there */
			vlog(c, 6, "watch of %s on context '%s': resourceVersion too old, relisting", r->plural, c->name);
			if (relist(&w, r, ns, q)) {
				rc = -1;
				break;
			}
			continue;
		}
		if (pr < 0) {
			if (kerr_is_http(e, 410)) {
				if (relist(&w, r, ns, q)) {
					rc = -1;
					break;
				}
				continue;
			}
			rc = -1;
			break;
		}
		if (pr == 3) {
			rc = 0;
			break;
		}
		/* 0: the server ended the stream; 2: it was cut. Resume from w.rv,
		 * pausing a little when it keeps being cut at once. */
		if (pr == 2 && ++cuts > 3)
			sleep_ms(backoff_ms(cuts - 3 < 5 ? cuts - 3 : 5, -1));
		if (pr == 0)
			cuts = 0;
	}
out:
	for (i = 0; i < w.nseen; i++) {
		free(w.seen[i].uid);
		free(w.seen[i].rv);
	}
	free(w.seen);
	free(w.rv);
	buf_release(&w.pending);
	buf_release(&path);
	return rc;
}

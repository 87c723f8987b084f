/* kubeconfig.c — see kubeconfig.h. */
#include "kubeconfig.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

/* Largest file read: kubeconfigs and the certificate, key, CA and token
 * files they name. */
#define KCFG_FILE_MAX ((size_t)16 << 20)

/* How many names a "(contexts: a, b)" hint lists before it says "...". */
#define NAMES_SHOWN 20

/*
 * The service-account directory of in-cluster configuration (token, ca.crt,
 * namespace). The environment variable CCLM_SERVICEACCOUNT_DIR names
 * another directory instead: the tests use it, and it lets someone try a
 * copied service-account outside a pod.
 */
#define SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

enum kind { K_CLUSTER, K_USER, K_CONTEXT };

static const struct {
	const char *list; /* top-level key */
	const char *item; /* key of the body inside each named entry */
	const char *plural;
} kinds[] = {
	[K_CLUSTER] = { "clusters", "cluster", "clusters" },
	[K_USER] = { "users", "user", "users" },
	[K_CONTEXT] = { "contexts", "context", "contexts" },
};

/* One kubeconfig file that was read. */
struct kfile {
	char *path;  /* as given */
	char *dir;   /* its directory, for relative paths */
	cJSON *docs; /* what yaml_parse returned */
	cJSON *doc;  /* the first document (borrowed from docs), NULL when empty */
};

/* Every file read, in order: the merged kubeconfig. */
struct ksrc {
	struct kfile *f;
	size_t n;
	bool from_env;     /* the list came from $KUBECONFIG */
	char *tried;       /* what was looked at, for messages when nothing was read */
	struct buf where;  /* the files read, ':'-joined, for messages */
};

/* A named entry found in the merged kubeconfig. */
struct kentry {
	const cJSON *body;        /* e.g. the "cluster" mapping; may be NULL */
	const struct kfile *file; /* the file that defined it */
};

/* ---- small helpers ------------------------------------------------------- */

static char *xstrdup(const char *s, struct kerr *e)
{
	char *p = strdup(s);

	if (!p)
		kerr_set(e, KERR_NOMEM, "out of memory");
	return p;
}

static int nomem(struct kerr *e)
{
	return kerr_set(e, KERR_NOMEM, "out of memory");
}

static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void buf_release_secret(struct buf *b)
{
	if (b->alloc && b->s)
		explicit_bzero(b->s, b->alloc);
	buf_release(b);
}

/* Read a whole file into `out` (capped at KCFG_FILE_MAX); 0, or -1 with errno. */
static int read_file(const char *path, struct buf *out)
{
	struct stat st;
	char tmp[65536];
	ssize_t r;
	int fd, err;

	buf_init(out, KCFG_FILE_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		err = errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		goto fail;
	}
	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		if (buf_add(out, tmp, (size_t)r)) {
			err = errno;
			goto fail;
		}
	}
	explicit_bzero(tmp, sizeof(tmp));
	close(fd);
	return 0;
fail:
	explicit_bzero(tmp, sizeof(tmp));
	close(fd);
	buf_release_secret(out);
	errno = err;
	return -1;
}

static const char *read_error(int err)
{
	return err == EFBIG ? "larger than 16 MiB" : strerror(err);
}

/* `rel` resolved against `dir` (unchanged when absolute). */
static char *resolve_path(const char *dir, const char *rel, struct kerr *e)
{
	struct buf b = BUF_INIT;

	if (rel[0] == '/' || !dir)
		return xstrdup(rel, e);
	if (buf_addf(&b, "%s/%s", dir, rel)) {
		buf_release(&b);
		nomem(e);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static char *dir_of(const char *path, struct kerr *e)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (!slash)
		return xstrdup(".", e);
	if (slash == path)
		return xstrdup("/", e);
	d = strndup(path, (size_t)(slash - path));
	if (!d)
		nomem(e);
	return d;
}

/*
 * A scalar the way kubectl reads it into a string field: strings as they
 * are, numbers and booleans in their text form (an unquoted `name: 1234`
 * is the name "1234"). *out is set to a borrowed string (or `tmp`), or
 * NULL when absent or null. Returns -1 when the value is a list or mapping.
 */
static int scalar_text(const cJSON *it, char tmp[64], const char **out)
{
	double v;
	long long i;

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsString(it)) {
		*out = it->valuestring;
		return 0;
	}
	if (cJSON_IsBool(it)) {
		*out = cJSON_IsTrue(it) ? "true" : "false";
		return 0;
	}
	if (cJSON_IsNumber(it)) {
		v = it->valuedouble;
		i = v > -1e15 && v < 1e15 ? (long long)v : 0;
		if ((double)i == v)
			snprintf(tmp, 64, "%lld", i);
		else
			snprintf(tmp, 64, "%.17g", v);
		*out = tmp;
		return 0;
	}
	return -1;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* What an error message calls an entry: "cluster 'x' in FILE". */
struct where {
	const char *noun;
	const char *name;
	const char *file;
};

/* A string field as a new string, NULL when absent or empty. */
static int str_field(const cJSON *obj, const char *key, const struct where *w, char **out, struct kerr *e)
{
	char tmp[64];
	const char *s;

	*out = NULL;
	if (scalar_text(member(obj, key), tmp, &s))
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: '%s' must be a string", w->noun, w->name, w->file,
				key);
	if (!s || !*s)
		return 0;
	*out = xstrdup(s, e);
	return *out ? 0 : -1;
}

static int bool_field(const cJSON *obj, const char *key, const struct where *w, bool *out, struct kerr *e)
{
	const cJSON *it = member(obj, key);

	*out = false;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsBool(it))
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: '%s' must be true or false", w->noun, w->name,
				w->file, key);
	*out = cJSON_IsTrue(it);
	return 0;
}

/* Decode a *-data field into `out`. */
static int data_field(const char *b64, const char *key, const struct where *w, struct buf *out, struct kerr *e)
{
	struct kerr tmp = KERR_INIT;

	buf_init(out, 0);
	if (!b64_decode(b64, strlen(b64), key, out, &tmp))
		return 0;
	buf_release_secret(out);
	if (tmp.kind == KERR_NOMEM)
		return nomem(e);
	return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: %s is not valid base64", w->noun, w->name, w->file, key);
}

/* Read a file a field names (already resolved) into `out`. */
static int file_field(const char *path, const char *key, const struct where *w, struct buf *out,
		      struct kerr *e)
{
	if (!read_file(path, out))
		return 0;
	return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: cannot read %s '%s': %s", w->noun, w->name, w->file, key,
			path, read_error(errno));
}

/* ---- loading and merging files ------------------------------------------- */

static void src_release(struct ksrc *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].dir);
		cJSON_Delete(s->f[i].docs);
	}
	free(s->f);
	free(s->tried);
	buf_release(&s->where);
	memset(s, 0, sizeof(*s));
	buf_init(&s->where, 0);
}

static const char *entry_name(const cJSON *item, char tmp[64])
{
	const char *name;

	if (scalar_text(member(item, "name"), tmp, &name))
		return NULL;
	return name;
}

/* Check the shape of one named list (clusters, users or contexts). */
static int check_list(const struct kfile *f, enum kind k, struct kerr *e)
{
	const cJSON *list = member(f->doc, kinds[k].list), *it, *prev, *body;
	char tmp[64], tmp2[64];
	const char *name, *pname;

	if (!list || cJSON_IsNull(list))
		return 0;
	if (!cJSON_IsArray(list))
		return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: '%s' must be a list", f->path, kinds[k].list);
	cJSON_ArrayForEach(it, list) {
		if (!cJSON_IsObject(it))
			return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: an entry of '%s' is not a mapping",
					f->path, kinds[k].list);
		if (scalar_text(member(it, "name"), tmp, &name))
			return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: an entry of '%s' has a name that is not a string",
					f->path, kinds[k].list);
		if (!name)
			continue;
		body = member(it, kinds[k].item);
		if (body && !cJSON_IsNull(body) && !cJSON_IsObject(body))
			return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: %s '%s' is not a mapping", f->path,
					kinds[k].item, name);
		for (prev = list->child; prev != it; prev = prev->next) {
			pname = entry_name(prev, tmp2);
			if (pname && !strcmp(pname, name))
				return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: %s '%s' is defined twice",
						f->path, kinds[k].item, name);
		}
	}
	return 0;
}

/* Read and parse one file. A missing file is skipped (returns 0 without
 * adding it) unless `must_exist`. */
static int add_file(struct ksrc *s, const char *path, bool must_exist, struct kerr *e)
{
	struct kfile *f, *nf;
	struct buf text;
	struct kerr pe = KERR_INIT;
	const cJSON *cc;
	char tmp[64];
	const char *name;
	size_t k;

	if (read_file(path, &text)) {
		if (errno == ENOENT && !must_exist)
			return 0;
		if (errno == ENOENT)
			return kerr_set(e, KERR_CONFIG, "kubeconfig '%s' does not exist", path);
		return kerr_set(e, errno == EFBIG ? KERR_LIMIT : KERR_CONFIG, "cannot read kubeconfig '%s': %s", path,
				read_error(errno));
	}
	nf = realloc(s->f, (s->n + 1) * sizeof(*s->f));
	if (!nf) {
		buf_release_secret(&text);
		return nomem(e);
	}
	s->f = nf;
	f = &s->f[s->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	f->dir = dir_of(path, e);
	if (!f->path || !f->dir) {
		free(f->path);
		free(f->dir);
		buf_release_secret(&text);
		return nomem(e);
	}
	s->n++;
	f->docs = yaml_parse(text.s, text.len, path, &pe);
	buf_release_secret(&text);
	if (!f->docs) {
		if (pe.kind == KERR_NOMEM)
			return nomem(e);
		if (strstr(pe.msg, path))
			return kerr_set(e, KERR_CONFIG, "invalid kubeconfig: %s", pe.msg);
		return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: %s", path, pe.msg);
	}
	f->doc = cJSON_GetArrayItem(f->docs, 0);
	if (f->doc && cJSON_IsNull(f->doc))
		f->doc = NULL;
	if (f->doc && !cJSON_IsObject(f->doc))
		return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: not a mapping", path);
	cc = member(f->doc, "current-context");
	if (scalar_text(cc, tmp, &name))
		return kerr_set(e, KERR_CONFIG, "invalid kubeconfig %s: 'current-context' must be a string", path);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (check_list(f, (enum kind)k, e))
			return -1;
	if (s->where.len && buf_addch(&s->where, ':'))
		return nomem(e);
	if (buf_addstr(&s->where, path))
		return nomem(e);
	return 0;
}

/* Load the kubeconfig files the flags and the environment name. */
static int src_load(struct ksrc *s, const struct kcfg_flags *fl, struct kerr *e)
{
	const char *env, *home;
	char *list = NULL, **seen = NULL, *p, *next;
	size_t nseen = 0, i;
	struct buf b = BUF_INIT;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	buf_init(&s->where, 0);
	if (fl && fl->kubeconfig && *fl->kubeconfig) {
		s->tried = xstrdup(fl->kubeconfig, e);
		if (!s->tried)
			return -1;
		return add_file(s, fl->kubeconfig, true, e);
	}
	env = secure_getenv("KUBECONFIG");
	if (env && *env) {
		s->from_env = true;
		s->tried = xstrdup(env, e);
		list = xstrdup(env, e);
		seen = calloc(strlen(env) + 1, sizeof(*seen));
		if (!s->tried || !list || !seen) {
			free(list);
			free(seen);
			return nomem(e);
		}
		for (p = list; p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (!*p)
				continue;
			for (i = 0; i < nseen && strcmp(seen[i], p); i++)
				;
			if (i < nseen)
				continue;
			seen[nseen++] = p;
			if (add_file(s, p, false, e)) {
				ret = -1;
				break;
			}
		}
		free(seen);
		free(list);
		return ret;
	}
	home = secure_getenv("HOME");
	if (!home || !*home)
		return 0;
	if (buf_addf(&b, "%s/.kube/config", home)) {
		buf_release(&b);
		return nomem(e);
	}
	s->tried = buf_detach(&b, NULL);
	if (!s->tried)
		return nomem(e);
	return add_file(s, s->tried, false, e);
}

/* The merged kubeconfig defines nothing at all. */
static bool src_empty(const struct ksrc *s)
{
	size_t i, k;
	const cJSON *list;
	char tmp[64];
	const char *cc;

	for (i = 0; i < s->n; i++) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			list = member(s->f[i].doc, kinds[k].list);
			if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0)
				return false;
		}
		if (!scalar_text(member(s->f[i].doc, "current-context"), tmp, &cc) && cc && *cc)
			return false;
	}
	return true;
}

/* The first non-empty current-context, copied into tmp when needed. */
static const char *src_current_context(const struct ksrc *s, char tmp[64])
{
	size_t i;
	const char *cc;

	for (i = 0; i < s->n; i++)
		if (!scalar_text(member(s->f[i].doc, "current-context"), tmp, &cc) && cc && *cc)
			return cc;
	return NULL;
}

/* The first file to define `name` wins it. Returns true when found. */
static bool src_find(const struct ksrc *s, enum kind k, const char *name, struct kentry *out)
{
	const cJSON *it;
	const char *n;
	char tmp[64];
	size_t i;

	for (i = 0; i < s->n; i++) {
		cJSON_ArrayForEach(it, member(s->f[i].doc, kinds[k].list)) {
			n = entry_name(it, tmp);
			if (n && !strcmp(n, name)) {
				out->body = member(it, kinds[k].item);
				if (out->body && !cJSON_IsObject(out->body))
					out->body = NULL;
				out->file = &s->f[i];
				return true;
			}
		}
	}
	return false;
}

/* Call fn for each name of kind k in merge order (first definition only). */
static int src_each_name(const struct ksrc *s, enum kind k, int (*fn)(void *ctx, const char *name), void *ctx)
{
	const cJSON *it;
	const char *n;
	char tmp[64];
	struct kentry ent;
	size_t i;

	for (i = 0; i < s->n; i++) {
		cJSON_ArrayForEach(it, member(s->f[i].doc, kinds[k].list)) {
			n = entry_name(it, tmp);
			if (!n)
				continue;
			/* skip names an earlier file already defined */
			if (src_find(s, k, n, &ent) && ent.file != &s->f[i])
				continue;
			if (fn(ctx, n))
				return -1;
		}
	}
	return 0;
}

struct names_hint {
	struct buf *b;
	size_t count;
};

static int add_hint_name(void *ctx, const char *name)
{
	struct names_hint *h = ctx;

	h->count++;
	if (h->count > NAMES_SHOWN)
		return 0;
	if (h->count > 1 && buf_addstr(h->b, ", "))
		return -1;
	return buf_addstr(h->b, name);
}

/* "(contexts: a, b)" into a fixed buffer (messages are short anyway). */
static void names_hint(const struct ksrc *s, enum kind k, char *out, size_t size)
{
	struct buf b = BUF_INIT;
	struct names_hint h = { &b, 0 };

	if (src_each_name(s, k, add_hint_name, &h)) {
		snprintf(out, size, "(%s: ?)", kinds[k].plural);
	} else {
		snprintf(out, size, "(%s: %s%s)", kinds[k].plural, h.count ? b.s : "none",
			 h.count > NAMES_SHOWN ? ", ..." : "");
	}
	buf_release(&b);
}

/* Where a name was looked for, for "not found in …" messages. */
static const char *src_where(const struct ksrc *s)
{
	if (s->where.len)
		return s->where.s;
	return s->tried ? s->tried : "the kubeconfig";
}

/* ---- the pieces of struct kcfg ------------------------------------------- */

static void exec_free(struct kcfg_exec *x)
{
	size_t i;

	if (!x)
		return;
	free(x->command);
	for (i = 0; i < x->nargs; i++)
		free(x->args[i]);
	free(x->args);
	for (i = 0; i < x->nenv; i++)
		free_secret(x->env[i]);
	free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x);
}

static void kcfg_init(struct kcfg *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->ca, 0);
	buf_init(&c->client_cert, 0);
	buf_init(&c->client_key, 0);
}

void kcfg_release(struct kcfg *c)
{
	if (!c)
		return;
	free(c->context_name);
	free(c->cluster_name);
	free(c->user_name);
	free(c->origin);
	free(c->server);
	free(c->namespace);
	buf_release(&c->ca);
	free(c->ca_origin);
	free(c->tls_server_name);
	free(c->proxy_url);
	free_secret(c->token);
	free(c->token_file);
	buf_release(&c->client_cert);
	buf_release_secret(&c->client_key);
	free(c->username);
	free_secret(c->password);
	exec_free(c->exec);
	kcfg_init(c);
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* Make the scheme of a URL lower case (so "HTTPS://" reads as "https://"). */
static void lower_scheme(char *url)
{
	char *p;

	for (p = url; *p && *p != ':'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Fill server, CA, TLS and proxy settings from a cluster entry. */
static int load_cluster(struct kcfg *c, const struct kentry *ent, const struct kcfg_flags *fl, struct kerr *e)
{
	struct where w = { "cluster", c->cluster_name, ent->file->path };
	const cJSON *b = ent->body;
	char *server = NULL, *ca_file = NULL, *ca_data = NULL;
	struct buf url = BUF_INIT;
	bool insecure;
	int ret = -1;

	if (str_field(b, "server", &w, &server, e) || str_field(b, "certificate-authority", &w, &ca_file, e) ||
	    str_field(b, "certificate-authority-data", &w, &ca_data, e) ||
	    str_field(b, "tls-server-name", &w, &c->tls_server_name, e) ||
	    str_field(b, "proxy-url", &w, &c->proxy_url, e) ||
	    bool_field(b, "insecure-skip-tls-verify", &w, &insecure, e) ||
	    bool_field(b, "disable-compression", &w, &c->disable_compression, e))
		goto out;
	if (!server) {
		kerr_set(e, KERR_CONFIG, "cluster '%s' in %s has no server", w.name, w.file);
		goto out;
	}
	if (fl && fl->insecure_skip_tls_verify) {
		/* the flag clears the kubeconfig's CA, as kubectl's does */
		c->insecure = true;
	} else {
		c->insecure = insecure;
		if (insecure && (ca_file || ca_data)) {
			kerr_set(e, KERR_CONFIG,
				 "cluster '%s' in %s sets both insecure-skip-tls-verify and %s: remove one", w.name,
				 w.file, ca_data ? "certificate-authority-data" : "certificate-authority");
			goto out;
		}
		if (ca_file && ca_data) {
			kerr_set(e, KERR_CONFIG,
				 "cluster '%s' in %s sets both certificate-authority and certificate-authority-data: remove one",
				 w.name, w.file);
			goto out;
		}
		if (ca_data) {
			if (data_field(ca_data, "certificate-authority-data", &w, &c->ca, e))
				goto out;
			if (buf_addf(&url, "certificate-authority-data of cluster '%s' in %s", w.name, w.file)) {
				nomem(e);
				goto out;
			}
			c->ca_origin = buf_detach(&url, NULL);
		} else if (ca_file) {
			c->ca_origin = resolve_path(ent->file->dir, ca_file, e);
			if (!c->ca_origin || file_field(c->ca_origin, "certificate-authority", &w, &c->ca, e))
				goto out;
		}
	}

	/* a server without a scheme is https when TLS is configured */
	if (!strstr(server, "://")) {
		if (buf_addf(&url, "%s://%s", c->ca.len || c->insecure ? "https" : "http", server)) {
			nomem(e);
			goto out;
		}
		c->server = buf_detach(&url, NULL);
	} else {
		c->server = server;
		server = NULL;
	}
	if (!c->server) {
		nomem(e);
		goto out;
	}
	lower_scheme(c->server);
	if (!has_prefix_ci(c->server, "https://") && !has_prefix_ci(c->server, "http://")) {
		kerr_set(e, KERR_CONFIG, "cluster '%s' in %s: server '%s' is not an https:// URL", w.name, w.file,
			 c->server);
		goto out;
	}
	if (c->proxy_url && !has_prefix_ci(c->proxy_url, "http://") && !has_prefix_ci(c->proxy_url, "https://") &&
	    !has_prefix_ci(c->proxy_url, "socks5://")) {
		kerr_set(e, KERR_CONFIG, "cluster '%s' in %s: proxy-url '%s' must be an http://, https:// or socks5:// URL",
			 w.name, w.file, c->proxy_url);
		goto out;
	}
	ret = 0;
out:
	buf_release(&url);
	free(server);
	free(ca_file);
	free(ca_data);
	return ret;
}

static int parse_interactive(const char *mode, const char *api, const struct where *w,
			     enum kcfg_interactive *out, struct kerr *e)
{
	if (!mode) {
		if (!strcmp(api, EXEC_V1))
			return kerr_set(e, KERR_CONFIG,
					"%s '%s' in %s: exec needs interactiveMode (Never, IfAvailable or Always) with %s",
					w->noun, w->name, w->file, api);
		*out = KCFG_INTERACTIVE_IF_AVAILABLE;
	} else if (!strcmp(mode, "Never")) {
		*out = KCFG_INTERACTIVE_NEVER;
	} else if (!strcmp(mode, "IfAvailable")) {
		*out = KCFG_INTERACTIVE_IF_AVAILABLE;
	} else if (!strcmp(mode, "Always")) {
		*out = KCFG_INTERACTIVE_ALWAYS;
	} else {
		return kerr_set(e, KERR_CONFIG,
				"%s '%s' in %s: exec interactiveMode '%s' is not one of Never, IfAvailable, Always",
				w->noun, w->name, w->file, mode);
	}
	return 0;
}

static int load_exec_args(struct kcfg_exec *x, const cJSON *args, const struct where *w, struct kerr *e)
{
	const cJSON *it;
	const char *s;
	char tmp[64];
	int n;

	if (!args || cJSON_IsNull(args))
		return 0;
	if (!cJSON_IsArray(args))
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec args must be a list", w->noun, w->name, w->file);
	n = cJSON_GetArraySize(args);
	x->args = calloc((size_t)n + 1, sizeof(*x->args));
	if (!x->args)
		return nomem(e);
	cJSON_ArrayForEach(it, args) {
		if (scalar_text(it, tmp, &s))
			return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec args must be strings", w->noun, w->name,
					w->file);
		x->args[x->nargs] = xstrdup(s ? s : "", e);
		if (!x->args[x->nargs])
			return -1;
		x->nargs++;
	}
	return 0;
}

static int load_exec_env(struct kcfg_exec *x, const cJSON *env, const struct where *w, struct kerr *e)
{
	const cJSON *it;
	const char *name, *value;
	char tmp[64], tmp2[64];
	struct buf b = BUF_INIT;
	int n;

	if (!env || cJSON_IsNull(env))
		return 0;
	if (!cJSON_IsArray(env))
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec env must be a list of name and value",
				w->noun, w->name, w->file);
	n = cJSON_GetArraySize(env);
	x->env = calloc((size_t)n + 1, sizeof(*x->env));
	if (!x->env)
		return nomem(e);
	cJSON_ArrayForEach(it, env) {
		if (!cJSON_IsObject(it) || scalar_text(member(it, "name"), tmp, &name) ||
		    scalar_text(member(it, "value"), tmp2, &value))
			return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec env must be a list of name and value",
					w->noun, w->name, w->file);
		if (!name || !*name || strchr(name, '='))
			return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: an exec env entry has no valid name",
					w->noun, w->name, w->file);
		if (buf_addf(&b, "%s=%s", name, value ? value : "")) {
			buf_release_secret(&b);
			return nomem(e);
		}
		x->env[x->nenv++] = buf_detach(&b, NULL);
		if (!x->env[x->nenv - 1])
			return nomem(e);
	}
	return 0;
}

static int load_exec(struct kcfg *c, const cJSON *xs, const struct kfile *file, const struct where *w,
		     struct kerr *e)
{
	struct kcfg_exec *x;
	char *command = NULL, *mode = NULL;
	int ret = -1;

	if (!cJSON_IsObject(xs))
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec must be a mapping", w->noun, w->name, w->file);
	x = calloc(1, sizeof(*x));
	if (!x)
		return nomem(e);
	c->exec = x;
	if (str_field(xs, "command", w, &command, e) || str_field(xs, "apiVersion", w, &x->api_version, e) ||
	    str_field(xs, "installHint", w, &x->install_hint, e) ||
	    str_field(xs, "interactiveMode", w, &mode, e) ||
	    bool_field(xs, "provideClusterInfo", w, &x->provide_cluster_info, e))
		goto out;
	if (!command) {
		kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec has no command", w->noun, w->name, w->file);
		goto out;
	}
	if (!x->api_version) {
		kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec has no apiVersion (use %s)", w->noun, w->name,
			 w->file, EXEC_V1);
		goto out;
	}
	if (strcmp(x->api_version, EXEC_V1) && strcmp(x->api_version, EXEC_V1BETA1)) {
		kerr_set(e, KERR_CONFIG, "%s '%s' in %s: exec apiVersion '%s' is not supported (use %s or %s)",
			 w->noun, w->name, w->file, x->api_version, EXEC_V1, EXEC_V1BETA1);
		goto out;
	}
	if (parse_interactive(mode, x->api_version, w, &x->interactive, e))
		goto out;
	/* a command with a '/' is a path relative to the file; a bare name is
	 * looked up on PATH when it runs */
	x->command = strchr(command, '/') ? resolve_path(file->dir, command, e) : xstrdup(command, e);
	if (!x->command)
		goto out;
	if (load_exec_args(x, member(xs, "args"), w, e) || load_exec_env(x, member(xs, "env"), w, e))
		goto out;
	ret = 0;
out:
	free(command);
	free(mode);
	return ret;
}

/* Read a token file now, to report an unreadable one at load time. */
static int check_token_file(const char *path, const struct where *w, struct kerr *e)
{
	struct buf t;
	size_t i;
	bool blank = true;

	if (read_file(path, &t)) {
		if (w->name)
			return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: cannot read tokenFile '%s': %s", w->noun,
					w->name, w->file, path, read_error(errno));
		return kerr_set(e, KERR_CONFIG, "cannot read the service-account token '%s': %s", path,
				read_error(errno));
	}
	for (i = 0; i < t.len; i++)
		if (!isspace((unsigned char)t.s[i]))
			blank = false;
	buf_release_secret(&t);
	if (!blank)
		return 0;
	if (w->name)
		return kerr_set(e, KERR_CONFIG, "%s '%s' in %s: tokenFile '%s' is empty", w->noun, w->name, w->file,
				path);
	return kerr_set(e, KERR_CONFIG, "the service-account token '%s' is empty", path);
}

/* A client certificate or key: the file or the -data field, not both. */
static int load_pem_pair_half(const cJSON *b, const struct kentry *ent, const struct where *w, const char *key,
			      const char *key_data, struct buf *out, bool *set, struct kerr *e)
{
	char *file = NULL, *data = NULL, *path = NULL;
	int ret = -1;

	*set = false;
	if (str_field(b, key, w, &file, e) || str_field(b, key_data, w, &data, e))
		goto out;
	if (file && data) {
		kerr_set(e, KERR_CONFIG, "%s '%s' in %s sets both %s and %s: remove one", w->noun, w->name, w->file,
			 key, key_data);
		goto out;
	}
	if (data) {
		if (data_field(data, key_data, w, out, e))
			goto out;
	} else if (file) {
		path = resolve_path(ent->file->dir, file, e);
		if (!path || file_field(path, key, w, out, e))
			goto out;
	}
	*set = file || data;
	ret = 0;
out:
	free(file);
	free_secret(data);
	free(path);
	return ret;
}

/* Fill the credentials from a user entry. */
static int load_user(struct kcfg *c, const struct kentry *ent, struct kerr *e)
{
	struct where w = { "user", c->user_name, ent->file->path };
	const cJSON *b = ent->body, *xs, *ap;
	char *token_file = NULL;
	bool have_cert, have_key;
	char tmp[64];
	const char *apname;
	int ret = -1;

	xs = member(b, "exec");
	ap = member(b, "auth-provider");
	if (xs && cJSON_IsNull(xs))
		xs = NULL;
	if (ap && cJSON_IsNull(ap))
		ap = NULL;
	if (xs && ap)
		return kerr_set(e, KERR_CONFIG, "user '%s' in %s sets both exec and auth-provider: remove one", w.name,
				w.file);
	if (ap) {
		if (scalar_text(member(ap, "name"), tmp, &apname) || !apname)
			apname = "?";
		return kerr_set(e, KERR_CONFIG,
				"user '%s' in %s uses auth-provider '%s', which is not supported: use an exec credential plugin instead",
				w.name, w.file, apname);
	}
	if (str_field(b, "token", &w, &c->token, e) || str_field(b, "tokenFile", &w, &token_file, e) ||
	    str_field(b, "username", &w, &c->username, e) || str_field(b, "password", &w, &c->password, e))
		goto out;
	if ((c->token || token_file) && (c->username || c->password)) {
		kerr_set(e, KERR_CONFIG, "user '%s' in %s has both a token and a username/password: keep one", w.name,
			 w.file);
		goto out;
	}
	/* token beats tokenFile; the client re-reads a tokenFile as it rotates */
	if (token_file && !c->token) {
		c->token_file = resolve_path(ent->file->dir, token_file, e);
		if (!c->token_file || check_token_file(c->token_file, &w, e))
			goto out;
	}
	if (load_pem_pair_half(b, ent, &w, "client-certificate", "client-certificate-data", &c->client_cert,
			       &have_cert, e) ||
	    load_pem_pair_half(b, ent, &w, "client-key", "client-key-data", &c->client_key, &have_key, e))
		goto out;
	if (have_cert != have_key) {
		kerr_set(e, KERR_CONFIG, "user '%s' in %s has a %s but no %s: set both", w.name, w.file,
			 have_cert ? "client certificate" : "client key", have_cert ? "client key" : "client certificate");
		goto out;
	}
	if (xs && load_exec(c, xs, ent->file, &w, e))
		goto out;
	ret = 0;
out:
	free(token_file);
	return ret;
}

static bool has_credentials(const struct kcfg *c)
{
	return c->token || c->token_file || c->client_cert.len || c->client_key.len || c->username ||
	       c->password || c->exec;
}

/* A DNS label (RFC 1123), what a namespace name must be. */
static bool dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* Resolve the context, cluster and user from the merged kubeconfig. */
static int load_kubeconfig(struct kcfg *c, const struct ksrc *s, const struct kcfg_flags *fl, struct kerr *e)
{
	struct kentry ctx = { NULL, NULL }, cl, us;
	struct where w;
	char tmp_cc[64], tmp_cl[64], tmp_us[64], hint[512];
	const char *ctx_name, *cl_name = NULL, *us_name = NULL;
	char *ns = NULL;

	ctx_name = fl && fl->context && *fl->context ? fl->context : src_current_context(s, tmp_cc);
	if (fl && fl->context && *fl->context && !src_find(s, K_CONTEXT, ctx_name, &ctx)) {
		names_hint(s, K_CONTEXT, hint, sizeof(hint));
		return kerr_set(e, KERR_CONFIG, "context '%s' not found in %s %s", ctx_name, src_where(s), hint);
	}
	if (ctx_name && !ctx.file && !src_find(s, K_CONTEXT, ctx_name, &ctx)) {
		names_hint(s, K_CONTEXT, hint, sizeof(hint));
		return kerr_set(e, KERR_CONFIG, "current-context '%s' not found in %s: use --context %s", ctx_name,
				src_where(s), hint);
	}
	if (ctx.file) {
		w = (struct where){ "context", ctx_name, ctx.file->path };
		if (scalar_text(member(ctx.body, "cluster"), tmp_cl, &cl_name))
			return kerr_set(e, KERR_CONFIG, "context '%s' in %s: 'cluster' must be a string", w.name,
					w.file);
		if (cl_name && !*cl_name)
			cl_name = NULL;
		if (!(fl && fl->cluster && *fl->cluster) && !cl_name)
			return kerr_set(e, KERR_CONFIG, "context '%s' in %s has no cluster", w.name, w.file);
		if (!(fl && fl->cluster && *fl->cluster) && !(c->cluster_name = xstrdup(cl_name, e)))
			return -1;
		if (scalar_text(member(ctx.body, "user"), tmp_us, &us_name))
			return kerr_set(e, KERR_CONFIG, "context '%s' in %s: 'user' must be a string", w.name, w.file);
		if (us_name && !*us_name)
			us_name = NULL;
		if (!(fl && fl->user && *fl->user) && !us_name)
			return kerr_set(e, KERR_CONFIG, "context '%s' in %s has no user", w.name, w.file);
		if (!(fl && fl->user && *fl->user) && !(c->user_name = xstrdup(us_name, e)))
			return -1;
		if (str_field(ctx.body, "namespace", &w, &ns, e))
			return -1;
		if (ns && !dns_label(ns)) {
			kerr_set(e, KERR_CONFIG, "context '%s' in %s: namespace '%s' is not a valid namespace name",
				 w.name, w.file, ns);
			free(ns);
			return -1;
		}
		if (!(c->context_name = xstrdup(ctx_name, e)) || !(c->origin = xstrdup(ctx.file->path, e))) {
			free(ns);
			return -1;
		}
	} else if (!(fl && fl->cluster && *fl->cluster)) {
		names_hint(s, K_CONTEXT, hint, sizeof(hint));
		if (!s->n && s->from_env)
			return kerr_set(e, KERR_CONFIG,
					"no kubeconfig: none of the files in KUBECONFIG exist ('%s')", s->tried);
		if (!s->n && s->tried)
			return kerr_set(e, KERR_CONFIG,
					"no kubeconfig: '%s' does not exist (set KUBECONFIG or use --kubeconfig)",
					s->tried);
		if (!s->n)
			return kerr_set(e, KERR_CONFIG,
					"no kubeconfig: neither HOME nor KUBECONFIG is set (use --kubeconfig)");
		return kerr_set(e, KERR_CONFIG, "no current-context in %s: use --context %s", src_where(s), hint);
	}
	c->namespace = ns;

	if (fl && fl->cluster && *fl->cluster && !(c->cluster_name = xstrdup(fl->cluster, e)))
		return -1;
	if (fl && fl->user && *fl->user && !(c->user_name = xstrdup(fl->user, e)))
		return -1;

	if (!src_find(s, K_CLUSTER, c->cluster_name, &cl)) {
		names_hint(s, K_CLUSTER, hint, sizeof(hint));
		if (fl && fl->cluster && *fl->cluster)
			return kerr_set(e, KERR_CONFIG, "cluster '%s' not found in %s %s", c->cluster_name,
					src_where(s), hint);
		return kerr_set(e, KERR_CONFIG, "context '%s' in %s: cluster '%s' not found %s", c->context_name,
				c->origin, c->cluster_name, hint);
	}
	if (!c->origin && !(c->origin = xstrdup(cl.file->path, e)))
		return -1;
	if (c->user_name && !src_find(s, K_USER, c->user_name, &us)) {
		names_hint(s, K_USER, hint, sizeof(hint));
		if ((fl && fl->user && *fl->user) || !c->context_name)
			return kerr_set(e, KERR_CONFIG, "user '%s' not found in %s %s", c->user_name, src_where(s),
					hint);
		return kerr_set(e, KERR_CONFIG, "context '%s' in %s: user '%s' not found %s", c->context_name,
				c->origin, c->user_name, hint);
	}
	if (load_cluster(c, &cl, fl, e))
		return -1;
	if (c->user_name && load_user(c, &us, e))
		return -1;
	if (has_credentials(c) && strncmp(c->server, "https://", 8))
		return kerr_set(e, KERR_CONFIG,
				"refusing to send credentials of user '%s' to '%s': the server must be https",
				c->user_name, c->server);
	return 0;
}

/* ---- in-cluster ---------------------------------------------------------- */

static char *sa_path(const char *file, struct kerr *e)
{
	const char *dir = secure_getenv("CCLM_SERVICEACCOUNT_DIR");
	struct buf b = BUF_INIT;

	if (!dir || !*dir)
		dir = SA_DIR_DEFAULT;
	if (buf_addf(&b, "%s/%s", dir, file)) {
		buf_release(&b);
		nomem(e);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* KUBERNETES_SERVICE_HOST/PORT set and the token file exists. */
static bool incluster_possible(void)
{
	const char *host = secure_getenv("KUBERNETES_SERVICE_HOST");
	const char *port = secure_getenv("KUBERNETES_SERVICE_PORT");
	struct stat st;
	char *tok;
	bool ok;

	if (!host || !*host || !port || !*port)
		return false;
	tok = sa_path("token", NULL);
	if (!tok)
		return false;
	ok = stat(tok, &st) == 0;
	free(tok);
	return ok;
}

static char *trimmed_dup(const char *s, size_t len, struct kerr *e)
{
	char *p;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	p = strndup(s, len);
	if (!p)
		nomem(e);
	return p;
}

static int load_incluster(struct kcfg *c, const struct kcfg_flags *fl, struct kerr *e)
{
	const char *host = secure_getenv("KUBERNETES_SERVICE_HOST");
	const char *port = secure_getenv("KUBERNETES_SERVICE_PORT");
	const char *pod_ns = secure_getenv("POD_NAMESPACE");
	struct where w = { "in-cluster", NULL, NULL };
	struct buf b = BUF_INIT;
	char *path = NULL;
	bool bracket;

	if (!(c->origin = xstrdup("in-cluster", e)))
		return -1;
	bracket = strchr(host, ':') && host[0] != '[';
	if (buf_addf(&b, "https://%s%s%s:%s", bracket ? "[" : "", host, bracket ? "]" : "", port)) {
		buf_release(&b);
		return nomem(e);
	}
	c->server = buf_detach(&b, NULL);
	if (!c->server)
		return nomem(e);
	c->token_file = sa_path("token", e);
	if (!c->token_file || check_token_file(c->token_file, &w, e))
		return -1;
	if (fl && fl->insecure_skip_tls_verify) {
		c->insecure = true;
	} else {
		path = sa_path("ca.crt", e);
		if (!path)
			return -1;
		if (read_file(path, &c->ca)) {
			if (errno != ENOENT) {
				kerr_set(e, KERR_CONFIG, "cannot read the service-account CA '%s': %s", path,
					 read_error(errno));
				free(path);
				return -1;
			}
			free(path); /* no CA file: the system's CAs */
		} else {
			c->ca_origin = path;
		}
	}
	if (pod_ns && *pod_ns) {
		if (!(c->namespace = xstrdup(pod_ns, e)))
			return -1;
	} else {
		path = sa_path("namespace", e);
		if (!path)
			return -1;
		if (!read_file(path, &b)) {
			c->namespace = trimmed_dup(b.s, b.len, e);
			buf_release(&b);
			if (!c->namespace) {
				free(path);
				return -1;
			}
			if (!*c->namespace) {
				free(c->namespace);
				c->namespace = NULL;
			}
		}
		free(path);
	}
	return 0;
}

/* ---- public -------------------------------------------------------------- */

int kcfg_load(struct kcfg *out, const struct kcfg_flags *flags, struct kerr *e)
{
	struct ksrc s;
	long ms = 0;
	int ret = -1;

	kcfg_init(out);
	if (flags && flags->request_timeout && kcfg_parse_timeout(flags->request_timeout, &ms, e))
		return -1;
	if (src_load(&s, flags, e))
		goto out;
	if (src_empty(&s) && !(flags && ((flags->context && *flags->context) || (flags->cluster && *flags->cluster) ||
					 (flags->user && *flags->user))) &&
	    incluster_possible()) {
		if (load_incluster(out, flags, e))
			goto out;
	} else if (load_kubeconfig(out, &s, flags, e)) {
		goto out;
	}
	if (flags && flags->namespace && *flags->namespace) {
		free(out->namespace);
		out->namespace = xstrdup(flags->namespace, e);
		if (!out->namespace)
			goto out;
		out->namespace_from_flag = true;
	} else if (!out->namespace && !(out->namespace = xstrdup("default", e))) {
		goto out;
	}
	out->timeout_ms = ms;
	ret = 0;
out:
	src_release(&s);
	if (ret)
		kcfg_release(out);
	return ret;
}

/* ---- --request-timeout ---------------------------------------------------- */

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* µs, U+00B5 */
	{ "\xce\xbcs", 1000 }, /* μs, U+03BC */
	{ "ms", 1000000 },
	{ "s", 1000000000ULL },
	{ "m", 60ULL * 1000000000ULL },
	{ "h", 3600ULL * 1000000000ULL },
};

/* A Go duration ("1h2m3.5s", "500ms") in nanoseconds; -1 when malformed or
 * larger than about 292 years. */
static int parse_go_duration(const char *s, uint64_t *total)
{
	uint64_t v, frac, scale, unit, add;
	size_t i, best, len;
	bool digits;

	*total = 0;
	if (!strcmp(s, "0"))
		return 0;
	if (!*s)
		return -1;
	while (*s) {
		v = 0;
		frac = 0;
		scale = 1;
		digits = false;
		while (isdigit((unsigned char)*s)) {
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(*s++ - '0');
			digits = true;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
				s++;
				digits = true;
			}
		}
		if (!digits)
			return -1;
		best = SIZE_MAX;
		len = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);

			if (n > len && !strncmp(s, units[i].name, n)) {
				best = i;
				len = n;
			}
		}
		if (best == SIZE_MAX)
			return -1;
		s += len;
		unit = units[best].ns;
		if (v > INT64_MAX / unit)
			return -1;
		add = v * unit;
		/* the fraction: frac/scale of a unit, in ns (rounded down) */
		add += (uint64_t)((long double)frac * (long double)unit / (long double)scale);
		if (add > INT64_MAX - *total)
			return -1;
		*total += add;
	}
	return 0;
}

int kcfg_parse_timeout(const char *s, long *ms, struct kerr *e)
{
	const char *p;
	uint64_t ns;
	char *end;
	long long secs;

	*ms = 0;
	if (!s || !*s)
		return 0;
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (!*p) {
		/* a bare integer: seconds */
		errno = 0;
		secs = strtoll(s, &end, 10);
		if (errno || *end || secs > LONG_MAX / 1000)
			goto bad;
		*ms = (long)secs * 1000;
		return 0;
	}
	if (parse_go_duration(s, &ns))
		goto bad;
	/* round up, so that "500us" is not "no timeout" */
	*ms = (long)((ns + 999999) / 1000000);
	return 0;
bad:
	return kerr_set(e, KERR_USAGE, "invalid --request-timeout '%s': use a number of seconds or a duration like 1m30s",
			s);
}

/* ---- context names -------------------------------------------------------- */

struct names_list {
	char **v;
	size_t n, alloc;
};

static int add_list_name(void *ctx, const char *name)
{
	struct names_list *l = ctx;
	char **nv;

	if (l->n + 1 >= l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		nv = realloc(l->v, l->alloc * sizeof(*l->v));
		if (!nv)
			return -1;
		l->v = nv;
	}
	l->v[l->n] = strdup(name);
	if (!l->v[l->n])
		return -1;
	l->v[++l->n] = NULL;
	return 0;
}

int kcfg_context_names(const struct kcfg_flags *flags, char ***names, struct kerr *e)
{
	struct names_list l = { NULL, 0, 0 };
	struct ksrc s;
	int ret = -1;

	*names = NULL;
	if (src_load(&s, flags, e))
		goto out;
	l.v = calloc(1, sizeof(*l.v));
	if (!l.v) {
		nomem(e);
		goto out;
	}
	l.alloc = 1;
	if (src_each_name(&s, K_CONTEXT, add_list_name, &l)) {
		nomem(e);
		goto out;
	}
	*names = l.v;
	l.v = NULL;
	ret = 0;
out:
	kcfg_names_free(l.v);
	src_release(&s);
	return ret;
}

void kcfg_names_free(char **names)
{
	char **p;

	if (!names)
		return;
	for (p = names; *p; p++)
		free(*p);
	free(names);
}

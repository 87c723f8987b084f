/* probe.c — the probe's plan, its output lines and the matrix cells they
 * make (see netcheck.h); nothing here talks to a cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kvnet.h"
#include "netcheck.h"

static int add_target(struct nc_side *s, bool sync, const char *node, const char *ip, int port)
{
	struct nc_target *t;
	int i;

	for (i = 0; i < s->ntargets; i++)
		if (!strcmp(s->targets[i].ip, ip) && s->targets[i].sync == sync)
			return 0;
	t = realloc(s->targets, (size_t)(s->ntargets + 1) * sizeof(*t));
	if (!t)
		return -1;
	s->targets = t;
	t = &s->targets[s->ntargets++];
	memset(t, 0, sizeof(*t));
	t->sync = sync;
	snprintf(t->node, sizeof(t->node), "%s", node ? node : "");
	snprintf(t->ip, sizeof(t->ip), "%s", ip);
	t->port = port;
	return 0;
}

int nc_plan_targets(struct nc_side *s, const struct nc_side *peer)
{
	const cJSON *a;
	int i;

	cJSON_ArrayForEach(a, peer->sync_addrs) {
		char host[64], node[128] = "";
		int port;

		if (!cJSON_IsString(a) || kvnet_split_addr(a->valuestring, host, sizeof(host), &port))
			continue;
		for (i = 0; i < peer->neps; i++)
			if (peer->eps[i].sync && !strcmp(peer->eps[i].ip, host))
				snprintf(node, sizeof(node), "%s", peer->eps[i].node);
		if (add_target(s, true, node, host, port))
			return -1;
	}
	for (i = 0; i < peer->neps; i++)
		if (!peer->eps[i].sync && peer->eps[i].ip[0] && add_target(s, false, peer->eps[i].node, peer->eps[i].ip, 0))
			return -1;
	return 0;
}

char *nc_plan_json(const struct nc_side *s, const char *node, long test_timeout)
{
	cJSON *p = cJSON_CreateObject(), *arr;
	char *out;
	int i;

	if (!p)
		return NULL;
	cJSON_AddNumberToObject(p, "version", 1);
	cJSON_AddStringToObject(p, "node", node);
	cJSON_AddStringToObject(p, "iface", KVNET_IFACE);
	cJSON_AddNumberToObject(p, "mtu", s->nad_parsed && s->nadnet.mtu ? s->nadnet.mtu : NC_DEFAULT_MTU);
	cJSON_AddNumberToObject(p, "timeout", (double)test_timeout);
	arr = cJSON_AddArrayToObject(p, "targets");
	for (i = 0; i < s->ntargets; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "ip", s->targets[i].ip);
		if (s->targets[i].sync) {
			cJSON_AddNumberToObject(t, "port", s->targets[i].port);
			cJSON_AddStringToObject(t, "tests", "tcp icmp arp mtu");
		} else {
			cJSON_AddStringToObject(t, "tests", "icmp arp mtu");
		}
		cJSON_AddItemToArray(arr, t);
	}
	out = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return out;
}

/* The value of KEY= among the words of `line` before " detail=". */
static bool word(const char *line, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	const char *end = strstr(line, " detail="), *p = line;

	if (!end)
		end = line + strlen(line);
	while (p < end) {
		const char *w = p, *we = memchr(p, ' ', (size_t)(end - p));

		if (!we)
			we = end;
		if ((size_t)(we - w) > kl && !strncmp(w, key, kl) && w[kl] == '=') {
			size_t l = (size_t)(we - w) - kl - 1;

			if (l >= n)
				l = n - 1;
			memcpy(out, w + kl + 1, l);
			out[l] = '\0';
			return true;
		}
		p = we + 1;
	}
	return false;
}

int nc_parse_line(const char *line, struct nc_result *res, char *src, size_t nsrc)
{
	static const char *const tests[] = { "tcp", "icmp", "arp", "mtu", NULL };
	static const char *const results[] = { "ok", "fail", "unsupported", NULL };
	size_t pl = strlen(NC_LINE_PREFIX);
	const char *d;
	char num[32];
	int i;
	bool known = false;

	if (strncmp(line, NC_LINE_PREFIX " ", pl + 1))
		return 1;
	line += pl + 1;
	if (!strncmp(line, "start ", 6)) {
		if (src && nsrc && !word(line, "src", src, nsrc))
			src[0] = '\0';
		return 1;
	}
	if (strncmp(line, "test=", 5))
		return 1; /* done, error */
	memset(res, 0, sizeof(*res));
	res->ms = -1;
	if (!word(line, "test", res->test, sizeof(res->test)) || !word(line, "dst", res->dst, sizeof(res->dst)) ||
	    !word(line, "result", res->result, sizeof(res->result)))
		return -1;
	for (i = 0; results[i]; i++)
		known |= !strcmp(res->result, results[i]);
	if (!known)
		return -1;
	known = false;
	for (i = 0; tests[i]; i++)
		known |= !strcmp(res->test, tests[i]);
	if (!known)
		snprintf(res->result, sizeof(res->result), "unsupported");
	if (word(line, "port", num, sizeof(num)))
		res->port = (int)strtol(num, NULL, 10);
	if (word(line, "size", num, sizeof(num)))
		res->size = (int)strtol(num, NULL, 10);
	if (word(line, "max", num, sizeof(num)))
		res->max = (int)strtol(num, NULL, 10);
	if (word(line, "ms", num, sizeof(num)))
		res->ms = strtol(num, NULL, 10);
	if ((d = strstr(line, " detail=")))
		snprintf(res->detail, sizeof(res->detail), "%s", d + 8);
	return 0;
}

int nc_parse_log(struct nc_probe *p, const char *log)
{
	const char *line = log;
	bool done = false;

	free(p->results);
	p->results = NULL;
	p->nresults = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024];
		struct nc_result r;
		int rc;

		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (len && buf[len - 1] == '\r')
			buf[len - 1] = '\0';
		if (!strncmp(buf, NC_LINE_PREFIX " done", strlen(NC_LINE_PREFIX) + 5))
			done = true;
		if (!strncmp(buf, NC_LINE_PREFIX " error", strlen(NC_LINE_PREFIX) + 6)) {
			const char *d = strstr(buf, "detail=");

			snprintf(p->error, sizeof(p->error), "the probe failed: %s", d ? d + 7 : buf);
		}
		rc = nc_parse_line(buf, &r, p->src, sizeof(p->src));
		if (rc == 0) {
			struct nc_result *n = realloc(p->results, (size_t)(p->nresults + 1) * sizeof(*n));

			if (!n)
				return -1;
			p->results = n;
			p->results[p->nresults++] = r;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!done && !p->error[0])
		snprintf(p->error, sizeof(p->error), "the probe's log has no '%s done' line (%d result%s)", NC_LINE_PREFIX,
			 p->nresults, p->nresults == 1 ? "" : "s");
	return done ? 0 : -1;
}

static const struct nc_result *find(const struct nc_probe *p, const struct nc_target *t, const char *test)
{
	int i;

	for (i = 0; i < p->nresults; i++)
		if (!strcmp(p->results[i].test, test) && !strcmp(p->results[i].dst, t->ip) &&
		    (strcmp(test, "tcp") || !t->port || p->results[i].port == t->port))
			return &p->results[i];
	return NULL;
}

static bool is(const struct nc_result *r, const char *what)
{
	return r && !strcmp(r->result, what);
}

const char *nc_cell(const struct nc_probe *p, const struct nc_target *t, const char **detail)
{
	const struct nc_result *tcp = t->sync ? find(p, t, "tcp") : NULL, *icmp = find(p, t, "icmp"),
			       *arp = find(p, t, "arp"), *mtu = find(p, t, "mtu");
	const char *dummy;

	if (!detail)
		detail = &dummy;
	*detail = NULL;
	if (!tcp && !icmp && !arp && !mtu) {
		*detail = p->error[0] ? p->error : "the probe did not run";
		return "not-run";
	}
	if (is(tcp, "fail") || (is(icmp, "fail") && !is(tcp, "ok"))) {
		*detail = is(tcp, "fail") ? tcp->detail : icmp->detail;
		return "unreachable";
	}
	if (!is(tcp, "ok") && !is(icmp, "ok")) {
		*detail = "no tool in the probe's image could test reachability";
		return "unsupported";
	}
	if (is(mtu, "fail")) {
		*detail = mtu->detail;
		return "mtu";
	}
	if (is(arp, "fail")) {
		*detail = arp->detail;
		return "routed";
	}
	if (!is(arp, "ok") || !is(mtu, "ok")) {
		*detail = !is(arp, "ok") ? (arp ? arp->detail : "no ARP test") : (mtu ? mtu->detail : "no MTU test");
		return "unsupported";
	}
	return "ok";
}

enum nc_verdict nc_cell_severity(const char *cell)
{
	if (!strcmp(cell, "ok"))
		return NC_PASS;
	if (!strcmp(cell, "routed") || !strcmp(cell, "unsupported"))
		return NC_WARN;
	return NC_FAIL;
}

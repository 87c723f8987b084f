/* ipam.c — see ipam.h. */
#include "ipam.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- addresses ------------------------------------------------------- */

/* Digits of s[0..len) as a number no larger than max, at most maxdigits
 * digits (leading zeros are read as decimal, the way whereabouts reads
 * them); false otherwise. */
static bool parse_num(const char *s, size_t len, size_t maxdigits, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > maxdigits)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A dotted quad filling exactly s[0..len). */
static bool parse_quad(const char *s, size_t len, ipv4 *out)
{
	ipv4 a = 0;
	size_t i = 0;
	int octet;

	for (octet = 0; octet < 4; octet++) {
		size_t j = i;
		unsigned v;

		while (j < len && s[j] != '.')
			j++;
		if (!parse_num(s + i, j - i, 3, 255, &v))
			return false;
		a = (a << 8) | v;
		if (octet < 3) {
			if (j >= len)
				return false; /* too few octets */
			i = j + 1;
		} else if (j != len) {
			return false; /* a fifth octet */
		}
	}
	*out = a;
	return true;
}

/* "ADDRESS/PREFIX" filling exactly s[0..len): the address as written (host
 * bits kept) and the prefix length. */
static bool parse_cidr(const char *s, size_t len, ipv4 *addr, int *prefix)
{
	const char *slash = memchr(s, '/', len);
	unsigned p;

	if (!slash)
		return false;
	if (!parse_quad(s, (size_t)(slash - s), addr))
		return false;
	if (!parse_num(slash + 1, len - (size_t)(slash - s) - 1, 2, 32, &p))
		return false;
	*prefix = (int)p;
	return true;
}

static ipv4 prefix_mask(int prefix)
{
	if (prefix <= 0)
		return 0;
	if (prefix >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - prefix);
}

static int ipv6_refused(const char *what, const char *s, struct kerr *e)
{
	return kerr_set(e, KERR_USAGE, "IPv6 migration networks are not supported: %s '%s'", what, s);
}

int ipv4_parse(const char *s, ipv4 *out, const char *what, struct kerr *e)
{
	ipv4 a;

	if (!what)
		what = "address";
	if (!s)
		return kerr_set(e, KERR_USAGE, "%s is missing", what);
	if (strchr(s, ':'))
		return ipv6_refused(what, s, e);
	if (!parse_quad(s, strlen(s), &a))
		return kerr_set(e, KERR_USAGE, "%s '%s' is not an IPv4 address", what, s);
	if (out)
		*out = a;
	return 0;
}

int ipv4_net_parse(const char *s, struct ipv4_net *out, const char *what, struct kerr *e)
{
	ipv4 a;
	int prefix;

	if (!what)
		what = "subnet";
	if (!s)
		return kerr_set(e, KERR_USAGE, "%s is missing", what);
	if (strchr(s, ':'))
		return ipv6_refused(what, s, e);
	if (!parse_cidr(s, strlen(s), &a, &prefix))
		return kerr_set(e, KERR_USAGE,
				"%s '%s' is not an IPv4 CIDR: write ADDRESS/PREFIX, like '192.168.201.0/24'", what, s);
	if (out) {
		out->addr = a & prefix_mask(prefix);
		out->prefix = prefix;
	}
	return 0;
}

void ipv4_format(ipv4 a, char *out, unsigned long n)
{
	if (!out || n == 0)
		return;
	snprintf(out, n, "%u.%u.%u.%u", (unsigned)(a >> 24) & 255u, (unsigned)(a >> 16) & 255u,
		 (unsigned)(a >> 8) & 255u, (unsigned)a & 255u);
}

ipv4 ipv4_net_first(const struct ipv4_net *n)
{
	return n ? n->addr & prefix_mask(n->prefix) : 0;
}

ipv4 ipv4_net_last(const struct ipv4_net *n)
{
	return n ? (n->addr & prefix_mask(n->prefix)) | ~prefix_mask(n->prefix) : 0;
}

bool ipv4_net_contains(const struct ipv4_net *n, ipv4 a)
{
	ipv4 m;

	if (!n)
		return false;
	m = prefix_mask(n->prefix);
	return (a & m) == (n->addr & m);
}

/* "192.168.201.0/24" into out (at least 20 bytes). */
static void net_format(const struct ipv4_net *n, char *out, size_t size)
{
	char a[16];

	ipv4_format(ipv4_net_first(n), a, sizeof(a));
	snprintf(out, size, "%s/%d", a, n->prefix);
}

/* ---- pools ----------------------------------------------------------- */

static int nomem(struct kerr *e)
{
	return kerr_set(e, KERR_NOMEM, "out of memory");
}

static int bad_span(ipv4 first, ipv4 last, struct kerr *e)
{
	char f[16], l[16];

	ipv4_format(first, f, sizeof(f));
	ipv4_format(last, l, sizeof(l));
	return kerr_set(e, KERR_USAGE, "address span '%s-%s' ends before it starts", f, l);
}

void ipam_pool_release(struct ipam_pool *p)
{
	if (!p)
		return;
	free(p->spans);
	p->spans = NULL;
	p->n = 0;
}

int ipam_pool_add(struct ipam_pool *p, ipv4 first, ipv4 last, struct kerr *e)
{
	uint64_t f = first, l = last;
	int i, j;

	if (!p)
		return kerr_set(e, KERR_USAGE, "no address pool to add to");
	if (first > last)
		return bad_span(first, last, e);
	/* spans[i..j) are the ones that overlap first..last or touch it */
	for (i = 0; i < p->n && (uint64_t)p->spans[i].last + 1 < f; i++)
		;
	for (j = i; j < p->n && p->spans[j].first <= l + 1; j++)
		;
	if (i == j) {
		struct ipam_span *s;

		if (p->n == INT_MAX)
			return kerr_set(e, KERR_LIMIT, "the address pool has too many spans");
		s = realloc(p->spans, ((size_t)p->n + 1) * sizeof(*s));
		if (!s)
			return nomem(e);
		p->spans = s;
		memmove(s + i + 1, s + i, (size_t)(p->n - i) * sizeof(*s));
		s[i].first = first;
		s[i].last = last;
		p->n++;
		return 0;
	}
	if (p->spans[i].first < first)
		first = p->spans[i].first;
	if (p->spans[j - 1].last > last)
		last = p->spans[j - 1].last;
	p->spans[i].first = first;
	p->spans[i].last = last;
	memmove(p->spans + i + 1, p->spans + j, (size_t)(p->n - j) * sizeof(*p->spans));
	p->n -= j - i - 1;
	return 0;
}

int ipam_pool_remove(struct ipam_pool *p, ipv4 first, ipv4 last, struct kerr *e)
{
	struct ipam_span *out;
	int i, k = 0;
	bool hit = false;

	if (!p)
		return kerr_set(e, KERR_USAGE, "no address pool to remove from");
	if (first > last)
		return bad_span(first, last, e);
	for (i = 0; i < p->n && !hit; i++)
		hit = p->spans[i].last >= first && p->spans[i].first <= last;
	if (!hit)
		return 0;
	if (p->n == INT_MAX)
		return kerr_set(e, KERR_LIMIT, "the address pool has too many spans");
	/* at most one span is split in two */
	out = malloc(((size_t)p->n + 1) * sizeof(*out));
	if (!out)
		return nomem(e);
	for (i = 0; i < p->n; i++) {
		struct ipam_span s = p->spans[i];

		if (s.last < first || s.first > last) {
			out[k++] = s;
			continue;
		}
		if (s.first < first) {
			out[k].first = s.first;
			out[k++].last = first - 1;
		}
		if (s.last > last) {
			out[k].first = last + 1;
			out[k++].last = s.last;
		}
	}
	free(p->spans);
	if (k == 0) {
		free(out);
		out = NULL;
	}
	p->spans = out;
	p->n = k;
	return 0;
}

bool ipam_pool_contains(const struct ipam_pool *p, ipv4 a)
{
	int lo = 0, hi;

	if (!p)
		return false;
	hi = p->n - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (a < p->spans[mid].first)
			hi = mid - 1;
		else if (a > p->spans[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t ipam_pool_size(const struct ipam_pool *p)
{
	uint64_t total = 0;
	int i;

	if (!p)
		return 0;
	for (i = 0; i < p->n; i++)
		total += (uint64_t)p->spans[i].last - p->spans[i].first + 1;
	return total;
}

bool ipam_pool_overlap(const struct ipam_pool *a, const struct ipam_pool *b, ipv4 *first_common)
{
	int i = 0, j = 0;

	if (!a || !b)
		return false;
	while (i < a->n && j < b->n) {
		const struct ipam_span *x = &a->spans[i], *y = &b->spans[j];

		if (x->last < y->first) {
			i++;
		} else if (y->last < x->first) {
			j++;
		} else {
			if (first_common)
				*first_common = x->first > y->first ? x->first : y->first;
			return true;
		}
	}
	return false;
}

int ipam_pool_format(const struct ipam_pool *p, struct buf *out, struct kerr *e)
{
	size_t start;
	int i, r = 0;

	if (!out)
		return kerr_set(e, KERR_USAGE, "no buffer to format the address pool into");
	start = out->len;
	if (!p || p->n == 0) {
		r = buf_addstr(out, "(empty)");
	} else {
		for (i = 0; i < p->n && r == 0; i++) {
			char f[16], l[16];

			ipv4_format(p->spans[i].first, f, sizeof(f));
			ipv4_format(p->spans[i].last, l, sizeof(l));
			if (p->spans[i].first == p->spans[i].last)
				r = buf_addf(out, "%s%s", i ? ", " : "", f);
			else
				r = buf_addf(out, "%s%s-%s", i ? ", " : "", f, l);
		}
	}
	if (r == 0)
		return 0;
	/* leave the buffer as it was */
	if (out->alloc) {
		out->len = start;
		out->s[start] = '\0';
	}
	if (errno == EFBIG)
		return kerr_set(e, KERR_LIMIT, "the address pool does not fit in the output");
	return nomem(e);
}

int ipam_split(const struct ipv4_net *subnet, int nparts, struct ipam_span *parts, struct kerr *e)
{
	uint64_t net, block, size;
	char text[24];
	int i;

	if (!subnet || subnet->prefix < 0 || subnet->prefix > 32)
		return kerr_set(e, KERR_USAGE, "no subnet to split");
	net_format(subnet, text, sizeof(text));
	if (nparts < 1)
		return kerr_set(e, KERR_USAGE, "cannot split subnet '%s' into %d parts: give at least 1 cluster",
				text, nparts);
	if (!parts)
		return kerr_set(e, KERR_USAGE, "no room for the parts of subnet '%s'", text);
	net = ipv4_net_first(subnet);
	block = (uint64_t)1 << (32 - subnet->prefix);
	size = block / (uint64_t)nparts;
	/* every part must get at least 4 addresses: the first loses the
	 * network address and the last the broadcast address */
	for (i = 0; i < nparts; i++) {
		uint64_t lo = net + (uint64_t)i * size, hi = lo + size - 1;

		if (size == 0)
			break;
		if (i == 0)
			lo++;
		if (i == nparts - 1)
			hi = net + block - 2;
		if (hi < lo || hi - lo + 1 < 4)
			break;
	}
	if (size == 0 || i < nparts)
		return kerr_set(e, KERR_USAGE, "subnet '%s' is too small for %d cluster%s", text, nparts,
				nparts == 1 ? "" : "s");
	for (i = 0; i < nparts; i++) {
		uint64_t lo = net + (uint64_t)i * size, hi = lo + size - 1;

		if (i == 0)
			lo++;
		if (i == nparts - 1)
			hi = net + block - 2;
		parts[i].first = (ipv4)lo;
		parts[i].last = (ipv4)hi;
	}
	return 0;
}

/* ---- NAD config ------------------------------------------------------- */

/* The string member `name` of o: *out is NULL when it is missing or null. */
static int get_str(const cJSON *o, const char *at, const char *name, const char **out, struct kerr *e)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return kerr_set(e, KERR_USAGE, "'%s%s' in the CNI config is not a string", at, name);
	*out = v->valuestring;
	return 0;
}

/* The whole-number member `name` of o, lo..hi; *present tells whether it is set. */
static int get_int(const cJSON *o, const char *name, int lo, int hi, int *out, bool *present, struct kerr *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d;

	*present = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	d = cJSON_IsNumber(v) ? v->valuedouble : -1.0 - (double)INT_MAX;
	if (!(d >= lo && d <= hi) || (double)(int)d != d)
		return kerr_set(e, KERR_USAGE, "'%s' in the CNI config must be a whole number from %d to %d", name, lo,
				hi);
	*out = (int)d;
	*present = true;
	return 0;
}

/* Copy the string member `name` of o (if set) into dst[size]. */
static int get_name(const cJSON *o, const char *at, const char *name, char *dst, size_t size, struct kerr *e)
{
	const char *s;
	size_t n;

	if (get_str(o, at, name, &s, e))
		return -1;
	if (!s)
		return 0;
	n = strlen(s);
	if (n >= size)
		return kerr_set(e, KERR_USAGE, "'%s%s' in the CNI config is too long (%zu characters, at most %zu): '%s'",
				at, name, n, size - 1, s);
	memcpy(dst, s, n + 1);
	return 0;
}

/* The VLAN in a node interface name like "ens4.2001", or 0. */
static int master_vlan(const char *master)
{
	const char *dot = strrchr(master, '.');
	unsigned v;

	if (!dot || dot == master)
		return 0;
	if (!parse_num(dot + 1, strlen(dot + 1), 4, 4094, &v))
		return 0;
	return (int)v;
}

/* A list member `name` of o: *out is NULL when it is missing or null. */
static int get_list(const cJSON *o, const char *at, const char *name, const cJSON **out, struct kerr *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return kerr_set(e, KERR_USAGE, "'%s%s' in the CNI config is not a list", at, name);
	*out = v;
	return 0;
}

/* An address field `at``name` = s, which must lie in net. */
static int addr_in(const char *at, const char *name, const char *s, const struct ipv4_net *net,
		   const char *range, ipv4 *out, struct kerr *e)
{
	char what[96];

	snprintf(what, sizeof(what), "%s%s", at, name);
	if (ipv4_parse(s, out, what, e))
		return -1;
	if (!ipv4_net_contains(net, *out))
		return kerr_set(e, KERR_USAGE, "%s '%s' is outside the range '%s'", what, s, range);
	return 0;
}

/* Add first..last to pool, leaving out the network and broadcast
 * addresses of net when it is larger than /31. */
static int add_usable(struct ipam_pool *pool, const struct ipv4_net *net, ipv4 first, ipv4 last, struct kerr *e)
{
	if (net->prefix < 31) {
		ipv4 lo = ipv4_net_first(net) + 1, hi = ipv4_net_last(net) - 1;

		if (first < lo)
			first = lo;
		if (last > hi)
			last = hi;
	}
	if (first > last)
		return 0;
	return ipam_pool_add(pool, first, last, e);
}

/* Every span of `from` into `to`. */
static int pool_merge(struct ipam_pool *to, const struct ipam_pool *from, struct kerr *e)
{
	int i;

	for (i = 0; i < from->n; i++)
		if (ipam_pool_add(to, from->spans[i].first, from->spans[i].last, e))
			return -1;
	return 0;
}

/* Remove each CIDR of the list `at`"exclude" of o from pool. */
static int wb_exclude(const cJSON *o, const char *at, struct ipam_pool *pool, struct kerr *e)
{
	const cJSON *list, *x;
	int i = 0;

	if (get_list(o, at, "exclude", &list, e))
		return -1;
	cJSON_ArrayForEach(x, list) {
		struct ipv4_net net;
		char what[96];

		snprintf(what, sizeof(what), "%sexclude[%d]", at, i++);
		if (!cJSON_IsString(x) || !x->valuestring)
			return kerr_set(e, KERR_USAGE, "'%s' in the CNI config is not a string", what);
		if (ipv4_net_parse(x->valuestring, &net, what, e))
			return -1;
		if (ipam_pool_remove(pool, ipv4_net_first(&net), ipv4_net_last(&net), e))
			return -1;
	}
	return 0;
}

/*
 * One whereabouts range: o has "range" (CIDR or FIRST-LAST/PREFIX),
 * "range_start", "range_end" and "exclude" (the top-level ipam object and
 * each ipRanges member look alike). Its addresses go into pool; its subnet
 * into *net.
 */
static int wb_range(const cJSON *o, const char *at, struct ipam_pool *pool, struct ipv4_net *net, struct kerr *e)
{
	struct ipam_pool mine = IPAM_POOL_INIT;
	const char *range, *rs, *re, *dash;
	char what[96];
	ipv4 first, last;
	int prefix;

	snprintf(what, sizeof(what), "%srange", at);
	if (get_str(o, at, "range", &range, e) || get_str(o, at, "range_start", &rs, e) ||
	    get_str(o, at, "range_end", &re, e))
		return -1;
	if (!range || !*range)
		return kerr_set(e, KERR_USAGE, "whereabouts '%s' is missing", what);
	if (strchr(range, ':'))
		return ipv6_refused(what, range, e);
	dash = strchr(range, '-');
	if (dash) {
		/* FIRST-LAST/PREFIX: whereabouts takes start and end from it */
		if (!parse_quad(range, (size_t)(dash - range), &first) ||
		    !parse_cidr(dash + 1, strlen(dash + 1), &last, &prefix))
			return kerr_set(e, KERR_USAGE,
					"%s '%s' is not a CIDR or FIRST-LAST/PREFIX, like '192.168.201.10-192.168.201.20/24'",
					what, range);
		net->addr = last & prefix_mask(prefix);
		net->prefix = prefix;
		if (!ipv4_net_contains(net, first))
			return kerr_set(e, KERR_USAGE, "%s '%s' starts outside its subnet", what, range);
		if (first > last)
			return kerr_set(e, KERR_USAGE, "%s '%s' starts after it ends", what, range);
	} else {
		if (ipv4_net_parse(range, net, what, e))
			return -1;
		first = ipv4_net_first(net);
		last = ipv4_net_last(net);
		if (rs && addr_in(at, "range_start", rs, net, range, &first, e))
			return -1;
		if (re && addr_in(at, "range_end", re, net, range, &last, e))
			return -1;
		if (first > last)
			return kerr_set(e, KERR_USAGE, "%srange_start '%s' is after %srange_end '%s'", at, rs ? rs : "?",
					at, re ? re : "?");
	}
	if (add_usable(&mine, net, first, last, e) || wb_exclude(o, at, &mine, e) || pool_merge(pool, &mine, e)) {
		ipam_pool_release(&mine);
		return -1;
	}
	ipam_pool_release(&mine);
	return 0;
}

static int whereabouts(const cJSON *ipam, struct nad_net *n, struct kerr *e)
{
	const cJSON *list, *r;
	const char *range;
	struct ipv4_net net;
	int i = 0;

	if (get_str(ipam, "", "range", &range, e) || get_list(ipam, "", "ipRanges", &list, e))
		return -1;
	if ((!range || !*range) && cJSON_GetArraySize(list) == 0)
		return kerr_set(e, KERR_USAGE, "whereabouts IPAM has no 'range' or 'ipRanges'");
	if (range && *range) {
		if (wb_range(ipam, "", &n->pool, &net, e))
			return -1;
		n->subnet = net;
		n->has_subnet = true;
	}
	/* a member's "exclude" is its own: whereabouts applies the top-level
	 * "exclude" only to the top-level "range" */
	cJSON_ArrayForEach(r, list) {
		char at[32];

		snprintf(at, sizeof(at), "ipRanges[%d].", i++);
		if (!cJSON_IsObject(r))
			return kerr_set(e, KERR_USAGE, "'%.*s' in the CNI config is not an object", (int)strlen(at) - 1,
					at);
		if (wb_range(r, at, &n->pool, &net, e))
			return -1;
		if (!n->has_subnet) {
			n->subnet = net;
			n->has_subnet = true;
		}
	}
	return 0;
}

/* One host-local range: "subnet" (or "range"), "rangeStart", "rangeEnd", "gateway". */
static int hl_range(const cJSON *o, const char *at, struct ipam_pool *pool, struct ipv4_net *net, struct kerr *e)
{
	struct ipam_pool mine = IPAM_POOL_INIT;
	const char *subnet, *rs, *re, *gw, *field = "subnet";
	char what[96], text[24];
	ipv4 raw, first, last, gateway;
	int prefix;

	if (get_str(o, at, "subnet", &subnet, e) || get_str(o, at, "rangeStart", &rs, e) ||
	    get_str(o, at, "rangeEnd", &re, e) || get_str(o, at, "gateway", &gw, e))
		return -1;
	if (!subnet || !*subnet) {
		if (get_str(o, at, "range", &subnet, e))
			return -1;
		field = "range";
	}
	snprintf(what, sizeof(what), "%s%s", at, field);
	if (!subnet || !*subnet)
		return kerr_set(e, KERR_USAGE, "host-local '%ssubnet' is missing", at);
	if (ipv4_net_parse(subnet, net, what, e))
		return -1;
	parse_cidr(subnet, strlen(subnet), &raw, &prefix);
	net_format(net, text, sizeof(text));
	if (raw != net->addr)
		return kerr_set(e, KERR_USAGE, "host-local %s '%s' has host bits set: the network is '%s'", what, subnet,
				text);
	if (net->prefix > 30)
		return kerr_set(e, KERR_USAGE, "host-local %s '%s' is too small to allocate from", what, subnet);
	first = ipv4_net_first(net) + 1;
	last = ipv4_net_last(net) - 1;
	if (rs && addr_in(at, "rangeStart", rs, net, subnet, &first, e))
		return -1;
	if (re && addr_in(at, "rangeEnd", re, net, subnet, &last, e))
		return -1;
	if (first > last)
		return kerr_set(e, KERR_USAGE, "host-local %srangeStart '%s' is after %srangeEnd '%s'", at,
				rs ? rs : "?", at, re ? re : "?");
	/* host-local never hands out the gateway (default: the network's .1) */
	gateway = ipv4_net_first(net) + 1;
	if (gw) {
		snprintf(what, sizeof(what), "%sgateway", at);
		if (ipv4_parse(gw, &gateway, what, e))
			return -1;
	}
	if (add_usable(&mine, net, first, last, e) || ipam_pool_remove(&mine, gateway, gateway, e) ||
	    pool_merge(pool, &mine, e)) {
		ipam_pool_release(&mine);
		return -1;
	}
	ipam_pool_release(&mine);
	return 0;
}

static int host_local(const cJSON *ipam, struct nad_net *n, struct kerr *e)
{
	const cJSON *sets, *set, *r;
	const char *subnet, *range;
	struct ipv4_net net;
	int i = 0;

	if (get_str(ipam, "", "subnet", &subnet, e) || get_str(ipam, "", "range", &range, e) ||
	    get_list(ipam, "", "ranges", &sets, e))
		return -1;
	if ((subnet && *subnet) || (range && *range)) {
		if (hl_range(ipam, "", &n->pool, &net, e))
			return -1;
		n->subnet = net;
		n->has_subnet = true;
	}
	cJSON_ArrayForEach(set, sets) {
		int j = 0;

		if (!cJSON_IsArray(set))
			return kerr_set(e, KERR_USAGE, "'ranges[%d]' in the CNI config is not a list", i);
		cJSON_ArrayForEach(r, set) {
			char at[48];

			snprintf(at, sizeof(at), "ranges[%d][%d].", i, j);
			if (!cJSON_IsObject(r))
				return kerr_set(e, KERR_USAGE, "'ranges[%d][%d]' in the CNI config is not an object", i,
						j);
			if (hl_range(r, at, &n->pool, &net, e))
				return -1;
			if (!n->has_subnet) {
				n->subnet = net;
				n->has_subnet = true;
			}
			j++;
		}
		i++;
	}
	if (!n->has_subnet)
		return kerr_set(e, KERR_USAGE, "host-local IPAM has no 'subnet' or 'ranges'");
	return 0;
}

static int static_ipam(const cJSON *ipam, struct nad_net *n, struct kerr *e)
{
	const cJSON *list, *a;
	int i = 0;

	if (get_list(ipam, "", "addresses", &list, e))
		return -1;
	cJSON_ArrayForEach(a, list) {
		const char *s;
		struct ipv4_net net;
		char at[48], what[64];
		ipv4 raw;
		int prefix;

		snprintf(at, sizeof(at), "addresses[%d].", i);
		snprintf(what, sizeof(what), "addresses[%d].address", i);
		i++;
		if (!cJSON_IsObject(a))
			return kerr_set(e, KERR_USAGE, "'%.*s' in the CNI config is not an object", (int)strlen(at) - 1,
					at);
		if (get_str(a, at, "address", &s, e))
			return -1;
		if (!s)
			return kerr_set(e, KERR_USAGE, "static '%s' is missing", what);
		if (ipv4_net_parse(s, &net, what, e))
			return -1;
		parse_cidr(s, strlen(s), &raw, &prefix);
		if (ipam_pool_add(&n->pool, raw, raw, e))
			return -1;
		if (!n->has_subnet) {
			n->subnet = net;
			n->has_subnet = true;
		}
	}
	return 0;
}

/* The object whose fields describe the network: the config itself, or in
 * a plugin chain the first member with "ipam" (else the first member). */
static int pick_plugin(const cJSON *root, const cJSON **conf, struct kerr *e)
{
	const cJSON *plugins, *p, *first = NULL;

	*conf = root;
	if (cJSON_GetObjectItemCaseSensitive(root, "ipam"))
		return 0;
	if (get_list(root, "", "plugins", &plugins, e))
		return -1;
	cJSON_ArrayForEach(p, plugins) {
		if (!cJSON_IsObject(p))
			continue;
		if (!first)
			first = p;
		if (cJSON_GetObjectItemCaseSensitive(p, "ipam")) {
			*conf = p;
			return 0;
		}
	}
	if (first)
		*conf = first;
	return 0;
}

static int parse_conf(const cJSON *root, struct nad_net *n, struct kerr *e)
{
	const cJSON *conf, *ipam;
	bool has_vlan, has_vlan_id, has_mtu;
	int vlan = 0, vlan_id = 0;

	if (pick_plugin(root, &conf, e))
		return -1;
	if (get_name(conf, "", "type", n->type, sizeof(n->type), e) ||
	    get_name(conf, "", "master", n->master, sizeof(n->master), e) ||
	    get_name(conf, "", "bridge", n->bridge, sizeof(n->bridge), e) ||
	    get_int(conf, "vlan", 0, 4094, &vlan, &has_vlan, e) ||
	    get_int(conf, "vlanId", 0, 4094, &vlan_id, &has_vlan_id, e) ||
	    get_int(conf, "mtu", 0, 65535, &n->mtu, &has_mtu, e))
		return -1;
	if (has_vlan_id)
		n->vlan = vlan_id;
	else if (has_vlan)
		n->vlan = vlan;
	else
		n->vlan = master_vlan(n->master);

	ipam = cJSON_GetObjectItemCaseSensitive(conf, "ipam");
	if (!ipam || cJSON_IsNull(ipam))
		return 0;
	if (!cJSON_IsObject(ipam))
		return kerr_set(e, KERR_USAGE, "'ipam' in the CNI config is not an object");
	if (get_name(ipam, "ipam.", "type", n->ipam_type, sizeof(n->ipam_type), e))
		return -1;
	if (!strcmp(n->ipam_type, "whereabouts"))
		return whereabouts(ipam, n, e);
	if (!strcmp(n->ipam_type, "host-local"))
		return host_local(ipam, n, e);
	if (!strcmp(n->ipam_type, "static"))
		return static_ipam(ipam, n, e);
	return 0; /* dhcp and others: addresses this module cannot know */
}

int nad_net_parse(const char *config, struct nad_net *out, struct kerr *e)
{
	struct nad_net n = NAD_NET_INIT;
	cJSON *root;
	int r;

	if (out) {
		struct nad_net init = NAD_NET_INIT;

		*out = init;
	}
	if (!config)
		return kerr_set(e, KERR_PARSE, "CNI config is not valid JSON: it is empty");
	root = json_parse(config, strlen(config), "CNI config", e);
	if (!root)
		return -1;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return kerr_set(e, KERR_PARSE, "CNI config is not a JSON object");
	}
	r = parse_conf(root, &n, e);
	cJSON_Delete(root);
	if (r) {
		nad_net_release(&n);
		return -1;
	}
	if (out)
		*out = n;
	else
		nad_net_release(&n);
	return 0;
}

void nad_net_release(struct nad_net *n)
{
	struct nad_net init = NAD_NET_INIT;

	if (!n)
		return;
	ipam_pool_release(&n->pool);
	*n = init;
}

/*
 * ipam.h — the migration network's addresses: a NetworkAttachmentDefinition's
 * CNI config read into its shape (type, NIC or bridge, VLAN, MTU) and its
 * IPAM address pool, computed the way the IPAM plugin hands addresses out,
 * so two clusters' pools can be compared before they collide.
 *
 * Supported IPAM: whereabouts (`range` as CIDR or "FIRST-LAST/PREFIX",
 * `range_start`, `range_end`, `exclude`, `ipRanges`), host-local (`subnet`/
 * `range`, `rangeStart`, `rangeEnd`, `ranges`) and static (`addresses`).
 * Whereabouts and host-local never hand out the network and broadcast
 * addresses of a subnet larger than /31. IPv4 only: an IPv6 range is
 * refused with a clear error (KERR_USAGE).
 *
 * A pool is a sorted list of disjoint, inclusive address spans. With
 * ipRanges, a top-level `exclude` applies to the top-level `range` only (as
 * whereabouts does); each ipRanges entry has its own.
 *
 * Ownership: struct nad_net and struct ipam_pool own their arrays; release
 * with nad_net_release() / ipam_pool_release(). Strings passed in are
 * borrowed; every char * a function returns is the caller's (free()).
 */
#ifndef CCLM_IPAM_H
#define CCLM_IPAM_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* An IPv4 address in host byte order. */
typedef uint32_t ipv4;

struct ipv4_net {
	ipv4 addr;    /* the network address (host bits cleared) */
	int prefix;   /* 0..32 */
};

struct ipam_span {
	ipv4 first, last; /* inclusive, first <= last */
};

struct ipam_pool {
	struct ipam_span *spans; /* sorted by first, disjoint; touching spans are merged */
	int n;
};

#define IPAM_POOL_INIT { NULL, 0 }

/* A NAD's CNI config, as far as the migration network cares. */
struct nad_net {
	char type[32];       /* CNI type: "macvlan", "bridge", "cnv-bridge", "ipvlan", "ovn-k8s-cni-overlay", ... */
	char master[64];     /* macvlan/ipvlan/vlan: the node interface ("ens4" or "ens4.2001"); else "" */
	char bridge[64];     /* bridge/cnv-bridge: the bridge name; else "" */
	int vlan;            /* the VLAN tag (bridge "vlan", vlan "vlanId", or master "ens4.2001"); 0 = none */
	int mtu;             /* the config's "mtu"; 0 = not set (the interface's own) */
	char ipam_type[32];  /* "whereabouts", "host-local", "static", "" when there is no IPAM */
	bool has_subnet;
	struct ipv4_net subnet;   /* the (first) range's subnet */
	struct ipam_pool pool;    /* the addresses this cluster's IPAM may hand out */
};

#define NAD_NET_INIT { "", "", "", 0, 0, "", false, { 0, 0 }, IPAM_POOL_INIT }

/* "192.168.201.7" -> addr; 0 or -1 (KERR_USAGE naming `what`). */
int ipv4_parse(const char *s, ipv4 *out, const char *what, struct kerr *e);
/* "192.168.201.0/24" -> net (host bits are cleared); 0 or -1. */
int ipv4_net_parse(const char *s, struct ipv4_net *out, const char *what, struct kerr *e);
/* Dotted quad into out (at least 16 bytes). */
void ipv4_format(ipv4 a, char *out, unsigned long n);
/* The first and last address of a network. */
ipv4 ipv4_net_first(const struct ipv4_net *n);
ipv4 ipv4_net_last(const struct ipv4_net *n);
bool ipv4_net_contains(const struct ipv4_net *n, ipv4 a);

/* Parse a NAD's spec.config (a JSON string; a plugin chain "plugins":[...]
 * is searched for the member with "ipam"). 0 or -1 with e set (KERR_PARSE
 * for bad JSON, KERR_USAGE for an IPAM config that makes no sense). */
int nad_net_parse(const char *config, struct nad_net *out, struct kerr *e);
void nad_net_release(struct nad_net *n);

/* Pools. */
void ipam_pool_release(struct ipam_pool *p);
/* Add first..last, keeping the list sorted and disjoint (merging overlaps). */
int ipam_pool_add(struct ipam_pool *p, ipv4 first, ipv4 last, struct kerr *e);
/* Remove every address of first..last. */
int ipam_pool_remove(struct ipam_pool *p, ipv4 first, ipv4 last, struct kerr *e);
bool ipam_pool_contains(const struct ipam_pool *p, ipv4 a);
/* How many addresses. */
uint64_t ipam_pool_size(const struct ipam_pool *p);
/* True when a and b share an address; *first_common (may be NULL) is the lowest one. */
bool ipam_pool_overlap(const struct ipam_pool *a, const struct ipam_pool *b, ipv4 *first_common);
/* "192.168.201.1-192.168.201.127" or, for several spans, comma-separated;
 * a single address prints once; an empty pool prints "(empty)". Appends. */
int ipam_pool_format(const struct ipam_pool *p, struct buf *out, struct kerr *e);

/*
 * Split a subnet into `nparts` disjoint per-cluster pools of equal size for
 * whereabouts: part i gets [start_i, end_i] (network and broadcast
 * addresses left out). Fails (KERR_USAGE) when the subnet is smaller than
 * /30 per part ("subnet '192.168.201.0/29' is too small for 2 clusters").
 */
int ipam_split(const struct ipv4_net *subnet, int nparts, struct ipam_span *parts, struct kerr *e);

#endif

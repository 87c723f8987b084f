/* maps.c — --network-map and --storage-map (see engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static int split(const char *item, const char *flag, struct map_entry *out, bool storage, struct kerr *e)
{
	const char *eq = strchr(item, '='), *rest;
	char to[600];
	char *c1, *c2;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!eq || eq == item || !eq[1] || strchr(eq + 1, '='))
		return kerr_set(e, KERR_USAGE, "%s '%s': expected SRC=DST%s", flag, item,
				storage ? "[:ACCESS[:VOLUMEMODE]]" : "");
	if ((size_t)(eq - item) >= sizeof(out->from))
		return kerr_set(e, KERR_USAGE, "%s '%s': name too long", flag, item);
	memcpy(out->from, item, (size_t)(eq - item));
	rest = eq + 1;
	if (strlen(rest) >= sizeof(to))
		return kerr_set(e, KERR_USAGE, "%s '%s': too long", flag, item);
	snprintf(to, sizeof(to), "%s", rest);
	c1 = storage ? strchr(to, ':') : NULL;
	if (c1) {
		*c1++ = '\0';
		c2 = strchr(c1, ':');
		if (c2)
			*c2++ = '\0';
		if (*c1 && strcmp(c1, "ReadWriteOnce") && strcmp(c1, "ReadWriteMany") && strcmp(c1, "ReadOnlyMany"))
			return kerr_set(e, KERR_USAGE,
					"%s '%s': access mode '%s' is not ReadWriteOnce, ReadWriteMany or ReadOnlyMany", flag,
					item, c1);
		if (c2 && strcmp(c2, "Block") && strcmp(c2, "Filesystem"))
			return kerr_set(e, KERR_USAGE, "%s '%s': volume mode '%s' is not Block or Filesystem", flag,
					item, c2);
		snprintf(out->access, sizeof(out->access), "%s", c1);
		if (c2)
			snprintf(out->mode, sizeof(out->mode), "%s", c2);
	} else if (!storage && strchr(to, ':')) {
		return kerr_set(e, KERR_USAGE, "%s '%s': expected SRC=DST", flag, item);
	}
	n = strlen(to);
	if (!n || n >= sizeof(out->to))
		return kerr_set(e, KERR_USAGE, "%s '%s': expected SRC=DST", flag, item);
	memcpy(out->to, to, n + 1); /* (not snprintf: -O1 cannot see the bound and warns) */
	return 0;
}

int maps_parse(const char *const *net, int nnet, const char *const *store, int nstore, struct maps *m,
	       struct kerr *e)
{
	int i;

	memset(m, 0, sizeof(*m));
	if (nnet && !(m->net = calloc((size_t)nnet, sizeof(*m->net))))
		return kerr_set(e, KERR_NOMEM, "out of memory");
	if (nstore && !(m->store = calloc((size_t)nstore, sizeof(*m->store)))) {
		maps_release(m);
		return kerr_set(e, KERR_NOMEM, "out of memory");
	}
	for (i = 0; i < nnet; i++, m->nnet++)
		if (split(net[i], "--network-map", &m->net[i], false, e))
			goto fail;
	for (i = 0; i < nstore; i++, m->nstore++)
		if (split(store[i], "--storage-map", &m->store[i], true, e))
			goto fail;
	return 0;
fail:
	maps_release(m);
	return -1;
}

void maps_release(struct maps *m)
{
	free(m->net);
	free(m->store);
	memset(m, 0, sizeof(*m));
}

const struct map_entry *maps_net(const struct maps *m, const char *from)
{
	int i;

	for (i = 0; i < m->nnet; i++)
		if (!strcmp(m->net[i].from, from))
			return &m->net[i];
	return NULL;
}

const struct map_entry *maps_store(const struct maps *m, const char *from)
{
	int i;

	for (i = 0; i < m->nstore; i++)
		if (!strcmp(m->store[i].from, from))
			return &m->store[i];
	return NULL;
}

/* yaml_write.c — yaml_write(): cJSON to YAML through libyaml's emitter; see json.h. */
#include "json.h"
#include "json_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- YAML writing ---------------------------------------------------- */

struct yw {
	yaml_emitter_t em;
	struct buf *out;
	int buf_errno; /* set when appending to out failed */
	bool sorted;
	bool bad_utf8;
};

static int yw_output(void *data, unsigned char *buffer, size_t size)
{
	struct yw *w = data;

	if (buf_add(w->out, buffer, size)) {
		w->buf_errno = errno ? errno : ENOMEM;
		return 0;
	}
	return 1;
}

/* libyaml's own check, so a refused scalar can be told from no memory. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, w, k;
	unsigned long v;

	while (i < n) {
		unsigned char c = s[i];

		w = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!w || i + w > n)
			return false;
		v = w == 1 ? c : w == 2 ? c & 0x1f : w == 3 ? c & 0x0f : c & 0x07;
		for (k = 1; k < w; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (s[i + k] & 0x3f);
		}
		if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && v < 0x10000))
			return false;
		i += w;
	}
	return true;
}

static int yw_emit(struct yw *w, yaml_event_t *ev)
{
	return yaml_emitter_emit(&w->em, ev) ? 0 : -1;
}

static int yw_scalar(struct yw *w, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	size_t n = strlen(s);

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style)) {
		if (!utf8_ok((const unsigned char *)s, n))
			w->bad_utf8 = true;
		return -1;
	}
	return yw_emit(w, &ev);
}

/* A string, quoted when plain it would read back as something else. */
static int yw_string(struct yw *w, const char *s)
{
	double num;
	bool b;

	if (strchr(s, '\n'))
		return yw_scalar(w, s, YAML_LITERAL_SCALAR_STYLE);
	if (yaml_resolve_plain(s, &num, &b) != PK_STR || !strcmp(s, "<<") || yaml_base60_like(s))
		return yw_scalar(w, s, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	return yw_scalar(w, s, YAML_PLAIN_SCALAR_STYLE);
}

static int yw_node(struct yw *w, const cJSON *item, int level)
{
	yaml_event_t ev;
	struct member *m;
	size_t n, i;
	char num[64];
	bool obj;
	int r = 0;

	if (level > WRITE_MAX_DEPTH)
		return WERR_DEPTH;
	switch (item->type & 0xff) {
	case cJSON_NULL:
		return yw_scalar(w, "null", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_False:
		return yw_scalar(w, "false", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_True:
		return yw_scalar(w, "true", YAML_PLAIN_SCALAR_STYLE);
	case cJSON_Number:
		if (isnan(item->valuedouble))
			return yw_scalar(w, ".nan", YAML_PLAIN_SCALAR_STYLE);
		if (isinf(item->valuedouble))
			return yw_scalar(w, item->valuedouble > 0 ? ".inf" : "-.inf",
					 YAML_PLAIN_SCALAR_STYLE);
		json_format_number(item->valuedouble, num, sizeof(num));
		return yw_scalar(w, num, YAML_PLAIN_SCALAR_STYLE);
	case cJSON_String:
		return yw_string(w, item->valuestring ? item->valuestring : "");
	case cJSON_Array:
	case cJSON_Object:
		break;
	default:
		return WERR_INVALID;
	}
	obj = cJSON_IsObject(item);
	if (json_members(item, obj && w->sorted, &m, &n))
		return WERR_BUF;
	if (obj)
		r = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
			n ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
	else
		r = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
	if (!r || yw_emit(w, &ev))
		goto fail;
	for (i = 0; i < n; i++) {
		if (obj && yw_string(w, m[i].item->string ? m[i].item->string : ""))
			goto fail;
		if ((r = yw_node(w, m[i].item, level + 1)))
			goto out;
	}
	if (obj)
		yaml_mapping_end_event_initialize(&ev);
	else
		yaml_sequence_end_event_initialize(&ev);
	if (yw_emit(w, &ev))
		goto fail;
	r = 0;
	goto out;
fail:
	r = -1;
out:
	free(m);
	return r;
}

int yaml_write(const cJSON *item, bool sorted, struct buf *out, struct kerr *e)
{
	struct yw w;
	yaml_event_t ev;
	size_t start = out->len;
	int r = -1;

	if (!item)
		return kerr_set(e, KERR_FAILED, "cannot write YAML: no value");
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.sorted = sorted;
	if (!yaml_emitter_initialize(&w.em))
		return kerr_set(e, KERR_NOMEM, "cannot write YAML: out of memory");
	yaml_emitter_set_output(&w.em, yw_output, &w);
	yaml_emitter_set_indent(&w.em, 2);
	yaml_emitter_set_width(&w.em, -1);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_break(&w.em, YAML_LN_BREAK);

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (yw_emit(&w, &ev))
		goto fail;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || yw_emit(&w, &ev))
		goto fail;
	if ((r = yw_node(&w, item, 0)))
		goto fail;
	r = -1;
	yaml_document_end_event_initialize(&ev, 1);
	if (yw_emit(&w, &ev))
		goto fail;
	yaml_stream_end_event_initialize(&ev);
	if (yw_emit(&w, &ev) || !yaml_emitter_flush(&w.em))
		goto fail;
	yaml_emitter_delete(&w.em);
	return 0;
fail:
	if (w.buf_errno)
		json_buf_error(e, w.buf_errno, "cannot write YAML");
	else if (r == WERR_DEPTH)
		kerr_set(e, KERR_LIMIT, "cannot write YAML: nested too deeply");
	else if (r == WERR_INVALID)
		kerr_set(e, KERR_FAILED, "cannot write YAML: invalid value in the tree");
	else if (w.bad_utf8)
		kerr_set(e, KERR_FAILED, "cannot write YAML: a string is not valid UTF-8");
	else if (w.em.error == YAML_EMITTER_ERROR && w.em.problem)
		kerr_set(e, KERR_FAILED, "cannot write YAML: %s", w.em.problem);
	else
		kerr_set(e, KERR_NOMEM, "cannot write YAML: out of memory");
	yaml_emitter_delete(&w.em);
	json_buf_truncate(out, start);
	return -1;
}

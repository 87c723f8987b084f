/* redact.c — see redact.h. */
#include "redact.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <strings.h>

#include "json.h"

#define LOG_CAP (16u << 10)

int redact_is_secret_key(const char *name)
{
	static const char *const words[] = { "token", "password", "secret", "credential", "keydata",
					     "key-data", "privatekey", "private-key", "passphrase", NULL };
	char low[128];
	size_t i, n = strlen(name);

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	low[n] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

static void scrub(cJSON *node, int in_secret_kind)
{
	cJSON *it;

	cJSON_ArrayForEach(it, node) {
		int secret = it->string && (redact_is_secret_key(it->string) ||
					    (in_secret_kind && (!strcmp(it->string, "data") ||
								!strcmp(it->string, "stringData"))));

		if (secret && (cJSON_IsString(it) || cJSON_IsObject(it) || cJSON_IsArray(it))) {
			if (cJSON_IsString(it)) {
				cJSON_SetValuestring(it, "<redacted>");
			} else {
				cJSON *child;

				cJSON_ArrayForEach(child, it)
					if (cJSON_IsString(child))
						cJSON_SetValuestring(child, "<redacted>");
				scrub(it, 1);
			}
			continue;
		}
		if (cJSON_IsObject(it) || cJSON_IsArray(it))
			scrub(it, !strcmp(json_str(it, "kind", ""), "Secret"));
	}
}

void redact_body(const char *body, size_t len, struct buf *out)
{
	cJSON *doc = json_parse(body, len, "body", NULL);
	struct buf tmp = BUF_INIT;
	const char *p;

	if (doc) {
		scrub(doc, !strcmp(json_str(doc, "kind", ""), "Secret"));
		json_write(doc, 0, false, &tmp, NULL);
		cJSON_Delete(doc);
	} else {
		/* not JSON: copy, masking what follows each "Bearer " */
		size_t i = 0;

		while (i < len) {
			if (len - i > 7 && !strncasecmp(body + i, "bearer ", 7)) {
				buf_add(&tmp, body + i, 7);
				buf_addstr(&tmp, "<redacted>");
				for (i += 7; i < len && body[i] != ' ' && body[i] != '"' && body[i] != '\n'; i++)
					;
				continue;
			}
			buf_addch(&tmp, body[i++]);
		}
	}
	for (p = tmp.s; p < tmp.s + tmp.len && out->len < LOG_CAP; p++)
		buf_addch(out, (*p == '\n' || *p == '\r') ? ' ' : *p);
	if (tmp.len > LOG_CAP)
		buf_addstr(out, " ...(truncated)");
	buf_release(&tmp);
}

void redact_log_body(void (*log)(void *, const char *), void *ctx, const char *label,
		     const char *body, size_t len)
{
	struct buf line = BUF_INIT;

	if (!log)
		return;
	buf_addf(&line, "%s: ", label);
	redact_body(body, len, &line);
	log(ctx, line.s);
	buf_release(&line);
}

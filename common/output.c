/* output.c — see output.h. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"

struct table {
	int ncols, nrows, arows;
	char **cells; /* nrows+1 rows (headers first) of ncols */
};

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	if (table_add(t, headers)) {
		free(t);
		return NULL;
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	int i;

	if (t->nrows == t->arows) {
		int n = t->arows ? t->arows * 2 : 16;
		char **p = realloc(t->cells, (size_t)n * (size_t)t->ncols * sizeof(*p));

		if (!p)
			return -1;
		t->cells = p;
		t->arows = n;
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "<none>");

		if (!c) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -1;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *f, bool headers)
{
	size_t *w = calloc((size_t)t->ncols, sizeof(*w));
	int r, c;

	if (!w)
		return;
	for (r = headers ? 0 : 1; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (r = headers ? 0 : 1; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c == t->ncols - 1)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s   ", (int)w[c], cell);
		}
	}
	free(w);
}

void table_free(struct table *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int output_object(FILE *f, const char *format, const cJSON *obj, struct kerr *e)
{
	struct buf b = BUF_INIT;
	int rc;

	if (!strcmp(format, "json"))
		rc = json_write(obj, 4, true, &b, e) || buf_addch(&b, '\n');
	else if (!strcmp(format, "yaml"))
		rc = yaml_write(obj, true, &b, e);
	else
		rc = kerr_set(e, KERR_USAGE, "unknown output format '%s' (json, yaml)", format);
	if (!rc && fwrite(b.s, 1, b.len, f) != b.len)
		rc = kerr_set(e, KERR_IO, "cannot write the output");
	buf_release(&b);
	return rc ? -1 : 0;
}

int output_list(FILE *f, const char *format, const cJSON *items, struct kerr *e)
{
	cJSON *list = cJSON_CreateObject();
	int rc;

	if (!list)
		return kerr_set(e, KERR_NOMEM, "out of memory");
	cJSON_AddStringToObject(list, "apiVersion", "v1");
	/* borrow the items: a reference, not a copy */
	cJSON_AddItemReferenceToObject(list, "items", (cJSON *)items);
	cJSON_AddStringToObject(list, "kind", "List");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(list, "metadata"), "resourceVersion", "");
	rc = output_object(f, format, list, e);
	cJSON_Delete(list);
	return rc;
}

bool term_is_tty(int fd)
{
	return isatty(fd) == 1;
}

bool term_fancy(void)
{
	const char *term = getenv("TERM");
	const char *nc = getenv("NO_COLOR");

	return term_is_tty(1) && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
}

void output_bytes(double bytes, char *out, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;

	if (!(bytes > 0))
		bytes = 0;
	while (bytes >= 1024 && u < 5) {
		bytes /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

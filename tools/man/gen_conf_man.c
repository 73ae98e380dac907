/* Build-time generator of wolfguard.conf.d(5): the hand-written page
 * template with every option filled in from the tables the server itself
 * validates with (core/config/server_options.c, and each plugin's descriptor read
 * from the built .so through the same loader the server uses). The page
 * therefore cannot drift from what --check-config accepts.
 *
 * Usage: gen-conf-man TEMPLATE OUTPUT PLUGIN.so...
 * TEMPLATE holds the line "%%SERVER_OPTIONS%%" and the line "%%PLUGIN_OPTIONS%%". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "modules/loader.h"
#include "config/server_options.h"

/* roff-safe text: backslashes doubled, a leading dot or quote guarded,
 * and minus signs written as \- (they are options and paths here). */
static void put_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case WG_OPT_STRING:
		return "string";
	case WG_OPT_INT:
		return "integer";
	case WG_OPT_BOOL:
		return "boolean";
	case WG_OPT_STRING_LIST:
		return "list of strings";
	default:
		return "value";
	}
}

static void put_options(FILE *out, const struct wg_option *opts)
{
	if (!opts || !opts->name) {
		fputs("This plugin takes no options.\n", out);
		return;
	}
	for (const struct wg_option *o = opts; o->name; o++) {
		fputs(".TP\n.BR \"", out);
		put_text(out, o->name);
		fprintf(out, "\" \" (%s", type_name(o->type));
		if (o->type == WG_OPT_INT && (o->min || o->max))
			fprintf(out, ", %lld..%lld", (long long)o->min, (long long)o->max);
		if (o->flags & WG_OPT_REQUIRED)
			fputs(", required", out);
		else if (o->default_value) {
			fputs(", default ", out);
			put_text(out, o->default_value);
		}
		fputs(")\"\n", out);
		put_text(out, o->help ? o->help : "");
		fputc('\n', out);
	}
}

static int put_plugin(FILE *out, const char *path)
{
	struct wg_loaded_plugin p;
	struct wg_err err;

	wg_err_init(&err);
	if (wg_plugin_open(path, NULL, &p, &err) < 0) {
		fprintf(stderr, "gen-conf-man: %s", err.text);
		return -1;
	}
	fputs(".SS \"", out);
	put_text(out, p.desc->name);
	fprintf(out, " (%s plugin)\"\n", wg_plugin_kind_name(p.desc->kind));
	if (p.desc->description) {
		put_text(out, p.desc->description);
		fputs(".\n.PP\n", out);
	}
	fputs("Enabled by a file such as\n.IR conf.d/NN\\-", out);
	put_text(out, p.desc->name);
	fputs(".json :\n.RS\n.EX\n{\"plugin\": \"", out);
	put_text(out, p.desc->name);
	fputs("\", \"options\": {...}}\n.EE\n.RE\n", out);
	put_options(out, p.desc->options);
	wg_plugin_close(&p);
	return 0;
}

int main(int argc, char **argv)
{
	char line[1024];

	if (argc < 3) {
		fprintf(stderr, "usage: gen-conf-man TEMPLATE OUTPUT PLUGIN.so...\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
	if (!in || !out) {
		perror("gen-conf-man");
		return 1;
	}
	int rc = 0;
	while (fgets(line, sizeof(line), in)) {
		if (strcmp(line, "%%SERVER_OPTIONS%%\n") == 0)
			put_options(out, wg_server_options);
		else if (strcmp(line, "%%PLUGIN_OPTIONS%%\n") == 0) {
			for (int i = 3; i < argc && rc == 0; i++)
				rc = put_plugin(out, argv[i]);
		} else
			fputs(line, out);
	}
	fclose(in);
	if (fclose(out) != 0 || rc != 0) {
		remove(argv[2]);
		return 1;
	}
	return 0;
}

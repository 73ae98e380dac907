/* Parsing control requests with jansson; every field is type-checked and
 * length-bounded before use. */
#include "control/control_proto.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int cmd;
	int needs_selector; /* "user" or "id" */
	int needs_addr;
} commands[] = {
	{"status", WG_CTL_STATUS, 0, 0}, {"list", WG_CTL_LIST, 0, 0}, {"show", WG_CTL_SHOW, 1, 0},
	{"disconnect", WG_CTL_DISCONNECT, 1, 0}, {"reload", WG_CTL_RELOAD, 0, 0}, {"ban", WG_CTL_BAN, 0, 1},
	{"unban", WG_CTL_UNBAN, 0, 1}, {"bans", WG_CTL_BANS, 0, 0}, {"events", WG_CTL_EVENTS, 0, 0},
};

static int copy_seconds(json_t *root, long long *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "seconds");

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > WG_CONTROL_MAX_BAN_S) {
		snprintf(err, errlen, "\"seconds\" must be an integer from 1 to %d", WG_CONTROL_MAX_BAN_S);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int copy_string(json_t *root, const char *key, char *dst, size_t dstlen, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= dstlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "\"%s\" must be a non-empty string shorter than %zu bytes", key, dstlen);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int wg_control_parse(const char *buf, size_t len, struct wg_control_req *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *cmd;
	const char *name;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > WG_CONTROL_MAX_REQUEST) {
		snprintf(err, errlen, "request larger than %d bytes", WG_CONTROL_MAX_REQUEST);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root) {
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "a request is a JSON object");
		goto out;
	}
	cmd = json_object_get(root, "cmd");
	name = json_is_string(cmd) ? json_string_value(cmd) : NULL;
	for (size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		out->cmd = commands[i].cmd;
		if (copy_string(root, "user", out->user, sizeof(out->user), err, errlen) < 0 ||
		    copy_string(root, "id", out->id, sizeof(out->id), err, errlen) < 0 ||
		    copy_string(root, "addr", out->addr, sizeof(out->addr), err, errlen) < 0 ||
		    copy_seconds(root, &out->seconds, err, errlen) < 0)
			goto out;
		if (commands[i].needs_addr && !out->addr[0]) {
			snprintf(err, errlen, "\"%s\" needs \"addr\"", name);
			goto out;
		}
		if (commands[i].needs_selector && !out->user[0] && !out->id[0]) {
			snprintf(err, errlen, "\"%s\" needs \"user\" or \"id\"", name);
			goto out;
		}
		rc = 0;
		goto out;
	}
	snprintf(err, errlen, "unknown or missing \"cmd\" (status, list, show, disconnect, reload, ban, unban, bans)");
out:
	json_decref(root);
	return rc;
}

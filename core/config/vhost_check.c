/* Checks of the server's "vhosts" (vhost_check.h). */
#include "config/vhost_check.h"

#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "util/err.h"

#define MAX_VHOSTS 256

bool wg_vhost_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0, label = 0;

	if (len == 0 || len > WG_VHOST_NAME_MAX || name[0] == '.' || name[len - 1] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false; /* ".." */
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-') || ++label > 63)
			return false;
	}
	return true;
}

/* A file named by a vhost must be readable now: a typo is found by
 * --check-config rather than by the first client of that name. */
static void check_file(const struct wg_config *s, const char *name, const char *key, const char *path,
		       struct wg_err *err)
{
	if (path && access(path, R_OK) != 0)
		wg_err_add(err, "%s: server.vhosts.%s.%s: cannot read %s", wg_config_where(s, "vhosts"), name, key, path);
}

static bool declared(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

void wg_check_vhosts(const struct wg_conf *conf, struct wg_err *err)
{
	const struct wg_config *s = conf->server;
	const char *names[MAX_VHOSTS + 1];
	size_t n = wg_config_account_names(s, "vhosts", names, MAX_VHOSTS + 1);
	const char *fallback = wg_config_string(s, "vhost-fallback");

	if (fallback && strcmp(fallback, "default") != 0 && strcmp(fallback, "refuse") != 0)
		wg_err_add(err, "%s: server.vhost-fallback: \"%s\": expected \"default\" or \"refuse\"",
			   wg_config_where(s, "vhost-fallback"), fallback);
	if (n > MAX_VHOSTS) {
		wg_err_add(err, "%s: server.vhosts: more than %d vhosts", wg_config_where(s, "vhosts"), MAX_VHOSTS);
		n = MAX_VHOSTS;
	}
	for (size_t i = 0; i < n; i++) {
		if (!wg_vhost_name_ok(names[i])) {
			wg_err_add(err, "%s: server.vhosts.%s: not a server name a client can send (lower case letters, "
				   "digits, '-' and '.', at most %d characters)", wg_config_where(s, "vhosts"), names[i],
				   WG_VHOST_NAME_MAX);
			continue;
		}
		check_file(s, names[i], "certificate", wg_config_account_string(s, "vhosts", names[i], "certificate"), err);
		check_file(s, names[i], "private-key", wg_config_account_string(s, "vhosts", names[i], "private-key"), err);
		check_file(s, names[i], "ca-file", wg_config_account_string(s, "vhosts", names[i], "ca-file"), err);
		check_file(s, names[i], "crl-file", wg_config_account_string(s, "vhosts", names[i], "crl-file"), err);
	}
	for (size_t i = 0; i < conf->n_files; i++) {
		const struct wg_conf_file *f = &conf->files[i];
		if (f->vhost && !declared(names, n, f->vhost))
			wg_err_add(err, "%s: vhost: \"%s\" is not declared in the server's \"vhosts\"%s", f->path, f->vhost,
				   n ? "" : " (there are none)");
	}
}

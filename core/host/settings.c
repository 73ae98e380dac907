/* Applying the server section's settings to a running worker. */
#include "host/settings.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "net/ban.h"
#include "server.h"
#include "session/limits.h"
#include "util/log.h"

#define CAMOUFLAGE_PAGE_MAX (256u << 10)

static int apply_camouflage(struct wg_server *srv, char *why, size_t whylen);

int wg_server_apply_settings(struct wg_server *srv, char *why, size_t whylen)
{
	const struct wg_config *c = srv->scfg;
	int level = wg_log_level_from_name(wg_config_string(c, "log-level"));

	if (level < 0) {
		snprintf(why, whylen, "%s: log-level: expected error, warn, notice, info or debug",
			 wg_config_where(c, "log-level"));
		return -1;
	}
	struct wg_ban_limits lim = {
		.failures = (unsigned)wg_config_int(c, "ban-failures"),
		.window_s = (unsigned)wg_config_int(c, "ban-window"),
		.ban_s = (unsigned)wg_config_int(c, "ban-time"),
		.max_entries = (unsigned)wg_config_int(c, "ban-max-entries"),
		.prefix6 = (unsigned)wg_config_int(c, "ipv6-client-prefix"),
	};
	if (!srv->bans && !(srv->bans = wg_ban_new(&lim))) {
		snprintf(why, whylen, "out of memory for the ban table");
		return -1;
	}
	wg_ban_set_limits(srv->bans, &lim);
	srv->ban_failures = lim.failures;
	srv->ban_window = lim.window_s;
	srv->ban_time = lim.ban_s;
	wg_log_set_level(level);

	srv->cookie_lifetime = (unsigned)wg_config_int(c, "cookie-lifetime");
	srv->auth_timeout = (unsigned)wg_config_int(c, "auth-timeout");
	srv->idle_timeout = (unsigned)wg_config_int(c, "idle-timeout");
	srv->session_timeout = (unsigned)wg_config_int(c, "session-timeout");
	srv->dpd = (unsigned)wg_config_int(c, "dpd");
	srv->keepalive = (unsigned)wg_config_int(c, "keepalive");
	srv->mtu = (unsigned)wg_config_int(c, "mtu");
	srv->max_clients = (unsigned)wg_config_int(c, "max-clients");
	srv->max_unauth = (unsigned)wg_config_int(c, "max-unauthenticated");
	/* Per-client shares are not divided between workers: the kernel sends
	 * all of one address's connections to the same worker. */
	srv->max_unauth_per_addr = (unsigned)wg_config_int(c, "max-unauthenticated-per-address");
	srv->max_logins_per_addr = (unsigned)wg_config_int(c, "max-logins-per-address");
	srv->max_logins_per_conn = (unsigned)wg_config_int(c, "max-logins-per-connection");
	srv->max_logins = (unsigned)wg_config_int(c, "max-logins");
	srv->prefix6_client = lim.prefix6;
	/* Server-wide limits are shared out between the worker processes. */
	if (srv->worker.count > 1) {
		unsigned n = srv->worker.count;
		srv->max_clients = srv->max_clients ? (srv->max_clients + n - 1) / n : 0;
		srv->max_unauth = srv->max_unauth ? (srv->max_unauth + n - 1) / n : 0;
		srv->max_logins = (srv->max_logins + n - 1) / n;
	}
	srv->isolate = wg_config_bool(c, "isolate-clients");
	srv->proxy_proto = wg_config_bool(c, "listen-proxy-proto");
	/* Workers are chosen by the connection's source address (steer.c):
	 * behind a relay every TLS connection would reach one worker, and the
	 * client's DTLS, steered by its own address, another. */
	if (srv->proxy_proto && srv->worker.count > 1) {
		snprintf(why, whylen, "%s: listen-proxy-proto: needs workers 1", wg_config_where(c, "listen-proxy-proto"));
		return -1;
	}
	srv->banner = wg_config_string(c, "banner");
	srv->default_domain = wg_config_string(c, "default-domain");
	srv->server_name = wg_config_string(c, "server-name");
	if (wg_limits_check_config(c, why, whylen) < 0)
		return -1;
	return apply_camouflage(srv, why, whylen);
}

/* camouflage-secret, -realm and -page; the page is read now (at start and
 * at every reload), at most 256 KiB. */
static int apply_camouflage(struct wg_server *srv, char *why, size_t whylen)
{
	const struct wg_config *c = srv->scfg;
	const char *secret = wg_config_string(c, "camouflage-secret");
	const char *realm = wg_config_string(c, "camouflage-realm");
	const char *path = wg_config_string(c, "camouflage-page");
	char *page = NULL;
	size_t len = 0;

	if (secret && *secret) {
		for (const char *p = secret; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-._~", *p)) {
				snprintf(why, whylen, "%s: camouflage-secret: use letters, digits and - . _ ~ only (it goes in a URL)",
					 wg_config_where(c, "camouflage-secret"));
				return -1;
			}
	}
	if (realm && (strchr(realm, '"') || strchr(realm, '\\') || strchr(realm, '\r') || strchr(realm, '\n'))) {
		snprintf(why, whylen, "%s: camouflage-realm: no quotes, backslashes or line breaks",
			 wg_config_where(c, "camouflage-realm"));
		return -1;
	}
	if (path && *path) {
		FILE *f = fopen(path, "re");
		if (!f) {
			snprintf(why, whylen, "%s: camouflage-page: cannot open %s: %s", wg_config_where(c, "camouflage-page"),
				 path, strerror(errno));
			return -1;
		}
		page = malloc(CAMOUFLAGE_PAGE_MAX + 1);
		len = page ? fread(page, 1, CAMOUFLAGE_PAGE_MAX + 1, f) : 0;
		fclose(f);
		if (!page || len > CAMOUFLAGE_PAGE_MAX) {
			free(page);
			snprintf(why, whylen, "%s: camouflage-page: %s is larger than %u bytes", wg_config_where(c, "camouflage-page"),
				 path, CAMOUFLAGE_PAGE_MAX);
			return -1;
		}
	}
	char *s = secret && *secret ? strdup(secret) : NULL, *r = realm && *realm ? strdup(realm) : NULL;
	if ((secret && *secret && !s) || (realm && *realm && !r)) {
		free(s);
		free(r);
		free(page);
		snprintf(why, whylen, "out of memory for the camouflage settings");
		return -1;
	}
	free(srv->camouflage_page);
	free(srv->camouflage_secret);
	free(srv->camouflage_realm);
	srv->camouflage_page = page;
	srv->camouflage_page_len = len;
	srv->camouflage_secret = s;
	srv->camouflage_realm = r;
	return 0;
}


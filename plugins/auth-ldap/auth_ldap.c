/* auth-ldap: logins checked against an LDAP directory with libldap, by a
 * direct bind as the user (bind-dn-template) or by search then bind; groups
 * from an attribute of the user's entry and/or a group search, mapped to
 * wolfguard groups; chosen attributes handed to the session for policy.
 *
 * The form steps, the worker thread (libldap's synchronous calls block),
 * the per-login state and the end of a login belong to the SDK's adapter
 * (wolfguard/auth_check.h): this file answers its one question with the
 * directory work of ldap_search.c. */
/* dladdr: _GNU_SOURCE comes from the build */
#include <dlfcn.h>
#include <errno.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_ldap.h"

static const struct wg_option options[] = {
	{"uri", WG_OPT_STRING_LIST, WG_OPT_REQUIRED, 0, 0, NULL,
	 "LDAP servers in failover order: \"ldap://host[:port]/\" or \"ldaps://host[:port]/\""},
	{"starttls", WG_OPT_BOOL, 0, 0, 0, "false", "upgrade ldap:// connections with StartTLS (required to succeed)"},
	{"ca-file", WG_OPT_STRING, 0, 0, 0, NULL,
	 "PEM file of the CA(s) that sign the servers' certificates (default: the system's trust store)"},
	{"bind-dn-template", WG_OPT_STRING, 0, 0, 0, NULL,
	 "direct bind as the user: a DN with %u for the user name, e.g. \"uid=%u,ou=people,dc=example,dc=org\""},
	{"search-base", WG_OPT_STRING, 0, 0, 0, NULL, "search then bind: where users are searched (subtree)"},
	{"search-filter", WG_OPT_STRING, 0, 0, 0, "(uid=%u)", "search then bind: the filter finding one user, %u the name"},
	{"bind-dn", WG_OPT_STRING, 0, 0, 0, NULL, "the search account's DN (absent: anonymous search)"},
	{"bind-password", WG_OPT_STRING, 0, 0, 0, NULL, "the search account's password"},
	{"group-attribute", WG_OPT_STRING, 0, 0, 0, NULL, "attribute of the user's entry naming groups, e.g. memberOf"},
	{"group-base", WG_OPT_STRING, 0, 0, 0, NULL, "where groups are searched (subtree); absent: no group search"},
	{"group-filter", WG_OPT_STRING, 0, 0, 0, "(&(objectClass=groupOfNames)(member=%d))",
	 "the filter of the user's groups, %d the user's DN"},
	{"group-map", WG_OPT_STRING_LIST, 0, 0, 0, NULL,
	 "\"LDAP-GROUP-DN-OR-CN=wolfguard-group\"; unmapped groups are named by their CN"},
	{"attributes", WG_OPT_STRING_LIST, 0, 0, 0, NULL,
	 "attributes of the user's entry copied into the session (policy scripts read them)"},
	{"timeout", WG_OPT_INT, 0, 1, 60, "5", "seconds for connecting to a server and for each operation"},
	{"dead-time", WG_OPT_INT, 0, 0, 3600, "60",
	 "seconds a server that could not be reached is tried only after the others"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* --- the check: the directory work of one login, on a worker thread ------- */

/* The adapter's question (wolfguard/auth_check.h; worker thread): is this
 * the user's password? ldap_search.c does the directory work. */
static void ldap_check(void *plugin, const struct wg_check_request *q, struct wg_check_result *res)
{
	struct ldap_plugin *p = plugin;
	const struct wg_host *host = p->host;
	struct ldap_result *r;
	char groups[256] = "";

	/* An empty password would be an unauthenticated bind (RFC 4513
	 * 5.1.2), which servers may answer with success: never send one. */
	if (!*q->password) {
		wg_check_reject(res, "Login failed.", "empty password refused before any LDAP bind");
		return;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		wg_check_reject(res, "Server busy, try again.", "out of memory");
		return;
	}
	ldap_authenticate(p, q->user, q->password, r);
	switch (r->outcome) {
	case LDAP_OUT_OK:
		for (unsigned i = 0; i < r->n_groups; i++) {
			size_t used = strlen(groups);
			snprintf(groups + used, sizeof(groups) - used, "%s%s", i ? "," : "", r->groups[i]);
		}
		if (r->trace[0]) /* an earlier server failed, or a limit was hit */
			host->log(NULL, WG_LOG_WARN, "auth-ldap: user \"%s\": %s", q->user, r->trace);
		host->log(NULL, WG_LOG_INFO, "auth-ldap: user \"%s\" accepted as \"%s\" (groups: %s)", q->user, r->dn,
			  r->n_groups ? groups : "none");
		wg_check_add_attr(res, "ldap-dn", r->dn);
		for (unsigned i = 0; i < r->n_values; i++)
			wg_check_add_attr(res, r->values[i].key, r->values[i].value);
		if (r->dropped_values)
			host->log(NULL, WG_LOG_WARN, "auth-ldap: user \"%s\": ignored %u attribute or group value(s) "
				  "(binary, longer than %d bytes, or too many)", q->user, r->dropped_values,
				  LDAP_VALUE_MAX - 1);
		for (unsigned i = 0; i < r->n_groups; i++)
			wg_check_add_group(res, r->groups[i]);
		wg_check_accept(res);
		break;
	case LDAP_OUT_REJECTED:
		wg_check_reject(res, "Login failed.", "invalid credentials (%s)", r->trace);
		break;
	case LDAP_OUT_UNREACHABLE:
		wg_check_reject(res, "Login failed. Try again later.", "no LDAP server reachable (%s)", r->trace);
		break;
	default:
		wg_check_reject(res, "Login failed. Try again later.", "LDAP error (%s)", r->trace);
		break;
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
}

static const struct wg_check_ops check_ops = {
	.name = "auth-ldap",
	.user_max = LDAP_USER_MAX,
	.password_max = LDAP_PASSWORD_MAX,
	.check = ldap_check,
};

/* --- configuration --------------------------------------------------------- */

static int dup_option(const struct wg_host *host, const struct wg_config *cfg, const char *key, char **out,
		      char *err, size_t errlen)
{
	const char *v = host->config_string(cfg, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!*v) {
		snprintf(err, errlen, "%s: %s: must not be empty", host->config_where(cfg, key), key);
		return -1;
	}
	*out = strdup(v);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* A template may use only the placeholders given in `allowed` (and %%). */
static int check_template(const struct wg_host *host, const struct wg_config *cfg, const char *key,
			  const char *tmpl, const char *allowed, char *err, size_t errlen)
{
	bool used = false;

	for (const char *s = tmpl; *s; s++) {
		if (*s != '%')
			continue;
		s++;
		if (*s == '%')
			continue;
		if (!*s || !strchr(allowed, *s)) {
			snprintf(err, errlen, "%s: %s: \"%%%c\" is not a placeholder here (only %%%s and %%%%)",
				 host->config_where(cfg, key), key, *s ? *s : ' ', allowed);
			return -1;
		}
		used = true;
	}
	if (!used) {
		snprintf(err, errlen, "%s: %s: must contain %s", host->config_where(cfg, key), key,
			 allowed[0] == 'u' ? "%u" : "%d");
		return -1;
	}
	return 0;
}

static int read_uris(struct ldap_plugin *p, const struct wg_config *cfg, char *err, size_t errlen)
{
	const struct wg_host *host = p->host;
	size_t n = host->config_list_size(cfg, "uri");

	if (n == 0 || n > LDAP_MAX_URIS) {
		snprintf(err, errlen, "%s: uri: give 1 to %d URIs", host->config_where(cfg, "uri"), LDAP_MAX_URIS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *u = host->config_list_item(cfg, "uri", i);
		bool ldaps = strncasecmp(u, "ldaps://", 8) == 0;
		if (!ldaps && strncasecmp(u, "ldap://", 7) != 0) {
			snprintf(err, errlen, "%s: uri[%zu]: \"%s\" is not an ldap:// or ldaps:// URI",
				 host->config_where(cfg, "uri"), i, u);
			return -1;
		}
		if (ldaps && p->starttls) {
			snprintf(err, errlen, "%s: uri[%zu]: \"%s\" is already TLS; starttls is for ldap:// URIs",
				 host->config_where(cfg, "uri"), i, u);
			return -1;
		}
		if (strpbrk(u, " ,")) {
			snprintf(err, errlen, "%s: uri[%zu]: one URI per list item", host->config_where(cfg, "uri"), i);
			return -1;
		}
		p->servers[i].uri = strdup(u);
		if (!p->servers[i].uri) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p->n_servers++;
	}
	return 0;
}

static int read_group_map(struct ldap_plugin *p, const struct wg_config *cfg, char *err, size_t errlen)
{
	const struct wg_host *host = p->host;
	size_t n = host->config_list_size(cfg, "group-map");

	if (n == 0)
		return 0;
	p->group_map = calloc(n, sizeof(*p->group_map));
	if (!p->group_map) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *item = host->config_list_item(cfg, "group-map", i);
		/* The last '=' splits: a DN on the left has '=' of its own. */
		const char *eq = strrchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			snprintf(err, errlen, "%s: group-map[%zu]: \"%s\" is not \"LDAP-GROUP=wolfguard-group\"",
				 host->config_where(cfg, "group-map"), i, item);
			return -1;
		}
		p->group_map[i].ldap = strndup(item, (size_t)(eq - item));
		p->group_map[i].wolfguard = strdup(eq + 1);
		p->n_group_map++;
		if (!p->group_map[i].ldap || !p->group_map[i].wolfguard) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int read_attributes(struct ldap_plugin *p, const struct wg_config *cfg, char *err, size_t errlen)
{
	const struct wg_host *host = p->host;
	size_t n = host->config_list_size(cfg, "attributes");

	if (n > LDAP_MAX_ATTRS) {
		snprintf(err, errlen, "%s: attributes: at most %d", host->config_where(cfg, "attributes"), LDAP_MAX_ATTRS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *a = host->config_list_item(cfg, "attributes", i);
		size_t len = strlen(a);
		if (len == 0 || len >= sizeof(((struct ldap_value *)0)->key) ||
		    strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-;") != len) {
			snprintf(err, errlen, "%s: attributes[%zu]: \"%s\" is not an attribute name",
				 host->config_where(cfg, "attributes"), i, a);
			return -1;
		}
		p->attributes[i] = strdup(a);
		if (!p->attributes[i]) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p->n_attributes++;
	}
	return 0;
}

/* libldap sets up process-wide state once (options read from ldap.conf,
 * the TLS library's global init) and never frees it. The host unloads a
 * plugin when its configuration generation retires; were libldap unloaded
 * with it, every reload would lose that state (and LeakSanitizer reports
 * it). So libldap stays loaded for the life of the process. */
static void pin_libldap(const struct wg_host *host)
{
	Dl_info info;

	if (!dladdr((void *)ldap_initialize, &info) || !info.dli_fname ||
	    !dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
		host->log(NULL, WG_LOG_WARN, "auth-ldap: could not keep libldap loaded: %s", dlerror());
}

/* GnuTLS-built libldap accepts a CA file holding no certificate (and then
 * trusts nothing); say so at load time instead. */
static bool has_pem_certificate(const char *path)
{
	char line[256];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
	fclose(f);
	return found;
}

static void fini(void *state);

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct ldap_plugin *p = calloc(1, sizeof(*p));
	char why[512];

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	pthread_mutex_init(&p->lock, NULL);
	*state = NULL;
	pin_libldap(host);
	p->starttls = host->config_bool(cfg, "starttls");
	p->timeout_s = (int)host->config_int(cfg, "timeout");
	p->dead_time_s = (int)host->config_int(cfg, "dead-time");
	if (read_uris(p, cfg, err, errlen) < 0 || dup_option(host, cfg, "ca-file", &p->ca_file, err, errlen) < 0 ||
	    dup_option(host, cfg, "bind-dn-template", &p->bind_dn_template, err, errlen) < 0 ||
	    dup_option(host, cfg, "search-base", &p->search_base, err, errlen) < 0 ||
	    dup_option(host, cfg, "search-filter", &p->search_filter, err, errlen) < 0 ||
	    dup_option(host, cfg, "bind-dn", &p->bind_dn, err, errlen) < 0 ||
	    dup_option(host, cfg, "bind-password", &p->bind_password, err, errlen) < 0 ||
	    dup_option(host, cfg, "group-attribute", &p->group_attribute, err, errlen) < 0 ||
	    dup_option(host, cfg, "group-base", &p->group_base, err, errlen) < 0 ||
	    dup_option(host, cfg, "group-filter", &p->group_filter, err, errlen) < 0 ||
	    read_group_map(p, cfg, err, errlen) < 0 || read_attributes(p, cfg, err, errlen) < 0)
		goto fail;
	if (p->ca_file && access(p->ca_file, R_OK) != 0) {
		snprintf(err, errlen, "%s: ca-file: %s: %s", host->config_where(cfg, "ca-file"), p->ca_file, strerror(errno));
		goto fail;
	}
	if (p->ca_file && !has_pem_certificate(p->ca_file)) {
		snprintf(err, errlen, "%s: ca-file: %s holds no PEM certificate", host->config_where(cfg, "ca-file"),
			 p->ca_file);
		goto fail;
	}
	if (ldap_check_settings(p, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", host->config_where(cfg, strncmp(why, "uri", 3) == 0 ? "uri" : "ca-file"), why);
		goto fail;
	}
	if (!p->bind_dn_template == !p->search_base) {
		snprintf(err, errlen, "give either bind-dn-template (direct bind) or search-base (search then bind)");
		goto fail;
	}
	if (p->bind_dn_template &&
	    check_template(host, cfg, "bind-dn-template", p->bind_dn_template, "u", err, errlen) < 0)
		goto fail;
	if (p->search_base && check_template(host, cfg, "search-filter", p->search_filter, "u", err, errlen) < 0)
		goto fail;
	if (p->bind_dn_template && (p->bind_dn || p->bind_password)) {
		snprintf(err, errlen, "%s: bind-dn and bind-password are for search then bind, not with bind-dn-template",
			 host->config_where(cfg, p->bind_dn ? "bind-dn" : "bind-password"));
		goto fail;
	}
	if (!p->bind_dn != !p->bind_password) {
		snprintf(err, errlen, "%s: bind-dn and bind-password go together",
			 host->config_where(cfg, p->bind_dn ? "bind-dn" : "bind-password"));
		goto fail;
	}
	if (p->group_base && check_template(host, cfg, "group-filter", p->group_filter, "d", err, errlen) < 0)
		goto fail;
	if (wg_check_init(&p->check, host, &check_ops, p, err, errlen) < 0)
		goto fail;
	/* Each login does a handful of operations (connect, StartTLS, binds,
	 * searches), each bounded by timeout, on every server in turn; past
	 * that and a margin, something hangs and the login should not wait. */
	p->check.check_deadline_ms = (uint32_t)(p->n_servers * p->timeout_s * 8 + 10) * 1000u;
	host->log(NULL, WG_LOG_INFO, "auth-ldap: %u server(s), %s%s%s, at most %d s per login when all are down",
		  p->n_servers, p->bind_dn_template ? "direct bind" : "search then bind",
		  p->starttls ? ", StartTLS" : "", p->group_base ? ", group search" : "",
		  (int)p->n_servers * p->timeout_s * (p->starttls ? 2 : 1));
	*state = p;
	return 0;
fail:
	fini(p);
	return -EINVAL;
}

static void fini(void *state)
{
	struct ldap_plugin *p = state;

	if (!p)
		return;
	for (unsigned i = 0; i < LDAP_MAX_URIS; i++)
		free(p->servers[i].uri);
	for (size_t i = 0; i < p->n_group_map; i++) {
		free(p->group_map[i].ldap);
		free(p->group_map[i].wolfguard);
	}
	free(p->group_map);
	for (size_t i = 0; i < LDAP_MAX_ATTRS; i++)
		free(p->attributes[i]);
	if (p->bind_password) {
		explicit_bzero(p->bind_password, strlen(p->bind_password));
		free(p->bind_password);
	}
	free(p->ca_file);
	free(p->bind_dn_template);
	free(p->search_base);
	free(p->search_filter);
	free(p->bind_dn);
	free(p->group_attribute);
	free(p->group_base);
	free(p->group_filter);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct wg_auth_ops ops = {
	WG_CHECK_AUTH_OPS,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-ldap",
	.version = "0.1.0",
	.description = "logins checked against an LDAP directory (libldap): direct or search-then-bind, groups, attributes",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};

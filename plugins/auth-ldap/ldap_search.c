/* auth-ldap: the directory work of one login, run on a host worker thread.
 *
 * Every login opens its own connection (libldap handles are not shared
 * between threads here), to the configured URIs in order; servers that
 * could not be reached lately are tried after the others. Each network
 * step is bounded by the plugin's timeout (LDAP_OPT_NETWORK_TIMEOUT for
 * connecting, LDAP_OPT_TIMEOUT for every synchronous operation), so a dead
 * server costs at most a few timeouts of this one worker, never the loop. */
#include <ctype.h>
#include <errno.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_ldap.h"

/* --- escaping and templates (pure; no libldap state) ------------------------ */

static int put(char *out, size_t outlen, size_t *n, const char *s, size_t len)
{
	if (*n + len >= outlen)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

static int put_hex(char *out, size_t outlen, size_t *n, unsigned char c)
{
	char hex[4];

	snprintf(hex, sizeof(hex), "\\%02x", c);
	return put(out, outlen, n, hex, 3);
}

int ldap_escape_dn_value(const char *in, char *out, size_t outlen)
{
	size_t len = strlen(in), n = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		bool special = strchr("\"+,;<>\\=", c) != NULL || (i == 0 && (c == ' ' || c == '#')) ||
			       (i == len - 1 && c == ' ');
		int rc;

		if (c < 0x20 || c == 0x7f)
			rc = put_hex(out, outlen, &n, c);
		else if (special)
			rc = put(out, outlen, &n, "\\", 1) < 0 ? -1 : put(out, outlen, &n, (const char *)&in[i], 1);
		else
			rc = put(out, outlen, &n, &in[i], 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int ldap_escape_filter_value(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (const char *s = in; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc = (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c == 0x7f) ?
				 put_hex(out, outlen, &n, c) :
				 put(out, outlen, &n, s, 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int ldap_expand(const char *tmpl, const char *user, int (*escape_u)(const char *, char *, size_t), const char *dn,
		int (*escape_d)(const char *, char *, size_t), char *out, size_t outlen)
{
	char esc[LDAP_DN_MAX * 3 + 1];
	size_t n = 0;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (const char *s = tmpl; *s; s++) {
		if (*s != '%') {
			if (put(out, outlen, &n, s, 1) < 0)
				return -1;
			continue;
		}
		s++;
		if (*s == '%') {
			if (put(out, outlen, &n, "%", 1) < 0)
				return -1;
		} else if (*s == 'u' && escape_u && user) {
			if (escape_u(user, esc, sizeof(esc)) < 0 || put(out, outlen, &n, esc, strlen(esc)) < 0)
				return -1;
		} else if (*s == 'd' && escape_d && dn) {
			if (escape_d(dn, esc, sizeof(esc)) < 0 || put(out, outlen, &n, esc, strlen(esc)) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static const char *map_lookup(const struct ldap_plugin *p, const char *name)
{
	for (size_t i = 0; i < p->n_group_map; i++)
		if (strcasecmp(p->group_map[i].ldap, name) == 0)
			return p->group_map[i].wolfguard;
	return NULL;
}

int ldap_group_name(const struct ldap_plugin *p, const char *group, char *out, size_t outlen)
{
	const char *mapped = map_lookup(p, group);
	char first[LDAP_VALUE_MAX];
	LDAPDN dn = NULL;

	if (mapped) {
		snprintf(out, outlen, "%s", mapped);
		return 1;
	}
	/* A DN names the group by its first RDN's value (the CN, usually);
	 * anything that does not parse as a DN is a plain name already. */
	snprintf(first, sizeof(first), "%s", group);
	if (strchr(group, '=') && ldap_str2dn(group, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn && dn[0] &&
	    dn[0][0]) {
		const struct berval *v = &dn[0][0]->la_value;
		if (v->bv_len < sizeof(first)) {
			memcpy(first, v->bv_val, v->bv_len);
			first[v->bv_len] = '\0';
		}
	}
	if (dn)
		ldap_dnfree(dn);
	mapped = map_lookup(p, first);
	if (mapped)
		first[0] = '\0';
	snprintf(out, outlen, "%s", mapped ? mapped : first);
	if (!out[0] || !printable(out, strlen(out)) || strlen(out) >= outlen)
		return -1;
	return mapped ? 1 : 0;
}

/* --- results ----------------------------------------------------------------- */

static void trace_add(struct ldap_result *r, const char *fmt, ...) WG_PRINTF(2, 3);
static void trace_add(struct ldap_result *r, const char *fmt, ...)
{
	size_t used = strlen(r->trace);
	va_list ap;

	if (used + 3 >= sizeof(r->trace))
		return;
	if (used)
		used += (size_t)snprintf(r->trace + used, sizeof(r->trace) - used, "; ");
	va_start(ap, fmt);
	vsnprintf(r->trace + used, sizeof(r->trace) - used, fmt, ap);
	va_end(ap);
}

static void add_group(const struct ldap_plugin *p, struct ldap_result *r, const char *ldap_group)
{
	char name[LDAP_VALUE_MAX];
	int mapped = ldap_group_name(p, ldap_group, name, sizeof(name));
	unsigned at;

	if (mapped < 0) {
		r->dropped_values++;
		return;
	}
	for (unsigned i = 0; i < r->n_groups; i++)
		if (strcmp(r->groups[i], name) == 0)
			return;
	if (r->n_groups >= LDAP_MAX_GROUPS) {
		r->dropped_values++;
		return;
	}
	/* Groups named by group-map come first (the first group is the
	 * session's unless the client picks one), each class in the order
	 * the directory returned them. */
	at = mapped ? r->n_mapped++ : r->n_groups;
	memmove(r->groups[at + 1], r->groups[at], (r->n_groups - at) * sizeof(r->groups[0]));
	snprintf(r->groups[at], sizeof(r->groups[0]), "%s", name);
	r->n_groups++;
}

static void add_value(struct ldap_result *r, const char *key, const struct berval *v)
{
	struct ldap_value *out;

	if (r->n_values >= LDAP_MAX_VALUES || v->bv_len >= sizeof(out->value) || !printable(v->bv_val, v->bv_len)) {
		r->dropped_values++;
		return;
	}
	out = &r->values[r->n_values++];
	snprintf(out->key, sizeof(out->key), "%s", key);
	for (char *c = out->key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	memcpy(out->value, v->bv_val, v->bv_len);
	out->value[v->bv_len] = '\0';
}

/* Copies the group attribute and the configured attributes of an entry. */
static void read_entry(const struct ldap_plugin *p, LDAP *ld, LDAPMessage *entry, struct ldap_result *r)
{
	struct berval **vals;

	if (p->group_attribute && (vals = ldap_get_values_len(ld, entry, p->group_attribute))) {
		for (size_t i = 0; vals[i]; i++) {
			char g[LDAP_VALUE_MAX];
			if (vals[i]->bv_len >= sizeof(g) || !printable(vals[i]->bv_val, vals[i]->bv_len)) {
				r->dropped_values++;
				continue;
			}
			memcpy(g, vals[i]->bv_val, vals[i]->bv_len);
			g[vals[i]->bv_len] = '\0';
			add_group(p, r, g);
		}
		ldap_value_free_len(vals);
	}
	for (size_t a = 0; a < p->n_attributes; a++) {
		vals = ldap_get_values_len(ld, entry, p->attributes[a]);
		if (!vals)
			continue;
		for (size_t i = 0; vals[i]; i++)
			add_value(r, p->attributes[a], vals[i]);
		ldap_value_free_len(vals);
	}
}

/* --- one server -------------------------------------------------------------- */

/* How one try with one server ended. */
enum step { STEP_DONE, STEP_NEXT_SERVER };

static bool unreachable(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT;
}

/* "Invalid credentials (TLS: hostname does not match CN in peer certificate)" */
static void describe(LDAP *ld, int rc, char *out, size_t outlen)
{
	char *diag = NULL;

	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	snprintf(out, outlen, "%s%s%s%s", ldap_err2string(rc), diag && *diag ? " (" : "", diag && *diag ? diag : "",
		 diag && *diag ? ")" : "");
	if (diag)
		ldap_memfree(diag);
}

/* With ldaps:// the first operation also does the TLS handshake, whose
 * failure libldap reports as "Can't contact LDAP server". */
static const char *tls_hint(const char *uri, int rc)
{
	return rc == LDAP_SERVER_DOWN && strncasecmp(uri, "ldaps://", 8) == 0 ?
		       " (or the TLS handshake failed: is the certificate signed by a CA of ca-file and issued for "
		       "the host of the URI?)" :
		       "";
}

static int simple_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred = {.bv_len = strlen(password), .bv_val = (char *)password};

	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

static LDAP *open_server(const struct ldap_plugin *p, const char *uri, struct ldap_result *r, int *rc_out)
{
	struct timeval tv = {.tv_sec = p->timeout_s};
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
	char why[512];
	LDAP *ld = NULL;

	*rc_out = LDAP_SUCCESS;
	rc = ldap_initialize(&ld, uri);
	if (rc != LDAP_SUCCESS) {
		trace_add(r, "%s: %s", uri, ldap_err2string(rc));
		*rc_out = rc;
		return NULL;
	}
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    (p->ca_file && ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, p->ca_file) != LDAP_OPT_SUCCESS) ||
	    /* A TLS context of this handle's own, made from the options above. */
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		trace_add(r, "%s: libldap refused the connection options (TLS settings, ca-file?)", uri);
		ldap_unbind_ext_s(ld, NULL, NULL);
		*rc_out = LDAP_LOCAL_ERROR;
		return NULL;
	}
	if (p->starttls) {
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			describe(ld, rc, why, sizeof(why));
			/* libldap's diagnostic for a failed handshake is often just
			 * "(unknown error code)": name the usual causes. */
			trace_add(r, "%s: StartTLS failed: %s%s", uri, why,
				  rc == LDAP_CONNECT_ERROR ? "; TLS handshake failed: is the server's certificate signed by a CA "
							     "of ca-file and issued for the host of the URI?" : "");
			ldap_unbind_ext_s(ld, NULL, NULL);
			/* TLS that cannot be set up makes this server unusable,
			 * like one that does not answer: try the next. */
			*rc_out = LDAP_CONNECT_ERROR;
			return NULL;
		}
	}
	return ld;
}

int ldap_check_settings(const struct ldap_plugin *p, char *err, size_t errlen)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
	bool tls = p->starttls || p->ca_file;

	for (unsigned i = 0; i < p->n_servers; i++) {
		LDAP *ld = NULL;
		rc = ldap_initialize(&ld, p->servers[i].uri);
		if (rc != LDAP_SUCCESS) {
			snprintf(err, errlen, "uri[%u]: \"%s\": %s", i, p->servers[i].uri, ldap_err2string(rc));
			return -1;
		}
		tls = tls || strncasecmp(p->servers[i].uri, "ldaps://", 8) == 0;
		/* The first TLS context is made here, on the loop thread, so
		 * libldap's and the TLS library's one-time global set-up never
		 * races between workers; it also proves ca-file loads. */
		if (i == 0 && tls &&
		    (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
		     (p->ca_file && ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, p->ca_file) != LDAP_OPT_SUCCESS) ||
		     ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS)) {
			ldap_unbind_ext_s(ld, NULL, NULL);
			snprintf(err, errlen, "ca-file: libldap cannot make a TLS context from \"%s\" (not PEM certificates?)",
				 p->ca_file ? p->ca_file : "the system trust store");
			return -1;
		}
		ldap_unbind_ext_s(ld, NULL, NULL);
	}
	return 0;
}

/* A search bounded in time and size; *res is set even on errors. */
static int search(const struct ldap_plugin *p, LDAP *ld, const char *base, int scope, const char *filter,
		  char **attrs, int sizelimit, LDAPMessage **res)
{
	struct timeval tv = {.tv_sec = p->timeout_s};

	*res = NULL;
	return ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL, &tv, sizelimit, res);
}

static void entry_attrs(const struct ldap_plugin *p, char **attrs)
{
	size_t n = 0;

	if (p->group_attribute)
		attrs[n++] = p->group_attribute;
	for (size_t i = 0; i < p->n_attributes; i++)
		attrs[n++] = p->attributes[i];
	if (n == 0)
		attrs[n++] = LDAP_NO_ATTRS;
	attrs[n] = NULL;
}

/* The groups whose group-filter matches the user's DN. */
static enum step group_search(const struct ldap_plugin *p, LDAP *ld, const char *uri, struct ldap_result *r)
{
	char filter[LDAP_DN_MAX * 4], why[512];
	char *no_attrs[] = {LDAP_NO_ATTRS, NULL};
	LDAPMessage *res = NULL;
	int rc;

	if (ldap_expand(p->group_filter, NULL, NULL, r->dn, ldap_escape_filter_value, filter, sizeof(filter)) < 0) {
		r->outcome = LDAP_OUT_ERROR;
		trace_add(r, "%s: group-filter too long for DN \"%s\"", uri, r->dn);
		return STEP_DONE;
	}
	rc = search(p, ld, p->group_base, LDAP_SCOPE_SUBTREE, filter, no_attrs, LDAP_MAX_GROUPS, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		describe(ld, rc, why, sizeof(why));
		trace_add(r, "%s: group search %s under \"%s\" failed: %s", uri, filter, p->group_base, why);
		ldap_msgfree(res);
		r->outcome = unreachable(rc) ? LDAP_OUT_UNREACHABLE : LDAP_OUT_ERROR;
		return unreachable(rc) ? STEP_NEXT_SERVER : STEP_DONE;
	}
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		trace_add(r, "%s: more than %d groups, the rest ignored", uri, LDAP_MAX_GROUPS);
	for (LDAPMessage *e = ldap_first_entry(ld, res); e; e = ldap_next_entry(ld, e)) {
		char *dn = ldap_get_dn(ld, e);
		if (dn) {
			add_group(p, r, dn);
			ldap_memfree(dn);
		}
	}
	ldap_msgfree(res);
	return STEP_DONE;
}

/* Direct bind: the user's DN comes from bind-dn-template; the entry is
 * read afterwards with the user's own rights. */
static enum step direct_bind(const struct ldap_plugin *p, LDAP *ld, const char *uri, const char *user,
			     const char *password, struct ldap_result *r)
{
	char *attrs[LDAP_MAX_ATTRS + 2], why[512];
	LDAPMessage *res = NULL;
	int rc;

	if (ldap_expand(p->bind_dn_template, user, ldap_escape_dn_value, NULL, NULL, r->dn, sizeof(r->dn)) < 0) {
		r->outcome = LDAP_OUT_REJECTED;
		trace_add(r, "user name too long for bind-dn-template");
		return STEP_DONE;
	}
	rc = simple_bind(ld, r->dn, password);
	if (rc != LDAP_SUCCESS) {
		describe(ld, rc, why, sizeof(why));
		trace_add(r, "%s: bind as \"%s\": %s%s", uri, r->dn, why, tls_hint(uri, rc));
		if (unreachable(rc)) {
			r->outcome = LDAP_OUT_UNREACHABLE;
			return STEP_NEXT_SERVER;
		}
		r->outcome = rc == LDAP_INVALID_CREDENTIALS ? LDAP_OUT_REJECTED : LDAP_OUT_ERROR;
		return STEP_DONE;
	}
	if (p->group_attribute || p->n_attributes) {
		entry_attrs(p, attrs);
		rc = search(p, ld, r->dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res);
		if (rc == LDAP_SUCCESS) {
			LDAPMessage *e = ldap_first_entry(ld, res);
			if (e)
				read_entry(p, ld, e, r);
		} else {
			describe(ld, rc, why, sizeof(why));
			trace_add(r, "%s: reading \"%s\" after the bind failed: %s", uri, r->dn, why);
			ldap_msgfree(res);
			r->outcome = unreachable(rc) ? LDAP_OUT_UNREACHABLE : LDAP_OUT_ERROR;
			return unreachable(rc) ? STEP_NEXT_SERVER : STEP_DONE;
		}
		ldap_msgfree(res);
	}
	r->outcome = LDAP_OUT_OK;
	if (p->group_base && group_search(p, ld, uri, r) == STEP_NEXT_SERVER)
		return STEP_NEXT_SERVER;
	return STEP_DONE;
}

/* Search then bind: the search account (or an anonymous bind) finds the
 * user's entry, its attributes and groups; then the user's own bind with
 * the password decides. */
static enum step search_bind(const struct ldap_plugin *p, LDAP *ld, const char *uri, const char *user,
			     const char *password, struct ldap_result *r)
{
	char filter[LDAP_USER_MAX * 3 + 1024], why[512];
	char *attrs[LDAP_MAX_ATTRS + 2], *dn;
	LDAPMessage *res = NULL, *e;
	int rc, n;

	if (p->bind_dn) {
		rc = simple_bind(ld, p->bind_dn, p->bind_password ? p->bind_password : "");
		if (rc != LDAP_SUCCESS) {
			describe(ld, rc, why, sizeof(why));
			trace_add(r, "%s: bind as the search account \"%s\": %s%s", uri, p->bind_dn, why, tls_hint(uri, rc));
			r->outcome = unreachable(rc) ? LDAP_OUT_UNREACHABLE : LDAP_OUT_ERROR;
			return unreachable(rc) ? STEP_NEXT_SERVER : STEP_DONE;
		}
	}
	if (ldap_expand(p->search_filter, user, ldap_escape_filter_value, NULL, NULL, filter, sizeof(filter)) < 0) {
		r->outcome = LDAP_OUT_REJECTED;
		trace_add(r, "user name too long for search-filter");
		return STEP_DONE;
	}
	entry_attrs(p, attrs);
	rc = search(p, ld, p->search_base, LDAP_SCOPE_SUBTREE, filter, attrs, 2, &res);
	if (rc != LDAP_SUCCESS) {
		describe(ld, rc, why, sizeof(why));
		ldap_msgfree(res);
		if (rc == LDAP_SIZELIMIT_EXCEEDED) {
			trace_add(r, "%s: search %s under \"%s\" matches more than one entry", uri, filter, p->search_base);
			r->outcome = LDAP_OUT_ERROR;
			return STEP_DONE;
		}
		trace_add(r, "%s: search %s under \"%s\" failed: %s", uri, filter, p->search_base, why);
		r->outcome = unreachable(rc) ? LDAP_OUT_UNREACHABLE : LDAP_OUT_ERROR;
		return unreachable(rc) ? STEP_NEXT_SERVER : STEP_DONE;
	}
	n = ldap_count_entries(ld, res);
	if (n != 1) {
		trace_add(r, "%s: search %s under \"%s\" found %s", uri, filter, p->search_base,
			  n == 0 ? "no such user" : "more than one entry");
		ldap_msgfree(res);
		r->outcome = n == 0 ? LDAP_OUT_REJECTED : LDAP_OUT_ERROR;
		return STEP_DONE;
	}
	e = ldap_first_entry(ld, res);
	dn = e ? ldap_get_dn(ld, e) : NULL;
	if (!dn || !*dn || strlen(dn) >= sizeof(r->dn)) {
		trace_add(r, "%s: the entry found by %s has no usable DN", uri, filter);
		if (dn)
			ldap_memfree(dn);
		ldap_msgfree(res);
		r->outcome = LDAP_OUT_ERROR;
		return STEP_DONE;
	}
	snprintf(r->dn, sizeof(r->dn), "%s", dn);
	ldap_memfree(dn);
	read_entry(p, ld, e, r);
	ldap_msgfree(res);
	r->outcome = LDAP_OUT_OK;
	if (p->group_base && (group_search(p, ld, uri, r) == STEP_NEXT_SERVER || r->outcome != LDAP_OUT_OK))
		return r->outcome == LDAP_OUT_UNREACHABLE ? STEP_NEXT_SERVER : STEP_DONE;
	/* The password decides, on the same connection. */
	rc = simple_bind(ld, r->dn, password);
	if (rc != LDAP_SUCCESS) {
		describe(ld, rc, why, sizeof(why));
		trace_add(r, "%s: bind as \"%s\": %s", uri, r->dn, why);
		if (unreachable(rc)) {
			r->outcome = LDAP_OUT_UNREACHABLE;
			return STEP_NEXT_SERVER;
		}
		r->outcome = rc == LDAP_INVALID_CREDENTIALS ? LDAP_OUT_REJECTED : LDAP_OUT_ERROR;
	}
	return STEP_DONE;
}

static void reset_found(struct ldap_result *r)
{
	r->dn[0] = '\0';
	r->n_groups = 0;
	r->n_mapped = 0;
	r->n_values = 0;
	r->dropped_values = 0;
}

void ldap_authenticate(struct ldap_plugin *p, const char *user, const char *password, struct ldap_result *r)
{
	unsigned order[LDAP_MAX_URIS], n = 0;
	time_t now = time(NULL);

	memset(r, 0, sizeof(*r));
	r->outcome = LDAP_OUT_UNREACHABLE;
	/* Never a bind with an empty password: RFC 4513 makes that an
	 * unauthenticated bind, which many servers answer with success. */
	if (!password || !*password) {
		r->outcome = LDAP_OUT_REJECTED;
		trace_add(r, "empty password");
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < p->n_servers; i++)
			if ((p->servers[i].dead_until <= now) == (pass == 0))
				order[n++] = i;
	pthread_mutex_unlock(&p->lock);

	for (unsigned k = 0; k < n; k++) {
		struct ldap_server *srv = &p->servers[order[k]];
		enum step step;
		int rc;
		LDAP *ld = open_server(p, srv->uri, r, &rc);

		reset_found(r);
		if (!ld) {
			r->outcome = unreachable(rc) ? LDAP_OUT_UNREACHABLE : LDAP_OUT_ERROR;
			step = STEP_NEXT_SERVER;
		} else {
			step = p->bind_dn_template ? direct_bind(p, ld, srv->uri, user, password, r) :
						     search_bind(p, ld, srv->uri, user, password, r);
			ldap_unbind_ext_s(ld, NULL, NULL);
		}
		pthread_mutex_lock(&p->lock);
		srv->dead_until = step == STEP_NEXT_SERVER ? time(NULL) + p->dead_time_s : 0;
		pthread_mutex_unlock(&p->lock);
		if (step == STEP_DONE)
			break;
	}
	if (r->outcome != LDAP_OUT_OK)
		reset_found(r);
}

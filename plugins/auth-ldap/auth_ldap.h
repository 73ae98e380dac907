/* auth-ldap internals shared by the login check (auth_ldap.c) and the
 * blocking directory work it does on worker threads (ldap_search.c). */
#ifndef WG_AUTH_LDAP_H
#define WG_AUTH_LDAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <wolfguard/auth_check.h>
#include <wolfguard/plugin.h>

#define LDAP_MAX_URIS 8
#define LDAP_MAX_GROUPS 32
#define LDAP_MAX_ATTRS 16  /* configured `attributes` */
#define LDAP_MAX_VALUES 64 /* attribute values copied into one session */
#define LDAP_USER_MAX 256
#define LDAP_PASSWORD_MAX 1024
#define LDAP_DN_MAX 1024
#define LDAP_VALUE_MAX 512
#define LDAP_TRACE_MAX 1024

struct ldap_server {
	char *uri;         /* "ldap://host:port/" or "ldaps://..." */
	time_t dead_until; /* guarded by ldap_plugin.lock; 0: believed alive */
};

struct group_map_entry {
	char *ldap;      /* a group's DN or CN, compared case-insensitively */
	char *wolfguard; /* the wolfguard group it becomes */
};

/* Read-only after init except the servers' dead_until. Worker threads read
 * it concurrently. */
struct ldap_plugin {
	struct wg_check check; /* first: the login conversation (wolfguard/auth_check.h) */
	const struct wg_host *host;
	struct ldap_server servers[LDAP_MAX_URIS];
	unsigned n_servers;
	pthread_mutex_t lock;
	bool starttls;
	char *ca_file;
	char *bind_dn_template; /* direct bind; else search then bind */
	char *search_base, *search_filter;
	char *bind_dn, *bind_password; /* the search account; NULL: anonymous */
	char *group_attribute;
	char *group_base, *group_filter;
	struct group_map_entry *group_map;
	size_t n_group_map;
	char *attributes[LDAP_MAX_ATTRS];
	size_t n_attributes;
	int timeout_s;
	int dead_time_s;
};

/* What became of one login's directory work. */
enum ldap_outcome {
	LDAP_OUT_OK = 0,
	LDAP_OUT_REJECTED,    /* unknown user or wrong password */
	LDAP_OUT_UNREACHABLE, /* no server could be reached (or TLS failed on every one) */
	LDAP_OUT_ERROR,       /* a server answered with an error: search account, filter, ... */
};

struct ldap_value {
	char key[64];
	char value[LDAP_VALUE_MAX];
};

/* The outcome and what the directory said, filled on a worker thread. */
struct ldap_result {
	enum ldap_outcome outcome;
	char trace[LDAP_TRACE_MAX]; /* for the log: servers tried, reasons */
	char dn[LDAP_DN_MAX];
	char groups[LDAP_MAX_GROUPS][LDAP_VALUE_MAX];
	unsigned n_groups;
	unsigned n_mapped; /* groups[0 .. n_mapped) came from group-map */
	struct ldap_value values[LDAP_MAX_VALUES];
	unsigned n_values;
	unsigned dropped_values; /* binary, too long, or past LDAP_MAX_VALUES */
};

/* Checks user/password against the directory: blocking, for a worker
 * thread. The password must not be empty (the caller refuses that). */
void ldap_authenticate(struct ldap_plugin *p, const char *user, const char *password, struct ldap_result *r);

/* At init, on the loop thread: every URI parses, and a TLS context can be
 * made with the TLS settings (which also does libldap's one-time global
 * set-up before any worker runs). Returns -1 with the reason in err. */
int ldap_check_settings(const struct ldap_plugin *p, char *err, size_t errlen);

/* Escapes for a DN attribute value (RFC 4514) and for a filter assertion
 * value (RFC 4515). Return -1 when out does not hold the result. */
int ldap_escape_dn_value(const char *in, char *out, size_t outlen);
int ldap_escape_filter_value(const char *in, char *out, size_t outlen);

/* Expands a template: %u is the user name escaped with `escape_u`, %d the
 * DN escaped with `escape_d` (either may be NULL: then that placeholder is
 * an error), %% a percent sign. Returns -1 on an unknown placeholder or
 * when out is too short. */
int ldap_expand(const char *tmpl, const char *user, int (*escape_u)(const char *, char *, size_t), const char *dn,
		int (*escape_d)(const char *, char *, size_t), char *out, size_t outlen);

/* The wolfguard group of an LDAP group given by DN (or plain name):
 * group-map by DN, then by CN, else the CN (the value itself when it is
 * not a DN). Returns 1 when group-map named it, 0 when the CN did, -1 when
 * nothing usable comes out. */
int ldap_group_name(const struct ldap_plugin *p, const char *group, char *out, size_t outlen);

#endif

/* wolfguard plugin ABI.
 *
 * A plugin is a shared object that exports exactly one data symbol,
 * WG_PLUGIN_SYMBOL, of type `const struct wg_plugin`. The host dlopen()s the
 * object with RTLD_LOCAL, reads `abi_version` and `struct_size` (the first two
 * fields, fixed forever) and refuses the plugin before touching anything else
 * when they do not match what the host speaks.
 *
 * Plugins never link against the host. Everything they may ask of the host
 * arrives as a `struct wg_host` function table at init time. That table, and
 * every struct in this header, only ever grows at its end; a change that is
 * not an append bumps WG_ABI_VERSION, and the host then refuses older plugins
 * with a message naming both versions.
 *
 * Ownership: strings passed to a plugin belong to the host and are valid for
 * the duration of the call unless a comment says otherwise. Strings a plugin
 * returns or passes to the host are copied by the host.
 */
#ifndef WOLFGUARD_PLUGIN_H
#define WOLFGUARD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Incremented on every incompatible change. */
#define WG_ABI_VERSION 1u

/* The one symbol a plugin exports. Versioned in its name, so a plugin built
 * for a future incompatible ABI is not even found by an older host. */
#define WG_PLUGIN_SYMBOL "wolfguard_plugin_v1"

#if defined(__GNUC__)
#define WG_EXPORT __attribute__((visibility("default")))
#define WG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WG_EXPORT
#define WG_PRINTF(f, a)
#endif

/* Declares the descriptor with the right name and linkage:
 *   WG_PLUGIN_DEFINE = { WG_PLUGIN_HEADER, .name = "auth-foo", ... };     */
#define WG_PLUGIN_DEFINE WG_EXPORT const struct wg_plugin wolfguard_plugin_v1
#define WG_PLUGIN_HEADER .abi_version = WG_ABI_VERSION, .struct_size = sizeof(struct wg_plugin)

enum wg_plugin_kind {
	WG_PLUGIN_AUTH = 1,      /* checks credentials; ops: struct wg_auth_ops     */
	WG_PLUGIN_ROUTING = 2,   /* addresses, routes, DNS; ops: struct wg_routing_ops */
	WG_PLUGIN_LOG = 3,       /* log sinks; ops: struct wg_log_ops               */
	WG_PLUGIN_POLICY = 4,    /* per-session policy; ops: struct wg_policy_ops   */
	WG_PLUGIN_TRANSPORT = 5, /* data-path lanes beside CSTP; ops: struct wg_transport_ops */
};

enum wg_log_level {
	WG_LOG_ERROR = 0,
	WG_LOG_WARN = 1,
	WG_LOG_NOTICE = 2,
	WG_LOG_INFO = 3,
	WG_LOG_DEBUG = 4,
};

/* ---------------------------------------------------------------------- */
/* Configuration: declared as data, validated by the host.                 */

enum wg_option_type {
	WG_OPT_STRING = 1,
	WG_OPT_INT = 2,       /* JSON integer, checked against [min, max]      */
	WG_OPT_BOOL = 3,
	WG_OPT_STRING_LIST = 4, /* JSON array of strings                        */
};

#define WG_OPT_REQUIRED 0x1u

/* One accepted key of a plugin's "options" object. Arrays end with a
 * zeroed entry (name == NULL). Unknown keys and wrong types are rejected by
 * the host as `file:line:column: key: problem` before init() runs. */
struct wg_option {
	const char *name;
	uint32_t type;   /* enum wg_option_type */
	uint32_t flags;  /* WG_OPT_* */
	int64_t min, max; /* WG_OPT_INT only; both 0 means unbounded */
	const char *default_value; /* textual default, or NULL; shown by docs */
	const char *help;
};

/* Opaque handles owned by the host. */
struct wg_config;   /* a plugin's validated "options" object            */
struct wg_session;  /* an authenticated user's VPN session               */
struct wg_auth;     /* one login conversation: every form step until it ends */
struct wg_timer;
struct wg_auth_field; /* defined with the auth kind below */
struct wg_policy_call; /* one asynchronous policy hook call */
struct wg_lane;        /* one session's lane over one transport (see below) */
struct wg_http_call;   /* a browser's request to an auth plugin's URL (see below) */
struct wg_auth_sso;    /* the single sign-on form (see below) */
struct wg_watch;       /* a watched file descriptor (transports) */

/* ---------------------------------------------------------------------- */
/* What a plugin may ask of the host.                                     */

/* Session attribute names used by wg_host.session_get (values as text). */
#define WG_SESS_USER "user"
#define WG_SESS_GROUP "group"
#define WG_SESS_ID "session-id"
#define WG_SESS_CLIENT_ADDR "client-address"
#define WG_SESS_ADDR4 "address-ipv4"
#define WG_SESS_ADDR6 "address-ipv6"
#define WG_SESS_USER_AGENT "user-agent"
#define WG_SESS_GROUPS "groups" /* all of the user's groups, comma-separated */
#define WG_SESS_VHOST "vhost" /* the server name (SNI) of the vhost it logged in under; NULL: the default server */
/* "attr:<key>": the last value a backend set with auth_set_attr(key). */
#define WG_SESS_ATTR_PREFIX "attr:"

/* Attribute keys (auth_set_attr) that the host itself applies to the
 * session's tunnel before policy hooks run; any other key is only carried
 * for policy scripts and for the plugin's own later use (e.g. RADIUS Class
 * echoed in accounting). Values are text. */
#define WG_ATTR_FRAMED_IPV4 "framed-ipv4"         /* lease this address if the pool has it */
/* Lease the pool slot of this IPv6 address (RADIUS Framed-IPv6-Address)
 * when no framed-ipv4 is given; routing-static's IPv4 and IPv6 addresses
 * share a slot, so the IPv4 address follows. */
#define WG_ATTR_FRAMED_IPV6 "framed-ipv6"
#define WG_ATTR_ROUTE "route"                     /* may repeat: split-include "10.1.0.0/16" */
#define WG_ATTR_DNS "dns"                         /* may repeat: a DNS server */
#define WG_ATTR_SESSION_TIMEOUT "session-timeout" /* seconds */
#define WG_ATTR_IDLE_TIMEOUT "idle-timeout"       /* seconds */
/* Sessions the user may hold at once (decimal), over the server's
 * max-same-clients and its "groups"/"users" entries. */
#define WG_ATTR_MAX_SAME_CLIENTS "max-same-clients"
/* Per-session limits (decimal or text), over the server's settings and its
 * "groups"/"users" entries (docs/config.md): bytes per second from and to
 * the client, bytes per session, and what the client may reach. */
#define WG_ATTR_RX_PER_SEC "rx-data-per-sec"
#define WG_ATTR_TX_PER_SEC "tx-data-per-sec"
#define WG_ATTR_DATA_QUOTA "data-quota"
#define WG_ATTR_RESTRICT_ROUTES "restrict-user-to-routes" /* "true" or "false" */
#define WG_ATTR_RESTRICT_PORTS "restrict-user-to-ports"   /* "tcp(443), udp(53), icmp()" or "!(...)" */
/* Read by the routing plugin when it leases (routing-static: a named pool). */
#define WG_ATTR_POOL "pool"

/* Counters of a session, as host->session_stats fills them. */
struct wg_session_stats {
	uint32_t struct_size;
	uint64_t bytes_in, bytes_out; /* in: from the client; out: to it */
	uint64_t pkts_in, pkts_out;
	int64_t login_time;          /* unix seconds of the successful login */
	uint64_t duration_s;         /* since login */
};

struct wg_host {
	uint32_t abi_version; /* WG_ABI_VERSION of the host */
	uint32_t struct_size; /* sizeof(struct wg_host) in the host */

	/* Logging; `sess` may be NULL. A line about a session carries its user,
	 * address and id automatically. */
	void (*log)(const struct wg_session *sess, int level, const char *fmt, ...) WG_PRINTF(3, 4);
	void (*vlog)(const struct wg_session *sess, int level, const char *fmt, va_list ap);

	/* Reading the plugin's validated options. A key that was absent yields
	 * the option's default_value (string/int/bool) or NULL / 0 / false. */
	const char *(*config_string)(const struct wg_config *cfg, const char *key);
	int64_t (*config_int)(const struct wg_config *cfg, const char *key);
	int (*config_bool)(const struct wg_config *cfg, const char *key);
	size_t (*config_list_size)(const struct wg_config *cfg, const char *key);
	const char *(*config_list_item)(const struct wg_config *cfg, const char *key, size_t i);
	/* Where the option was written, for messages: "conf.d/10-x.json:4:7". */
	const char *(*config_where)(const struct wg_config *cfg, const char *key);

	/* Timers on the event loop of the calling thread. cb runs on the loop. */
	/* A one-shot timer (repeat == 0) is freed by the host after its callback
	 * runs: call timer_del only before it fired. Repeating timers live until
	 * timer_del. Returns NULL on failure. */
	struct wg_timer *(*timer_add)(uint32_t after_ms, int repeat, void (*cb)(void *arg), void *arg);
	void (*timer_del)(struct wg_timer *t);

	/* Runs work(arg) on a worker thread, then done(arg) back on the loop.
	 * For anything that may block: PAM, network round-trips, disk. */
	int (*run_blocking)(void (*work)(void *arg), void (*done)(void *arg), void *arg);

	/* Session queries: text value of a WG_SESS_* attribute, or NULL. */
	const char *(*session_get)(const struct wg_session *sess, const char *attr);

	/* --- the login conversation (see struct wg_auth_ops) --- */
	/* A field the user answered in the last form ("username", "password",
	 * or any field name the plugin asked for), or NULL. */
	const char *(*auth_field)(const struct wg_auth *a, const char *name);
	/* Client's address as text, and the user name known so far (or NULL). */
	const char *(*auth_client_addr)(const struct wg_auth *a);
	const char *(*auth_username)(const struct wg_auth *a);
	/* Ask the user for more: `message` is shown above the form; fields is a
	 * NULL-terminated array. Ends this step; cont() runs on the answer. */
	void (*auth_prompt)(struct wg_auth *a, const char *message, const struct wg_auth_field *fields);
	/* Final answers. Exactly one of prompt/succeed/fail per start()/cont(),
	 * from the loop thread, possibly later (after run_blocking). */
	void (*auth_succeed)(struct wg_auth *a, const char *username, const char *const *groups);
	void (*auth_fail)(struct wg_auth *a, const char *user_message, const char *log_reason);
	/* Attributes learnt by the backend (RADIUS/LDAP), seen by policy hooks. */
	void (*auth_set_attr)(struct wg_auth *a, const char *key, const char *value);

	/* --- appended; a plugin checks struct_size before calling these --- */
	/* Calls cb for every session alive when the call starts. cb may end the
	 * session it was given (session_disconnect), and no other. */
	void (*session_foreach)(void (*cb)(const struct wg_session *sess, void *arg), void *arg);
	/* Ends a session: the client gets a DISCONNECT carrying the reason. */
	void (*session_disconnect)(const struct wg_session *sess, const char *reason);
	/* Sets the session's group (e.g. a policy's choice after login). */
	void (*session_set_group)(const struct wg_session *sess, const char *group);

	/* Fills *out (out->struct_size set by the caller, as in every stats
	 * struct); returns 0, or -1 for a session that is gone. */
	int (*session_stats)(const struct wg_session *sess, struct wg_session_stats *out);
	/* The verified client certificate of a login: what is "cn", "email"
	 * (first rfc822Name SAN, else the subject's emailAddress), "dns" (first
	 * DNS SAN), "ou", "subject", "issuer" or "serial" (hex). NULL when the
	 * client sent no certificate, it did not verify against the server's
	 * ca-file/crl-file, or the field is absent. */
	const char *(*auth_cert)(const struct wg_auth *a, const char *what);
	/* Sets a session attribute as auth_set_attr does during login (e.g. a
	 * policy's WG_ATTR_POOL or WG_ATTR_FRAMED_IPV4 in after_auth: the lease
	 * is made when the tunnel first comes up, after after_auth). */
	void (*session_set_attr)(const struct wg_session *sess, const char *key, const char *value);
	/* The i-th attribute of a session (from 0), for copying them all:
	 * returns 0 with *key and *value set, or -1 past the last one. */
	int (*session_attr_at)(const struct wg_session *sess, size_t i, const char **key, const char **value);
	/* The answer to an asynchronous policy hook (see wg_policy_ops):
	 * verdict 0 allows, non-zero denies with `message` shown to the user.
	 * Exactly once per call, from the loop thread (e.g. in run_blocking's
	 * done()); the call, its session and tunnel config are not to be
	 * touched afterwards. */
	void (*policy_done)(struct wg_policy_call *call, int verdict, const char *message);

	/* What needs root after the server dropped its privileges (see
	 * docs/security.md), done by the host's privileged helper. */
	/* Opens path for appending (O_CREAT, mode 0640); returns an fd or
	 * -errno (-ELOOP for a symlink, -EINVAL for anything but a regular
	 * file). A path opened this way during init (before the drop) may be
	 * reopened later, e.g. after log rotation; no other path can be. */
	int (*open_append)(const char *path);
	/* PAM authentication (pam_authenticate + pam_acct_mgmt) of user with
	 * password under service (a name in /etc/pam.d), run as root by the
	 * helper: pam_unix can read /etc/shadow. Blocks: call from
	 * run_blocking() work. Returns 0 accepted, 1 denied (msg: PAM's
	 * reason), or -errno. */
	int (*pam_authenticate)(const char *service, const char *user, const char *password, char *msg,
				size_t msglen);

	/* With "workers" above 1 the server is several processes, each with its
	 * own plugin instances; this one is worker *index of *count (0 of 1
	 * otherwise). A routing plugin leases from its own share of a pool
	 * first, so workers rarely offer the same address (the host refuses an
	 * address another worker holds and asks again). */
	void (*worker_slot)(unsigned *index, unsigned *count);

	/* Names, during init, a PAM service this plugin will pass to
	 * pam_authenticate: the root helper runs PAM only for services named
	 * before it was started, so a later call (a reload naming a new
	 * service) returns -EPERM and the plugin should refuse to start.
	 * Returns 0 or -errno (-EINVAL: not a file name of /etc/pam.d). */
	int (*pam_service_pin)(const char *service);

	/* --- transports (struct wg_transport_ops); loop thread only --- */
	/* The UDP socket the host bound for transports ("listen" and the
	 * server's "udp-port"; with "workers" above 1, this worker's socket of
	 * the SO_REUSEPORT group, already steered by client address). The
	 * caller owns it from then on (it closes it in fini). Returns the fd,
	 * or -1 when "udp-port" is 0 or another transport took it first. */
	int (*transport_udp_socket)(void);
	/* Calls cb(fd, arg) on the loop whenever fd is readable, until
	 * fd_unwatch. NULL on failure. */
	struct wg_watch *(*fd_watch)(int fd, void (*cb)(int fd, void *arg), void *arg);
	void (*fd_unwatch)(struct wg_watch *w);
	/* During offer() only: a header of the client's CONNECT request (NULL
	 * when absent), and adding a header to the host's 200 CONNECTED answer
	 * (returns 0, or -1 when the answer is full). */
	const char *(*lane_request_header)(const struct wg_lane *lane, const char *name);
	int (*lane_add_header)(struct wg_lane *lane, const char *name, const char *value);
	/* During offer() only: keying material exported from the session's
	 * TLS connection (RFC 5705, no context), e.g. openconnect's
	 * "EXPORTER-openconnect-psk". 0, or -1. */
	int (*lane_tls_export)(struct wg_lane *lane, const char *label, uint8_t *out, size_t len);
	/* The session a lane belongs to (for logging and session_get). */
	const struct wg_session *(*lane_session)(const struct wg_lane *lane);
	/* The lane can carry packets now, max_payload bytes each (IP packet,
	 * without the transport's own framing); peer is text for the log. The
	 * host then sends it the packets that fit, and the rest over CSTP.
	 * Called again when the lane moved (roaming) or its size changed. */
	void (*lane_up)(struct wg_lane *lane, size_t max_payload, const char *peer);
	/* The lane cannot carry packets (link lost, peer closed): the host
	 * goes back to CSTP. It stays offered; lane_up may follow again. */
	void (*lane_down)(struct wg_lane *lane, const char *why);
	/* Packets from clients: a burst (e.g. one recvmmsg) is bracketed by
	 * rx_begin/rx_end, so the host writes what it carries to the TUN
	 * device together. lane_input takes one record: type is the CSTP
	 * packet type (wolfguard/cstp_wire.h: DATA, DISCONNECT; the transport answers
	 * DPD and absorbs keepalives itself). payload is only read during the
	 * call. lane_input may end the session, and so call the transport's
	 * close() before it returns. */
	void (*rx_begin)(void);
	void (*lane_input)(struct wg_lane *lane, uint32_t type, const uint8_t *payload, size_t len);
	void (*rx_end)(void);

	/* --- appended (transport-lanes); check with WG_HOST_HAS --- */
	/* During offer() only: lane_tls_export with an RFC 5705 context
	 * (ctx_len bytes of ctx; the exporter's context_value, which may be
	 * empty but is then still "a context", unlike lane_tls_export under
	 * TLS 1.2). 0, or -1. */
	int (*lane_tls_export_context)(struct wg_lane *lane, const char *label, const uint8_t *ctx, size_t ctx_len,
				       uint8_t *out, size_t len);

	/* --- HTTP authentication of the login request (auth plugins) --- */
	/* The credentials of the login request's Authorization header when
	 * its scheme is `scheme` (case-insensitive: "Bearer" gives the token
	 * of RFC 6750), or NULL. The host keeps the header of the latest
	 * request of the conversation until the chain starts over after a
	 * failure. */
	const char *(*auth_http_credentials)(const struct wg_auth *a, const char *scheme);
	/* Ends the step as auth_prompt does, but answers the client with
	 * "401 Unauthorized" and "WWW-Authenticate: <challenge>" (e.g.
	 * "Bearer realm=\"vpn\""), `message` in the form body. openconnect
	 * repeats its request with the credentials (--token-mode=oidc: the
	 * Authorization: Bearer header); the repeated init starts the chain
	 * anew, where auth_http_credentials has it. */
	void (*auth_http_challenge)(struct wg_auth *a, const char *challenge, const char *message);

	/* --- appended (auth-oidc browser SSO); check with WG_HOST_HAS --- */
	/* A header of the conversation's latest login request, or NULL. The
	 * host keeps only those named in docs/plugins.md: the client's
	 * X-AnyConnect-STRAP-Pubkey and X-AnyConnect-STRAP-DH-Pubkey (the keys
	 * openconnect's external-browser login encrypts to). */
	const char *(*auth_http_header)(const struct wg_auth *a, const char *name);
	/* Ends the step as auth_prompt does, with the AnyConnect
	 * "single-sign-on-v2" form: the client opens sso->login_url in a
	 * browser and answers with the token in the field sso->field_name. */
	void (*auth_prompt_sso)(struct wg_auth *a, const char *message, const struct wg_auth_sso *sso);
	/* The answer to a browser's request (wg_auth_ops.http_request):
	 * exactly once per call, from the loop thread, now or later. status
	 * is the status line's tail ("302 Found"); headers are extra lines,
	 * each ending in \r\n (no line break inside one), or NULL. */
	void (*http_respond)(struct wg_http_call *call, const char *status, const char *content_type,
			     const char *headers, const char *body, size_t body_len);
	/* The browser's address as text, for the plugin's log lines. */
	const char *(*http_client_addr)(const struct wg_http_call *call);

	/* --- appended: per-login state of auth plugins; check with WG_HOST_HAS --- */
	/* One pointer per conversation and plugin instance, for what the
	 * plugin keeps per login (wolfguard/auth_check.h keeps its record
	 * there). `self` names the instance: the state pointer its init() gave
	 * the host (a conversation runs through every step of the chain). The
	 * slot is NULL until set, the host never frees what it points to, and
	 * it is cleared after the instance's conversation_end returns: free it
	 * there. Loop thread only. get returns NULL for an instance that is no
	 * step of a's chain; set returns 0, or -1 for such an instance. */
	void *(*auth_state_get)(const struct wg_auth *a, const void *self);
	int (*auth_state_set)(struct wg_auth *a, const void *self, void *value);

	/* --- appended (transport-lanes): a transport's own UDP socket; check with WG_HOST_HAS --- */
	/* Gives fd the receive and send buffers of the server's
	 * "udp-buffer-bytes", as transport_udp_socket's socket has them
	 * (forced past the sysctl maximum while the process is privileged: call
	 * it from init). name says which socket in the log line of what the
	 * kernel granted. 0, or -errno. */
	int (*udp_socket_buffers)(int fd, const char *name);
};

/* True when the host's table is long enough to hold member m. */
#define WG_HOST_HAS(host, m) \
	((host)->struct_size >= offsetof(struct wg_host, m) + sizeof((host)->m) && (host)->m != NULL)

/* True when a plugin's ops table (whose first member is struct_size) is long
 * enough to hold member m and sets it. The host uses it for appended ops. */
#define WG_OPS_HAS(ops, m) \
	((ops)->struct_size >= offsetof(__typeof__(*(ops)), m) + sizeof((ops)->m) && (ops)->m != NULL)

/* ---------------------------------------------------------------------- */
/* The descriptor every plugin exports.                                   */

struct wg_plugin {
	uint32_t abi_version; /* must be WG_ABI_VERSION: checked first */
	uint32_t struct_size; /* must be >= the host's sizeof(struct wg_plugin) */
	const char *name;     /* "auth-plain": the name conf.d files refer to  */
	const char *version;  /* the plugin's own version, shown by the host   */
	const char *description;
	uint32_t kind;        /* enum wg_plugin_kind */
	const struct wg_option *options; /* accepted option keys, or NULL */

	/* Called once with validated options. Returns 0, or a negative errno
	 * with a reason written into err (NUL-terminated, at most errlen). The
	 * plugin keeps `host` for its lifetime and puts its state in *state. */
	int (*init)(const struct wg_host *host, const struct wg_config *cfg, void **state,
		    char *err, size_t errlen);
	void (*fini)(void *state);

	/* Kind-specific callbacks: a pointer to the struct named by `kind`. */
	const void *ops;
};

/* ---- WG_PLUGIN_AUTH ---------------------------------------------------- */

enum wg_field_type { WG_FIELD_TEXT = 1, WG_FIELD_PASSWORD = 2 };

/* The AnyConnect "single-sign-on-v2" form (auth_prompt_sso): the elements
 * openconnect reads from <auth> (its auth.c) and the one input of type
 * "sso" whose value the client sends back. */
struct wg_auth_sso {
	uint32_t struct_size;          /* sizeof(struct wg_auth_sso) */
	const char *login_url;         /* <sso-v2-login>: what the browser opens */
	const char *login_final_url;   /* <sso-v2-login-final> */
	const char *token_cookie_name; /* <sso-v2-token-cookie-name> (embedded browsers) */
	const char *error_cookie_name; /* <sso-v2-error-cookie-name>, or NULL */
	const char *browser_mode;      /* <sso-v2-browser-mode>: "external", or NULL */
	const char *field_name;        /* the input of type "sso", e.g. "sso-token" */
};

struct wg_auth_field {
	const char *name;  /* "username", "password", "otp", ... */
	const char *label; /* shown to the user: "Password:" */
	uint32_t type;     /* enum wg_field_type */
};

/* Every enabled auth plugin is one step of the login chain, in conf.d
 * order (e.g. 15-auth-cert then 20-auth-radius). Each step must succeed;
 * the first failure denies. A later step sees the user name an earlier step
 * established through auth_username() and should only ask for what it still
 * needs (an OTP, say); succeeding with a different name fails the login.
 * The session's groups are the union of the steps' groups. */
struct wg_auth_ops {
	uint32_t struct_size;
	/* A new login: usually prompts for username and password. */
	void (*start)(void *state, struct wg_auth *a);
	/* The user answered the last prompt. */
	void (*cont)(void *state, struct wg_auth *a);
	/* The client went away; an answer given after this is ignored, but
	 * the plugin must not touch `a` once cancel() returns. May be NULL if
	 * the plugin never answers later than the call that started a step,
	 * or sets conversation_end (below), which follows cancel() anyway. */
	void (*cancel)(void *state, struct wg_auth *a);

	/* --- appended; the host checks struct_size before calling these --- */
	/* Accounting, for every session this plugin took part in logging in.
	 * session_start: the tunnel came up for the first time (addresses are
	 * known). session_stop: the session ended for good (logout, timeout,
	 * admin disconnect, server stop); st is final and reason is text. The
	 * plugin may keep `s` from start until stop returns. Neither may block:
	 * use run_blocking, whose pending work the host finishes before fini().
	 * Either may be NULL. */
	void (*session_start)(void *state, const struct wg_session *s);
	void (*session_stop)(void *state, const struct wg_session *s, const struct wg_session_stats *st,
			     const char *reason);

	/* The login conversation `a` is over, whatever ended it: success,
	 * failure, auth-timeout, the client started over or left, a later step
	 * of the chain failed, server stop. The one place to free what the
	 * plugin keeps per login (keyed by `a`).
	 * Called exactly once for each plugin whose start() ran for `a` (start()
	 * may have run several times: the chain starts over after a failure),
	 * never for the others, before `a` is freed; `a` may be read during the
	 * call (auth_username, auth_client_addr) but not answered.
	 * The plugin's step may still be pending (work in flight): the host
	 * then calls cancel() first if it is set, and ignores any later answer;
	 * `a` must not be touched after this returns. So a plugin with this
	 * hook needs no cancel(), and the host never waits for its answer.
	 * Answering (auth_prompt/succeed/fail) may end the conversation before
	 * the call returns, so this hook may run from inside that call: answer
	 * last, after the plugin's own use of its per-login state.
	 * May be NULL: the host then tells the plugin only through cancel(). */
	void (*conversation_end)(void *state, struct wg_auth *a);

	/* --- appended (browser SSO) --- */
	/* A browser's GET of https://SERVER/+wolfguard+/<plugin name>/<path>
	 * (e.g. an identity provider's redirect back): path is what follows
	 * the plugin's name, query what follows '?' ("" when none), both as
	 * sent (still percent-encoded). Answer with host->http_respond, now
	 * or later. Only plugins of the login chain are asked. May be NULL. */
	void (*http_request)(void *state, struct wg_http_call *call, const char *path, const char *query);
};

/* ---- WG_PLUGIN_ROUTING ------------------------------------------------- */

struct wg_route {
	char net[64]; /* "10.1.0.0/16" or "fd00::/64" */
};

/* What a session's tunnel is configured with. The host fills defaults from
 * the server section; routing plugins and policy hooks adjust it. */
#define WG_MAX_ROUTES 64
#define WG_MAX_DNS 4
struct wg_tunnel_config {
	uint32_t struct_size;
	char addr4[16];    /* "10.8.0.23", or "" for none */
	char netmask4[16]; /* "255.255.255.0" */
	char addr6[48];    /* "fd00:1::17", or "" */
	uint32_t prefix6;  /* usually 128 */
	uint32_t mtu;
	uint32_t n_include, n_exclude, n_dns, n_split_dns;
	struct wg_route include[WG_MAX_ROUTES]; /* none: tunnel everything */
	struct wg_route exclude[WG_MAX_ROUTES];
	char dns[WG_MAX_DNS][48];
	char split_dns[WG_MAX_DNS][128];
	char default_domain[128];
	uint32_t idle_timeout_s, session_timeout_s; /* 0: none */
	uint32_t dpd_s, keepalive_s;
	/* Appended in the same ABI version; check struct_size before use. */
	uint32_t rate_limit_kbps; /* each direction; 0: unlimited */
};

struct wg_routing_ops {
	uint32_t struct_size;
	/* The networks the pools are carved from, as "10.8.0.0/24" and
	 * "fd00:8::/64" ("" for none). The host gives its TUN device the first
	 * host address of each (10.8.0.1), so leases never hand that one out. */
	int (*networks)(void *state, char *net4, size_t len4, char *net6, size_t len6);
	/* Give a new session its addresses and routes. Returns 0, or a negative
	 * errno (-EADDRNOTAVAIL when the pool is exhausted). A session that
	 * reconnects with its cookie keeps its lease; lease() is not called. */
	int (*lease)(void *state, const struct wg_session *s, struct wg_tunnel_config *tc);
	void (*release)(void *state, const struct wg_session *s, const struct wg_tunnel_config *tc);
};

/* ---- WG_PLUGIN_LOG ----------------------------------------------------- */

struct wg_log_record {
	uint32_t struct_size;
	int level;                 /* enum wg_log_level */
	int64_t time_us;           /* wall clock, microseconds since the epoch */
	const char *source;        /* "core" or the plugin's name */
	const char *message;
	/* session context; NULL when the line is not about a session */
	const char *user, *client_addr, *session_id, *vpn_addr;
};

struct wg_log_ops {
	uint32_t struct_size;
	/* Must not block for long; called from any thread, serialised by host. */
	void (*write)(void *state, const struct wg_log_record *rec);
};

/* ---- WG_PLUGIN_POLICY -------------------------------------------------- */

struct wg_policy_ops {
	uint32_t struct_size;
	/* After the auth plugin said yes. Return 0 to allow; non-zero denies,
	 * with a message for the user written to msg. */
	int (*after_auth)(void *state, const struct wg_session *s, char *msg, size_t msglen);
	/* Before the tunnel starts: may change tc. Non-zero denies. */
	int (*before_tunnel)(void *state, const struct wg_session *s, struct wg_tunnel_config *tc,
			     char *msg, size_t msglen);
	void (*on_disconnect)(void *state, const struct wg_session *s, uint64_t bytes_in,
			      uint64_t bytes_out, uint64_t duration_s);

	/* --- appended; the host checks struct_size before calling these --- */
	/* Asynchronous forms of after_auth and before_tunnel, for policies that
	 * take time (a script, a lookup): when set, the host calls them instead
	 * of the synchronous forms and its loop goes on serving everyone else.
	 * The plugin answers with host->policy_done(call, ...). Until it does,
	 * the session and tc stay valid (a session ended meanwhile is freed only
	 * after the answer), the client waits for its login reply, and nothing
	 * else changes tc. Both run at login, in that order, after the auth chain
	 * succeeded: after_auth, then the address lease, then before_tunnel. */
	void (*after_auth_async)(void *state, const struct wg_session *s, struct wg_policy_call *call);
	void (*before_tunnel_async)(void *state, const struct wg_session *s, struct wg_tunnel_config *tc,
				    struct wg_policy_call *call);
};

/* ---- WG_PLUGIN_TRANSPORT ---------------------------------------------- */

/* A transport carries a session's packets beside CSTP, which is always
 * there (the TLS connection of the CONNECT). At each CONNECT the host asks
 * every transport, in conf.d order, to offer a lane; a transport that does
 * answers the client with its own headers. Once a lane is up (lane_up) the
 * host sends packets over the first up lane (conf.d order) that fits them,
 * and over CSTP when none does. See docs/plugins.md for the rules. */

/* What the host tells offer() about the tunnel being set up. */
struct wg_lane_offer {
	uint32_t struct_size;
	uint32_t mtu;          /* the tunnel MTU announced as X-CSTP-MTU */
	uint32_t dpd_s;        /* the session's dead-peer-detection interval */
	uint32_t keepalive_s;
};

/* Room before each packet of a wg_lane_packet that the transport may
 * write its own framing into (e.g. a type byte), in place. */
#define WG_LANE_HEADROOM 8

/* One packet for a client, in a batch given to send(). */
struct wg_lane_packet {
	void *lane_ctx; /* the lane, as offer() named it */
	uint8_t *data;  /* the IP packet; WG_LANE_HEADROOM writable bytes before it */
	uint32_t len;   /* at most the lane's max_payload */
	uint32_t type;  /* CSTP packet type (wolfguard/cstp_wire.h): DATA */
};

/* A transport's counters, as stats() fills them (out->struct_size set by
 * the host; fill only the members that fit). */
struct wg_transport_stats {
	uint32_t struct_size;
	uint64_t lanes_up;    /* lanes carrying packets now */
	uint64_t handshakes;  /* half-open handshakes holding state */
	uint64_t dropped;     /* datagrams dropped (full socket buffer, too large) */
};

struct wg_transport_ops {
	uint32_t struct_size;
	/* CONNECT of a session (a first connect or a reconnect): read the
	 * client's offer (lane_request_header), add the transport's answer
	 * (lane_add_header), export keys (lane_tls_export). Return 0 and set
	 * *lane_ctx to offer a lane (the host keeps `lane` and the ctx until
	 * close()), or non-zero for no lane (the client then uses CSTP). */
	int (*offer)(void *state, struct wg_lane *lane, const struct wg_lane_offer *o, void **lane_ctx);
	/* The lane ends (the session ended or reconnected): forget lane and
	 * lane_ctx before returning; no host call may name the lane after. */
	void (*close)(void *state, void *lane_ctx);
	/* A batch of packets to send. The data is only valid during the call
	 * (copy or encrypt it now); the transport may hold the result until
	 * flush(). A packet it cannot send is dropped, as IP would. */
	void (*send)(void *state, const struct wg_lane_packet *pkts, size_t n);
	/* End of the host's burst: send what send() held. Called after every
	 * burst that called send(), before the loop waits again. */
	void (*flush)(void *state);
	/* Optional: the transport's counters (served on /metrics). */
	void (*stats)(void *state, struct wg_transport_stats *out);

	/* --- appended (transport-lanes); the host checks with WG_OPS_HAS --- */
	/* Optional: what `wolfguardctl` shows of one lane, as one JSON value
	 * (object or array) written NUL-terminated into out (at most len
	 * bytes). Returns its length, or 0 for nothing to show. The host puts
	 * it into the session's JSON under "transports": {"<plugin>": value}. */
	size_t (*lane_json)(void *state, void *lane_ctx, char *out, size_t len);
	/* Optional: the transport's own lines for /metrics, in Prometheus text
	 * format (# HELP / # TYPE and samples; every metric name starts with
	 * "wolfguard_"), written NUL-terminated into out. Returns the length,
	 * or 0 for none. Keep labels bounded (not per session). */
	size_t (*metrics_text)(void *state, char *out, size_t len);
};

#ifdef __cplusplus
}
#endif
#endif /* WOLFGUARD_PLUGIN_H */

/* The login conversation between an AnyConnect-style client and the auth
 * plugin.
 *
 * Each step: the client POSTs XML (or a urlencoded form), the plugin gets
 * start() or cont(), and answers with prompt / succeed / fail, at once or
 * later from a worker thread's completion. The HTTP response is sent when
 * the answer comes; meanwhile the connection queues what else the client
 * sends (conn.c) and takes it up only after the answer.
 *
 * Conversations live in a table keyed by a random context id that travels
 * in the webvpncontext cookie, so a client that opens a new TLS connection
 * between steps still finds its conversation. Each has a deadline
 * (auth-timeout). */
#include "login/auth.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "cluster/cluster.h"
#include "net/addr_count.h"
#include "login/auth_xml.h"
#include "net/client_cert.h"
#include "net/client_key.h"
#include "net/conn.h"
#include "observe/events.h"
#include "modules/gen.h"
#include "hashmap.h"
#include "util/hex.h"
#include "net/http_parser.h"
#include "util/log.h"
#include "login/login_limits.h"
#include "login/policy.h"
#include "server.h"
#include "session/session.h"
#include "session/user_count.h"

#define CONTEXT_LEN 16
#define MAX_FAILURES 3
#define FORM_BUF 8192

struct wg_auth {
	struct wg_server *srv;
	uint8_t ctx[CONTEXT_LEN];
	char ctx_hex[2 * CONTEXT_LEN + 1];
	struct wg_conn *conn;      /* connection waiting for this step, or NULL */
	bool pending;              /* the plugin holds the current step */
	struct wg_auth_msg *msg;   /* the client's last answers (owned) */
	char username[128];
	char client_addr[64];
	char user_agent[128];
	char group_select[128];
	char client_version[64];   /* from the client's init: kept when the chain starts over */
	char client_platform[128];
	char error[256];           /* shown with the next form */
	struct wg_attr attrs[WG_MAX_ATTRS];
	unsigned n_attrs;
	unsigned failures;
	unsigned step;             /* index into vh->auth_chain */
	uint32_t took_part;        /* bit i: start() ran for chain step i (conversation_end owed) */
	void *step_state[WG_MAX_AUTH_STEPS]; /* each step's own slot (auth_state_get/set), not owned */
	bool answered;             /* the user filled a form since the last (re)start */
	char *groups[WG_MAX_GROUPS]; /* owned: groups of the steps done so far */
	unsigned n_groups;
	struct wg_client_cert *cert; /* owned, or NULL: no client certificate */
	char *authorization;       /* owned: the last request's Authorization header, or NULL */
	char *strap_pubkey;        /* owned: X-AnyConnect-STRAP-Pubkey of the last request, or NULL */
	char *strap_dh_pubkey;     /* owned: X-AnyConnect-STRAP-DH-Pubkey (external-browser SSO) */
	/* After the chain: the policies and the lease, possibly answered later. */
	struct wg_policy_run policy;
	bool in_policy;            /* the run is under way */
	bool dropped;              /* the client is gone: end the session when it returns */
	struct event *expire;      /* owned */
	struct event *restart;     /* owned: deferred start() after a failure */
	struct wg_gen *gen;        /* the configuration the login began in (a reference) */
	struct wg_vhost *vh;       /* the server name it arrived under, in gen: its chain and pools */
	struct timespec step_start; /* when the plugin got the current step (metrics) */
	uint8_t client_key[WG_CLIENT_KEY_LEN]; /* counted in srv->logins_by_addr */
};

static void policy_finished(struct wg_policy_run *run, int rc);

/* Step i of the conversation's chain. */
static struct wg_loaded_plugin *chain_plugin(const struct wg_auth *a, unsigned i)
{
	/* The chain of the vhost and configuration the login began in: a
	 * reload does not hand a conversation to plugin instances that never
	 * saw it. */
	return a->vh->auth_chain[i];
}

/* The plugin that holds the conversation's current step. */
static struct wg_loaded_plugin *step_plugin(const struct wg_auth *a)
{
	return chain_plugin(a, a->step);
}

static unsigned chain_length(const struct wg_auth *a)
{
	return a->vh->n_auth;
}

static const struct wg_auth_ops *step_ops(const struct wg_auth *a)
{
	return step_plugin(a)->desc->ops;
}

static void forget_groups(struct wg_auth *a)
{
	for (unsigned i = 0; i < a->n_groups; i++)
		free(a->groups[i]);
	a->n_groups = 0;
}

/* Adds a step's groups to the ones collected so far, without duplicates. */
static void collect_groups(struct wg_auth *a, const char *const *groups)
{
	for (unsigned i = 0; groups && groups[i] && a->n_groups < WG_MAX_GROUPS; i++) {
		bool seen = false;
		for (unsigned j = 0; j < a->n_groups && !seen; j++)
			seen = strcmp(a->groups[j], groups[i]) == 0;
		if (!seen && (a->groups[a->n_groups] = strdup(groups[i])) != NULL)
			a->n_groups++;
	}
}

/* Calls the current step's start(); from then on its plugin may keep
 * state for `a` and is owed a conversation_end. */
static void step_start(struct wg_auth *a)
{
	clock_gettime(CLOCK_MONOTONIC, &a->step_start);
	a->took_part |= 1u << a->step;
	step_ops(a)->start(step_plugin(a)->state, a);
}

/* Tells every plugin whose start() ran for `a` that the conversation is
 * over, so each frees its per-login state in one place. The mask is
 * cleared first: even if this is reached again, nobody hears it twice. */
static void tell_conversation_end(struct wg_auth *a)
{
	uint32_t took = a->took_part;

	a->took_part = 0;
	for (unsigned i = 0; i < chain_length(a); i++) {
		struct wg_loaded_plugin *lp = chain_plugin(a, i);
		const struct wg_auth_ops *ops = lp->desc->ops;
		if ((took & (1u << i)) && WG_OPS_HAS(ops, conversation_end))
			ops->conversation_end(lp->state, a);
		a->step_state[i] = NULL; /* the plugin freed what it kept there */
	}
}

/* A plugin whose pending step the host may abandon without waiting for
 * its answer: it can be told to stop (cancel) or to forget `a` (the
 * conversation_end that every end is followed by). */
static bool step_abandonable(const struct wg_auth *a)
{
	const struct wg_auth_ops *ops = step_ops(a);

	return ops->cancel || WG_OPS_HAS(ops, conversation_end);
}

static void forget_attrs(struct wg_auth *a)
{
	for (unsigned i = 0; i < a->n_attrs; i++) {
		free(a->attrs[i].key);
		free(a->attrs[i].value);
	}
	a->n_attrs = 0;
}

static void forget_authorization(struct wg_auth *a)
{
	if (a->authorization) {
		explicit_bzero(a->authorization, strlen(a->authorization));
		free(a->authorization);
		a->authorization = NULL;
	}
}

/* The request's Authorization header (a bearer token, RFC 6750), kept for
 * the plugins of the conversation until the chain starts over: openconnect
 * sends it only on the request that follows a 401 challenge. */
static void keep_header(char **slot, const struct wg_http_request *req, const char *name)
{
	const char *v = wg_http_header(req, name);

	if (!v)
		return;
	free(*slot);
	*slot = strdup(v);
}

static void keep_authorization(struct wg_auth *a, const struct wg_http_request *req)
{
	const char *v = wg_http_header(req, "Authorization");

	/* openconnect's keys for the external-browser login (auth-oidc):
	 * public, kept like the other things the client said of itself. */
	keep_header(&a->strap_pubkey, req, "X-AnyConnect-STRAP-Pubkey");
	keep_header(&a->strap_dh_pubkey, req, "X-AnyConnect-STRAP-DH-Pubkey");
	if (!v)
		return;
	forget_authorization(a);
	a->authorization = strdup(v);
}

/* What the client said about itself in its init, for policy scripts. */
static void set_client_attrs(struct wg_auth *a)
{
	if (a->client_version[0])
		wg_auth_host_set_attr(a, "client-version", a->client_version);
	if (a->client_platform[0])
		wg_auth_host_set_attr(a, "client-platform", a->client_platform);
}

/* The chain starts over at step one: nothing an earlier attempt's steps
 * established (user name, groups, attributes such as a RADIUS
 * Framed-IP-Address, Class or routes) may reach the session of the next
 * attempt, which may be for another user. */
static void restart_chain(struct wg_auth *a)
{
	a->username[0] = '\0';
	a->step = 0;
	forget_groups(a);
	forget_attrs(a);
	forget_authorization(a); /* a refused token is not offered to the next attempt */
	set_client_attrs(a);
}

static void auth_free(struct wg_auth *a)
{
	/* Plugins first, while `a` is intact and the generation holding
	 * their instances is still referenced. */
	tell_conversation_end(a);
	if (wg_hashmap_del(a->srv->by_context, a->ctx) == a)
		wg_addr_count_sub(a->srv->logins_by_addr, a->client_key);
	if (a->conn && a->conn->owner == a)
		a->conn->owner = NULL;
	if (a->expire)
		event_free(a->expire);
	if (a->restart)
		event_free(a->restart);
	forget_groups(a);
	free(a->cert);
	forget_authorization(a);
	free(a->strap_pubkey);
	free(a->strap_dh_pubkey);
	wg_gen_unref(a->gen);
	forget_attrs(a);
	if (a->msg)
		explicit_bzero(a->msg, sizeof(*a->msg)); /* it held a password */
	free(a->msg);
	free(a);
}

/* Forgets a conversation; a plugin still holding it is told first
 * (cancel), then every plugin that took part (conversation_end). */
static void auth_drop(struct wg_auth *a)
{
	if (a->in_policy) {
		/* A policy holds the session: forget the client, keep the memory
		 * until the run finishes (policy_finished frees it). */
		if (a->conn && a->conn->owner == a)
			a->conn->owner = NULL;
		a->conn = NULL;
		a->dropped = true;
		return;
	}
	if (a->pending) {
		const struct wg_auth_ops *ops = step_ops(a);
		if (!step_abandonable(a)) {
			/* The plugin may still answer: keep the memory, unlink the client. */
			if (a->conn && a->conn->owner == a)
				a->conn->owner = NULL;
			a->conn = NULL;
			return;
		}
		if (ops->cancel)
			ops->cancel(step_plugin(a)->state, a);
		a->pending = false;
	}
	auth_free(a);
}

static void auth_expired(evutil_socket_t fd, short what, void *arg)
{
	struct wg_auth *a = arg;

	(void)fd;
	(void)what;
	wg_log(NULL, WG_LOG_NOTICE, "%s: login of %s timed out", a->client_addr, a->username[0] ? a->username : "?");
	if (a->conn) {
		struct wg_conn *c = a->conn;
		c->owner = NULL;
		a->conn = NULL;
		c->close_after_flush = true;
		wg_conn_http_reply(c, "401 Unauthorized", NULL, NULL, NULL, 0);
	}
	auth_drop(a);
}

static void auth_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wg_auth *a = arg;

	(void)fd;
	(void)what;
	a->pending = true;
	a->answered = false;
	/* Each step starts from an empty form: a later step never sees the
	 * password typed for an earlier one. */
	if (a->msg) {
		explicit_bzero(a->msg, sizeof(*a->msg));
		free(a->msg);
		a->msg = NULL;
	}
	step_start(a);
}

/* The vhost of g that serves connection c: the one its handshake chose,
 * or, when a reload removed that since, what vhost-fallback says. */
static struct wg_vhost *conn_vhost(struct wg_gen *g, const struct wg_conn *c)
{
	struct wg_vhost *vh = wg_gen_vhost_exact(g, c->server_name);

	return vh ? vh : wg_gen_vhost(g, NULL);
}

static struct wg_auth *auth_new(struct wg_server *srv, struct wg_conn *c)
{
	struct wg_auth *a = calloc(1, sizeof(*a));
	struct timeval tv = {.tv_sec = srv->auth_timeout};

	if (!a)
		return NULL;
	a->srv = srv;
	a->gen = wg_gen_ref(srv->gen);
	/* The vhost the handshake chose, as the current configuration has it:
	 * a reload since may have removed it, and then vhost-fallback says. */
	if (!(a->vh = conn_vhost(a->gen, c))) {
		wg_log(NULL, WG_LOG_NOTICE, "%s: vhost %s is gone (reload) and vhost-fallback is refuse", c->peer,
		       c->server_name);
		wg_gen_unref(a->gen);
		free(a);
		return NULL;
	}
	/* No answers yet: msg (~18 KB) exists only while the client's answers
	 * are with a plugin, so a conversation waiting for them is small. */
	a->expire = evtimer_new(srv->base, auth_expired, a);
	a->restart = evtimer_new(srv->base, auth_restart_cb, a);
	snprintf(a->client_addr, sizeof(a->client_addr), "%s", c->peer);
	if (c->ssl) {
		struct wg_client_cert cert;
		if (wg_client_cert_read(c->ssl, &cert) && (a->cert = malloc(sizeof(cert))) != NULL)
			*a->cert = cert;
	}
	if (!a->expire || !a->restart || getrandom(a->ctx, sizeof(a->ctx), 0) != sizeof(a->ctx) ||
	    wg_client_key(c->peer, srv->prefix6_client, a->client_key, NULL) < 0 ||
	    wg_addr_count_add(srv->logins_by_addr, a->client_key) < 0) {
		auth_free(a);
		return NULL;
	}
	if (wg_hashmap_put(srv->by_context, a->ctx, a) < 0) {
		wg_addr_count_sub(srv->logins_by_addr, a->client_key);
		auth_free(a);
		return NULL;
	}
	c->logins_started++;
	wg_hex_encode(a->ctx, sizeof(a->ctx), a->ctx_hex);
	evtimer_add(a->expire, &tv);
	return a;
}

static struct wg_auth *auth_find(struct wg_server *srv, const struct wg_http_request *req)
{
	char hex[2 * CONTEXT_LEN + 2];
	uint8_t key[CONTEXT_LEN];

	if (wg_http_cookie(req, "webvpncontext", hex, sizeof(hex)) != 2 * CONTEXT_LEN ||
	    wg_hex_decode(hex, key, sizeof(key)) < 0)
		return NULL;
	return wg_hashmap_get(srv->by_context, key);
}

_Bool wg_auth_context_known(struct wg_server *srv, const struct wg_http_request *req)
{
	return auth_find(srv, req) != NULL;
}

static bool same_certificate(const struct wg_auth *a, const struct wg_conn *c)
{
	struct wg_client_cert now;
	bool has = c->ssl && wg_client_cert_read(c->ssl, &now);

	if (!a->cert || !has)
		return !a->cert && !has;
	return wg_client_cert_same(a->cert, &now);
}

static bool same_vhost(const struct wg_auth *a, const struct wg_conn *c)
{
	return conn_vhost(a->gen, c) == a->vh;
}

static void reply_error(struct wg_conn *c, const char *status)
{
	c->close_after_flush = true;
	wg_conn_http_reply(c, status, NULL, NULL, NULL, 0);
}

static void attach(struct wg_auth *a, struct wg_conn *c)
{
	a->conn = c;
	c->owner = a;
	c->busy = true;
	a->pending = true;
	clock_gettime(CLOCK_MONOTONIC, &a->step_start);
}

/* The XML logout (<config-auth type="logout">) with the session's cookie:
 * the session ends and its cookie is refused from then on. */
static void logout(struct wg_conn *c, const struct wg_http_request *req)
{
	char cookie[128];
	struct wg_session *s = NULL;

	if (wg_http_cookie(req, "webvpn", cookie, sizeof(cookie)) > 0) {
		s = wg_session_by_cookie(c->srv, cookie);
		explicit_bzero(cookie, sizeof(cookie));
	}
	if (s) {
		wg_log(s, WG_LOG_INFO, "%s: logout requested", c->peer);
		wg_session_end(s, "logged out");
	}
	wg_conn_http_reply(c, "200 OK", "text/xml", NULL, "", 0);
}

/* The caps on login conversations (max-logins-per-connection,
 * -per-address, max-logins): each lives until auth-timeout and holds memory
 * and plugin state, so a flood of inits must not pile them up. Going past a
 * client's own share counts as a failed login (it feeds the ban); the
 * server-wide cap is not the client's doing and is only refused. Answers
 * and returns false when the new conversation is refused. */
static bool login_allowed(struct wg_conn *c)
{
	struct wg_server *srv = c->srv;
	uint8_t key[WG_CLIENT_KEY_LEN];
	enum wg_login_cap cap;

	if (wg_client_key(c->peer, srv->prefix6_client, key, NULL) < 0) {
		reply_error(c, "400 Bad Request");
		return false;
	}
	if (c->logins_started >= srv->max_logins_per_conn)
		cap = WG_LOGIN_CAP_CONNECTION;
	else if (wg_addr_count_get(srv->logins_by_addr, key) >= srv->max_logins_per_addr)
		cap = WG_LOGIN_CAP_ADDRESS;
	else if (wg_hashmap_count(srv->by_context) >= srv->max_logins)
		cap = WG_LOGIN_CAP_SERVER;
	else
		return true;
	wg_login_refused(srv, c->peer, cap);
	reply_error(c, cap == WG_LOGIN_CAP_SERVER ? "503 Service Unavailable" : "429 Too Many Requests");
	return false;
}

void wg_auth_handle(struct wg_conn *c, const struct wg_http_request *req)
{
	struct wg_server *srv = c->srv;
	struct wg_auth_msg *msg = calloc(1, sizeof(*msg));
	char err[128] = "";
	const char *ctype = wg_http_header(req, "Content-Type");
	int rc = 0;

	if (!msg) {
		reply_error(c, "503 Service Unavailable");
		return;
	}
	if (req->body_len == 0)
		msg->type = WG_XML_INIT;
	else if (ctype && strcasestr(ctype, "x-www-form-urlencoded"))
		rc = wg_auth_form_parse(req->body, req->body_len, msg, err, sizeof(err));
	else
		rc = wg_auth_xml_parse(req->body, req->body_len, msg, err, sizeof(err));
	if (rc < 0) {
		wg_log(NULL, WG_LOG_NOTICE, "%s: unreadable login request: %s", c->peer, err);
		free(msg);
		reply_error(c, "400 Bad Request");
		return;
	}
	if (msg->type == WG_XML_LOGOUT) {
		free(msg);
		logout(c, req);
		return;
	}

	struct wg_auth *a = auth_find(srv, req);
	if (a && !same_vhost(a, c)) {
		/* Begun under another server name: not this one's to continue. */
		wg_log(NULL, WG_LOG_NOTICE, "%s: login context of vhost %s presented under %s; starting over", c->peer,
		       a->vh->name ? a->vh->name : "(default)", c->server_name ? c->server_name : "the default server");
		a = NULL;
		msg->type = WG_XML_INIT;
	}
	if (a && (a->pending || a->conn || evtimer_pending(a->restart, NULL))) {
		/* A step is already in flight for this context: one at a time.
		 * That includes a step whose start waits out the delay after a
		 * failure: answering it from a new connection must not skip the
		 * delay (the answer would reach cont() before start()). */
		free(msg);
		reply_error(c, "409 Conflict");
		return;
	}
	if (a && msg->type != WG_XML_INIT && !same_certificate(a, c)) {
		/* Another certificate (or none) than the login started with:
		 * what earlier steps proved is not about this client. */
		wg_log(NULL, WG_LOG_NOTICE, "%s: login step with a different client certificate; starting over", c->peer);
		auth_drop(a);
		a = NULL;
		msg->type = WG_XML_INIT;
	}
	if (a && msg->type != WG_XML_INIT) {
		if (a->msg)
			explicit_bzero(a->msg, sizeof(*a->msg));
		free(a->msg);
		a->msg = msg;
		const char *user = wg_auth_msg_field(msg, "username");
		if (user && *user && !a->username[0])
			snprintf(a->username, sizeof(a->username), "%s", user);
		if (msg->group_select[0])
			snprintf(a->group_select, sizeof(a->group_select), "%s", msg->group_select);
		keep_authorization(a, req);
		attach(a, c);
		a->answered = true;
		step_ops(a)->cont(step_plugin(a)->state, a);
		return;
	}
	if (a)
		auth_drop(a); /* the client started over */
	if (!login_allowed(c)) {
		free(msg);
		return;
	}
	a = auth_new(srv, c);
	if (!a) {
		free(msg);
		reply_error(c, "503 Service Unavailable");
		return;
	}
	const char *ua = wg_http_header(req, "User-Agent");
	snprintf(a->user_agent, sizeof(a->user_agent), "%s", ua ? ua : "");
	if (msg->group_select[0])
		snprintf(a->group_select, sizeof(a->group_select), "%s", msg->group_select);
	/* Policy scripts may decide by client version and platform. */
	snprintf(a->client_version, sizeof(a->client_version), "%s", msg->version);
	snprintf(a->client_platform, sizeof(a->client_platform), "%s", msg->platform[0] ? msg->platform : msg->device_id);
	set_client_attrs(a);
	keep_authorization(a, req);
	free(msg);
	attach(a, c);
	if (wg_login_defer(srv, a->client_addr, a->restart, &a->pending))
		return; /* recent failures from this address: start() after a delay */
	step_start(a);
}

void wg_auth_conn_gone(struct wg_conn *c)
{
	struct wg_auth *a = c->owner;

	c->owner = NULL;
	if (!a)
		return;
	a->conn = NULL;
	if (a->pending)
		auth_drop(a); /* nobody left to tell the answer to */
}

void wg_auth_end_all(struct wg_server *srv)
{
	size_t n;
	void **all = wg_hashmap_values(srv->by_context, &n);

	for (size_t i = 0; i < n; i++) {
		struct wg_auth *a = all[i];
		/* Plugins are going away: a step whose plugin can be neither
		 * cancelled nor told of the end is forgotten all the same. */
		a->pending = a->pending && step_abandonable(a);
		auth_drop(a);
	}
	free(all);
}

/* --- answers from the plugin ------------------------------------------ */

/* The step is answered: the connection may read again. Returns the
 * connection to answer on, or NULL when the client is gone. */
static struct wg_conn *step_done(struct wg_auth *a)
{
	struct wg_conn *c = a->conn;

	a->pending = false;
	if (c) {
		c->busy = false;
		c->owner = NULL;
		a->conn = NULL;
	}
	return c;
}

static void prompt(struct wg_auth *a, const char *message, const struct wg_auth_field *fields,
		   const struct wg_auth_sso *sso)
{
	struct wg_xml_input inputs[WG_XML_MAX_FIELDS];
	size_t n = 0;
	char body[FORM_BUF], cookie[160];
	struct wg_conn *c;

	if (!a->pending || a->in_policy)
		return; /* a second answer to one step: ignore */
	c = step_done(a);
	if (!c)
		return; /* the client may come back with the context cookie */
	for (; fields && fields[n].name && n < WG_XML_MAX_FIELDS; n++) {
		inputs[n].name = fields[n].name;
		inputs[n].label = fields[n].label ? fields[n].label : fields[n].name;
		inputs[n].type = fields[n].type == WG_FIELD_PASSWORD ? WG_XML_INPUT_PASSWORD : WG_XML_INPUT_TEXT;
	}
	struct wg_xml_form form = {
		.title = a->vh->server_name,
		.message = message,
		.error = a->error[0] ? a->error : NULL,
		.inputs = inputs,
		.n_inputs = n,
		.action = "/auth",
	};
	struct wg_xml_input sso_input;
	if (sso) {
		/* The one input: its value is the token the browser part got. */
		sso_input = (struct wg_xml_input){.name = sso->field_name, .label = sso->field_name,
						  .type = WG_XML_INPUT_SSO};
		form.inputs = &sso_input;
		form.n_inputs = 1;
		form.sso_login = sso->login_url;
		form.sso_login_final = sso->login_final_url;
		form.sso_token_cookie = sso->token_cookie_name;
		form.sso_error_cookie = sso->error_cookie_name;
		form.sso_browser_mode = sso->browser_mode;
	}
	int len = wg_auth_xml_request(body, sizeof(body), &form);
	a->error[0] = '\0';
	if (len < 0) {
		wg_log(NULL, WG_LOG_ERROR, "%s: login form does not fit in %zu bytes", a->client_addr, sizeof(body));
		reply_error(c, "500 Internal Server Error");
		auth_drop(a);
		return;
	}
	snprintf(cookie, sizeof(cookie), "Set-Cookie: webvpncontext=%s; Secure; HttpOnly\r\n", a->ctx_hex);
	wg_conn_http_reply(c, "200 OK", "text/xml", cookie, body, (size_t)len);
	wg_conn_request_done(c);
}

void wg_auth_host_prompt(struct wg_auth *a, const char *message, const struct wg_auth_field *fields)
{
	prompt(a, message, fields, NULL);
}

void wg_auth_host_prompt_sso(struct wg_auth *a, const char *message, const struct wg_auth_sso *sso)
{
	/* A plugin built against a shorter struct: refuse rather than read
	 * past it. */
	if (!sso || sso->struct_size < sizeof(*sso) || !sso->login_url || !sso->field_name || !*sso->field_name) {
		wg_auth_host_fail(a, "Login failed.", "a plugin's single sign-on form lacks its URL or field");
		return;
	}
	prompt(a, message, NULL, sso);
}

void wg_auth_host_http_challenge(struct wg_auth *a, const char *challenge, const char *message)
{
	char body[FORM_BUF], headers[512];
	struct wg_conn *c;

	if (!a->pending || a->in_policy)
		return; /* a second answer to one step: ignore */
	c = step_done(a);
	if (!c)
		return;
	struct wg_xml_form form = {
		.title = a->vh->server_name,
		.message = message,
		.action = "/auth",
	};
	int len = wg_auth_xml_request(body, sizeof(body), &form);
	/* The scheme and its parameters are the plugin's; a line break in
	 * them would be a header of its choosing. */
	if (!challenge || !*challenge || strpbrk(challenge, "\r\n") || strlen(challenge) > 256 || len < 0) {
		reply_error(c, "500 Internal Server Error");
		auth_drop(a);
		return;
	}
	snprintf(headers, sizeof(headers), "WWW-Authenticate: %s\r\nSet-Cookie: webvpncontext=%s; Secure; HttpOnly\r\n",
		 challenge, a->ctx_hex);
	wg_conn_http_reply(c, "401 Unauthorized", "text/xml", headers, body, (size_t)len);
	wg_conn_request_done(c);
}

/* A final answer the client shows: a form with the reason and nothing to
 * fill in, on a connection that then closes. */
static void reply_refusal(struct wg_auth *a, struct wg_conn *c, const char *user_message)
{
	char body[FORM_BUF];
	struct wg_xml_form form = {
		.title = a->vh->server_name,
		.message = "Login refused.",
		.error = user_message && *user_message ? user_message : "Login failed.",
		.action = "/auth",
	};
	int len = wg_auth_xml_request(body, sizeof(body), &form);

	c->close_after_flush = true;
	if (len < 0)
		wg_conn_http_reply(c, "401 Unauthorized", NULL, NULL, NULL, 0);
	else
		wg_conn_http_reply(c, "200 OK", "text/xml", NULL, body, (size_t)len);
}

static void emit_failure(struct wg_server *srv, const char *user, const char *addr, const char *reason)
{
	json_t *ev = json_object();
	json_t *u = user && *user ? json_string(user) : NULL; /* NULL too for ill-formed UTF-8 */
	if (ev) {
		json_object_set_new(ev, "user", u ? u : json_null());
		json_object_set_new(ev, "client_address", json_string(addr));
		json_object_set_new(ev, "reason", json_string(reason));
	}
	wg_events_emit(srv, "failure", ev);
}

void wg_auth_host_fail(struct wg_auth *a, const char *user_message, const char *log_reason)
{
	struct wg_conn *c;

	if (!a->pending || a->in_policy)
		return;
	c = step_done(a);
	a->failures++;
	unsigned delay_ms = wg_login_failed(a->srv, a->client_addr, step_plugin(a)->desc->name, &a->step_start);
	wg_log(NULL, WG_LOG_NOTICE, "%s: login failed for user \"%s\": %s", a->client_addr,
	       a->username[0] ? a->username : "?", log_reason ? log_reason : "no reason given");
	emit_failure(a->srv, a->username, a->client_addr, log_reason ? log_reason : "no reason given");
	if (c && !a->answered) {
		/* The step refused before the user typed anything (no client
		 * certificate, say): asking again cannot help, so say why once. */
		reply_refusal(a, c, user_message);
		auth_drop(a);
		return;
	}
	if (!c || a->failures >= MAX_FAILURES) {
		if (c) {
			reply_error(c, "401 Unauthorized");
		}
		auth_drop(a);
		return;
	}
	/* Ask again, with the reason shown above the new form. */
	snprintf(a->error, sizeof(a->error), "%s", user_message && *user_message ? user_message : "Login failed.");
	restart_chain(a); /* the whole chain again */
	attach(a, c);
	a->pending = false; /* restart_cb sets it when start() runs */
	struct timeval now = {delay_ms / 1000, (delay_ms % 1000) * 1000}; /* slows guessing */
	evtimer_add(a->restart, &now);
}

void wg_auth_host_succeed(struct wg_auth *a, const char *username, const char *const *groups)
{
	struct wg_server *srv = a->srv;
	struct wg_conn *c;
	struct wg_session *s;

	if (!a->pending || a->in_policy)
		return;
	if (!a->conn) {
		step_done(a);
		auth_drop(a);
		return;
	}
	if (username && *username && a->username[0] && strcmp(username, a->username) != 0) {
		/* A step vouched for another user than the one the login is for. */
		char why[320];
		snprintf(why, sizeof(why), "%s accepted \"%s\", but the login is for \"%s\"", step_plugin(a)->desc->name,
			 username, a->username);
		wg_auth_host_fail(a, "Login failed.", why);
		return;
	}
	if (username && *username)
		snprintf(a->username, sizeof(a->username), "%s", username);
	if (!a->username[0]) {
		wg_auth_host_fail(a, "Login failed.", "the auth plugin accepted a login without a user name");
		return;
	}
	wg_login_succeeded(srv, step_plugin(a)->desc->name, &a->step_start);
	collect_groups(a, groups);
	if (a->step + 1 < chain_length(a)) {
		/* On to the next step of the chain, on the same connection. */
		c = step_done(a);
		a->step++;
		wg_log(NULL, WG_LOG_INFO, "%s: user \"%s\" passed %s; next step %s", a->client_addr, a->username,
		       chain_plugin(a, a->step - 1)->desc->name,
		       step_plugin(a)->desc->name);
		attach(a, c);
		a->pending = false; /* restart_cb sets it when start() runs */
		struct timeval now = {0, 0};
		evtimer_add(a->restart, &now);
		return;
	}
	if (srv->max_clients && srv->n_sessions >= srv->max_clients) {
		wg_log(NULL, WG_LOG_WARN, "%s: login of %s refused: server full (max-clients %u)", a->client_addr,
		       username, srv->max_clients);
		c = step_done(a);
		reply_error(c, "503 Service Unavailable");
		auth_drop(a);
		return;
	}
	const char *all_groups[WG_MAX_GROUPS + 1];
	for (unsigned i = 0; i < a->n_groups; i++)
		all_groups[i] = a->groups[i];
	all_groups[a->n_groups] = NULL;
	s = wg_session_new(srv, a->username, all_groups, a->group_select, a->client_addr, a->user_agent, a->attrs,
			   a->n_attrs);
	if (!s) {
		c = step_done(a);
		reply_error(c, "503 Service Unavailable");
		auth_drop(a);
		return;
	}
	wg_session_set_vhost(s, a->vh); /* served by the plugins that logged it in */
	s->n_auth_steps = chain_length(a);
	for (unsigned i = 0; i < s->n_auth_steps; i++)
		s->auth_steps[i] = chain_plugin(a, i);
	a->policy = (struct wg_policy_run){
		.srv = srv,
		.plugins = &s->gen->plugins,
		.s = s,
		.tc = calloc(1, sizeof(struct wg_tunnel_config)),
		.finish = policy_finished,
	};
	if (!a->policy.tc) {
		wg_session_end(s, "out of memory");
		c = step_done(a);
		reply_error(c, "503 Service Unavailable");
		auth_drop(a);
		return;
	}
	a->in_policy = true;
	wg_session_hold(s);
	wg_policy_run_start(&a->policy);
}

/* max-same-clients for this session: a backend's or a policy's attribute,
 * else the user's entry in "users", else its group's in "groups", else the
 * server's. Resolved after the policies, which may have changed the group. */
static unsigned same_clients_limit(const struct wg_server *srv, const struct wg_session *s)
{
	const char *attr = wg_session_attr(s, WG_SESS_ATTR_PREFIX WG_ATTR_MAX_SAME_CLIENTS);
	int64_t v;

	if (attr && *attr) {
		char *end;
		long long x = strtoll(attr, &end, 10);
		if (*end == '\0' && x >= 0 && x <= 1000000)
			return (unsigned)x;
		wg_log(s, WG_LOG_WARN, "attribute %s=\"%s\" ignored: not a number 0..1000000", WG_ATTR_MAX_SAME_CLIENTS,
		       attr);
	}
	if ((v = wg_config_account_int(srv->scfg, "users", s->user, "max-same-clients", -1)) >= 0)
		return (unsigned)v;
	if (s->group[0] && (v = wg_config_account_int(srv->scfg, "groups", s->group, "max-same-clients", -1)) >= 0)
		return (unsigned)v;
	return (unsigned)wg_config_int(srv->scfg, "max-same-clients");
}

/* Counts the session against its user's max-same-clients on every worker.
 * A user at the limit gets a final answer saying so (asking for the password
 * again cannot help, and it is not a wrong guess, so it does not feed the
 * ban); the session ends. Returns 0, or -1 when the login was answered. */
static int take_user_place(struct wg_auth *a, struct wg_session *s)
{
	struct wg_server *srv = a->srv;
	unsigned limit = same_clients_limit(srv, s), count = 0;
	/* The user's sessions on the other nodes of a cluster count too. */
	unsigned elsewhere = wg_cluster_user_sessions_elsewhere(srv, s->user);
	enum wg_user_count_result taken = limit && elsewhere >= limit
		? WG_USER_COUNT_LIMIT
		: wg_user_count_take(srv->user_count, s->user, limit ? limit - elsewhere : 0, &count);
	char msg[256];

	count += elsewhere;
	switch (taken) {
	case WG_USER_COUNT_TAKEN:
		s->user_counted = true;
		return 0;
	case WG_USER_COUNT_FULL:
		if (!limit)
			return 0; /* not counted; nothing to enforce */
		wg_log(s, WG_LOG_WARN, "login of %s refused: the table of sessions per user is full", s->user);
		snprintf(msg, sizeof(msg), "The server is full, try again later.");
		break;
	case WG_USER_COUNT_LIMIT:
		wg_log(s, WG_LOG_NOTICE, "login of %s refused: %u sessions already, max-same-clients %u", s->user, count,
		       limit);
		snprintf(msg, sizeof(msg), "Too many sessions: user %s may have %u at a time. End one to log in again.",
			 s->user, limit);
		break;
	}
	emit_failure(srv, s->user, s->client_addr, "max-same-clients reached");
	wg_session_end(s, "max-same-clients reached");
	struct wg_conn *c = step_done(a);
	reply_refusal(a, c, msg);
	auth_drop(a);
	return -1;
}

/* The policies and the lease are done (see policy.h); a->pending is still
 * set, so the client's connection waits for this answer. */
static void policy_finished(struct wg_policy_run *run, int rc)
{
	struct wg_auth *a = (struct wg_auth *)((char *)run - offsetof(struct wg_auth, policy));
	struct wg_server *srv = a->srv;
	struct wg_session *s = run->s;
	struct wg_conn *c;
	char cookie_hex[2 * WG_COOKIE_LEN + 1], headers[512], body[2048];
	int len;

	a->in_policy = false;
	/* An end requested while the policies ran (an administrator's
	 * disconnect, say) wins over whatever they decided. */
	bool ended = wg_session_release_hold(s);
	if (ended)
		wg_session_end(s, s->end_reason);
	else if (rc == 0)
		rc = wg_session_tunnel_ready(s, run->tc);
	free(run->tc);
	run->tc = NULL;
	run->s = NULL;
	if (a->dropped) {
		if (!ended)
			wg_session_end(s, "the client left during login");
		a->pending = false;
		auth_free(a);
		return;
	}
	if (rc == -EPERM && !ended) {
		wg_session_end(s, "denied by policy");
		wg_auth_host_fail(a, run->msg, "denied by policy");
		return;
	}
	if (rc < 0 || ended) {
		if (!ended)
			wg_session_end(s, rc == -EADDRNOTAVAIL ? "no address available" : "tunnel set-up failed");
		c = step_done(a);
		reply_error(c, "503 Service Unavailable");
		auth_drop(a);
		return;
	}
	if (take_user_place(a, s) < 0)
		return;
	wg_events_emit(srv, "login", wg_session_event_fields(s));
	c = step_done(a);
	wg_session_cookie_hex(s, cookie_hex);
	len = wg_auth_xml_complete(body, sizeof(body), a->vh->banner);
	snprintf(headers, sizeof(headers),
		 "Set-Cookie: webvpncontext=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; Secure\r\n"
		 "Set-Cookie: webvpn=%s; Secure; HttpOnly\r\n",
		 cookie_hex);
	explicit_bzero(cookie_hex, sizeof(cookie_hex));
	wg_conn_http_reply(c, "200 OK", "text/xml", headers, body, len > 0 ? (size_t)len : 0);
	explicit_bzero(headers, sizeof(headers));
	auth_drop(a);
	wg_conn_request_done(c);
}

void wg_auth_host_set_attr(struct wg_auth *a, const char *key, const char *value)
{
	if (!key || !value)
		return;
	/* Routes and DNS servers may repeat; any other key keeps its last value. */
	bool repeats = strcmp(key, WG_ATTR_ROUTE) == 0 || strcmp(key, WG_ATTR_DNS) == 0;
	for (unsigned i = 0; i < a->n_attrs && !repeats; i++) {
		if (strcmp(a->attrs[i].key, key) == 0) {
			char *v = strdup(value);
			if (v) {
				free(a->attrs[i].value);
				a->attrs[i].value = v;
			}
			return;
		}
	}
	if (a->n_attrs < WG_MAX_ATTRS) {
		a->attrs[a->n_attrs].key = strdup(key);
		a->attrs[a->n_attrs].value = strdup(value);
		if (a->attrs[a->n_attrs].key && a->attrs[a->n_attrs].value)
			a->n_attrs++;
		else {
			free(a->attrs[a->n_attrs].key);
			free(a->attrs[a->n_attrs].value);
		}
	}
}

const char *wg_auth_attr(const struct wg_auth *a, const char *key)
{
	const char *v = NULL;

	for (unsigned i = 0; i < a->n_attrs; i++)
		if (strcmp(a->attrs[i].key, key) == 0)
			v = a->attrs[i].value;
	return v;
}

const char *wg_auth_host_field(const struct wg_auth *a, const char *name)
{
	return a->msg ? wg_auth_msg_field(a->msg, name) : NULL;
}

const char *wg_auth_host_client_addr(const struct wg_auth *a)
{
	return a->client_addr;
}

const char *wg_auth_host_username(const struct wg_auth *a)
{
	return a->username[0] ? a->username : NULL;
}

const char *wg_auth_host_cert(const struct wg_auth *a, const char *what)
{
	return wg_client_cert_get(a->cert, what);
}

/* The chain step whose plugin instance has state `self`, or -1. */
static int step_of(const struct wg_auth *a, const void *self)
{
	for (unsigned i = 0; i < chain_length(a); i++)
		if (chain_plugin(a, i)->state == self)
			return (int)i;
	return -1;
}

void *wg_auth_host_state_get(const struct wg_auth *a, const void *self)
{
	int i = self ? step_of(a, self) : -1;

	return i < 0 ? NULL : a->step_state[i];
}

int wg_auth_host_state_set(struct wg_auth *a, const void *self, void *value)
{
	int i = self ? step_of(a, self) : -1;

	if (i < 0)
		return -1;
	a->step_state[i] = value;
	return 0;
}

const char *wg_auth_host_http_credentials(const struct wg_auth *a, const char *scheme)
{
	size_t n = scheme ? strlen(scheme) : 0;
	const char *v = a->authorization;

	if (!v || !n || strncasecmp(v, scheme, n) != 0 || v[n] != ' ')
		return NULL;
	v += n;
	while (*v == ' ')
		v++;
	return *v ? v : NULL;
}

const char *wg_auth_host_http_header(const struct wg_auth *a, const char *name)
{
	if (!name)
		return NULL;
	if (strcasecmp(name, "X-AnyConnect-STRAP-Pubkey") == 0)
		return a->strap_pubkey;
	if (strcasecmp(name, "X-AnyConnect-STRAP-DH-Pubkey") == 0)
		return a->strap_dh_pubkey;
	return NULL;
}

/* auth-radius: logins checked by RADIUS servers (RFC 2865) through radcli,
 * with Access-Challenge as a further form step, reply attributes handed to
 * the host (address, routes, timeouts, Class, groups) and, optionally,
 * accounting (RFC 2866, radius_acct.c).
 *
 * The form steps, the worker thread (radcli blocks), the per-login state
 * and the end of a login belong to the SDK's adapter (wolfguard/auth_check.h):
 * this file answers its one question, one Access-Request. A server
 * that did not answer is tried last for dead-time seconds, so one dead
 * server costs the next logins nothing while another one answers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "radius.h"
#include "radius_packet.h"

#define MAX_ROUTES 32
#define MAX_GROUPS 16
#define TRACE_MAX 512

/* The attributes this plugin sends or reads, in radcli's dictionary
 * format, built in so no dictionary file must exist at run time. */
static const char dictionary[] =
	"ATTRIBUTE User-Name 1 string\n"
	"ATTRIBUTE User-Password 2 string\n"
	"ATTRIBUTE NAS-IP-Address 4 ipaddr\n"
	"ATTRIBUTE NAS-Port 5 integer\n"
	"ATTRIBUTE Service-Type 6 integer\n"
	"ATTRIBUTE Framed-Protocol 7 integer\n"
	"ATTRIBUTE Framed-IP-Address 8 ipaddr\n"
	"ATTRIBUTE Framed-IP-Netmask 9 ipaddr\n"
	"ATTRIBUTE Filter-Id 11 string\n"
	"ATTRIBUTE Framed-MTU 12 integer\n"
	"ATTRIBUTE Reply-Message 18 string\n"
	"ATTRIBUTE Framed-Route 22 string\n"
	"ATTRIBUTE State 24 string\n"
	"ATTRIBUTE Class 25 string\n"
	"ATTRIBUTE Session-Timeout 27 integer\n"
	"ATTRIBUTE Idle-Timeout 28 integer\n"
	"ATTRIBUTE Termination-Action 29 integer\n"
	"ATTRIBUTE Called-Station-Id 30 string\n"
	"ATTRIBUTE Calling-Station-Id 31 string\n"
	"ATTRIBUTE NAS-Identifier 32 string\n"
	"ATTRIBUTE Proxy-State 33 string\n"
	"ATTRIBUTE Acct-Status-Type 40 integer\n"
	"ATTRIBUTE Acct-Delay-Time 41 integer\n"
	"ATTRIBUTE Acct-Input-Octets 42 integer\n"
	"ATTRIBUTE Acct-Output-Octets 43 integer\n"
	"ATTRIBUTE Acct-Session-Id 44 string\n"
	"ATTRIBUTE Acct-Authentic 45 integer\n"
	"ATTRIBUTE Acct-Session-Time 46 integer\n"
	"ATTRIBUTE Acct-Input-Packets 47 integer\n"
	"ATTRIBUTE Acct-Output-Packets 48 integer\n"
	"ATTRIBUTE Acct-Terminate-Cause 49 integer\n"
	"ATTRIBUTE Acct-Input-Gigawords 52 integer\n"
	"ATTRIBUTE Acct-Output-Gigawords 53 integer\n"
	"ATTRIBUTE Event-Timestamp 55 integer\n"
	/* As strings: the raw bytes in strvalue, lvalue their count (the
	 * reply is decoded by from_wire in radius_auth_send.c, which passes
	 * string and integer attributes only). */
	"ATTRIBUTE Framed-IPv6-Prefix 97 string\n"
	"ATTRIBUTE Framed-IPv6-Route 99 string\n"
	"ATTRIBUTE Framed-IPv6-Address 168 string\n"
	"ATTRIBUTE NAS-Port-Type 61 integer\n"
	"ATTRIBUTE Message-Authenticator 80 string\n"
	"ATTRIBUTE Acct-Interim-Interval 85 integer\n"
	"ATTRIBUTE NAS-Port-Id 87 string\n"
	"ATTRIBUTE NAS-IPv6-Address 95 ipv6addr\n"
	"VENDOR WISPr 14122\n"
	"BEGIN-VENDOR WISPr\n"
	"ATTRIBUTE WISPr-Bandwidth-Max-Up 7 integer\n"
	"ATTRIBUTE WISPr-Bandwidth-Max-Down 8 integer\n"
	"END-VENDOR WISPr\n"
	"VENDOR Roaring-Penguin 10055\n"
	"BEGIN-VENDOR Roaring-Penguin\n"
	"ATTRIBUTE RP-Upstream-Speed-Limit 1 integer\n"
	"ATTRIBUTE RP-Downstream-Speed-Limit 2 integer\n"
	"END-VENDOR Roaring-Penguin\n";

static const struct wg_option options[] = {
	{"servers", WG_OPT_STRING_LIST, WG_OPT_REQUIRED, 0, 0, NULL,
	 "RADIUS servers in failover order: \"HOST[:AUTH-PORT[:ACCT-PORT[:SECRET]]]\", [IPv6] in brackets; "
	 "ports default to 1812 and AUTH-PORT+1"},
	{"secret", WG_OPT_STRING, 0, 0, 0, NULL, "shared secret of the servers whose entry gives none"},
	{"nas-identifier", WG_OPT_STRING, 0, 0, 0, "wolfguard", "NAS-Identifier sent in every request"},
	{"timeout", WG_OPT_INT, 0, 1, 30, "3", "seconds to wait for one server's answer to one try"},
	{"retries", WG_OPT_INT, 0, 0, 5, "1", "further tries of one server before the next one is asked"},
	{"dead-time", WG_OPT_INT, 0, 0, 3600, "60",
	 "seconds a server that did not answer is asked only after the others"},
	{"group-attribute", WG_OPT_STRING, 0, 0, 0, "filter-id",
	 "reply attribute naming the user's groups: \"filter-id\", \"class\" or \"none\""},
	{"require-message-authenticator", WG_OPT_BOOL, 0, 0, 0, "true",
	 "refuse an Access-Accept/Reject/Challenge without a valid Message-Authenticator (BlastRADIUS, CVE-2024-3596); every Access-Request carries one either way"},
	{"accounting", WG_OPT_BOOL, 0, 0, 0, "false", "send Accounting-Request Start, Interim-Update and Stop"},
	{"interim-interval", WG_OPT_INT, 0, 0, 86400, "0",
	 "seconds between Interim-Updates (0: none); an Acct-Interim-Interval in the Access-Accept overrides"},
	{NULL, 0, 0, 0, 0, NULL, NULL},
};

/* What an Access-Accept or Access-Challenge carried, decoded on the worker
 * so the loop never touches radcli's lists. */
struct reply {
	char msg[PW_MAX_MSG_SIZE];
	char framed_ip[INET_ADDRSTRLEN]; /* "" when absent or "let the NAS choose" */
	char framed_ip6[INET6_ADDRSTRLEN]; /* Framed-IPv6-Address (or a /128 Framed-IPv6-Prefix); "" when absent */
	unsigned bad_prefix6;              /* Framed-IPv6-Prefix values that name no single address */
	unsigned bad_addr6;                /* a Framed-IPv6-Address not of 16 bytes: its length + 1 */
	char routes[MAX_ROUTES][64];
	unsigned n_routes, bad_routes;
	uint32_t session_timeout, idle_timeout, interim;
	uint64_t up_bps, down_bps; /* bytes per second; 0: none given */
	char class_text[2 * RADIUS_STRING_MAX + 3]; /* first Class, radius_class_encode'd */
	char groups[MAX_GROUPS][RADIUS_STRING_MAX + 1];
	unsigned n_groups;
	uint8_t state[RADIUS_STRING_MAX];
	size_t state_len;
};

/* What this plugin keeps per login conversation (the adapter's conv,
 * wolfguard/auth_check.h); only the check and begin touch it. */
struct radius_conv {
	/* Acct-Session-Id of the session this login may become: sent in every
	 * Access-Request and, after an accept, in its accounting, so the
	 * server can tie them together. */
	char acct_id[17];
	uint8_t state[RADIUS_STRING_MAX]; /* the last Access-Challenge's State */
	size_t state_len;
};

/* One exchange's outcome, on the worker thread. */
struct exchange {
	int rc;
	char trace[TRACE_MAX];
	struct reply reply;
};

/* --- the check: one Access-Request, on a worker thread --------------------- */

static void trim_newlines(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	for (char *c = s; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void add_group(struct reply *r, const char *s, size_t len)
{
	if (r->n_groups >= MAX_GROUPS || len == 0 || len > RADIUS_STRING_MAX || !printable(s, len))
		return;
	memcpy(r->groups[r->n_groups], s, len);
	r->groups[r->n_groups][len] = '\0';
	r->n_groups++;
}

static void tighten(uint64_t *limit, uint64_t v)
{
	if (v && (!*limit || v < *limit))
		*limit = v;
}

static void decode_reply(const struct radius_plugin *p, VALUE_PAIR *vp, struct reply *r)
{
	for (; vp; vp = vp->next) {
		switch (vp->attribute) {
		case PW_FRAMED_IP_ADDRESS:
			/* 255.255.255.255 (user's choice) and .254 (NAS's choice) name no address. */
			if (vp->lvalue != 0xffffffffu && vp->lvalue != 0xfffffffeu) {
				struct in_addr a = {.s_addr = htonl(vp->lvalue)};
				inet_ntop(AF_INET, &a, r->framed_ip, sizeof(r->framed_ip));
			}
			break;
		case PW_FRAMED_ROUTE:
			if (r->n_routes < MAX_ROUTES &&
			    radius_route_to_cidr(vp->strvalue, r->routes[r->n_routes], sizeof(r->routes[0])) == 0)
				r->n_routes++;
			else
				r->bad_routes++;
			break;
		case PW_FRAMED_IPV6_ROUTE:
			if (r->n_routes < MAX_ROUTES &&
			    radius_route6_to_cidr(vp->strvalue, r->routes[r->n_routes], sizeof(r->routes[0])) == 0)
				r->n_routes++;
			else
				r->bad_routes++;
			break;
		case PW_FRAMED_IPV6_ADDRESS:
			if (vp->lvalue == 16)
				inet_ntop(AF_INET6, vp->strvalue, r->framed_ip6, sizeof(r->framed_ip6));
			else
				r->bad_addr6 = vp->lvalue + 1;
			break;
		case PW_FRAMED_IPV6_PREFIX:
			/* The client's own address only when the prefix is one
			 * address: routing-static gives each session one IPv6
			 * address, it delegates no prefixes. */
			if (!r->framed_ip6[0] &&
			    radius_prefix6_address((const uint8_t *)vp->strvalue, vp->lvalue, r->framed_ip6, sizeof(r->framed_ip6)) < 0)
				r->bad_prefix6++;
			break;
		case PW_SESSION_TIMEOUT:
			r->session_timeout = vp->lvalue;
			break;
		case PW_IDLE_TIMEOUT:
			r->idle_timeout = vp->lvalue;
			break;
		case PW_ACCT_INTERIM_INTERVAL:
			r->interim = vp->lvalue;
			break;
		/* Rates from the client (up) and to it (down), in bytes per
		 * second; with both dictionaries' values the tighter wins. */
		case RADIUS_VSA_ID(7, RADIUS_VENDOR_WISPR):
			tighten(&r->up_bps, vp->lvalue / 8);
			break;
		case RADIUS_VSA_ID(8, RADIUS_VENDOR_WISPR):
			tighten(&r->down_bps, vp->lvalue / 8);
			break;
		case RADIUS_VSA_ID(1, RADIUS_VENDOR_ROARING_PENGUIN):
			tighten(&r->up_bps, (uint64_t)vp->lvalue * 125);
			break;
		case RADIUS_VSA_ID(2, RADIUS_VENDOR_ROARING_PENGUIN):
			tighten(&r->down_bps, (uint64_t)vp->lvalue * 125);
			break;
		case PW_CLASS:
			if (!r->class_text[0])
				radius_class_encode((const uint8_t *)vp->strvalue, vp->lvalue, r->class_text,
						    sizeof(r->class_text));
			if (p->group_attr == RADIUS_GROUP_CLASS)
				add_group(r, vp->strvalue, vp->lvalue);
			break;
		case PW_FILTER_ID:
			if (p->group_attr == RADIUS_GROUP_FILTER_ID)
				add_group(r, vp->strvalue, vp->lvalue);
			break;
		case PW_STATE:
			if (!r->state_len && vp->lvalue <= sizeof(r->state)) {
				memcpy(r->state, vp->strvalue, vp->lvalue);
				r->state_len = vp->lvalue;
			}
			break;
		default:
			break;
		}
	}
}

/* Sends the Access-Request for q (with the State of the challenge it
 * answers) and decodes the answer into x. */
static void exchange(struct radius_plugin *p, const struct wg_check_request *q, const struct radius_conv *cv,
		     struct exchange *x)
{
	rc_handle *rh = radius_dict(p);
	VALUE_PAIR *send = NULL, *received = NULL;
	uint32_t service = PW_FRAMED, port_type = PW_VIRTUAL;
	bool ok = rc_avpair_add(rh, &send, PW_USER_NAME, q->user, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_USER_PASSWORD, q->password, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, p->nas_identifier, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_NAS_PORT_TYPE, &port_type, 0, 0) &&
		  rc_avpair_add(rh, &send, PW_SERVICE_TYPE, &service, 0, 0) &&
		  (!q->client_addr[0] || rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, q->client_addr, -1, 0)) &&
		  (!q->challenged || !cv->state_len ||
		   rc_avpair_add(rh, &send, PW_STATE, cv->state, (int)cv->state_len, 0)) &&
		  rc_avpair_add(rh, &send, PW_ACCT_SESSION_ID, cv->acct_id, -1, 0);

	if (!ok) {
		rc_avpair_free(send);
		x->rc = ERROR_RC;
		snprintf(x->trace, sizeof(x->trace), "could not build the Access-Request");
		return;
	}
	x->rc = radius_send(p, AUTH, send, &received, x->reply.msg, x->trace, sizeof(x->trace));
	trim_newlines(x->reply.msg);
	if (x->rc == OK_RC || x->rc == CHALLENGE_RC)
		decode_reply(p, received, &x->reply);
	rc_avpair_free(received);
}

static void add_number(struct wg_check_result *res, const char *key, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	wg_check_add_attr(res, key, num);
}

/* An Access-Accept's attributes and groups, for the host. */
static void accept_reply(const struct radius_plugin *p, const char *user, const struct radius_conv *cv,
			 const struct reply *r, struct wg_check_result *res)
{
	const struct wg_host *host = p->check.host;

	if (r->framed_ip[0])
		wg_check_add_attr(res, WG_ATTR_FRAMED_IPV4, r->framed_ip);
	if (r->framed_ip6[0])
		wg_check_add_attr(res, WG_ATTR_FRAMED_IPV6, r->framed_ip6);
	if (r->bad_addr6)
		host->log(NULL, WG_LOG_WARN, "auth-radius: user \"%s\": Framed-IPv6-Address of %u bytes ignored", user,
			  r->bad_addr6 - 1);
	if (r->bad_prefix6)
		host->log(NULL, WG_LOG_WARN, "auth-radius: user \"%s\": Framed-IPv6-Prefix ignored: only a /128 (one address) "
			  "is used", user);
	for (unsigned i = 0; i < r->n_routes; i++)
		wg_check_add_attr(res, WG_ATTR_ROUTE, r->routes[i]);
	if (r->bad_routes)
		host->log(NULL, WG_LOG_WARN, "auth-radius: user \"%s\": ignored %u Framed-Route value(s) that are not "
			  "\"a.b.c.d[/bits] ...\" (or more than %d)", user, r->bad_routes, MAX_ROUTES);
	if (r->session_timeout)
		add_number(res, WG_ATTR_SESSION_TIMEOUT, r->session_timeout);
	if (r->idle_timeout)
		add_number(res, WG_ATTR_IDLE_TIMEOUT, r->idle_timeout);
	if (r->up_bps)
		add_number(res, WG_ATTR_RX_PER_SEC, r->up_bps);
	if (r->down_bps)
		add_number(res, WG_ATTR_TX_PER_SEC, r->down_bps);
	if (r->class_text[0])
		wg_check_add_attr(res, RADIUS_ATTR_CLASS, r->class_text);
	if (r->interim)
		add_number(res, RADIUS_ATTR_INTERIM, r->interim);
	wg_check_add_attr(res, RADIUS_ATTR_ACCT_SESSION_ID, cv->acct_id);
	for (unsigned i = 0; i < r->n_groups; i++)
		wg_check_add_group(res, r->groups[i]);
	wg_check_accept(res);
}

/* The adapter's question (worker thread): one Access-Request for the user
 * and password, or for the answer to the last Access-Challenge. */
static void radius_check(void *plugin, const struct wg_check_request *q, struct wg_check_result *res)
{
	struct radius_plugin *p = plugin;
	struct radius_conv *cv = q->conv;
	struct exchange *x;

	if (!(x = calloc(1, sizeof(*x)))) {
		wg_check_reject(res, "Server busy, try again.", "out of memory");
		return;
	}
	exchange(p, q, cv, x);
	switch (x->rc) {
	case OK_RC:
		p->check.host->log(NULL, WG_LOG_INFO, "auth-radius: user \"%s\" accepted (%s)", q->user, x->trace);
		accept_reply(p, q->user, cv, &x->reply, res);
		break;
	case CHALLENGE_RC:
		if (!x->reply.state_len) {
			wg_check_reject(res, "Login failed.", "Access-Challenge without State (%s)", x->trace);
			break;
		}
		memcpy(cv->state, x->reply.state, x->reply.state_len);
		cv->state_len = x->reply.state_len;
		wg_check_challenge(res, x->reply.msg);
		break;
	case REJECT_RC:
		wg_check_reject(res, x->reply.msg[0] ? x->reply.msg : "Login failed.", "rejected by RADIUS (%s)%s%s",
				x->trace, x->reply.msg[0] ? ": " : "", x->reply.msg);
		break;
	case TIMEOUT_RC:
		wg_check_reject(res, "The authentication service did not answer. Try again later.",
				"no RADIUS server answered (%s)", x->trace);
		break;
	default:
		wg_check_reject(res, "The authentication service failed. Try again later.", "RADIUS error %d (%s)",
				x->rc, x->trace);
		break;
	}
	explicit_bzero(x, sizeof(*x));
	free(x);
}

/* Each (re)start of a conversation: a new Acct-Session-Id. */
static int radius_begin(void *plugin, void *conv, const char **why)
{
	struct radius_conv *cv = conv;
	uint8_t rnd[8];

	(void)plugin;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		*why = "no random bytes for an Acct-Session-Id";
		return -1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(cv->acct_id + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static const struct wg_check_ops check_ops = {
	.name = "auth-radius",
	.user_max = RADIUS_STRING_MAX,
	.password_max = RADIUS_PASSWORD_MAX, /* what User-Password carries */
	.conv_size = sizeof(struct radius_conv),
	.begin = radius_begin,
	.check = radius_check,
};

/* --- configuration --------------------------------------------------------- */

static int server_handle(struct radius_server *srv, char *err, size_t errlen)
{
	char auth[RADIUS_HOST_MAX + RADIUS_SECRET_MAX + 16], acct[sizeof(auth)];
	const struct radius_server_spec *s = &srv->spec;
	rc_handle *rh = rc_new();

	if (!rh || !rc_config_init(rh)) { /* rc_config_init frees rh on failure */
		snprintf(err, errlen, "radcli: cannot make a handle");
		return -1;
	}
	snprintf(auth, sizeof(auth), "%s%s%s:%u:%s", s->ipv6 ? "[" : "", s->host, s->ipv6 ? "]" : "", s->auth_port,
		 s->secret);
	snprintf(acct, sizeof(acct), "%s%s%s:%u:%s", s->ipv6 ? "[" : "", s->host, s->ipv6 ? "]" : "", s->acct_port,
		 s->secret);
	/* radcli binds IPv4 unless told otherwise. */
	if (rc_add_config(rh, "authserver", auth, "auth-radius", 0) < 0 ||
	    rc_add_config(rh, "acctserver", acct, "auth-radius", 0) < 0 ||
	    rc_add_config(rh, "bindaddr", s->ipv6 ? "::" : "*", "auth-radius", 0) < 0 || rc_apply_config(rh) < 0 ||
	    rc_read_dictionary_from_buffer(rh, dictionary, sizeof(dictionary) - 1) < 0) {
		explicit_bzero(auth, sizeof(auth));
		explicit_bzero(acct, sizeof(acct));
		rc_destroy(rh);
		snprintf(err, errlen, "radcli refused the settings of server %s", s->host);
		return -1;
	}
	explicit_bzero(auth, sizeof(auth));
	explicit_bzero(acct, sizeof(acct));
	srv->rh = rh;
	return 0;
}

static void fini(void *state);

static int init(const struct wg_host *host, const struct wg_config *cfg, void **state, char *err, size_t errlen)
{
	struct radius_plugin *p = calloc(1, sizeof(*p));
	size_t n = host->config_list_size(cfg, "servers");
	const char *secret = host->config_string(cfg, "secret");
	const char *nas = host->config_string(cfg, "nas-identifier");
	char why[256];

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host = host;
	pthread_mutex_init(&p->lock, NULL);
	*state = NULL;
	if (n == 0 || n > RADIUS_MAX_SERVERS) {
		snprintf(err, errlen, "%s: servers: give 1 to %d servers", host->config_where(cfg, "servers"),
			 RADIUS_MAX_SERVERS);
		goto fail;
	}
	if (secret && radius_secret_problem(secret)) {
		snprintf(err, errlen, "%s: secret: %s", host->config_where(cfg, "secret"), radius_secret_problem(secret));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct radius_server *srv = &p->servers[i];
		const char *problem;
		if (radius_parse_server(host->config_list_item(cfg, "servers", i), &srv->spec, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: servers[%zu]: %s", host->config_where(cfg, "servers"), i, why);
			goto fail;
		}
		if (!srv->spec.secret[0] && secret)
			snprintf(srv->spec.secret, sizeof(srv->spec.secret), "%s", secret);
		if ((problem = radius_secret_problem(srv->spec.secret))) {
			snprintf(err, errlen, "%s: servers[%zu] (%s): %s", host->config_where(cfg, "servers"), i,
				 srv->spec.host, problem);
			goto fail;
		}
		if (server_handle(srv, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: servers[%zu]: %s", host->config_where(cfg, "servers"), i, why);
			goto fail;
		}
		p->n_servers++;
	}
	if (!nas || !*nas || strlen(nas) > RADIUS_STRING_MAX) {
		snprintf(err, errlen, "%s: nas-identifier: must be 1 to %d bytes", host->config_where(cfg, "nas-identifier"),
			 RADIUS_STRING_MAX);
		goto fail;
	}
	snprintf(p->nas_identifier, sizeof(p->nas_identifier), "%s", nas);
	p->group_attr = radius_group_attr_parse(host->config_string(cfg, "group-attribute"));
	if (p->group_attr < 0) {
		snprintf(err, errlen, "%s: group-attribute: \"%s\" is not \"filter-id\", \"class\" or \"none\"",
			 host->config_where(cfg, "group-attribute"), host->config_string(cfg, "group-attribute"));
		goto fail;
	}
	p->timeout_s = (int)host->config_int(cfg, "timeout");
	p->retries = (int)host->config_int(cfg, "retries");
	p->dead_time_s = (int)host->config_int(cfg, "dead-time");
	p->accounting = host->config_bool(cfg, "accounting");
	p->require_ma = host->config_bool(cfg, "require-message-authenticator");
	p->interim_s = (uint32_t)host->config_int(cfg, "interim-interval");
	if (wg_check_init(&p->check, host, &check_ops, p, err, errlen) < 0)
		goto fail;
	/* radius_send's own bound is every server's tries; past that and a
	 * margin, something hangs and the login should not wait for it. */
	p->check.check_deadline_ms = (uint32_t)(p->n_servers * p->timeout_s * (p->retries + 1) + 10) * 1000u;
	if (p->accounting && !WG_HOST_HAS(host, session_stats))
		host->log(NULL, WG_LOG_WARN, "auth-radius: this server cannot report session counters; "
			  "accounting sends no Interim-Update");
	host->log(NULL, WG_LOG_INFO, "auth-radius: %u server(s), at most %d s per login when all are down%s",
		  p->n_servers, (int)p->n_servers * p->timeout_s * (p->retries + 1),
		  p->accounting ? ", accounting on" : "");
	*state = p;
	return 0;
fail:
	fini(p);
	return -EINVAL;
}

static void fini(void *state)
{
	struct radius_plugin *p = state;

	if (!p)
		return;
	radius_acct_fini(p);
	for (unsigned i = 0; i < RADIUS_MAX_SERVERS; i++)
		if (p->servers[i].rh)
			rc_destroy(p->servers[i].rh);
	explicit_bzero(p->servers, sizeof(p->servers));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct wg_auth_ops ops = {
	WG_CHECK_AUTH_OPS,
	.session_start = radius_acct_session_start,
	.session_stop = radius_acct_session_stop,
};

WG_PLUGIN_DEFINE = {
	WG_PLUGIN_HEADER,
	.name = "auth-radius",
	.version = "0.1.0",
	.description = "logins checked by RADIUS servers (radcli), Access-Challenge steps, accounting",
	.kind = WG_PLUGIN_AUTH,
	.options = options,
	.init = init,
	.fini = fini,
	.ops = &ops,
};

/* auth-radius: logins checked by RADIUS servers (RFC 2865) through radcli,
 * with Access-Challenge as a further form step, reply attributes handed to
 * the host (address, routes, timeouts, Class, groups) and, optionally,
 * accounting (RFC 2866, radius_acct.c).
 *
 * radcli is blocking, so every exchange runs on a host worker thread
 * (run_blocking); the loop only builds jobs and applies answers. A server
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

static const struct wg_auth_field login_fields[] = {
	{"username", "Username:", WG_FIELD_TEXT},
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static const struct wg_auth_field password_fields[] = {
	{"password", "Password:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

static const struct wg_auth_field answer_fields[] = {
	{"answer", "Response:", WG_FIELD_PASSWORD},
	{NULL, NULL, 0},
};

/* What an Access-Accept or Access-Challenge carried, decoded on the worker
 * so the loop never touches radcli's lists. */
struct reply {
	char msg[PW_MAX_MSG_SIZE];
	char framed_ip[INET_ADDRSTRLEN]; /* "" when absent or "let the NAS choose" */
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

struct auth_job;

/* One login conversation, from its first start() until conversation_end. */
struct login {
	struct login_entry entry; /* first: the table's link, entry.a the conversation */
	char user[RADIUS_STRING_MAX + 1]; /* known after the first form */
	bool user_given;                  /* by an earlier step of the chain */
	bool challenged;                  /* the next answer goes with state */
	uint8_t state[RADIUS_STRING_MAX];
	size_t state_len;
	char prompt[512];
	struct auth_job *job; /* in flight, or NULL */
	/* Acct-Session-Id of the session this login may become: sent in every
	 * Access-Request and, after an accept, in its accounting, so the
	 * server can tie them together. */
	char acct_id[17];
};

struct auth_job {
	struct radius_plugin *p;
	struct login *login; /* NULL once the conversation is gone */
	char user[RADIUS_STRING_MAX + 1];
	char password[RADIUS_PASSWORD_MAX + 1];
	char client_addr[64];
	char acct_id[17];
	uint8_t state[RADIUS_STRING_MAX];
	size_t state_len;
	/* results, written by the worker */
	int rc;
	char trace[TRACE_MAX];
	struct reply reply;
};

/* --- transport ---------------------------------------------------------- */

static void trace_add(char *trace, size_t len, const struct radius_server *srv, uint16_t port, const char *what)
{
	size_t used = strlen(trace);

	if (used < len)
		snprintf(trace + used, len - used, "%s%s%s%s:%u %s", used ? ", " : "", srv->spec.ipv6 ? "[" : "",
			 srv->spec.host, srv->spec.ipv6 ? "]" : "", port, what);
}

int radius_send(struct radius_plugin *p, rc_type type, VALUE_PAIR *send, VALUE_PAIR **received, char *msg,
		char *trace, size_t tracelen)
{
	unsigned order[RADIUS_MAX_SERVERS], n = 0;
	time_t now = time(NULL);
	int rc = TIMEOUT_RC;

	*received = NULL;
	trace[0] = '\0';
	/* Servers believed alive first, in the configured order; the others
	 * after them, so they are still a last resort. */
	pthread_mutex_lock(&p->lock);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < p->n_servers; i++)
			if ((p->servers[i].dead_until <= now) == (pass == 0))
				order[n++] = i;
	pthread_mutex_unlock(&p->lock);

	for (unsigned k = 0; k < n; k++) {
		struct radius_server *srv = &p->servers[order[k]];
		uint16_t port = type == AUTH ? srv->spec.auth_port : srv->spec.acct_port;
		SEND_DATA data;

		memset(&data, 0, sizeof(data));
		rc_buildreq(srv->rh, &data, type == AUTH ? PW_ACCESS_REQUEST : PW_ACCOUNTING_REQUEST, srv->spec.host,
			    port, srv->spec.secret, p->timeout_s, p->retries);
		data.send_pairs = send;
		if (msg)
			msg[0] = '\0';
		char why[160] = "";
		if (type == AUTH) {
			/* Ours, with Message-Authenticator (radius_auth_send.c). */
			rc = radius_auth_exchange(p, srv, send, &data.receive_pairs, msg, why, sizeof(why));
		} else {
			rc = rc_send_server(srv->rh, &data, msg, type);
			send = data.send_pairs; /* radcli may have added NAS-IP-Address */
		}
		if (rc == OK_RC || rc == REJECT_RC || rc == CHALLENGE_RC) {
			pthread_mutex_lock(&p->lock);
			srv->dead_until = 0;
			pthread_mutex_unlock(&p->lock);
			trace_add(trace, tracelen, srv, port, "answered");
			*received = data.receive_pairs;
			break;
		}
		rc_avpair_free(data.receive_pairs);
		if (rc == TIMEOUT_RC) {
			pthread_mutex_lock(&p->lock);
			srv->dead_until = time(NULL) + p->dead_time_s;
			pthread_mutex_unlock(&p->lock);
			trace_add(trace, tracelen, srv, port, "did not answer");
		} else {
			/* Unresolvable name, socket error, or a reply that failed the
			 * authenticator check (wrong secret): the next server may do. */
			char what[200];
			snprintf(what, sizeof(what), "%s%s%s", rc == BADRESP_RC ? "sent a bad reply" : "failed",
				 why[0] ? ": " : "", why);
			trace_add(trace, tracelen, srv, port, what);
		}
	}
	rc_avpair_free(send);
	return rc;
}

/* --- the login conversation ---------------------------------------------- */

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

static void auth_work(void *arg)
{
	struct auth_job *j = arg;
	struct radius_plugin *p = j->p;
	rc_handle *rh = radius_dict(p);
	VALUE_PAIR *send = NULL, *received = NULL;
	uint32_t service = PW_FRAMED, port_type = PW_VIRTUAL;
	bool ok = rc_avpair_add(rh, &send, PW_USER_NAME, j->user, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_USER_PASSWORD, j->password, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, p->nas_identifier, -1, 0) &&
		  rc_avpair_add(rh, &send, PW_NAS_PORT_TYPE, &port_type, 0, 0) &&
		  rc_avpair_add(rh, &send, PW_SERVICE_TYPE, &service, 0, 0) &&
		  (!j->client_addr[0] || rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, j->client_addr, -1, 0)) &&
		  (!j->state_len || rc_avpair_add(rh, &send, PW_STATE, j->state, (int)j->state_len, 0)) &&
		  rc_avpair_add(rh, &send, PW_ACCT_SESSION_ID, j->acct_id, -1, 0);

	explicit_bzero(j->password, sizeof(j->password));
	if (!ok) {
		rc_avpair_free(send);
		j->rc = ERROR_RC;
		snprintf(j->trace, sizeof(j->trace), "could not build the Access-Request");
		return;
	}
	j->rc = radius_send(p, AUTH, send, &received, j->reply.msg, j->trace, sizeof(j->trace));
	trim_newlines(j->reply.msg);
	if (j->rc == OK_RC || j->rc == CHALLENGE_RC)
		decode_reply(p, received, &j->reply);
	rc_avpair_free(received);
}

static void login_free(struct login *l)
{
	if (l->job)
		l->job->login = NULL; /* its answer will be dropped */
	explicit_bzero(l, sizeof(*l));
	free(l);
}

static struct login *login_find(struct radius_plugin *p, const struct wg_auth *a)
{
	return (struct login *)login_table_find(&p->logins, a);
}

static void apply_accept(struct radius_plugin *p, struct login *l, const struct reply *r)
{
	const struct wg_host *host = p->host;
	struct wg_auth *a = l->entry.a;
	const char *groups[MAX_GROUPS + 1];
	char num[24];

	if (r->framed_ip[0])
		host->auth_set_attr(a, WG_ATTR_FRAMED_IPV4, r->framed_ip);
	for (unsigned i = 0; i < r->n_routes; i++)
		host->auth_set_attr(a, WG_ATTR_ROUTE, r->routes[i]);
	if (r->bad_routes)
		host->log(NULL, WG_LOG_WARN, "auth-radius: user \"%s\": ignored %u Framed-Route value(s) that are not "
			  "\"a.b.c.d[/bits] ...\" (or more than %d)", l->user, r->bad_routes, MAX_ROUTES);
	if (r->session_timeout) {
		snprintf(num, sizeof(num), "%u", r->session_timeout);
		host->auth_set_attr(a, WG_ATTR_SESSION_TIMEOUT, num);
	}
	if (r->idle_timeout) {
		snprintf(num, sizeof(num), "%u", r->idle_timeout);
		host->auth_set_attr(a, WG_ATTR_IDLE_TIMEOUT, num);
	}
	if (r->up_bps) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)r->up_bps);
		host->auth_set_attr(a, WG_ATTR_RX_PER_SEC, num);
	}
	if (r->down_bps) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)r->down_bps);
		host->auth_set_attr(a, WG_ATTR_TX_PER_SEC, num);
	}
	if (r->class_text[0])
		host->auth_set_attr(a, RADIUS_ATTR_CLASS, r->class_text);
	if (r->interim) {
		snprintf(num, sizeof(num), "%u", r->interim);
		host->auth_set_attr(a, RADIUS_ATTR_INTERIM, num);
	}
	host->auth_set_attr(a, RADIUS_ATTR_ACCT_SESSION_ID, l->acct_id);
	for (unsigned i = 0; i < r->n_groups; i++)
		groups[i] = r->groups[i];
	groups[r->n_groups] = NULL;
	host->auth_succeed(a, l->user, groups);
}

static void auth_done(void *arg)
{
	struct auth_job *j = arg;
	struct login *l = j->login;
	struct radius_plugin *p = j->p;
	const struct wg_host *host = p->host;
	char why[TRACE_MAX + PW_MAX_MSG_SIZE + 64];

	if (!l)
		goto out; /* the client went away meanwhile */
	l->job = NULL;
	switch (j->rc) {
	case OK_RC:
		host->log(NULL, WG_LOG_INFO, "auth-radius: user \"%s\" accepted (%s)", l->user, j->trace);
		apply_accept(p, l, &j->reply);
		break;
	case CHALLENGE_RC:
		if (!j->reply.state_len) {
			snprintf(why, sizeof(why), "Access-Challenge without State (%s)", j->trace);
			host->auth_fail(l->entry.a, "Login failed.", why);
			break;
		}
		memcpy(l->state, j->reply.state, j->reply.state_len);
		l->state_len = j->reply.state_len;
		l->challenged = true;
		snprintf(l->prompt, sizeof(l->prompt), "%.*s", (int)sizeof(l->prompt) - 1,
			 j->reply.msg[0] ? j->reply.msg : "The server asks for a further response.");
		host->auth_prompt(l->entry.a, l->prompt, answer_fields);
		break;
	case REJECT_RC:
		snprintf(why, sizeof(why), "rejected by RADIUS (%s)%s%s", j->trace, j->reply.msg[0] ? ": " : "",
			 j->reply.msg);
		host->auth_fail(l->entry.a, j->reply.msg[0] ? j->reply.msg : "Login failed.", why);
		break;
	case TIMEOUT_RC:
		snprintf(why, sizeof(why), "no RADIUS server answered (%s)", j->trace);
		host->auth_fail(l->entry.a, "The authentication service did not answer. Try again later.", why);
		break;
	default:
		snprintf(why, sizeof(why), "RADIUS error %d (%s)", j->rc, j->trace);
		host->auth_fail(l->entry.a, "The authentication service failed. Try again later.", why);
		break;
	}
out:
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* The conversation's login, made on its first start(); a later start()
 * (the chain began again after a failure) begins it afresh in place. */
static struct login *login_begin(struct radius_plugin *p, struct wg_auth *a)
{
	struct login *l = login_find(p, a);

	if (l && l->job)
		l->job->login = NULL; /* cannot happen: the host sends one step at a time */
	return (struct login *)login_table_begin(&p->logins, a, sizeof(*l));
}

static void start(void *state, struct wg_auth *a)
{
	struct radius_plugin *p = state;
	struct login *l = login_begin(p, a);
	const char *known;

	if (!l) {
		p->host->auth_fail(a, "Server busy, try again.", "out of memory");
		return;
	}
	uint8_t rnd[8];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		p->host->auth_fail(a, "Server busy, try again.", "no random bytes for an Acct-Session-Id");
		return;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(l->acct_id + 2 * i, 3, "%02x", rnd[i]);
	/* In a chain, an earlier step may have established who this is. */
	known = p->host->auth_username(a);
	if (known && *known && strlen(known) <= RADIUS_STRING_MAX) {
		snprintf(l->user, sizeof(l->user), "%s", known);
		l->user_given = true;
		p->host->auth_prompt(a, "Please enter your password.", password_fields);
		return;
	}
	p->host->auth_prompt(a, "Please enter your username and password.", login_fields);
}

static void cont(void *state, struct wg_auth *a)
{
	struct radius_plugin *p = state;
	const struct wg_host *host = p->host;
	struct login *l = login_find(p, a);
	const char *user, *secret;
	struct auth_job *j;

	if (!l || l->job) {
		/* No start() seen for this conversation (or a step in flight):
		 * begin again rather than guess. */
		start(state, a);
		return;
	}
	if (l->challenged) {
		/* AnyConnect clients post every password-type field as
		 * <password>, whatever the form named it. */
		secret = host->auth_field(a, "answer");
		if (!secret)
			secret = host->auth_field(a, "password");
		if (!secret) {
			host->auth_prompt(a, l->prompt, answer_fields);
			return;
		}
	} else {
		user = l->user_given ? l->user : host->auth_field(a, "username");
		secret = host->auth_field(a, "password");
		if (!user || !*user || !secret) {
			host->auth_prompt(a, l->user_given ? "Please enter your password." :
				"Please enter your username and password.",
				l->user_given ? password_fields : login_fields);
			return;
		}
		if (strlen(user) > RADIUS_STRING_MAX || !printable(user, strlen(user))) {
			host->auth_fail(a, "Login failed.", "user name too long or with control characters");
			return;
		}
		if (user != l->user) /* an earlier step's name is there already */
			snprintf(l->user, sizeof(l->user), "%s", user);
	}
	if (strlen(secret) > RADIUS_PASSWORD_MAX) {
		host->auth_fail(a, "Login failed.", "password longer than RADIUS carries (112 bytes)");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		host->auth_fail(a, "Server busy, try again.", "out of memory");
		return;
	}
	j->p = p;
	j->login = l;
	snprintf(j->user, sizeof(j->user), "%s", l->user);
	snprintf(j->password, sizeof(j->password), "%s", secret);
	snprintf(j->client_addr, sizeof(j->client_addr), "%s", host->auth_client_addr(a) ? host->auth_client_addr(a) : "");
	memcpy(j->acct_id, l->acct_id, sizeof(j->acct_id));
	if (l->challenged) {
		memcpy(j->state, l->state, l->state_len);
		j->state_len = l->state_len;
		/* One answer per challenge: a reject restarts the conversation. */
		l->challenged = false;
	}
	l->job = j;
	if (host->run_blocking(auth_work, auth_done, j) < 0) {
		l->job = NULL;
		explicit_bzero(j, sizeof(*j));
		free(j);
		host->auth_fail(a, "Server busy, try again.", "worker queue full");
	}
}

/* The host tells of every end of a conversation this plugin started,
 * including one whose Access-Request is still out (the host does not wait
 * for it: its answer is dropped). */
static void conversation_end(void *state, struct wg_auth *a)
{
	struct radius_plugin *p = state;
	struct login *l = (struct login *)login_table_take(&p->logins, a);

	if (l)
		login_free(l);
}

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
	/* The host finished every run_blocking job before fini and ended
	 * every conversation, so this only matters for an older host that
	 * does not call conversation_end. */
	for (struct login *l; (l = (struct login *)login_table_pop(&p->logins));)
		login_free(l);
	radius_acct_fini(p);
	for (unsigned i = 0; i < RADIUS_MAX_SERVERS; i++)
		if (p->servers[i].rh)
			rc_destroy(p->servers[i].rh);
	explicit_bzero(p->servers, sizeof(p->servers));
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct wg_auth_ops ops = {
	.struct_size = sizeof(struct wg_auth_ops),
	.start = start,
	.cont = cont,
	.session_start = radius_acct_session_start,
	.session_stop = radius_acct_session_stop,
	.conversation_end = conversation_end,
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

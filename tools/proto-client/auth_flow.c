/* AnyConnect XML login requests and form reading (see auth_flow.h). The
 * server's XML is scanned for the few elements that matter (config-auth
 * type, input, select/option, error, form action); every copy is bounded. */
#include "auth_flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_STEPS 8
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define CLIENT_ID "<version who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>"

struct out {
	char *p;
	size_t cap, len;
	int overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->overflow = 1;
	else
		o->len += (size_t)n;
}

static void put_escaped(struct out *o, const char *s)
{
	for (; *s && !o->overflow; s++) {
		switch (*s) {
		case '&': put(o, "&amp;"); break;
		case '<': put(o, "&lt;"); break;
		case '>': put(o, "&gt;"); break;
		case '"': put(o, "&quot;"); break;
		case '\'': put(o, "&apos;"); break;
		default: put(o, "%c", *s);
		}
	}
}

/* Headers and body in one buffer: the body is built first in `body`. */
static int http_post(const struct wgp_login *l, const char *path, const char *context, const char *body,
		     size_t blen, char *req, size_t cap)
{
	struct out o = {req, cap, 0, 0};

	put(&o, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " WGP_USER_AGENT "\r\n", path, l->host);
	if (context && *context)
		put(&o, "Cookie: webvpncontext=%s\r\n", context);
	put(&o, "Accept: */*\r\nAccept-Encoding: identity\r\nX-Transcend-Version: 1\r\nX-Aggregate-Auth: 1\r\n"
		"X-Support-HTTP-Auth: true\r\nContent-Type: application/xml; charset=utf-8\r\n"
		"Content-Length: %zu\r\n\r\n%.*s",
	    blen, (int)blen, body);
	return o.overflow ? -1 : (int)o.len;
}

int wgp_auth_init_request(const struct wgp_login *l, char *req, size_t cap)
{
	char body[1024];
	struct out o = {body, sizeof(body), 0, 0};

	put(&o, XML_HEAD "<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">" CLIENT_ID
		"<group-access>https://");
	put_escaped(&o, l->host);
	put(&o, "/</group-access></config-auth>");
	if (o.overflow)
		return -1;
	return http_post(l, "/", NULL, body, o.len, req, cap);
}

/* Finds needle in [p, end). */
static const char *find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (; p && p + n <= end; p++)
		if (*p == needle[0] && memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* Value of attribute `name` inside the tag starting at tag (up to its '>'). */
static int attr(const char *tag, const char *end, const char *name, char *out, size_t outlen)
{
	const char *gt = memchr(tag, '>', (size_t)(end - tag));
	char pat[40];
	const char *a, *v, *ve;

	if (!gt)
		return -1;
	snprintf(pat, sizeof(pat), " %s=\"", name);
	a = find(tag, gt, pat);
	if (!a)
		return -1;
	v = a + strlen(pat);
	ve = memchr(v, '"', (size_t)(gt - v));
	if (!ve || (size_t)(ve - v) >= outlen)
		return -1;
	memcpy(out, v, (size_t)(ve - v));
	out[ve - v] = '\0';
	return (int)(ve - v);
}

/* Text content of the first <tag ...>text</tag> in [p, end). */
static int element_text(const char *p, const char *end, const char *tag, char *out, size_t outlen)
{
	char open[40], close[40];
	const char *s, *gt, *e;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	for (s = find(p, end, open); s; s = find(s + 1, end, open)) {
		char c = s[strlen(open)];
		if (c == '>' || c == ' ')
			break;
	}
	if (!s || !(gt = memchr(s, '>', (size_t)(end - s))) || !(e = find(gt, end, close)))
		return -1;
	size_t n = (size_t)(e - gt - 1);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, gt + 1, n);
	out[n] = '\0';
	return (int)n;
}

enum wgp_auth_next wgp_auth_next(const struct wgp_login *l, struct wgp_login_state *ls, const char *body, size_t blen,
				 const char *context, char *req, size_t cap, int *req_len, char *err, size_t errlen)
{
	const char *end = body + blen, *ca = find(body, end, "<config-auth"), *p;
	char type[32], action[128] = "/auth", name[64], itype[32], value[256], group[128] = "", msg[160] = "";
	char xb[2048];
	struct out o = {xb, sizeof(xb), 0, 0};
	int want_password = 0;

	if (!ca || attr(ca, end, "type", type, sizeof(type)) < 0) {
		snprintf(err, errlen, "answer is not a config-auth document");
		return WGP_AUTH_FAIL;
	}
	if (strcmp(type, "complete") == 0)
		return WGP_AUTH_COMPLETE;
	if (strcmp(type, "auth-request") != 0) {
		snprintf(err, errlen, "unexpected config-auth type \"%s\"", type);
		return WGP_AUTH_FAIL;
	}
	if (++ls->steps > MAX_STEPS) {
		snprintf(err, errlen, "more than %d login forms", MAX_STEPS);
		return WGP_AUTH_FAIL;
	}
	if (element_text(body, end, "error", msg, sizeof(msg)) < 0)
		element_text(body, end, "message", msg, sizeof(msg));
	if ((p = find(body, end, "<form")) != NULL)
		attr(p, end, "action", action, sizeof(action));

	/* A password form after ours went in: the server said no (checked
	 * before anything is asked again). */
	if (ls->password_sent && find(body, end, "type=\"password\"")) {
		snprintf(err, errlen, "login rejected: %s", msg[0] ? msg : "password asked again");
		return WGP_AUTH_FAIL;
	}
	put(&o, XML_HEAD "<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\">" CLIENT_ID);
	if ((p = find(body, end, "<select")) != NULL && attr(p, end, "name", name, sizeof(name)) >= 0 &&
	    strcmp(name, "group_list") == 0) {
		if (l->group) {
			snprintf(group, sizeof(group), "%s", l->group);
		} else if ((p = find(p, end, "<option")) != NULL &&
			   attr(p, end, "value", group, sizeof(group)) < 0) {
			element_text(p, end, "option", group, sizeof(group));
		}
		if (group[0]) {
			put(&o, "<group-select>");
			put_escaped(&o, group);
			put(&o, "</group-select>");
		}
	}
	put(&o, "<auth>");
	for (p = find(body, end, "<input"); p; p = find(p + 1, end, "<input")) {
		if (attr(p, end, "name", name, sizeof(name)) < 0)
			continue;
		if (attr(p, end, "type", itype, sizeof(itype)) < 0)
			snprintf(itype, sizeof(itype), "text");
		if (strcmp(itype, "password") == 0) {
			const char *pw = l->password;
			char label[96];
			if (!pw && l->ask_password) {
				if (attr(p, end, "label", label, sizeof(label)) < 0)
					snprintf(label, sizeof(label), "%s:", name);
				pw = l->ask_password(l->ask_arg, label);
			}
			if (!pw) {
				snprintf(err, errlen, "the server asks for \"%s\" and no password was given", name);
				return WGP_AUTH_FAIL;
			}
			snprintf(value, sizeof(value), "%s", pw);
			want_password = 1;
		} else if (strcmp(name, "username") == 0) {
			if (!l->user) {
				snprintf(err, errlen, "the server asks for a user name and none was given (--user)");
				return WGP_AUTH_FAIL;
			}
			snprintf(value, sizeof(value), "%s", l->user);
		} else if (strcmp(itype, "hidden") == 0) {
			if (attr(p, end, "value", value, sizeof(value)) < 0)
				value[0] = '\0';
		} else if (strcmp(itype, "submit") == 0 || strcmp(itype, "reset") == 0) {
			continue;
		} else {
			snprintf(err, errlen, "form field \"%s\" (type %s) is neither username nor password", name, itype);
			return WGP_AUTH_FAIL;
		}
		put(&o, "<%s>", name);
		put_escaped(&o, value);
		put(&o, "</%s>", name);
	}
	put(&o, "</auth></config-auth>");
	ls->password_sent |= want_password;
	if (o.overflow || (*req_len = http_post(l, action, context, xb, o.len, req, cap)) < 0) {
		snprintf(err, errlen, "auth-reply too large");
		return WGP_AUTH_FAIL;
	}
	return WGP_AUTH_REPLY;
}

/* The XML of the AnyConnect login conversation, both ways.
 *
 * What clients send (openconnect 9.x, Cisco AnyConnect):
 *   <config-auth client="vpn" type="init|auth-reply|logout" aggregate-auth-version="2">
 *     <version who="vpn">v9.01</version> <device-id ...>linux-64</device-id>
 *     <group-select>..</group-select> <group-access>https://..</group-access>
 *     <auth><username>..</username><password>..</password></auth>   (auth-reply)
 *   </config-auth>
 * What they expect back: type="auth-request" with <auth id="main"> holding
 * <message>, an optional <error>, and <form method="post" action="/auth">
 * with <input type="text|password" name label/> and optionally
 * <select name="group_list"><option>..</option></select>; after success,
 * type="complete" with <auth id="success">. The session cookie itself travels
 * in the Set-Cookie header, not in the XML.
 *
 * The scanner is iterative with a fixed-depth element stack: no recursion,
 * no DTD, no external entities, no CDATA; every copy is bounded. */
#include "login/auth_xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <wolfguard/percent.h>

#define MAX_DEPTH 16
#define NAME_MAX_LEN 64

struct elem {
	char name[NAME_MAX_LEN];
	size_t content_start;
	bool has_children;
};

struct scan {
	const char *s;
	size_t len, i;
	struct elem stack[MAX_DEPTH];
	int depth;
	char *err;
	size_t errlen;
};

static int scan_fail(struct scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int scan_fail(struct scan *sc, const char *fmt, ...)
{
	va_list ap;
	char msg[160];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(sc->err, sc->errlen, "XML at byte %zu: %s", sc->i, msg);
	return -1;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == ':' || c == '.';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void put_utf8(char *out, size_t *o, unsigned long cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | cp >> 6);
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | cp >> 12);
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | cp >> 18);
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* Decodes XML text with the predefined and numeric entities into out.
 * Returns 0, or -1 for a bad entity or text that does not fit. */
static int unescape(const char *in, size_t len, char *out, size_t outlen, const char **why)
{
	static const struct {
		const char *name;
		char ch;
	} ents[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		if (o + 5 > outlen) {
			*why = "value too long";
			return -1;
		}
		if (in[i] != '&') {
			out[o++] = in[i++];
			continue;
		}
		const char *semi = memchr(in + i, ';', len - i < 12 ? len - i : 12);
		if (!semi) {
			*why = "unterminated entity";
			return -1;
		}
		size_t elen = (size_t)(semi - (in + i + 1));
		const char *e = in + i + 1;
		bool done = false;
		for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			if (strlen(ents[k].name) == elen && memcmp(e, ents[k].name, elen) == 0) {
				out[o++] = ents[k].ch;
				done = true;
			}
		}
		if (!done && elen >= 2 && e[0] == '#') {
			unsigned long cp = 0;
			bool hex = e[1] == 'x' || e[1] == 'X';
			size_t k = hex ? 2 : 1;
			if (k >= elen) {
				*why = "empty character reference";
				return -1;
			}
			for (; k < elen; k++) {
				char c = e[k];
				int d = c >= '0' && c <= '9' ? c - '0'
					: hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
					: hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
				if (d < 0) {
					*why = "bad character reference";
					return -1;
				}
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
				if (cp > 0x10ffff) {
					*why = "character reference out of range";
					return -1;
				}
			}
			if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
				*why = "character reference not allowed";
				return -1;
			}
			put_utf8(out, &o, cp);
			done = true;
		}
		if (!done) {
			*why = "unknown entity";
			return -1;
		}
		i += elen + 2;
	}
	out[o] = '\0';
	return 0;
}

/* Stores the text of a closed element where it belongs. */
static int element_closed(struct scan *sc, struct wg_auth_msg *m, const struct elem *el, size_t content_end)
{
	const char *text = sc->s + el->content_start;
	size_t tlen = content_end - el->content_start;
	const char *parent = sc->depth >= 1 ? sc->stack[sc->depth - 1].name : "";
	char *dest = NULL;
	size_t destlen = 0;
	const char *why = NULL;

	if (el->has_children)
		return 0;
	if (sc->depth == 1 && strcmp(parent, "config-auth") == 0) {
		if (strcmp(el->name, "version") == 0)
			dest = m->version, destlen = sizeof(m->version);
		else if (strcmp(el->name, "device-id") == 0)
			dest = m->device_id, destlen = sizeof(m->device_id);
		else if (strcmp(el->name, "group-select") == 0)
			dest = m->group_select, destlen = sizeof(m->group_select);
		else if (strcmp(el->name, "group-access") == 0)
			dest = m->group_access, destlen = sizeof(m->group_access);
	} else if (sc->depth == 2 && strcmp(parent, "auth") == 0 && strcmp(sc->stack[0].name, "config-auth") == 0) {
		if (m->n_fields >= WG_XML_MAX_FIELDS)
			return scan_fail(sc, "more than %d fields in <auth>", WG_XML_MAX_FIELDS);
		if (strlen(el->name) >= WG_XML_NAME_MAX)
			return scan_fail(sc, "field name too long");
		struct wg_xml_field *f = &m->fields[m->n_fields++];
		snprintf(f->name, sizeof(f->name), "%s", el->name);
		dest = f->value, destlen = sizeof(f->value);
	}
	if (!dest)
		return 0;
	if (unescape(text, tlen, dest, destlen, &why) < 0)
		return scan_fail(sc, "<%s>: %s", el->name, why);
	return 0;
}

/* Parses attributes up to '>' or '/>'; captures config-auth's type. */
static int scan_attrs(struct scan *sc, struct wg_auth_msg *m, const char *elem, bool *self_closing)
{
	for (;;) {
		while (sc->i < sc->len && is_space(sc->s[sc->i]))
			sc->i++;
		if (sc->i >= sc->len)
			return scan_fail(sc, "unterminated tag <%s", elem);
		if (sc->s[sc->i] == '>') {
			sc->i++;
			*self_closing = false;
			return 0;
		}
		if (sc->s[sc->i] == '/' && sc->i + 1 < sc->len && sc->s[sc->i + 1] == '>') {
			sc->i += 2;
			*self_closing = true;
			return 0;
		}
		size_t ns = sc->i;
		while (sc->i < sc->len && is_name_char(sc->s[sc->i]))
			sc->i++;
		size_t nlen = sc->i - ns;
		if (nlen == 0 || sc->i + 2 > sc->len || sc->s[sc->i] != '=' ||
		    (sc->s[sc->i + 1] != '"' && sc->s[sc->i + 1] != '\''))
			return scan_fail(sc, "malformed attribute in <%s>", elem);
		char q = sc->s[sc->i + 1];
		sc->i += 2;
		const char *v = sc->s + sc->i;
		const char *end = memchr(v, q, sc->len - sc->i);
		if (!end)
			return scan_fail(sc, "unterminated attribute value in <%s>", elem);
		sc->i = (size_t)(end - sc->s) + 1;
		if (strcmp(elem, "config-auth") == 0 && nlen == 4 && memcmp(sc->s + ns, "type", 4) == 0) {
			size_t vlen = (size_t)(end - v);
			m->type = vlen == 4 && memcmp(v, "init", 4) == 0 ? WG_XML_INIT
				: vlen == 10 && memcmp(v, "auth-reply", 10) == 0 ? WG_XML_AUTH_REPLY
				: vlen == 6 && memcmp(v, "logout", 6) == 0 ? WG_XML_LOGOUT : WG_XML_UNKNOWN;
		}
	}
}

static int skip_past(struct scan *sc, const char *marker)
{
	size_t ml = strlen(marker);

	for (size_t k = sc->i; k + ml <= sc->len; k++) {
		if (memcmp(sc->s + k, marker, ml) == 0) {
			sc->i = k + ml;
			return 0;
		}
	}
	return scan_fail(sc, "unterminated %s", marker);
}

static int scan_tag(struct scan *sc, struct wg_auth_msg *m, bool *saw_root)
{
	size_t tag_start = sc->i;

	sc->i++; /* '<' */
	if (sc->i >= sc->len)
		return scan_fail(sc, "truncated tag");
	if (sc->s[sc->i] == '?')
		return skip_past(sc, "?>");
	if (sc->len - sc->i >= 3 && memcmp(sc->s + sc->i, "!--", 3) == 0)
		return skip_past(sc, "-->");
	if (sc->s[sc->i] == '!')
		return scan_fail(sc, "DTDs, entities and CDATA are not accepted");
	bool closing = sc->s[sc->i] == '/';
	if (closing)
		sc->i++;
	size_t ns = sc->i;
	while (sc->i < sc->len && is_name_char(sc->s[sc->i]))
		sc->i++;
	size_t nlen = sc->i - ns;
	if (nlen == 0 || nlen >= NAME_MAX_LEN)
		return scan_fail(sc, "bad element name");
	char name[NAME_MAX_LEN];
	memcpy(name, sc->s + ns, nlen);
	name[nlen] = '\0';
	if (closing) {
		while (sc->i < sc->len && is_space(sc->s[sc->i]))
			sc->i++;
		if (sc->i >= sc->len || sc->s[sc->i] != '>')
			return scan_fail(sc, "malformed closing tag </%s", name);
		sc->i++;
		if (sc->depth == 0 || strcmp(sc->stack[sc->depth - 1].name, name) != 0)
			return scan_fail(sc, "unexpected </%s>", name);
		struct elem el = sc->stack[--sc->depth];
		return element_closed(sc, m, &el, tag_start);
	}
	if (sc->depth == 0) {
		if (*saw_root || strcmp(name, "config-auth") != 0)
			return scan_fail(sc, "the document element must be one <config-auth>");
		*saw_root = true;
	} else {
		sc->stack[sc->depth - 1].has_children = true;
	}
	bool self_closing = false;
	if (scan_attrs(sc, m, name, &self_closing) < 0)
		return -1;
	if (sc->depth >= MAX_DEPTH)
		return scan_fail(sc, "elements nested deeper than %d", MAX_DEPTH);
	struct elem *el = &sc->stack[sc->depth++];
	snprintf(el->name, sizeof(el->name), "%s", name);
	el->content_start = sc->i;
	el->has_children = false;
	if (self_closing) {
		struct elem copy = sc->stack[--sc->depth];
		return element_closed(sc, m, &copy, copy.content_start);
	}
	return 0;
}

int wg_auth_xml_parse(const char *body, size_t len, struct wg_auth_msg *out, char *err, size_t errlen)
{
	struct scan sc = {.s = body, .len = len, .err = err, .errlen = errlen};
	bool saw_root = false;

	memset(out, 0, sizeof(*out));
	while (sc.i < sc.len) {
		if (body[sc.i] == '<') {
			if (scan_tag(&sc, out, &saw_root) < 0)
				return -1;
			continue;
		}
		if (body[sc.i] == '\0')
			return scan_fail(&sc, "NUL byte in XML");
		if (sc.depth == 0 && !is_space(body[sc.i]))
			return scan_fail(&sc, "text outside the document element");
		sc.i++;
	}
	if (!saw_root)
		return scan_fail(&sc, "no <config-auth> element");
	if (sc.depth != 0)
		return scan_fail(&sc, "<%s> is not closed", sc.stack[sc.depth - 1].name);
	/* The platform is the device-id's text ("linux-64", "win", ...). */
	snprintf(out->platform, sizeof(out->platform), "%.*s", (int)sizeof(out->platform) - 1, out->device_id);
	return 0;
}

/* Percent-decodes into out (bounded). Returns 0 or -1. */
static int url_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (o + 1 >= outlen)
			return -1;
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int h = wg_hex_digit(in[i + 1]), l = wg_hex_digit(in[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int wg_auth_form_parse(const char *body, size_t len, struct wg_auth_msg *out, char *err, size_t errlen)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	out->type = WG_XML_AUTH_REPLY;
	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + i, '=', end - i);
		if (eq) {
			char name[WG_XML_NAME_MAX];
			size_t nlen = (size_t)(eq - (body + i));
			if (url_decode(body + i, nlen, name, sizeof(name)) < 0 || !name[0]) {
				snprintf(err, errlen, "form: bad field name");
				return -1;
			}
			char *dest;
			size_t destlen;
			if (strcmp(name, "group_list") == 0) {
				dest = out->group_select, destlen = sizeof(out->group_select);
			} else {
				if (out->n_fields >= WG_XML_MAX_FIELDS) {
					snprintf(err, errlen, "form: more than %d fields", WG_XML_MAX_FIELDS);
					return -1;
				}
				struct wg_xml_field *f = &out->fields[out->n_fields++];
				snprintf(f->name, sizeof(f->name), "%s", name);
				dest = f->value, destlen = sizeof(f->value);
			}
			if (url_decode(eq + 1, end - (size_t)(eq + 1 - body), dest, destlen) < 0) {
				snprintf(err, errlen, "form: bad or too long value for %s", name);
				return -1;
			}
		}
		i = end + 1;
	}
	return 0;
}

const char *wg_auth_msg_field(const struct wg_auth_msg *m, const char *name)
{
	for (size_t i = 0; i < m->n_fields; i++)
		if (strcmp(m->fields[i].name, name) == 0)
			return m->fields[i].value;
	return NULL;
}

int wg_xml_escape(char *buf, size_t buflen, const char *text)
{
	size_t o = 0;

	for (const char *p = text ? text : ""; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		}
		size_t n = rep ? strlen(rep) : 1;
		if (o + n + 1 > buflen)
			return -1;
		if (rep)
			memcpy(buf + o, rep, n);
		else
			buf[o] = *p;
		o += n;
	}
	if (o + 1 > buflen)
		return -1;
	buf[o] = '\0';
	return (int)o;
}

struct out {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

/* Emits text escaped; values from plugins and users may hold anything. */
static void emit_text(struct out *o, const char *text)
{
	if (o->overflow)
		return;
	int n = wg_xml_escape(o->buf + o->len, o->cap - o->len, text);
	if (n < 0)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

int wg_auth_xml_request(char *buf, size_t buflen, const struct wg_xml_form *form)
{
	struct out o = {.buf = buf, .cap = buflen};

	if (buflen == 0)
		return -1;
	buf[0] = '\0';
	emit(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<config-auth client=\"vpn\" type=\"auth-request\" aggregate-auth-version=\"2\">\n"
		 "<auth id=\"main\">\n");
	if (form->title) {
		emit(&o, "<title>");
		emit_text(&o, form->title);
		emit(&o, "</title>\n");
	}
	emit(&o, "<message>");
	emit_text(&o, form->message ? form->message : "Please enter your credentials.");
	emit(&o, "</message>\n");
	if (form->error) {
		emit(&o, "<error id=\"88\" param1=\"\" param2=\"\">");
		emit_text(&o, form->error);
		emit(&o, "</error>\n");
	}
	const char *const sso[][2] = {
		{"sso-v2-login", form->sso_login},
		{"sso-v2-login-final", form->sso_login_final},
		{"sso-v2-token-cookie-name", form->sso_token_cookie},
		{"sso-v2-error-cookie-name", form->sso_error_cookie},
		{"sso-v2-browser-mode", form->sso_browser_mode},
	};
	for (size_t i = 0; i < sizeof(sso) / sizeof(sso[0]); i++) {
		if (!sso[i][1])
			continue;
		emit(&o, "<%s>", sso[i][0]);
		emit_text(&o, sso[i][1]);
		emit(&o, "</%s>\n", sso[i][0]);
	}
	emit(&o, "<form method=\"post\" action=\"");
	emit_text(&o, form->action ? form->action : "/auth");
	emit(&o, "\">\n");
	for (size_t i = 0; i < form->n_inputs; i++) {
		int t = form->inputs[i].type;
		emit(&o, "<input type=\"%s\" name=\"",
		     t == WG_XML_INPUT_PASSWORD ? "password" : t == WG_XML_INPUT_SSO ? "sso" : "text");
		emit_text(&o, form->inputs[i].name);
		emit(&o, "\" label=\"");
		emit_text(&o, form->inputs[i].label ? form->inputs[i].label : form->inputs[i].name);
		emit(&o, "\" />\n");
	}
	if (form->n_groups) {
		emit(&o, "<select name=\"group_list\" label=\"GROUP:\">\n");
		for (size_t i = 0; i < form->n_groups; i++) {
			bool sel = form->selected_group && strcmp(form->selected_group, form->groups[i]) == 0;
			emit(&o, "<option%s>", sel ? " selected=\"true\"" : "");
			emit_text(&o, form->groups[i]);
			emit(&o, "</option>\n");
		}
		emit(&o, "</select>\n");
	}
	emit(&o, "</form>\n</auth>\n</config-auth>\n");
	return o.overflow ? -1 : (int)o.len;
}

int wg_auth_xml_complete(char *buf, size_t buflen, const char *banner)
{
	struct out o = {.buf = buf, .cap = buflen};

	if (buflen == 0)
		return -1;
	buf[0] = '\0';
	emit(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<config-auth client=\"vpn\" type=\"complete\" aggregate-auth-version=\"2\">\n"
		 "<auth id=\"success\">\n");
	if (banner && *banner) {
		emit(&o, "<banner>");
		emit_text(&o, banner);
		emit(&o, "</banner>\n");
	}
	emit(&o, "<message id=\"0\" param1=\"\" param2=\"\"></message>\n</auth>\n</config-auth>\n");
	return o.overflow ? -1 : (int)o.len;
}

/* A bounded, allocation-light walk over JSON text that remembers where each
 * member and element starts. It is not a validator: jansson has already
 * accepted the text in normal use, so on anything unexpected the scanner
 * simply stops (the fuzz target feeds it arbitrary bytes). */
#include "config/json_pos.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
	const unsigned char *s;
	size_t len, i;
	uint32_t line, col; /* position of s[i] */
};

struct frame {
	bool is_object;
	bool recordable; /* false once the path no longer fits or a key was undecodable */
	size_t path_len; /* this container's path: path[0..path_len) */
	uint32_t index;  /* next element index (arrays) */
};

struct scanner {
	struct cursor c;
	struct wg_json_pos *out;
	struct frame stack[WG_JSON_POS_MAX_DEPTH];
	size_t depth;
	char path[WG_JSON_POS_MAX_PATH];
	char key[WG_JSON_POS_MAX_PATH];
};

static int peek(const struct cursor *c)
{
	return c->i < c->len ? c->s[c->i] : -1;
}

static void advance(struct cursor *c)
{
	if (c->i >= c->len)
		return;
	unsigned char b = c->s[c->i++];
	if (b == '\n') {
		if (c->line < UINT32_MAX)
			c->line++;
		c->col = 1;
	} else if ((b & 0xC0) != 0x80 && c->col < UINT32_MAX) {
		c->col++; /* continuation bytes belong to the character before */
	}
}

static void skip_ws(struct cursor *c)
{
	for (;;) {
		int ch = peek(c);
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			return;
		advance(c);
	}
}

static int record(struct scanner *sc, size_t path_len, uint32_t line, uint32_t col)
{
	struct wg_json_pos *p = sc->out;
	if (p->n >= WG_JSON_POS_MAX_ENTRIES)
		return -EINVAL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct wg_json_pos_entry *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	char *path = malloc(path_len + 1);
	if (!path)
		return -ENOMEM;
	memcpy(path, sc->path, path_len);
	path[path_len] = '\0';
	p->v[p->n++] = (struct wg_json_pos_entry){path, line, col};
	return 0;
}

/* Appends to the path buffer after `at`; false if it does not fit. */
static bool path_put(struct scanner *sc, size_t *at, const char *s, size_t n)
{
	if (n >= sizeof(sc->path) - *at)
		return false;
	memcpy(sc->path + *at, s, n);
	*at += n;
	return true;
}

static int skip_string(struct cursor *c)
{
	advance(c); /* opening quote */
	for (;;) {
		int ch = peek(c);
		if (ch < 0)
			return -EINVAL;
		advance(c);
		if (ch == '"')
			return 0;
		if (ch == '\\')
			advance(c); /* whatever is escaped; \u digits are plain characters */
	}
}

static int hex4(struct cursor *c, uint32_t *out)
{
	uint32_t v = 0;
	for (int k = 0; k < 4; k++) {
		int ch = peek(c), d;
		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
		advance(c);
	}
	*out = v;
	return 0;
}

static void key_put(char *key, size_t *len, size_t cap, const char *b, size_t n, bool *ok)
{
	if (n >= cap - *len) {
		*ok = false;
		return;
	}
	memcpy(key + *len, b, n);
	*len += n;
}

static size_t utf8_encode(uint32_t u, char b[4])
{
	if (u < 0x80) {
		b[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		b[0] = (char)(0xC0 | u >> 6);
		b[1] = (char)(0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		b[0] = (char)(0xE0 | u >> 12);
		b[1] = (char)(0x80 | (u >> 6 & 0x3F));
		b[2] = (char)(0x80 | (u & 0x3F));
		return 3;
	}
	b[0] = (char)(0xF0 | u >> 18);
	b[1] = (char)(0x80 | (u >> 12 & 0x3F));
	b[2] = (char)(0x80 | (u >> 6 & 0x3F));
	b[3] = (char)(0x80 | (u & 0x3F));
	return 4;
}

/* A \u escape (the backslash and 'u' already consumed), surrogate pairs
 * joined. *ok turns false for what jansson would refuse in a key. */
static int decode_u(struct cursor *c, uint32_t *u, bool *ok)
{
	if (hex4(c, u) < 0)
		return -EINVAL;
	if (*u >= 0xDC00 && *u <= 0xDFFF) {
		*ok = false; /* lone low surrogate */
	} else if (*u >= 0xD800 && *u <= 0xDBFF) {
		uint32_t lo;
		if (c->len - c->i < 2 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u') {
			*ok = false;
			return 0;
		}
		advance(c);
		advance(c);
		if (hex4(c, &lo) < 0)
			return -EINVAL;
		if (lo < 0xDC00 || lo > 0xDFFF) {
			*ok = false;
			return 0;
		}
		*u = 0x10000 + ((*u - 0xD800) << 10) + (lo - 0xDC00);
	} else if (*u == 0) {
		*ok = false; /* jansson never accepts NUL in a key */
	}
	return 0;
}

/* Decodes the string at the cursor into sc->key (NUL-terminated). *ok is
 * false when the key cannot be represented faithfully (too long, NUL, bad
 * surrogates): such members are not recorded, rather than recorded wrongly. */
static int decode_key(struct scanner *sc, size_t *klen, bool *ok)
{
	struct cursor *c = &sc->c;
	size_t cap = sizeof(sc->key);
	*klen = 0;
	*ok = true;
	advance(c); /* opening quote */
	for (;;) {
		int ch = peek(c);
		if (ch < 0)
			return -EINVAL;
		advance(c);
		if (ch == '"')
			break;
		if (ch != '\\') {
			char b = (char)ch;
			key_put(sc->key, klen, cap, &b, 1, ok);
			continue;
		}
		int e = peek(c);
		if (e < 0)
			return -EINVAL;
		advance(c);
		char b[4];
		size_t n = 1;
		switch (e) {
		case '"': case '\\': case '/': b[0] = (char)e; break;
		case 'b': b[0] = '\b'; break;
		case 'f': b[0] = '\f'; break;
		case 'n': b[0] = '\n'; break;
		case 'r': b[0] = '\r'; break;
		case 't': b[0] = '\t'; break;
		case 'u': {
			uint32_t u;
			if (decode_u(c, &u, ok) < 0)
				return -EINVAL;
			n = utf8_encode(u, b);
			break;
		}
		default:
			return -EINVAL;
		}
		key_put(sc->key, klen, cap, b, n, ok);
	}
	sc->key[*klen] = '\0';
	return 0;
}

static bool is_literal_char(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       ch == '-' || ch == '+' || ch == '.';
}

/* A value whose path is path[0..path_len). A container is pushed (returns
 * 1: its inside comes next); a scalar is skipped (returns 0). */
static int begin_value(struct scanner *sc, size_t path_len, bool recordable)
{
	struct cursor *c = &sc->c;
	int ch = peek(c);
	if (ch == '{' || ch == '[') {
		if (sc->depth >= WG_JSON_POS_MAX_DEPTH)
			return -EINVAL;
		advance(c);
		sc->stack[sc->depth++] = (struct frame){ch == '{', recordable, path_len, 0};
		return 1;
	}
	if (ch == '"')
		return skip_string(c);
	size_t start = c->i;
	while (is_literal_char(peek(c)))
		advance(c);
	return c->i > start ? 0 : -EINVAL;
}

static int member(struct scanner *sc, struct frame *f)
{
	struct cursor *c = &sc->c;
	if (peek(c) != '"')
		return -EINVAL;
	uint32_t line = c->line, col = c->col;
	size_t klen;
	bool ok;
	int rc = decode_key(sc, &klen, &ok);
	if (rc < 0)
		return rc;
	size_t at = f->path_len;
	bool recordable = f->recordable && ok && (at == 0 || path_put(sc, &at, ".", 1)) &&
			  path_put(sc, &at, sc->key, klen);
	if (recordable && (rc = record(sc, at, line, col)) < 0)
		return rc;
	skip_ws(c);
	if (peek(c) != ':')
		return -EINVAL;
	advance(c);
	skip_ws(c);
	return begin_value(sc, at, recordable);
}

static int element(struct scanner *sc, struct frame *f)
{
	char idx[16];
	int n = snprintf(idx, sizeof(idx), "[%u]", (unsigned)f->index);
	size_t at = f->path_len;
	bool recordable = f->recordable && n > 0 && path_put(sc, &at, idx, (size_t)n);
	int rc;
	if (f->index < UINT32_MAX)
		f->index++;
	if (recordable && (rc = record(sc, at, sc->c.line, sc->c.col)) < 0)
		return rc;
	return begin_value(sc, at, recordable);
}

/* After a value: a separator, the end of its container, or the end of text.
 * Returns 2 when the whole text is done, else what begin_value() returned
 * for the next member or element. */
static int after_value(struct scanner *sc)
{
	struct cursor *c = &sc->c;
	for (;;) {
		skip_ws(c);
		if (sc->depth == 0)
			return c->i == c->len ? 2 : -EINVAL;
		struct frame *f = &sc->stack[sc->depth - 1];
		int ch = peek(c);
		if (ch == (f->is_object ? '}' : ']')) {
			advance(c);
			sc->depth--;
			continue;
		}
		if (ch != ',')
			return -EINVAL;
		advance(c);
		skip_ws(c);
		return f->is_object ? member(sc, f) : element(sc, f);
	}
}

/* Right after an opening bracket: the first member/element (returns as
 * begin_value() does), or the end of an empty container (0). */
static int open_container(struct scanner *sc)
{
	struct cursor *c = &sc->c;
	struct frame *f = &sc->stack[sc->depth - 1];
	skip_ws(c);
	if (peek(c) == (f->is_object ? '}' : ']')) {
		advance(c);
		sc->depth--;
		return 0;
	}
	return f->is_object ? member(sc, f) : element(sc, f);
}

int wg_json_pos_scan(const char *text, size_t len, struct wg_json_pos *out)
{
	memset(out, 0, sizeof(*out));
	struct scanner *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->c = (struct cursor){(const unsigned char *)text, text ? len : 0, 0, 1, 1};
	sc->out = out;

	int rc;
	skip_ws(&sc->c);
	if ((rc = record(sc, 0, sc->c.line, sc->c.col)) < 0)
		goto done;
	rc = begin_value(sc, 0, true);
	for (;;) {
		if (rc == 1) {
			rc = open_container(sc);
		} else if (rc == 0) {
			rc = after_value(sc);
		} else {
			break; /* 2: done, or an error */
		}
	}
done:
	free(sc);
	return rc < 0 ? rc : 0;
}

void wg_json_pos_free(struct wg_json_pos *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].path);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

const struct wg_json_pos_entry *wg_json_pos_find(const struct wg_json_pos *p, const char *path)
{
	for (size_t i = 0; p && path && i < p->n; i++)
		if (strcmp(p->v[i].path, path) == 0)
			return &p->v[i];
	return NULL;
}

const struct wg_json_pos_entry *wg_json_pos_nearest(const struct wg_json_pos *p, const char *path)
{
	if (!p || !path)
		return NULL;
	char buf[WG_JSON_POS_MAX_PATH];
	size_t len = strnlen(path, sizeof(buf) - 1);
	memcpy(buf, path, len);
	buf[len] = '\0';
	for (;;) {
		const struct wg_json_pos_entry *e = wg_json_pos_find(p, buf);
		if (e || len == 0)
			return e;
		/* Drop the last component: ".key" or "[i]". Keys containing '.'
		 * or '[' make this approximate, which only costs precision. */
		while (len > 0 && buf[len - 1] != '.' && buf[len - 1] != '[')
			len--;
		if (len > 0)
			len--;
		buf[len] = '\0';
	}
}

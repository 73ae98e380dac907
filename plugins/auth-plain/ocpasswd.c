/* Parsing ocserv's ocpasswd file format. Pure functions on bounded input,
 * so the parser can be fuzzed on its own. */
#include "ocpasswd.h"

#include <string.h>

static int copy_field(char *dst, const char *src, size_t len)
{
	if (len >= OCPASSWD_FIELD_MAX)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int ocpasswd_parse_line(const char *line, size_t len, struct ocpasswd_entry *e)
{
	const char *c1, *c2;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return OCPASSWD_SKIP;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (memchr(line, '\0', len))
		return OCPASSWD_BAD;
	c1 = memchr(line, ':', len);
	if (!c1)
		return OCPASSWD_BAD;
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
	if (!c2 || c1 == line)
		return OCPASSWD_BAD;
	memset(e, 0, sizeof(*e));
	if (copy_field(e->user, line, (size_t)(c1 - line)) < 0 ||
	    copy_field(e->hash, c2 + 1, len - (size_t)(c2 + 1 - line)) < 0)
		return OCPASSWD_BAD;
	/* Groups: comma-separated; "*" or empty means none. */
	const char *g = c1 + 1;
	size_t glen = (size_t)(c2 - g);
	if (!(glen == 0 || (glen == 1 && g[0] == '*'))) {
		while (glen > 0) {
			const char *comma = memchr(g, ',', glen);
			size_t n = comma ? (size_t)(comma - g) : glen;
			while (n > 0 && g[0] == ' ')
				g++, n--, glen--;
			if (n > 0) {
				if (e->n_groups >= OCPASSWD_MAX_GROUPS || copy_field(e->groups[e->n_groups], g, n) < 0)
					return OCPASSWD_BAD;
				e->n_groups++;
			}
			if (!comma)
				break;
			glen -= n + 1;
			g = comma + 1;
		}
	}
	e->locked = e->hash[0] == '!';
	return e->hash[0] ? OCPASSWD_OK : OCPASSWD_BAD;
}

int ocpasswd_find(const char *buf, size_t len, const char *user, struct ocpasswd_entry *e, unsigned *bad_lines)
{
	size_t i = 0, ulen = strlen(user);

	*bad_lines = 0;
	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *line = buf + i;
		size_t llen = end - i;
		/* Cheap prefix test before a full parse of every line. */
		if (llen > ulen && memcmp(line, user, ulen) == 0 && line[ulen] == ':') {
			int rc = ocpasswd_parse_line(line, llen, e);
			if (rc == OCPASSWD_OK)
				return 1;
			if (rc == OCPASSWD_BAD)
				(*bad_lines)++;
		}
		i = end + 1;
	}
	return 0;
}

bool ocpasswd_sample_hash(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t i = 0;
	struct ocpasswd_entry e;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;
		if (ocpasswd_parse_line(buf + i, end - i, &e) == OCPASSWD_OK && !e.locked && e.hash[0] == '$' &&
		    strlen(e.hash) < outlen) {
			memcpy(out, e.hash, strlen(e.hash) + 1);
			return true;
		}
		i = end + 1;
	}
	return false;
}

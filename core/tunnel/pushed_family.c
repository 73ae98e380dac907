/* Fitting pushed headers to the client's address families (see
 * pushed_family.h). The headers are rendered once per session
 * (wg_tunnel_render_pushed); this runs once per CONNECT. */
#include "tunnel/pushed_family.h"

#include <string.h>
#include <strings.h>

static bool starts(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp(line, prefix, n) == 0;
}

/* The family of a header's value: 6 when it holds a ':' (an IPv6 address
 * or prefix), else 4. */
static int value_family(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);

	return colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - line)) ? 6 : 4;
}

static int append(char *out, size_t outlen, size_t *at, const char *s, size_t n)
{
	if (*at + n >= outlen)
		return -1;
	memcpy(out + *at, s, n);
	*at += n;
	return 0;
}

long wg_pushed_for_client(const char *pushed, const struct wg_client_families *f, char *out, size_t outlen)
{
	size_t at = 0;

	if (outlen == 0)
		return -1;
	for (const char *line = pushed; *line;) {
		const char *nl = strstr(line, "\r\n");
		size_t len = nl ? (size_t)(nl - line) + 2 : strlen(line);
		bool route6 = starts(line, len, "X-CSTP-Split-Include-IP6:") || starts(line, len, "X-CSTP-Split-Exclude-IP6:");
		bool route4 = !route6 && (starts(line, len, "X-CSTP-Split-Include:") || starts(line, len, "X-CSTP-Split-Exclude:"));
		bool dns = starts(line, len, "X-CSTP-DNS:");
		int fam = route6 ? 6 : value_family(line, len);
		int rc = 0;

		if ((route6 || route4 || dns) && ((fam == 6 && !f->want6) || (fam == 4 && !f->want4)))
			; /* a family the client did not ask for */
		else if (route6 && !f->full6) {
			/* "X-CSTP-Split-Include-IP6:" -> "X-CSTP-Split-Include:" */
			const char *dash = line + strlen("X-CSTP-Split-Include");
			rc = append(out, outlen, &at, line, (size_t)(dash - line));
			if (rc == 0)
				rc = append(out, outlen, &at, dash + 4, len - (size_t)(dash + 4 - line));
		} else
			rc = append(out, outlen, &at, line, len);
		if (rc < 0)
			return -1;
		line += len;
	}
	out[at] = '\0';
	return (long)at;
}

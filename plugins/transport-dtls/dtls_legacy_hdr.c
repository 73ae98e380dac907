/* Reading the legacy DTLS offers of a CONNECT request (see dtls_legacy_hdr.h).
 * Everything here works on the header strings in place, with no allocation,
 * and depends on nothing but libc (it moves into the transport plugin). */
#include "dtls_legacy_hdr.h"

#include <string.h>

/* What the names mean, from openconnect's and ocserv's public sources:
 * - X-DTLS-CipherSuite "OC-DTLS1_2-AES256-GCM" / "OC-DTLS1_2-AES128-GCM":
 *   openconnect's names for a DTLS 1.2 session with the RSA-named AES-GCM
 *   suites (TLS_RSA_WITH_AES_{256,128}_GCM_SHA{384,256}), resumed.
 * - X-DTLS-CipherSuite "AES256-SHA", "AES128-SHA", "DES-CBC3-SHA",
 *   "DHE-RSA-AES{256,128}-SHA": Cisco's pre-standard DTLS ("DTLS 0.9",
 *   record version 0x0100, OpenSSL's DTLS1_BAD_VER). wolfSSL only speaks
 *   DTLS 1.0 (0xfeff) and later, so these are known but never chosen.
 * - X-DTLS12-CipherSuite (AnyConnect's DTLS 1.2 list): OpenSSL names of DTLS
 *   1.2 suites, resumed the same way; the answer then comes back in an
 *   X-DTLS12-CipherSuite header.
 * The resumed suite's key exchange never runs (the master secret came over
 * TLS), so "RSA" in a name asks for no RSA key. */
const struct wg_dtls_legacy_suite wg_dtls_legacy_suites[] = {
	{"OC-DTLS1_2-AES256-GCM", false, {0x00, 0x9d}, "AES256-GCM-SHA384", true, 90},
	{"OC-DTLS1_2-AES128-GCM", false, {0x00, 0x9c}, "AES128-GCM-SHA256", true, 80},
	{"AES256-GCM-SHA384", true, {0x00, 0x9d}, "AES256-GCM-SHA384", true, 90},
	{"AES128-GCM-SHA256", true, {0x00, 0x9c}, "AES128-GCM-SHA256", true, 80},
	{"ECDHE-RSA-AES256-GCM-SHA384", true, {0xc0, 0x30}, "ECDHE-RSA-AES256-GCM-SHA384", true, 85},
	{"ECDHE-RSA-AES128-GCM-SHA256", true, {0xc0, 0x2f}, "ECDHE-RSA-AES128-GCM-SHA256", true, 75},
	{"AES256-SHA", true, {0x00, 0x35}, "AES256-SHA", true, 40},
	{"AES128-SHA", true, {0x00, 0x2f}, "AES128-SHA", true, 30},
	{"AES256-SHA", false, {0x00, 0x35}, NULL, false, 0},
	{"AES128-SHA", false, {0x00, 0x2f}, NULL, false, 0},
	{"DES-CBC3-SHA", false, {0x00, 0x0a}, NULL, false, 0},
	{"DHE-RSA-AES256-SHA", false, {0x00, 0x39}, NULL, false, 0},
	{"DHE-RSA-AES128-SHA", false, {0x00, 0x33}, NULL, false, 0},
	{NULL, false, {0, 0}, NULL, false, 0},
};

#define NAME_MAX_LEN 64 /* longer tokens match no suite */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static const struct wg_dtls_legacy_suite *find(const char *tok, size_t len, bool dtls12_header)
{
	for (const struct wg_dtls_legacy_suite *s = wg_dtls_legacy_suites; s->name; s++)
		if (s->dtls12_header == dtls12_header && strlen(s->name) == len && memcmp(s->name, tok, len) == 0)
			return s;
	return NULL;
}

static bool is_psk_negotiate(const char *tok, size_t len)
{
	return len == strlen("PSK-NEGOTIATE") && memcmp(tok, "PSK-NEGOTIATE", len) == 0;
}

static void scan(const char *list, bool dtls12_header, struct wg_dtls_legacy_offer *out)
{
	const char *p = list;

	if (!list)
		return;
	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *tok = p;
		size_t tlen = len;

		while (tlen && blank(*tok)) {
			tok++;
			tlen--;
		}
		while (tlen && blank(tok[tlen - 1]))
			tlen--;
		if (is_psk_negotiate(tok, tlen))
			out->psk_negotiate = true;
		else if (tlen && tlen <= NAME_MAX_LEN) {
			const struct wg_dtls_legacy_suite *s = find(tok, tlen, dtls12_header);
			if (s && s->supported && (!out->suite || s->prio > out->suite->prio))
				out->suite = s;
			else if (s && !s->supported && !out->unsupported)
				out->unsupported = s;
		}
		if (!end)
			break;
		p = end + 1;
	}
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool parse_master(const char *hex, uint8_t out[WG_DTLS_MASTER_SECRET_LEN])
{
	size_t len;

	if (!hex)
		return false;
	while (blank(*hex))
		hex++;
	len = strlen(hex);
	while (len && blank(hex[len - 1]))
		len--;
	if (len != 2 * WG_DTLS_MASTER_SECRET_LEN)
		return false;
	for (size_t i = 0; i < WG_DTLS_MASTER_SECRET_LEN; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void wg_dtls_legacy_parse(const char *master_hex, const char *suites, const char *suites12,
			  struct wg_dtls_legacy_offer *out)
{
	memset(out, 0, sizeof(*out));
	out->have_master = parse_master(master_hex, out->master);
	/* X-DTLS12 first: at equal priority its (Cisco) name wins, since a
	 * client that sends both lists understands the answer in that header. */
	scan(suites12, true, out);
	scan(suites, false, out);
	if (!out->have_master) {
		/* Nothing to resume without the client's secret. */
		out->suite = NULL;
		memset(out->master, 0, sizeof(out->master));
	}
}

/* Legacy DTLS on wolfSSL: resuming a session whose master secret the
 * client chose (see dtls_legacy.h).
 *
 * wolfSSL 5.7 has no public setter for a session's master secret, and its
 * server-side secret callback (HAVE_SECRET_CALLBACK) is consulted only for
 * session tickets (HandleTlsResumption in src/internal.c). What it does
 * offer is an external session cache (wolfSSL_CTX_sess_set_get_cb) and a
 * session serialisation (wolfSSL_i2d/d2i_SSL_SESSION). The lookup callback
 * therefore serialises a fresh session, writes the id, the master secret,
 * the version and the suite into the serialised form, and reads it back.
 * The layout of that form depends on wolfSSL's build options; the fields
 * written here come first in every build, except the version and suite
 * whose offset is computed from the same macros wolfSSL uses. The result is
 * checked once, when the context is made, through wolfSSL's own getters;
 * if it does not read back as written, legacy DTLS stays off. */
#include "dtls_legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Offsets in wolfSSL_i2d_SSL_SESSION's output (src/ssl_sess.c):
 * side(1) bornOn(4) timeout(4) idLen(1) id(idLen) master(48) haveEMS(1)
 * altIdLen(1) [chain count(1) with SESSION_CERTS] version(2) suite(2) ... */
#define OFF_SIDE 0
#define OFF_BORN 1
#define OFF_TIMEOUT 5
#define OFF_IDLEN 9
#define OFF_ID 10
#if defined(SESSION_CERTS)
#define CHAIN_BYTES 1
#else
#define CHAIN_BYTES 0
#endif
#if !(defined(SESSION_CERTS) || (defined(WOLFSSL_TLS13) && defined(HAVE_SESSION_TICKET)))
#error "this wolfSSL does not keep the protocol version in a serialised session"
#endif
#if defined(NO_RESUME_SUITE_CHECK) && !defined(SESSION_CERTS) && \
	!(defined(WOLFSSL_TLS13) && defined(HAVE_SESSION_TICKET))
#error "this wolfSSL does not keep the cipher suite in a serialised session"
#endif

#define SESSION_LIFETIME_S 60 /* the handshake runs now; wolfSSL checks bornOn */

static wg_dtls_legacy_params_of params_of_ssl;

/* The serialised form of an empty session: everything after the master
 * secret is copied from it, so options this file does not know about keep
 * wolfSSL's own values. */
static uint8_t *template_blob;
static size_t template_len;
/* Legacy contexts alive: the template goes with the last one, so nothing
 * is left behind when the plugin is unloaded. */
static unsigned live_ctx;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The session that resumes p, as wolfSSL would have cached it. */
static WOLFSSL_SESSION *build_session(const struct wg_dtls_legacy_params *p, int side)
{
	/* The empty template has idLen 0: the id is inserted after it. */
	size_t tail_off = OFF_ID + WG_DTLS_MASTER_SECRET_LEN + 2; /* master, haveEMS, altIdLen */
	size_t len = template_len + WG_DTLS_LEGACY_SESSION_ID_LEN;
	uint8_t *blob, *tail;
	const unsigned char *in;
	WOLFSSL_SESSION *s;

	if (template_len < tail_off + CHAIN_BYTES + 4)
		return NULL;
	blob = malloc(len);
	if (!blob)
		return NULL;
	blob[OFF_SIDE] = (uint8_t)side;
	put32(blob + OFF_BORN, (uint32_t)time(NULL));
	put32(blob + OFF_TIMEOUT, SESSION_LIFETIME_S);
	blob[OFF_IDLEN] = WG_DTLS_LEGACY_SESSION_ID_LEN;
	memcpy(blob + OFF_ID, p->session_id, WG_DTLS_LEGACY_SESSION_ID_LEN);
	memcpy(blob + OFF_ID + WG_DTLS_LEGACY_SESSION_ID_LEN, p->master, WG_DTLS_MASTER_SECRET_LEN);
	tail = blob + OFF_ID + WG_DTLS_LEGACY_SESSION_ID_LEN + WG_DTLS_MASTER_SECRET_LEN;
	/* As the client's hello asks (dtls_legacy_ems.h); with or without,
	 * the client's secret is the master secret, nothing is derived. */
	tail[0] = p->ems ? 1 : 0;
	tail[1] = 0; /* no alternative session id */
	memcpy(tail + 2, template_blob + tail_off, template_len - tail_off);
	tail += 2 + CHAIN_BYTES;
	tail[0] = 0xfe; /* DTLS 1.2 */
	tail[1] = 0xfd;
	tail[2] = p->suite->id[0];
	tail[3] = p->suite->id[1];
	in = blob;
	s = wolfSSL_d2i_SSL_SESSION(NULL, &in, (long)len);
	explicit_bzero(blob, len);
	free(blob);
	return s;
}

/* wolfSSL's external cache lookup: only the session the link was set up
 * for, by its id; anything else is "not found", and without a certificate
 * the full handshake wolfSSL then tries fails. */
static WOLFSSL_SESSION *get_session(WOLFSSL *ssl, const unsigned char *id, int id_len, int *copy)
{
	const struct wg_dtls_legacy_params *p = params_of_ssl ? params_of_ssl(ssl) : NULL;

	*copy = 0; /* wolfSSL copies it and frees ours */
	if (!p || !p->suite || id_len != WG_DTLS_LEGACY_SESSION_ID_LEN ||
	    memcmp(id, p->session_id, WG_DTLS_LEGACY_SESSION_ID_LEN) != 0)
		return NULL;
	return build_session(p, WOLFSSL_SERVER_END);
}

/* Without a certificate wolfSSL_accept refuses to start unless PSK is on;
 * the callback is never asked for a key (no PSK suite is listed). */
static unsigned int no_psk(WOLFSSL *ssl, const char *identity, unsigned char *key, unsigned int max_len)
{
	(void)ssl;
	(void)identity;
	(void)key;
	(void)max_len;
	return 0;
}

static bool make_template(void)
{
	WOLFSSL_SESSION *s = wolfSSL_SESSION_new();
	unsigned char *out = NULL;
	int n;

	if (!s)
		return false;
	n = wolfSSL_i2d_SSL_SESSION(s, &out);
	wolfSSL_SESSION_free(s);
	if (n <= 0 || !out)
		return false;
	free(template_blob);
	template_blob = malloc((size_t)n);
	if (template_blob) {
		memcpy(template_blob, out, (size_t)n);
		template_len = (size_t)n;
	}
	XFREE(out, NULL, DYNAMIC_TYPE_OPENSSL); /* as wolfSSL_i2d_SSL_SESSION allocated it */
	return template_blob != NULL && template_blob[OFF_IDLEN] == 0;
}

/* Builds a session for a test suite and reads it back through wolfSSL's
 * getters: the serialised layout is the one this file assumes. */
static bool self_test(const struct wg_dtls_legacy_suite *suite)
{
	struct wg_dtls_legacy_params p = {.suite = suite};
	WOLFSSL_SESSION *s;
	unsigned char master[WG_DTLS_MASTER_SECRET_LEN];
	const unsigned char *id;
	unsigned int id_len = 0;
	const char *name, *want, *want_iana;
	bool ok;

	for (size_t i = 0; i < sizeof(p.master); i++)
		p.master[i] = (uint8_t)(0xa5 ^ i);
	for (size_t i = 0; i < sizeof(p.session_id); i++)
		p.session_id[i] = (uint8_t)(0x3c + i);
	s = build_session(&p, WOLFSSL_SERVER_END);
	if (!s)
		return false;
	id = wolfSSL_SESSION_get_id(s, &id_len);
	name = wolfSSL_SESSION_CIPHER_get_name(s);
	want = wolfSSL_get_cipher_name_from_suite(suite->id[0], suite->id[1]);
	want_iana = wolfSSL_get_cipher_name_iana_from_suite(suite->id[0], suite->id[1]);
	ok = wolfSSL_SESSION_get_master_key(s, master, sizeof(master)) == (int)sizeof(master) &&
	     memcmp(master, p.master, sizeof(master)) == 0 && id && id_len == sizeof(p.session_id) &&
	     memcmp(id, p.session_id, id_len) == 0 && name &&
	     ((want && strcmp(name, want) == 0) || (want_iana && strcmp(name, want_iana) == 0));
	wolfSSL_SESSION_free(s);
	return ok;
}

/* The suites of the table wolfSSL has, as a cipher list ("A:B:..."). */
static bool cipher_list(char *out, size_t len, const struct wg_dtls_legacy_suite **probe)
{
	size_t used = 0;

	out[0] = '\0';
	*probe = NULL;
	for (const struct wg_dtls_legacy_suite *s = wg_dtls_legacy_suites; s->name; s++) {
		unsigned char c0 = 0, c1 = 0;
		int flags = 0;
		size_t n;

		if (!s->supported || strstr(out, s->wolfssl))
			continue;
		if (wolfSSL_get_cipher_suite_from_name(s->wolfssl, &c0, &c1, &flags) != 0 || c0 != s->id[0] ||
		    c1 != s->id[1])
			continue; /* not in this wolfSSL */
		n = strlen(s->wolfssl);
		if (used + n + 2 > len)
			return false;
		if (used)
			out[used++] = ':';
		memcpy(out + used, s->wolfssl, n + 1);
		used += n;
		if (!*probe)
			*probe = s;
	}
	return used > 0;
}

/* A failed wg_dtls_legacy_ctx_new: the template stays only for live contexts. */
static WOLFSSL_CTX *fail_new(void)
{
	if (live_ctx == 0) {
		free(template_blob);
		template_blob = NULL;
		template_len = 0;
	}
	return NULL;
}

WOLFSSL_CTX *wg_dtls_legacy_ctx_new(wg_dtls_legacy_params_of params_of, char *why, size_t why_len)
{
	char list[512];
	const struct wg_dtls_legacy_suite *probe;
	WOLFSSL_CTX *ctx;

	params_of_ssl = params_of;
	if (!make_template()) {
		snprintf(why, why_len, "this wolfSSL cannot serialise sessions");
		return fail_new();
	}
	if (!cipher_list(list, sizeof(list), &probe)) {
		snprintf(why, why_len, "this wolfSSL has none of the RSA-named suites (built without WOLFSSL_STATIC_RSA?)");
		return fail_new();
	}
	if (!self_test(probe)) {
		snprintf(why, why_len, "this wolfSSL's session format is not the one expected");
		return fail_new();
	}
	ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
	if (!ctx) {
		snprintf(why, why_len, "out of memory");
		return fail_new();
	}
	wolfSSL_CTX_set_psk_server_callback(ctx, no_psk);
	if (wolfSSL_CTX_set_cipher_list(ctx, list) != WOLFSSL_SUCCESS) {
		snprintf(why, why_len, "wolfSSL refused the cipher list %s", list);
		wolfSSL_CTX_free(ctx);
		return fail_new();
	}
	/* Only our lookup: wolfSSL's own cache is process-wide (the TLS
	 * listener's sessions live there) and must neither be searched nor
	 * filled from here. No tickets either: a resumed session is all. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_NO_INTERNAL);
	wolfSSL_CTX_sess_set_get_cb(ctx, get_session);
#ifdef HAVE_SESSION_TICKET
	wolfSSL_CTX_NoTicketTLSv12(ctx);
#endif
	snprintf(why, why_len, "resumable suites %s", list);
	live_ctx++;
	return ctx;
}

void wg_dtls_legacy_ctx_free(WOLFSSL_CTX *ctx)
{
	if (!ctx)
		return;
	wolfSSL_CTX_free(ctx);
	if (live_ctx && --live_ctx == 0) {
		free(template_blob);
		template_blob = NULL;
		template_len = 0;
	}
}

WOLFSSL_SESSION *wg_dtls_legacy_session(const struct wg_dtls_legacy_params *p, int side)
{
	if (!p || !p->suite || (!template_blob && !make_template()))
		return NULL;
	return build_session(p, side);
}

bool wg_dtls_legacy_same(const struct wg_dtls_legacy_params *a, const struct wg_dtls_legacy_params *b)
{
	return a->suite == b->suite && memcmp(a->master, b->master, sizeof(a->master)) == 0 &&
	       memcmp(a->session_id, b->session_id, sizeof(a->session_id)) == 0;
}

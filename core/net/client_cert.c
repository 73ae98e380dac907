/* Reading a client certificate's names through wolfSSL's X509 API. */
#include "net/client_cert.h"

#include <stdio.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/x509v3.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "util/hex.h"

static void name_text(WOLFSSL_X509_NAME *name, int nid, char *out, size_t len)
{
	out[0] = '\0';
	if (name && wolfSSL_X509_NAME_get_text_by_NID(name, nid, out, (int)len) < 0)
		out[0] = '\0';
}

static void copy_asn1(WOLFSSL_ASN1_STRING *s, char *out, size_t len)
{
	const unsigned char *data = s ? wolfSSL_ASN1_STRING_data(s) : NULL;
	int n = s ? wolfSSL_ASN1_STRING_length(s) : 0;

	if (!data || n <= 0 || (size_t)n >= len || memchr(data, '\0', (size_t)n))
		return; /* an embedded NUL would let "a@x\0@evil" pass as "a@x" */
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
}

/* The first rfc822Name and dNSName of the subjectAltName extension. */
static void alt_names(WOLFSSL_X509 *x, struct wg_client_cert *out)
{
	WOLFSSL_STACK *names = wolfSSL_X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = names ? wolfSSL_sk_GENERAL_NAME_num(names) : 0;

	for (int i = 0; i < n; i++) {
		WOLFSSL_GENERAL_NAME *g = wolfSSL_sk_GENERAL_NAME_value(names, i);
		if (!g)
			continue;
		if (g->type == GEN_EMAIL && !out->email[0])
			copy_asn1(g->d.rfc822Name, out->email, sizeof(out->email));
		else if (g->type == GEN_DNS && !out->dns[0])
			copy_asn1(g->d.dNSName, out->dns, sizeof(out->dns));
	}
	if (names)
		wolfSSL_sk_GENERAL_NAME_pop_free(names, wolfSSL_GENERAL_NAME_free);
}

bool wg_client_cert_read(struct WOLFSSL *ssl, struct wg_client_cert *out)
{
	WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(ssl);
	bool ok = wg_client_cert_from_x509(x, out);

	if (x)
		wolfSSL_X509_free(x);
	return ok;
}

bool wg_client_cert_from_x509(struct WOLFSSL_X509 *x, struct wg_client_cert *out)
{
	unsigned char serial[32];
	int serial_len = (int)sizeof(serial), der_len = 0;
	const unsigned char *der;

	memset(out, 0, sizeof(*out));
	if (!x)
		return false;
	der = wolfSSL_X509_get_der(x, &der_len);
	out->have_sha256 = der && der_len > 0 && wc_Sha256Hash(der, (word32)der_len, out->sha256) == 0;
	WOLFSSL_X509_NAME *subject = wolfSSL_X509_get_subject_name(x);
	name_text(subject, NID_commonName, out->cn, sizeof(out->cn));
	name_text(subject, NID_organizationalUnitName, out->ou, sizeof(out->ou));
	alt_names(x, out);
	if (!out->email[0])
		name_text(subject, NID_emailAddress, out->email, sizeof(out->email));
	if (subject)
		wolfSSL_X509_NAME_oneline(subject, out->subject, (int)sizeof(out->subject));
	WOLFSSL_X509_NAME *issuer = wolfSSL_X509_get_issuer_name(x);
	if (issuer)
		wolfSSL_X509_NAME_oneline(issuer, out->issuer, (int)sizeof(out->issuer));
	if (wolfSSL_X509_get_serial_number(x, serial, &serial_len) == WOLFSSL_SUCCESS && serial_len > 0 &&
	    (size_t)serial_len * 2 < sizeof(out->serial))
		wg_hex_encode(serial, (size_t)serial_len, out->serial);
	return true;
}

const char *wg_client_cert_get(const struct wg_client_cert *c, const char *what)
{
	const char *v = NULL;

	if (!c || !what)
		return NULL;
	if (strcmp(what, "cn") == 0)
		v = c->cn;
	else if (strcmp(what, "email") == 0)
		v = c->email;
	else if (strcmp(what, "dns") == 0)
		v = c->dns;
	else if (strcmp(what, "ou") == 0)
		v = c->ou;
	else if (strcmp(what, "subject") == 0)
		v = c->subject;
	else if (strcmp(what, "issuer") == 0)
		v = c->issuer;
	else if (strcmp(what, "serial") == 0)
		v = c->serial;
	return v && *v ? v : NULL;
}

bool wg_client_cert_same(const struct wg_client_cert *a, const struct wg_client_cert *b)
{
	return a->have_sha256 && b->have_sha256 && memcmp(a->sha256, b->sha256, sizeof(a->sha256)) == 0;
}

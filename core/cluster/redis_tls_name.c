/* The name Redis's certificate must carry: a DNS name or an IP address
 * (redis_tls_name.h). */
#include "cluster/redis_tls_name.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/x509v3.h>

int wg_redis_tls_name_ip(const char *name, unsigned char ip[16])
{
	if (!name)
		return 0;
	if (inet_pton(AF_INET, name, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, name, ip) == 1)
		return 16;
	return 0;
}

const char *wg_redis_tls_name_problem(const char *name)
{
	unsigned char ip[16];

	if (!name || !*name)
		return "empty";
	if (wg_redis_tls_name_ip(name, ip))
		return NULL;
	/* No DNS name has a colon: an IPv6 address as written in a URL or
	 * with its interface would otherwise be taken for one, and never
	 * match. */
	if (strpbrk(name, ":[]%"))
		return "neither a DNS name nor an IP address (an IPv6 address goes without brackets and zone)";
	return NULL;
}

void wg_redis_tls_ip_text(const unsigned char *ip, int len, char *buf, size_t buflen)
{
	size_t off = 0;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	if (len == 4) {
		snprintf(buf, buflen, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
		return;
	}
	for (int i = 0; len == 16 && i < 16 && off < buflen; i += 2) {
		int n = snprintf(buf + off, buflen - off, "%s%02X%02X", i ? ":" : "", ip[i], ip[i + 1]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

bool wg_redis_tls_cert_has_ip(struct WOLFSSL_X509 *x, const unsigned char *ip, int len)
{
	WOLFSSL_STACK *names = x ? wolfSSL_X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
	int n = names ? wolfSSL_sk_GENERAL_NAME_num(names) : 0;
	bool found = false;

	for (int i = 0; i < n && !found; i++) {
		WOLFSSL_GENERAL_NAME *g = wolfSSL_sk_GENERAL_NAME_value(names, i);
		if (!g || g->type != GEN_IPADD || !g->d.iPAddress)
			continue;
		const unsigned char *data = wolfSSL_ASN1_STRING_data(g->d.iPAddress);
		found = data && wolfSSL_ASN1_STRING_length(g->d.iPAddress) == len && memcmp(data, ip, (size_t)len) == 0;
	}
	if (names)
		wolfSSL_sk_GENERAL_NAME_pop_free(names, wolfSSL_GENERAL_NAME_free);
	return found;
}

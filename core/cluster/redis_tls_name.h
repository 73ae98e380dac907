/* The name Redis's certificate must carry (cluster-redis-tls-name,
 * wolfguardctl's --cluster-tls-name): a DNS name, or an IPv4 or IPv6
 * address that only an iPAddress subjectAltName of the same address
 * satisfies.
 *
 * wolfSSL 5.7.2 checks an IP address as text against every subjectAltName
 * (a dNSName spelled like the address passes) and, without any, the common
 * name; an IPv6 address only in the form it prints a certificate's address
 * in. redis_tls_ctx.c hands wolfSSL that form (a wrong address is refused in
 * the handshake) and, once the handshake is done, asks
 * wg_redis_tls_cert_has_ip() whether the address was an iPAddress entry,
 * byte for byte. Shared by the server and wolfguardctl, like
 * redis_tls_ctx.c. */
#ifndef WG_CLUSTER_REDIS_TLS_NAME_H
#define WG_CLUSTER_REDIS_TLS_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* wolfSSL's certificate type (WOLFSSL_X509), without its headers here. */
struct WOLFSSL_X509;

/* An IPv6 address as eight groups of four hex digits and seven colons. */
#define WG_REDIS_TLS_IP_TEXT 40

/* The address's length (4 or 16) with its bytes in ip when name is an IPv4
 * address in dotted decimal or an IPv6 address (inet_pton's forms), else 0
 * (a DNS name). */
int wg_redis_tls_name_ip(const char *name, unsigned char ip[16]);

/* NULL when name can be matched, else why not: empty, or an IPv6 address
 * written with brackets or a zone (which no certificate carries). */
const char *wg_redis_tls_name_problem(const char *name);

/* The address as wolfSSL 5.7's certificate parser prints an iPAddress
 * entry: "%u.%u.%u.%u", or eight "%02X%02X" groups joined by colons. */
void wg_redis_tls_ip_text(const unsigned char *ip, int len, char *buf, size_t buflen);

/* true when x's subjectAltName has an iPAddress entry of exactly these
 * len bytes; a dNSName or a common name spelled like the address does not
 * count. */
bool wg_redis_tls_cert_has_ip(struct WOLFSSL_X509 *x, const unsigned char *ip, int len);

#endif

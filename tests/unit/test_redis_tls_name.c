/* The name Redis's certificate must carry (core/cluster/redis_tls_name.c):
 * which names are addresses, the form wolfSSL is handed, and that only an
 * iPAddress subjectAltName of the very address satisfies one, where
 * wolfSSL's own text match also takes a dNSName spelled like it. The
 * certificates are made with openssl at test time. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "cluster/redis_tls_name.h"

static char dir[] = "/tmp/wg-redis-tls-name-XXXXXX";

/* Self-signed, each with one kind of name: ip4 (IP SAN 127.0.0.1 only), ip6
 * (IP SANs ::1 and 2001:db8::5), mixed (DNS redis.wg.test, IP 10.0.0.7),
 * dns-as-ip (a dNSName "127.0.0.1"), cn-only (CN=127.0.0.1, no SAN). */
static void make_certs(void)
{
	char cmd[4096];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; "
		 "mk() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		 "-keyout $1.key -out $1.pem -subj \"/CN=$2\" ${3:+-addext subjectAltName=$3} 2>/dev/null; }; "
		 "mk ip4 redis IP:127.0.0.1; mk ip6 redis IP:::1,IP:2001:db8::5; "
		 "mk mixed redis DNS:redis.wg.test,IP:10.0.0.7; mk dns-as-ip redis DNS:127.0.0.1; "
		 "mk cn-only 127.0.0.1",
		 dir);
	cr_assert_eq(system(cmd), 0, "openssl could not make the test certificates");
}

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

static WOLFSSL_X509 *load(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(path, WOLFSSL_FILETYPE_PEM);
	cr_assert_not_null(x, "wolfSSL cannot read %s", path);
	return x;
}

/* Whether the certificate's IP SANs hold the address spelled as text. */
static bool has(const char *cert, const char *addr)
{
	unsigned char ip[16];
	int len = wg_redis_tls_name_ip(addr, ip);
	WOLFSSL_X509 *x = load(cert);

	cr_assert(len == 4 || len == 16, "%s is not an address", addr);
	bool r = wg_redis_tls_cert_has_ip(x, ip, len);
	wolfSSL_X509_free(x);
	return r;
}

TestSuite(redis_tls_name, .init = make_certs, .fini = cleanup);

Test(redis_tls_name, addresses_and_dns_names)
{
	unsigned char ip[16];

	cr_assert_eq(wg_redis_tls_name_ip("10.0.0.7", ip), 4);
	cr_assert_eq(memcmp(ip, "\x0a\x00\x00\x07", 4), 0);
	cr_assert_eq(wg_redis_tls_name_ip("::1", ip), 16);
	cr_assert_eq(wg_redis_tls_name_ip("2001:DB8::5", ip), 16);
	cr_assert_eq(wg_redis_tls_name_ip("::ffff:10.0.0.7", ip), 16);
	cr_assert_eq(wg_redis_tls_name_ip("redis.wg.test", ip), 0);
	/* wolfSSL's DNS check also compares an IP SAN's text; every such text
	 * is an address here, so it never reaches that check as a DNS name. */
	cr_assert_eq(wg_redis_tls_name_ip("0000:0000:0000:0000:0000:0000:0000:0001", ip), 16);
	cr_assert_eq(wg_redis_tls_name_ip("2001:0DB8:0000:0000:0000:0000:0000:0005", ip), 16);
	cr_assert_eq(wg_redis_tls_name_ip("255.255.255.255", ip), 4);
	/* Not dotted decimal as inet_pton reads it: a DNS name, which no
	 * IP SAN's text ("10.0.0.1") equals. */
	cr_assert_eq(wg_redis_tls_name_ip("010.0.0.1", ip), 0);
	cr_assert_eq(wg_redis_tls_name_ip("10.1", ip), 0);
	cr_assert_eq(wg_redis_tls_name_ip("[::1]", ip), 0);
	cr_assert_eq(wg_redis_tls_name_ip("", ip), 0);
	cr_assert_eq(wg_redis_tls_name_ip(NULL, ip), 0);
}

Test(redis_tls_name, problems)
{
	cr_assert_str_eq(wg_redis_tls_name_problem(""), "empty");
	cr_assert_str_eq(wg_redis_tls_name_problem(NULL), "empty");
	cr_assert_not_null(wg_redis_tls_name_problem("[::1]"));
	cr_assert_not_null(wg_redis_tls_name_problem("fe80::1%eth0"));
	cr_assert_not_null(wg_redis_tls_name_problem("redis:6380"));
	cr_assert_null(wg_redis_tls_name_problem("redis.wg.test"));
	cr_assert_null(wg_redis_tls_name_problem("10.0.0.7"));
	cr_assert_null(wg_redis_tls_name_problem("::1"));
	cr_assert_null(wg_redis_tls_name_problem("fe80::1"));
}

Test(redis_tls_name, text_as_wolfssl_prints_it)
{
	unsigned char ip[16];
	char t[WG_REDIS_TLS_IP_TEXT];

	wg_redis_tls_ip_text(ip, wg_redis_tls_name_ip("127.0.0.1", ip), t, sizeof(t));
	cr_assert_str_eq(t, "127.0.0.1");
	wg_redis_tls_ip_text(ip, wg_redis_tls_name_ip("::1", ip), t, sizeof(t));
	cr_assert_str_eq(t, "0000:0000:0000:0000:0000:0000:0000:0001");
	wg_redis_tls_ip_text(ip, wg_redis_tls_name_ip("2001:db8::5", ip), t, sizeof(t));
	cr_assert_str_eq(t, "2001:0DB8:0000:0000:0000:0000:0000:0005");
	cr_assert_eq(strlen(t) + 1, sizeof(t));
	/* The form wolfSSL's own IP check takes; the short one it does not. */
	WOLFSSL_X509 *x = load("ip6");
	cr_assert_eq(wolfSSL_X509_check_ip_asc(x, t, 0), WOLFSSL_SUCCESS);
	cr_assert_neq(wolfSSL_X509_check_ip_asc(x, "2001:db8::5", 0), WOLFSSL_SUCCESS);
	wolfSSL_X509_free(x);
}

Test(redis_tls_name, only_an_ip_san_of_the_address)
{
	cr_assert(has("ip4", "127.0.0.1"));
	cr_assert_not(has("ip4", "127.0.0.2"));
	cr_assert_not(has("ip4", "::ffff:127.0.0.1"), "an IPv4-mapped IPv6 address is another address");
	cr_assert(has("ip6", "::1"));
	cr_assert(has("ip6", "2001:db8:0::5"));
	cr_assert_not(has("ip6", "::2"));
	cr_assert(has("mixed", "10.0.0.7"));
	cr_assert_not(has("dns-as-ip", "127.0.0.1"), "a dNSName spelled like the address");
	cr_assert_not(has("cn-only", "127.0.0.1"), "a common name spelled like the address");
	cr_assert_not(wg_redis_tls_cert_has_ip(NULL, (const unsigned char *)"\x7f\x00\x00\x01", 4));
}

/* Why the check above exists: wolfSSL 5.7's IP check compares text with
 * every subjectAltName and, without any, the common name. */
Test(redis_tls_name, wolfssl_text_match_takes_a_dns_name)
{
	WOLFSSL_X509 *x = load("dns-as-ip");

	cr_assert_eq(wolfSSL_X509_check_ip_asc(x, "127.0.0.1", 0), WOLFSSL_SUCCESS,
		     "wolfSSL no longer matches a dNSName as an address: redis_tls_name.h's note is out of date");
	wolfSSL_X509_free(x);
}

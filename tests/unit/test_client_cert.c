/* Which client certificate a login step was made with (core/net/client_cert.c):
 * a later step must come with the very same certificate. Issuer and serial
 * do not identify one: two CAs may carry the same name and a CA may reuse a
 * serial. The certificates are made with openssl at test time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "net/client_cert.h"

static char dir[] = "/tmp/wg-client-cert-XXXXXX";

/* Two CAs, both named "CN=Same Name CA"; each issues a certificate with
 * serial 0x1234 (alice from the first, mallory from the second), and the
 * first also issues bob with a 32-byte serial. */
static void make_certs(void)
{
	char cmd[4096];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; "
		 "for ca in ca1 ca2; do openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout $ca.key -out $ca.pem -subj '/CN=Same Name CA' -days 2 2>/dev/null; done; "
		 "issue() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $2.key "
		 "-subj \"/CN=$2\" 2>/dev/null | openssl x509 -req -CA $1.pem -CAkey $1.key -set_serial $3 -days 2 "
		 "-out $2.pem 2>/dev/null; }; "
		 "issue ca1 alice 0x1234; issue ca2 mallory 0x1234; "
		 "issue ca1 bob 0x7f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		 dir);
	cr_assert_eq(system(cmd), 0, "openssl could not make the test certificates");
}

static void load(const char *name, struct wg_client_cert *out)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(path, WOLFSSL_FILETYPE_PEM);
	cr_assert_not_null(x, "wolfSSL cannot read %s", path);
	cr_assert(wg_client_cert_from_x509(x, out));
	wolfSSL_X509_free(x);
}

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

TestSuite(client_cert, .init = make_certs, .fini = cleanup);

Test(client_cert, same_issuer_name_and_serial_is_not_the_same_certificate)
{
	struct wg_client_cert alice, mallory, alice2;

	load("alice", &alice);
	load("mallory", &mallory);
	load("alice", &alice2);
	cr_assert_str_eq(alice.issuer, mallory.issuer, "the test needs one issuer name");
	cr_assert_str_eq(alice.serial, mallory.serial, "the test needs one serial");
	cr_assert_not(wg_client_cert_same(&alice, &mallory), "mallory's certificate passes for alice's");
	cr_assert(wg_client_cert_same(&alice, &alice2));
}

Test(client_cert, a_long_serial_is_kept)
{
	struct wg_client_cert bob, alice;

	load("bob", &bob);
	load("alice", &alice);
	cr_assert_str_eq(bob.serial, "7f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	cr_assert_not(wg_client_cert_same(&bob, &alice));
	cr_assert(wg_client_cert_same(&bob, &bob));
}

/* Several server names on one port (docs/config.md, "vhosts"): the
 * configuration (option table, conf.d's "vhost" key, the checks shared by
 * --check-config, start and reload), the server name read from a real
 * wolfSSL ClientHello, and which vhost of a generation serves a name. */
#include <criterion/criterion.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "conf_dir_fixture.h"
#include "config/config.h"
#include "config/server_options.h"
#include "config/vhost_check.h"
#include "modules/gen.h"
#include "net/sni.h"
#include "util/err.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* Freed memory is poisoned by ASan's allocator (wolfSSL's too). */
#define FREED(p) __asan_address_is_poisoned(p)
#else
#define FREED(p) 0
#endif

TestSuite(vhost, .init = conf_dir_setup, .fini = conf_dir_teardown);

/* err.text with every occurrence of the temp dir written as '@'. */
static const char *errors(void)
{
	static char out[WG_ERR_MAX];
	size_t at = 0, dl = strlen(dir);

	for (const char *p = err.text; *p && at + 1 < sizeof(out);) {
		if (strncmp(p, dir, dl) == 0) {
			out[at++] = '@';
			p += dl;
		} else {
			out[at++] = *p++;
		}
	}
	out[at] = '\0';
	return out;
}

/* A server section with the vhosts object given, and certificate files. */
static void server_with(const char *vhosts)
{
	char text[4096], cert[4200];

	snprintf(cert, sizeof(cert), "%s/b.pem", dir);
	fixture_write(dir, "b.pem", "not read here");
	fixture_write(dir, "b.key", "not read here");
	snprintf(text, sizeof(text),
		 "{\"server\": {\"certificate\": \"/x.pem\", \"private-key\": \"/x.key\",\n"
		 " \"vhosts\": %s}}\n", vhosts);
	fixture_write(dir, "00-server.json", text);
}

static int load_and_validate(void)
{
	if (wg_conf_load(dir, &conf, &err) < 0)
		return -1;
	if (wg_config_validate(conf->server, wg_server_options, &err) < 0)
		return -1;
	wg_check_vhosts(conf, &err);
	return err.count ? -1 : 0;
}

Test(vhost, a_vhost_and_its_plugin_files_load)
{
	char v[1024];
	snprintf(v, sizeof(v), "{\"vpn-b.example\": {\"certificate\": \"%s/b.pem\", \"private-key\": \"%s/b.key\","
		 " \"banner\": \"B\"}}", dir, dir);
	server_with(v);
	fixture_write(dir, "20-auth-plain.json", "{\"plugin\": \"auth-plain\"}");
	fixture_write(dir, "21-auth-plain-b.json", "{\"plugin\": \"auth-plain\", \"vhost\": \"vpn-b.example\"}");
	fixture_write(dir, "31-routing-b.json", "{\"plugin\": \"routing-static\", \"vhost\": \"vpn-b.example\"}");
	cr_assert_eq(load_and_validate(), 0, "%s", err.text);
	cr_assert_null(conf->files[1].vhost);
	cr_assert_str_eq(conf->files[2].vhost, "vpn-b.example");
	cr_assert_str_eq(conf->files[3].vhost, "vpn-b.example");

	/* One vhost entry as a config of its own, with the vhost table's defaults. */
	struct wg_config *e = wg_config_entry(conf->server, "vhosts", "vpn-b.example", wg_vhost_options);
	cr_assert_not_null(e);
	cr_assert_str_eq(wg_config_string(e, "banner"), "B");
	cr_assert_str_eq(wg_config_string(e, "tls-min-version"), "1.2");
	cr_assert_null(wg_config_string(e, "ca-file"));
	wg_config_free(e);
	cr_assert_null(wg_config_entry(conf->server, "vhosts", "other.example", wg_vhost_options));
	cr_assert_eq(strcmp(wg_config_string(conf->server, "vhost-fallback"), "default"), 0);
}

Test(vhost, entries_are_checked_like_the_server_section)
{
	server_with("{\"a.example\": {\"certificat\": \"/a.pem\", \"private-key\": 3},\n"
		    "  \"b.example\": [], \"c.example\": {\"certificate\": \"/c.pem\", \"private-key\": \"/c.key\", "
		    "\"port\": 1}}");
	cr_assert_eq(load_and_validate(), -1);
	cr_assert_str_eq(errors(),
			 "@/00-server.json:2:27: server.vhosts.a.example.certificat: unknown key (did you mean \"certificate\"?)\n"
			 "@/00-server.json:2:51: server.vhosts.a.example.private-key: expected string, got integer\n"
			 "@/00-server.json:2:13: server.vhosts.a.example: certificate: required key is missing\n"
			 "@/00-server.json:3:3: server.vhosts.b.example: expected object, got array\n"
			 "@/00-server.json:3:84: server.vhosts.c.example.port: unknown key\n");
}

Test(vhost, names_files_fallback_and_references_are_checked)
{
	server_with("{\"VPN.example\": {\"certificate\": \"/a.pem\", \"private-key\": \"/a.key\"},\n"
		    "  \"b..example\": {\"certificate\": \"/a.pem\", \"private-key\": \"/a.key\"},\n"
		    "  \"c.example\": {\"certificate\": \"/nonexistent/c.pem\", \"private-key\": \"/nonexistent/c.key\"}}");
	fixture_write(dir, "01-fallback.json", "{\"plugin\": \"auth-plain\", \"vhost\": \"d.example\"}");
	cr_assert_eq(wg_conf_load(dir, &conf, &err), 0, "%s", err.text);
	cr_assert_eq(wg_config_validate(conf->server, wg_server_options, &err), 0, "%s", err.text);
	wg_check_vhosts(conf, &err);
	cr_assert_str_eq(errors(),
			 "@/00-server.json:2:2: server.vhosts.VPN.example: not a server name a client can send (lower case "
			 "letters, digits, '-' and '.', at most 253 characters)\n"
			 "@/00-server.json:2:2: server.vhosts.b..example: not a server name a client can send (lower case "
			 "letters, digits, '-' and '.', at most 253 characters)\n"
			 "@/00-server.json:2:2: server.vhosts.c.example.certificate: cannot read /nonexistent/c.pem\n"
			 "@/00-server.json:2:2: server.vhosts.c.example.private-key: cannot read /nonexistent/c.key\n"
			 "@/01-fallback.json: vhost: \"d.example\" is not declared in the server's \"vhosts\"\n");
}

Test(vhost, fallback_must_be_default_or_refuse)
{
	fixture_write(dir, "00-server.json",
		      "{\"server\": {\"certificate\": \"/x\", \"private-key\": \"/y\", \"vhost-fallback\": \"drop\"}}");
	cr_assert_eq(load_and_validate(), -1);
	cr_assert_str_eq(errors(),
			 "@/00-server.json:1:55: server.vhost-fallback: \"drop\": expected \"default\" or \"refuse\"\n");
}

Test(vhost, a_duplicate_name_is_refused_by_the_parser)
{
	server_with("{\"a.example\": {\"certificate\": \"/a\", \"private-key\": \"/a\"},\n"
		    " \"a.example\": {\"certificate\": \"/b\", \"private-key\": \"/b\"}}");
	cr_assert_eq(wg_conf_load(dir, &conf, &err), -1);
	cr_assert(strstr(err.text, "duplicate object key"), "%s", err.text);
}

Test(vhost, a_plugin_is_enabled_once_per_server_name)
{
	fixture_write(dir, "10-a.json", "{\"plugin\": \"auth-plain\"}");
	fixture_write(dir, "11-b.json", "{\"plugin\": \"auth-plain\", \"vhost\": \"b.example\"}");
	fixture_write(dir, "12-c.json", "{\"plugin\": \"auth-plain\", \"vhost\": \"b.example\"}");
	fixture_write(dir, "13-d.json", "{\"server\": {}, \"vhost\": \"b.example\"}");
	fixture_write(dir, "14-e.json", "{\"plugin\": \"routing-static\", \"vhost\": 5}");
	fixture_write(dir, "15-f.json", "{\"plugin\": \"routing-static\", \"vhsot\": \"b.example\"}");
	cr_assert_eq(wg_conf_load(dir, &conf, &err), -1);
	cr_assert_str_eq(errors(),
			 "@/12-c.json:1:2: plugin: \"auth-plain\" is already enabled for vhost b.example by @/11-b.json\n"
			 "@/13-d.json:1:16: vhost: only a plugin file has \"vhost\"; vhosts are declared in the server's "
			 "\"vhosts\"\n"
			 "@/14-e.json:1:30: vhost: expected a server name (a key of the server's \"vhosts\"), got integer\n"
			 "@/15-f.json:1:30: vhsot: unknown key (did you mean \"vhost\"?)\n");
}

Test(vhost, server_names)
{
	cr_assert(wg_vhost_name_ok("vpn.example.com"));
	cr_assert(wg_vhost_name_ok("a-1.b"));
	cr_assert(wg_vhost_name_ok("localhost"));
	cr_assert_not(wg_vhost_name_ok(""));
	cr_assert_not(wg_vhost_name_ok(".a"));
	cr_assert_not(wg_vhost_name_ok("a."));
	cr_assert_not(wg_vhost_name_ok("a..b"));
	cr_assert_not(wg_vhost_name_ok("A.b"));
	cr_assert_not(wg_vhost_name_ok("a_b.c"));
	cr_assert_not(wg_vhost_name_ok("a b"));
	char label[80];
	memset(label, 'x', 64);
	label[64] = '\0';
	cr_assert_not(wg_vhost_name_ok(label), "a label of 64 characters");
	label[63] = '\0';
	cr_assert(wg_vhost_name_ok(label));
}

/* ---- the server name of a real ClientHello ------------------------------ */

static uint8_t hello[8192];
static size_t hello_len;

static int capture(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	(void)ctx;
	if (hello_len + (size_t)sz <= sizeof(hello)) {
		memcpy(hello + hello_len, buf, (size_t)sz);
		hello_len += (size_t)sz;
	}
	return sz;
}

static int nothing_yet(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	(void)buf;
	(void)sz;
	(void)ctx;
	return WOLFSSL_CBIO_ERR_WANT_READ;
}

/* What a wolfSSL client sends first, with name as its SNI (NULL: none). */
static void client_hello(const char *name, int tls13_only)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(tls13_only ? wolfTLSv1_3_client_method() : wolfSSLv23_client_method());
	cr_assert_not_null(ctx);
	WOLFSSL *ssl = wolfSSL_new(ctx);
	cr_assert_not_null(ssl);
	wolfSSL_SSLSetIOSend(ssl, capture);
	wolfSSL_SSLSetIORecv(ssl, nothing_yet);
	if (name)
		cr_assert_eq(wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name, (unsigned short)strlen(name)),
			     WOLFSSL_SUCCESS);
	hello_len = 0;
	cr_assert_neq(wolfSSL_connect(ssl), WOLFSSL_SUCCESS);
	cr_assert_gt(hello_len, 5);
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(ctx);
}

Test(vhost, sni_of_a_real_client_hello)
{
	char name[WG_SNI_NAME_MAX + 1];

	client_hello("Vpn-B.Example", 0);
	cr_assert_eq(wg_sni_parse(hello, hello_len, name, sizeof(name)), 1);
	cr_assert_str_eq(name, "vpn-b.example", "lower case");
	/* Every shorter prefix asks for more; no prefix is misread. */
	for (size_t k = 0; k < hello_len; k++)
		cr_assert_eq(wg_sni_parse(hello, k, name, sizeof(name)), -1, "prefix of %zu bytes", k);
	/* A name longer than the buffer is not cut short into another. */
	cr_assert_eq(wg_sni_parse(hello, hello_len, name, 8), 0);

	client_hello("vpn.example", 1);
	cr_assert_eq(wg_sni_parse(hello, hello_len, name, sizeof(name)), 1);
	cr_assert_str_eq(name, "vpn.example");

	client_hello(NULL, 0);
	cr_assert_eq(wg_sni_parse(hello, hello_len, name, sizeof(name)), 0);
	cr_assert_str_eq(name, "");
}

Test(vhost, sni_of_what_is_not_a_client_hello)
{
	char name[WG_SNI_NAME_MAX + 1];
	static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
	/* A handshake record whose ClientHello claims more than it holds. */
	static const uint8_t short_hello[] = {22, 3, 1, 0, 6, 1, 0, 0, 200, 3, 3};

	cr_assert_eq(wg_sni_parse(http, sizeof(http) - 1, name, sizeof(name)), 0);
	cr_assert_eq(wg_sni_parse(alert, sizeof(alert), name, sizeof(name)), 0);
	cr_assert_eq(wg_sni_parse(short_hello, sizeof(short_hello), name, sizeof(name)), 0);
	/* A name with a byte no host name has (here NUL) is no name. */
	client_hello("ab.example", 0);
	uint8_t *at = memmem(hello, hello_len, "ab.example", 10);
	cr_assert_not_null(at);
	at[1] = 0;
	cr_assert_eq(wg_sni_parse(hello, hello_len, name, sizeof(name)), 0);
	cr_assert_str_eq(name, "", "nothing of a refused name is left (fuzz_sni regression)");
}

/* ---- which vhost serves a name ----------------------------------------- */

Test(vhost, a_generation_picks_the_vhost_by_name)
{
	struct wg_vhost v[3] = {{.name = NULL}, {.name = "a.example"}, {.name = "b.example"}};
	struct wg_gen g = {.vhosts = v, .n_vhosts = 3};

	cr_assert_eq(wg_gen_vhost(&g, "b.example"), &v[2]);
	cr_assert_eq(wg_gen_vhost(&g, "A.Example"), &v[1], "names are compared without regard to case");
	cr_assert_eq(wg_gen_vhost(&g, "c.example"), &v[0], "unknown: the default");
	cr_assert_eq(wg_gen_vhost(&g, NULL), &v[0], "no name: the default");
	cr_assert_eq(wg_gen_vhost_exact(&g, NULL), &v[0]);
	cr_assert_eq(wg_gen_vhost_exact(&g, "a.example"), &v[1]);
	cr_assert_null(wg_gen_vhost_exact(&g, "c.example"), "a vhost a reload removed");
	g.vhost_refuse = true;
	cr_assert_null(wg_gen_vhost(&g, "c.example"), "vhost-fallback refuse");
	cr_assert_null(wg_gen_vhost(&g, NULL));
	cr_assert_eq(wg_gen_vhost(&g, "a.example"), &v[1]);
}

/* A reload may retire the generation (and free the vhost's TLS context)
 * while a connection made with that context still runs: wolfSSL counts
 * the context's references, so the connection keeps it (under ASan a
 * freed context would be a use after free here). */
Test(vhost, a_tls_context_outlives_its_generation_while_a_connection_uses_it)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	cr_assert_not_null(ctx);
	WOLFSSL *ssl = wolfSSL_new(ctx);
	cr_assert_not_null(ssl);
	wolfSSL_CTX_free(ctx); /* the generation's reference */
	wolfSSL_SSLSetIOSend(ssl, capture);
	wolfSSL_SSLSetIORecv(ssl, nothing_yet);
	cr_assert_eq(wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, "a.example", 9), WOLFSSL_SUCCESS);
	hello_len = 0;
	cr_assert_neq(wolfSSL_connect(ssl), WOLFSSL_SUCCESS);
	cr_assert_gt(hello_len, 5, "the connection still works on its context");
	cr_assert_eq(wolfSSL_get_SSL_CTX(ssl), ctx);
	cr_assert_not(FREED(ctx), "the context was freed under its connection");
	wolfSSL_free(ssl); /* the last reference: the context goes now */
#if defined(__SANITIZE_ADDRESS__)
	cr_assert(FREED(ctx), "the context outlived its last connection (the check above could not fail)");
#endif
}

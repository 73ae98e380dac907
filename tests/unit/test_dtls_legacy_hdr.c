/* The legacy DTLS offer parser: what openconnect and Cisco clients send in
 * X-DTLS-Master-Secret / X-DTLS-CipherSuite / X-DTLS12-CipherSuite, and what
 * the server picks from it. */
#include <criterion/criterion.h>
#include <string.h>

#include "dtls_legacy_hdr.h"

/* 48 bytes 00 01 .. 2f, as 96 upper-case hex digits (openconnect's case). */
static const char master_hex[] = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
				 "202122232425262728292A2B2C2D2E2F";

static void parse(const char *m, const char *s, const char *s12, struct wg_dtls_legacy_offer *o)
{
	/* Garbage first, so a field left unset by the parser shows. */
	memset(o, 0xa5, sizeof(*o));
	wg_dtls_legacy_parse(m, s, s12, o);
}

Test(dtls_legacy_hdr, openconnect_default_list_is_psk)
{
	struct wg_dtls_legacy_offer o;

	parse(master_hex, "PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:OC-DTLS1_2-AES128-GCM:AES256-SHA:AES128-SHA", NULL, &o);
	cr_assert(o.psk_negotiate);
	cr_assert(o.have_master);
	cr_assert_not_null(o.suite, "the legacy choice is still known; the caller prefers PSK");
	cr_assert_str_eq(o.suite->name, "OC-DTLS1_2-AES256-GCM");
}

Test(dtls_legacy_hdr, psk_anywhere_in_either_list)
{
	struct wg_dtls_legacy_offer o;

	parse(master_hex, "OC-DTLS1_2-AES128-GCM:PSK-NEGOTIATE", NULL, &o);
	cr_assert(o.psk_negotiate);
	parse(master_hex, "AES256-SHA", "AES256-GCM-SHA384: PSK-NEGOTIATE ", &o);
	cr_assert(o.psk_negotiate);
	parse(master_hex, "XPSK-NEGOTIATE:PSK-NEGOTIATEX:psk-negotiate", NULL, &o);
	cr_assert_not(o.psk_negotiate, "exact tokens only");
	cr_assert_null(o.suite);
}

Test(dtls_legacy_hdr, master_secret_decoded)
{
	struct wg_dtls_legacy_offer o;

	parse(master_hex, "OC-DTLS1_2-AES256-GCM", NULL, &o);
	cr_assert(o.have_master);
	for (int i = 0; i < WG_DTLS_MASTER_SECRET_LEN; i++)
		cr_assert_eq(o.master[i], i);
	parse("  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f ",
	      "OC-DTLS1_2-AES256-GCM", NULL, &o);
	cr_assert(o.have_master, "lower case and blanks around");
	cr_assert_eq(o.master[47], 47);
}

Test(dtls_legacy_hdr, bad_master_secret_means_no_suite)
{
	struct wg_dtls_legacy_offer o;
	const char *bad[] = {NULL, "", "00",
			     "zz0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F",
			     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F00",
			     "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2",
			     "000102030405060708090A0B0C0D0E0F 101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i], "OC-DTLS1_2-AES256-GCM", NULL, &o);
		cr_assert_not(o.have_master, "case %zu", i);
		cr_assert_null(o.suite, "case %zu: nothing to resume without the secret", i);
		for (int k = 0; k < WG_DTLS_MASTER_SECRET_LEN; k++)
			cr_assert_eq(o.master[k], 0);
	}
}

Test(dtls_legacy_hdr, server_preference_not_client_order)
{
	struct wg_dtls_legacy_offer o;

	parse(master_hex, "OC-DTLS1_2-AES128-GCM:OC-DTLS1_2-AES256-GCM", NULL, &o);
	cr_assert_str_eq(o.suite->name, "OC-DTLS1_2-AES256-GCM");
	cr_assert_not(o.suite->dtls12_header);
	cr_assert_eq(o.suite->id[0], 0x00);
	cr_assert_eq(o.suite->id[1], 0x9d);
	parse(master_hex, "OC-DTLS1_2-AES128-GCM", NULL, &o);
	cr_assert_str_eq(o.suite->name, "OC-DTLS1_2-AES128-GCM");
	cr_assert_eq(o.suite->id[1], 0x9c);
}

Test(dtls_legacy_hdr, dtls09_suites_known_but_never_chosen)
{
	struct wg_dtls_legacy_offer o;

	parse(master_hex, "AES256-SHA", NULL, &o);
	cr_assert_null(o.suite);
	cr_assert_not_null(o.unsupported);
	cr_assert_str_eq(o.unsupported->name, "AES256-SHA");
	parse(master_hex, "DHE-RSA-AES128-SHA:AES128-SHA:DES-CBC3-SHA", NULL, &o);
	cr_assert_null(o.suite);
	cr_assert_str_eq(o.unsupported->name, "DHE-RSA-AES128-SHA", "the first one, for the log");
	/* A DTLS 0.9 suite next to a DTLS 1.2 one: the DTLS 1.2 one. */
	parse(master_hex, "AES256-SHA:OC-DTLS1_2-AES128-GCM", NULL, &o);
	cr_assert_str_eq(o.suite->name, "OC-DTLS1_2-AES128-GCM");
}

Test(dtls_legacy_hdr, cisco_dtls12_list)
{
	struct wg_dtls_legacy_offer o;

	/* The same names mean DTLS 1.2 in X-DTLS12-CipherSuite. */
	parse(master_hex, "AES256-SHA:AES128-SHA", "AES128-SHA:AES256-SHA", &o);
	cr_assert_not_null(o.suite);
	cr_assert_str_eq(o.suite->name, "AES256-SHA");
	cr_assert(o.suite->dtls12_header, "answered in X-DTLS12-CipherSuite");
	cr_assert_eq(o.suite->id[1], 0x35);
	parse(master_hex, NULL, "ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384", &o);
	cr_assert_str_eq(o.suite->name, "AES256-GCM-SHA384");
	/* Equal priority in both lists: the X-DTLS12 name. */
	parse(master_hex, "OC-DTLS1_2-AES256-GCM", "AES256-GCM-SHA384", &o);
	cr_assert(o.suite->dtls12_header);
	/* An OC- name means nothing in the Cisco list. */
	parse(master_hex, NULL, "OC-DTLS1_2-AES256-GCM", &o);
	cr_assert_null(o.suite);
}

Test(dtls_legacy_hdr, junk_tokens)
{
	struct wg_dtls_legacy_offer o;
	char longtok[300];

	memset(longtok, 'A', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	parse(master_hex, "", "", &o);
	cr_assert_null(o.suite);
	cr_assert_not(o.psk_negotiate);
	parse(master_hex, ":::", ":", &o);
	cr_assert_null(o.suite);
	parse(master_hex, longtok, longtok, &o);
	cr_assert_null(o.suite);
	cr_assert_null(o.unsupported);
	parse(master_hex, "oc-dtls1_2-aes256-gcm:OC-DTLS1_2-AES256-GCM-:OC-DTLS1_2", NULL, &o);
	cr_assert_null(o.suite, "exact names only");
	parse(master_hex, " \tOC-DTLS1_2-AES128-GCM\t ", NULL, &o);
	cr_assert_not_null(o.suite, "blanks around a name are ignored");
}

Test(dtls_legacy_hdr, table_is_consistent)
{
	int n = 0;

	for (const struct wg_dtls_legacy_suite *s = wg_dtls_legacy_suites; s->name; s++, n++) {
		cr_assert(strlen(s->name) < 64);
		cr_assert_eq(s->supported, s->wolfssl != NULL, "%s", s->name);
		cr_assert_eq(s->supported, s->prio > 0, "%s", s->name);
		/* A name appears at most once per header. */
		for (const struct wg_dtls_legacy_suite *t = s + 1; t->name; t++)
			cr_assert(strcmp(s->name, t->name) != 0 || s->dtls12_header != t->dtls12_header, "%s", s->name);
	}
	cr_assert_geq(n, 4);
}

/* auth-radius text helpers: server entries, Framed-Route, Class round
 * trips, group attribute names and Acct-Terminate-Cause mapping. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../plugins/auth-radius/radius_attrs.h"

Test(radius_attrs, server_entries)
{
	struct radius_server_spec s;
	char err[256];

	cr_assert_eq(radius_parse_server("radius.example", &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s.host, "radius.example");
	cr_assert_eq(s.auth_port, 1812);
	cr_assert_eq(s.acct_port, 1813);
	cr_assert_str_eq(s.secret, "");
	cr_assert_eq(radius_parse_server("127.0.0.1:18120", &s, err, sizeof(err)), 0);
	cr_assert_eq(s.auth_port, 18120);
	cr_assert_eq(s.acct_port, 18121, "accounting defaults to the next port");
	cr_assert_eq(radius_parse_server("10.0.0.5:1645:1646:s3:cr:et", &s, err, sizeof(err)), 0);
	cr_assert_eq(s.acct_port, 1646);
	cr_assert_str_eq(s.secret, "s3:cr:et", "the secret is the rest of the entry");
	cr_assert_eq(radius_parse_server("r1::1900:sec", &s, err, sizeof(err)), 0);
	cr_assert_eq(s.auth_port, 1812);
	cr_assert_eq(s.acct_port, 1900);
	cr_assert_eq(radius_parse_server("[2001:db8::1]:1812:1813:x", &s, err, sizeof(err)), 0);
	cr_assert_str_eq(s.host, "2001:db8::1");
	cr_assert(s.ipv6);
	cr_assert_str_eq(s.secret, "x");

	cr_assert_eq(radius_parse_server("", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server("host:99999", &s, err, sizeof(err)), -1);
	cr_assert(strstr(err, "auth port"), "%s", err);
	cr_assert_eq(radius_parse_server("host:12a", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server("host:1812:0", &s, err, sizeof(err)), -1);
	cr_assert(strstr(err, "accounting port"), "%s", err);
	cr_assert_eq(radius_parse_server("[2001:db8::1", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server("[not-v6]:1812", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server("ho st", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server(":1812", &s, err, sizeof(err)), -1);
	cr_assert_eq(radius_parse_server("h:65535", &s, err, sizeof(err)), -1, "no port after 65535");
}

Test(radius_attrs, secrets)
{
	char long_secret[120];

	memset(long_secret, 'a', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	cr_assert_null(radius_secret_problem("testing123"));
	cr_assert_not_null(radius_secret_problem(""));
	cr_assert_not_null(radius_secret_problem(NULL));
	cr_assert_not_null(radius_secret_problem("with space"));
	cr_assert_not_null(radius_secret_problem("a,b"));
	cr_assert_not_null(radius_secret_problem(long_secret));
}

Test(radius_attrs, framed_route)
{
	char out[64];

	cr_assert_eq(radius_route_to_cidr("198.51.100.0/24 0.0.0.0 1", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "198.51.100.0/24");
	cr_assert_eq(radius_route_to_cidr("10.1.2.3/16", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "10.1.0.0/16", "host bits cleared");
	cr_assert_eq(radius_route_to_cidr("192.0.2.7 192.0.2.1 1", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "192.0.2.7/32", "no bits: a host route");
	cr_assert_eq(radius_route_to_cidr("0.0.0.0/0", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0.0.0.0/0");
	cr_assert_eq(radius_route_to_cidr("10.0.0.0/33", out, sizeof(out)), -1);
	cr_assert_eq(radius_route_to_cidr("10.0.0.0/", out, sizeof(out)), -1);
	cr_assert_eq(radius_route_to_cidr("2001:db8::/32", out, sizeof(out)), -1);
	cr_assert_eq(radius_route_to_cidr("", out, sizeof(out)), -1);
	cr_assert_eq(radius_route_to_cidr("junk", out, sizeof(out)), -1);
	cr_assert_eq(radius_route_to_cidr("10.0.0.0/8", out, 5), -1, "too small a buffer");
}

Test(radius_attrs, class_round_trip)
{
	char text[2 * 253 + 3];
	uint8_t back[253];
	const uint8_t binary[] = {0x00, 0xff, 0x41, 0x0a};

	radius_class_encode((const uint8_t *)"alice-class-1", 13, text, sizeof(text));
	cr_assert_str_eq(text, "alice-class-1");
	cr_assert_eq(radius_class_decode(text, back, sizeof(back)), 13);
	cr_assert_eq(memcmp(back, "alice-class-1", 13), 0);

	radius_class_encode(binary, sizeof(binary), text, sizeof(text));
	cr_assert_str_eq(text, "0x00ff410a");
	cr_assert_eq(radius_class_decode(text, back, sizeof(back)), 4);
	cr_assert_eq(memcmp(back, binary, 4), 0);

	/* Printable text that itself starts with "0x" is hex-encoded, so it
	 * cannot be mistaken for an encoding. */
	radius_class_encode((const uint8_t *)"0x12", 4, text, sizeof(text));
	cr_assert_str_eq(text, "0x30783132");
	cr_assert_eq(radius_class_decode(text, back, sizeof(back)), 4);
	cr_assert_eq(memcmp(back, "0x12", 4), 0);

	cr_assert_eq(radius_class_decode("0xabc", back, sizeof(back)), -1);
	cr_assert_eq(radius_class_decode("0xzz", back, sizeof(back)), -1);
	cr_assert_eq(radius_class_decode("", back, sizeof(back)), -1);
	cr_assert_eq(radius_class_decode("toolong", back, 3), -1);
}

Test(radius_attrs, group_attribute)
{
	cr_assert_eq(radius_group_attr_parse("filter-id"), RADIUS_GROUP_FILTER_ID);
	cr_assert_eq(radius_group_attr_parse("Class"), RADIUS_GROUP_CLASS);
	cr_assert_eq(radius_group_attr_parse("none"), RADIUS_GROUP_NONE);
	cr_assert_eq(radius_group_attr_parse(NULL), RADIUS_GROUP_FILTER_ID);
	cr_assert_eq(radius_group_attr_parse("filter_id"), -1);
}

Test(radius_attrs, terminate_cause)
{
	/* The host's own reasons. */
	cr_assert_eq(radius_terminate_cause("client disconnected"), 1);
	cr_assert_eq(radius_terminate_cause("client terminated the session"), 1);
	cr_assert_eq(radius_terminate_cause("client disconnected (DTLS)"), 1);
	cr_assert_eq(radius_terminate_cause("idle timeout"), 4);
	cr_assert_eq(radius_terminate_cause("session timeout"), 5);
	cr_assert_eq(radius_terminate_cause("disconnected by the administrator"), 6);
	cr_assert_eq(radius_terminate_cause("server shutting down"), 11);
	cr_assert_eq(radius_terminate_cause("cookie expired without a reconnect"), 2);
	cr_assert_eq(radius_terminate_cause("disconnected by policy"), 10);
	cr_assert_eq(radius_terminate_cause(NULL), 10);
}

Test(radius_attrs, framed_ipv6_route_is_its_prefix)
{
	char out[64];

	cr_assert_eq(radius_route6_to_cidr("2001:db8:1::/48 :: 1", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "2001:db8:1::/48");
	cr_assert_eq(radius_route6_to_cidr("  fd00:203::99/64", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "fd00:203::/64", "host bits are cleared");
	cr_assert_eq(radius_route6_to_cidr("2001:db8::/129", out, sizeof(out)), -1);
	cr_assert_eq(radius_route6_to_cidr("2001:db8::", out, sizeof(out)), -1, "no prefix length");
	cr_assert_eq(radius_route6_to_cidr("10.0.0.0/8", out, sizeof(out)), -1);
	cr_assert_eq(radius_route6_to_cidr("2001:db8::/x", out, sizeof(out)), -1);
	cr_assert_eq(radius_route6_to_cidr("", out, sizeof(out)), -1);
	cr_assert_eq(radius_route6_to_cidr(NULL, out, sizeof(out)), -1);
}

Test(radius_attrs, framed_ipv6_prefix_of_one_address)
{
	uint8_t v[18] = {0, 128, 0x20, 0x01, 0x0d, 0xb8, 0, 8, [17] = 0x42};
	char out[64];

	cr_assert_eq(radius_prefix6_address(v, sizeof(v), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "2001:db8:8::42");
	v[1] = 64;
	cr_assert_eq(radius_prefix6_address(v, 10, out, sizeof(out)), -1, "a /64 names no single address");
	cr_assert_eq(radius_prefix6_address(v, 1, out, sizeof(out)), -1);
}

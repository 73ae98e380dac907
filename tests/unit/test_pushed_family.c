/* Routes and DNS servers fitted to the client's address families
 * (core/tunnel/pushed_family.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "tunnel/pushed_family.h"

static const char pushed[] =
	"X-CSTP-DNS: 203.0.113.53\r\n"
	"X-CSTP-DNS: 2001:db8::53\r\n"
	"X-CSTP-Split-DNS: example.test\r\n"
	"X-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\n"
	"X-CSTP-Split-Include-IP6: fd00:203::/64\r\n"
	"X-CSTP-Split-Exclude-IP6: fd00:203:0:99::/64\r\n"
	"X-CSTP-Split-Exclude: 203.0.113.128/255.255.255.128\r\n"
	"X-CSTP-Tunnel-All-DNS: false\r\n";

static void fitted(bool want4, bool want6, bool full6, const char *want)
{
	struct wg_client_families f = {want4, want6, full6};
	char out[1024];

	cr_assert_eq(wg_pushed_for_client(pushed, &f, out, sizeof(out)), (long)strlen(want));
	cr_assert_str_eq(out, want);
}

Test(pushed_family, full_ipv6_client_gets_everything_as_rendered)
{
	fitted(true, true, true, pushed);
}

Test(pushed_family, without_full_ipv6_routes_lose_the_ip6_name)
{
	fitted(true, true, false,
	       "X-CSTP-DNS: 203.0.113.53\r\n"
	       "X-CSTP-DNS: 2001:db8::53\r\n"
	       "X-CSTP-Split-DNS: example.test\r\n"
	       "X-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\n"
	       "X-CSTP-Split-Include: fd00:203::/64\r\n"
	       "X-CSTP-Split-Exclude: fd00:203:0:99::/64\r\n"
	       "X-CSTP-Split-Exclude: 203.0.113.128/255.255.255.128\r\n"
	       "X-CSTP-Tunnel-All-DNS: false\r\n");
}

Test(pushed_family, ipv4_only_client_gets_no_ipv6_routes_or_dns)
{
	fitted(true, false, true,
	       "X-CSTP-DNS: 203.0.113.53\r\n"
	       "X-CSTP-Split-DNS: example.test\r\n"
	       "X-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\n"
	       "X-CSTP-Split-Exclude: 203.0.113.128/255.255.255.128\r\n"
	       "X-CSTP-Tunnel-All-DNS: false\r\n");
}

Test(pushed_family, ipv6_only_client_gets_no_ipv4_routes_or_dns)
{
	fitted(false, true, true,
	       "X-CSTP-DNS: 2001:db8::53\r\n"
	       "X-CSTP-Split-DNS: example.test\r\n"
	       "X-CSTP-Split-Include-IP6: fd00:203::/64\r\n"
	       "X-CSTP-Split-Exclude-IP6: fd00:203:0:99::/64\r\n"
	       "X-CSTP-Tunnel-All-DNS: false\r\n");
}

Test(pushed_family, too_small_a_buffer_is_said)
{
	struct wg_client_families f = {true, true, true};
	char out[64];

	cr_assert_eq(wg_pushed_for_client(pushed, &f, out, sizeof(out)), -1);
	cr_assert_eq(wg_pushed_for_client("", &f, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
}

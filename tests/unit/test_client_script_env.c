/* wolfguard-client's vpnc-script environment: the names and formats
 * openconnect uses, so Debian's vpnc-script reads them unchanged. */
#include <criterion/criterion.h>
#include <string.h>

#include "script_env.h"

Test(client_script_env, connect_variables)
{
	struct wgp_tunnel_config tc;
	struct wgc_env env;
	char err[100];
	const char *h = "HTTP/1.1 200 CONNECTED\r\nX-CSTP-Address: 10.8.0.23\r\nX-CSTP-Netmask: 255.255.255.0\r\n"
			"X-CSTP-Address-IP6: 2001:db8:8::17/64\r\nX-CSTP-DNS: 203.0.113.53\r\nX-CSTP-DNS: 198.51.100.53\r\n"
			"X-CSTP-DNS: 2001:db8::53\r\nX-CSTP-Split-DNS: a.test\r\nX-CSTP-Split-DNS: b.test\r\n"
			"X-CSTP-Split-Include: 203.0.113.0/255.255.255.0\r\nX-CSTP-Split-Exclude: 203.0.113.128/25\r\n"
			"X-CSTP-Split-Include-IP6: 2001:db8:1::/48\r\nX-CSTP-MTU: 1390\r\nX-CSTP-Banner: hello\r\n\r\n";
	struct wgc_env_in in = {.reason = "connect", .tundev = "tun7", .gateway = "198.51.100.1", .pid = 42,
				.log_level = 1, .tc = &tc};

	cr_assert_eq(wgp_tunnel_config_parse(h, strlen(h), &tc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(wgc_env_build(&in, &env), 0);
	struct {
		const char *k, *v;
	} want[] = {
		{"reason", "connect"}, {"TUNDEV", "tun7"}, {"VPNGATEWAY", "198.51.100.1"}, {"VPNPID", "42"},
		{"INTERNAL_IP4_ADDRESS", "10.8.0.23"}, {"INTERNAL_IP4_NETMASK", "255.255.255.0"},
		{"INTERNAL_IP4_NETMASKLEN", "24"}, {"INTERNAL_IP4_NETADDR", "10.8.0.0"}, {"INTERNAL_IP4_MTU", "1390"},
		{"INTERNAL_IP4_DNS", "203.0.113.53 198.51.100.53"}, {"INTERNAL_IP6_DNS", "2001:db8::53"},
		{"INTERNAL_IP6_ADDRESS", "2001:db8:8::17"}, {"INTERNAL_IP6_NETMASK", "2001:db8:8::17/64"},
		{"CISCO_SPLIT_DNS", "a.test,b.test"}, {"CISCO_BANNER", "hello"},
		{"CISCO_SPLIT_INC", "1"}, {"CISCO_SPLIT_INC_0_ADDR", "203.0.113.0"},
		{"CISCO_SPLIT_INC_0_MASK", "255.255.255.0"}, {"CISCO_SPLIT_INC_0_MASKLEN", "24"},
		{"CISCO_SPLIT_INC_0_PROTOCOL", "0"}, {"CISCO_SPLIT_EXC", "1"},
		{"CISCO_SPLIT_EXC_0_MASK", "255.255.255.128"}, {"CISCO_SPLIT_EXC_0_MASKLEN", "25"},
		{"CISCO_IPV6_SPLIT_INC", "1"}, {"CISCO_IPV6_SPLIT_INC_0_ADDR", "2001:db8:1::"},
		{"CISCO_IPV6_SPLIT_INC_0_MASKLEN", "48"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = wgc_env_get(&env, want[i].k);
		cr_assert_not_null(v, "%s missing", want[i].k);
		cr_assert_str_eq(v, want[i].v, "%s", want[i].k);
	}
	cr_assert_null(wgc_env_get(&env, "CISCO_DEF_DOMAIN"));
	cr_assert_null(env.vars[env.n]);
	wgc_env_free(&env);
}

Test(client_script_env, pre_init_has_no_configuration)
{
	struct wgc_env env;
	struct wgc_env_in in = {.reason = "pre-init", .tundev = "", .gateway = "192.0.2.1", .pid = 1};

	cr_assert_eq(wgc_env_build(&in, &env), 0);
	cr_assert_str_eq(wgc_env_get(&env, "reason"), "pre-init");
	cr_assert_null(wgc_env_get(&env, "INTERNAL_IP4_ADDRESS"));
	cr_assert_null(wgc_env_get(&env, "CISCO_SPLIT_INC"));
	wgc_env_free(&env);
}

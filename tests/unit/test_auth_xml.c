#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "login/auth_xml.h"

/* What openconnect 9.01 sends. */
static const char init_body[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">\n"
	"<version who=\"vpn\">v9.01</version>\n<device-id>linux-64</device-id>\n"
	"<group-access>https://198.51.100.1</group-access>\n"
	"<capabilities><auth-method>single-sign-on-v2</auth-method></capabilities>\n</config-auth>";

static const char reply_body[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\">\n"
	"<version who=\"vpn\">v9.01</version>\n<device-id>linux-64</device-id>\n"
	"<session-token/><session-id/>\n"
	"<auth><username>alice</username><password>p&lt;&amp;&#x41;&#66;</password></auth>\n</config-auth>";

Test(auth_xml, init_from_openconnect)
{
	struct wg_auth_msg m;
	char err[128];

	cr_assert_eq(wg_auth_xml_parse(init_body, sizeof(init_body) - 1, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.type, WG_XML_INIT);
	cr_assert_str_eq(m.version, "v9.01");
	cr_assert_str_eq(m.platform, "linux-64");
	cr_assert_str_eq(m.group_access, "https://198.51.100.1");
	cr_assert_eq(m.n_fields, 0);
}

Test(auth_xml, reply_fields_and_entities)
{
	struct wg_auth_msg m;
	char err[128];

	cr_assert_eq(wg_auth_xml_parse(reply_body, sizeof(reply_body) - 1, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.type, WG_XML_AUTH_REPLY);
	cr_assert_str_eq(wg_auth_msg_field(&m, "username"), "alice");
	cr_assert_str_eq(wg_auth_msg_field(&m, "password"), "p<&AB");
	cr_assert_null(wg_auth_msg_field(&m, "otp"));
}

Test(auth_xml, hostile_inputs_are_refused)
{
	static const char *bad[] = {
		"<config-auth type=\"init\">",                                 /* unclosed */
		"<config-auth><auth><username>x</auth></config-auth>",         /* mismatched */
		"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><config-auth/>",
		"<config-auth><auth><u>&e;</u></auth></config-auth>",          /* unknown entity */
		"<config-auth><auth><u>&#0;</u></auth></config-auth>",
		"<x/>",
		"<config-auth/><config-auth/>",
		"<config-auth a=b/>",
		"",
	};
	struct wg_auth_msg m;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(wg_auth_xml_parse(bad[i], strlen(bad[i]), &m, err, sizeof(err)), -1, "accepted: %s", bad[i]);

	char deep[2048] = "<config-auth>";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<a>");
	cr_assert_eq(wg_auth_xml_parse(deep, strlen(deep), &m, err, sizeof(err)), -1);

	char huge[4096];
	int n = snprintf(huge, sizeof(huge), "<config-auth><auth><password>");
	memset(huge + n, 'x', 2000);
	strcpy(huge + n + 2000, "</password></auth></config-auth>");
	cr_assert_eq(wg_auth_xml_parse(huge, strlen(huge), &m, err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long"), "%s", err);
}

Test(auth_xml, generated_form_is_escaped_and_reparses)
{
	struct wg_xml_input in[] = {{"username", "User <name>:", WG_XML_INPUT_TEXT},
				    {"password", "Password:", WG_XML_INPUT_PASSWORD}};
	const char *groups[] = {"eng", "sales&co"};
	struct wg_xml_form f = {.message = "Hi \"you\"", .error = "Login failed.", .inputs = in, .n_inputs = 2,
				.groups = groups, .n_groups = 2};
	char buf[4096];

	cr_assert_gt(wg_auth_xml_request(buf, sizeof(buf), &f), 0);
	cr_assert(strstr(buf, "type=\"auth-request\""));
	cr_assert(strstr(buf, "label=\"User &lt;name&gt;:\""));
	cr_assert(strstr(buf, "<option>sales&amp;co</option>"));
	cr_assert(strstr(buf, "<error id=\"88\" param1=\"\" param2=\"\">Login failed.</error>"));
	cr_assert(strstr(buf, "<form method=\"post\" action=\"/auth\">"));
	cr_assert_eq(wg_auth_xml_request(buf, 64, &f), -1);
	cr_assert_gt(wg_auth_xml_complete(buf, sizeof(buf), "Welcome & enjoy"), 0);
	cr_assert(strstr(buf, "type=\"complete\""));
	cr_assert(strstr(buf, "<auth id=\"success\">"));
	cr_assert(strstr(buf, "<banner>Welcome &amp; enjoy</banner>"));
}

Test(auth_xml, urlencoded_form)
{
	const char body[] = "username=al%69ce&password=a+b%26c&group_list=eng";
	struct wg_auth_msg m;
	char err[128];

	cr_assert_eq(wg_auth_form_parse(body, sizeof(body) - 1, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(wg_auth_msg_field(&m, "username"), "alice");
	cr_assert_str_eq(wg_auth_msg_field(&m, "password"), "a b&c");
	cr_assert_str_eq(m.group_select, "eng");
	cr_assert_eq(wg_auth_form_parse("a=%4", 4, &m, err, sizeof(err)), -1);
	cr_assert_eq(wg_auth_form_parse("a=%00", 5, &m, err, sizeof(err)), -1);
}

/* The single sign-on form: the elements openconnect's auth.c reads from
 * <auth> (escaped: the login URL carries '&'), and the input of type sso
 * whose value comes back as a field of the reply. */
Test(auth_xml, sso_form_for_openconnect)
{
	char buf[4096];
	struct wg_xml_input in = {.name = "sso-token", .label = "sso-token", .type = WG_XML_INPUT_SSO};
	struct wg_xml_form f = {
		.message = "Please complete the login in your browser.",
		.inputs = &in,
		.n_inputs = 1,
		.sso_login = "https://idp.test/authorize?a=1&state=x",
		.sso_login_final = "https://vpn.test/+wolfguard+/auth-oidc/done",
		.sso_token_cookie = "acSamlv2Token",
		.sso_browser_mode = "external",
	};
	struct wg_auth_msg m;
	char err[128];
	const char reply[] = "<?xml version=\"1.0\"?><config-auth client=\"vpn\" type=\"auth-reply\">"
			     "<auth><sso-token>Abc123</sso-token></auth></config-auth>";

	cr_assert_gt(wg_auth_xml_request(buf, sizeof(buf), &f), 0);
	cr_assert(strstr(buf, "<sso-v2-login>https://idp.test/authorize?a=1&amp;state=x</sso-v2-login>\n"), "%s", buf);
	cr_assert(strstr(buf, "<sso-v2-login-final>https://vpn.test/+wolfguard+/auth-oidc/done</sso-v2-login-final>"));
	cr_assert(strstr(buf, "<sso-v2-token-cookie-name>acSamlv2Token</sso-v2-token-cookie-name>"));
	cr_assert(strstr(buf, "<sso-v2-browser-mode>external</sso-v2-browser-mode>"));
	cr_assert_null(strstr(buf, "sso-v2-error-cookie-name"), "unset elements are left out");
	cr_assert(strstr(buf, "<input type=\"sso\" name=\"sso-token\""), "%s", buf);
	cr_assert_eq(wg_auth_xml_parse(reply, strlen(reply), &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(wg_auth_msg_field(&m, "sso-token"), "Abc123");
}

/* The XML of the AnyConnect/OpenConnect login conversation.
 * Parsing is a bounded, non-recursive scan of <config-auth> bodies: no DTD,
 * no entities beyond the five predefined ones, no external anything. Output
 * is built into a caller's buffer with every text XML-escaped. */
#ifndef WG_AUTH_XML_H
#define WG_AUTH_XML_H

#include <stddef.h>

#define WG_XML_MAX_FIELDS 16
#define WG_XML_NAME_MAX 64
#define WG_XML_VALUE_MAX 1024

enum wg_xml_type {
	WG_XML_UNKNOWN = 0,
	WG_XML_INIT,       /* <config-auth type="init">: start a login */
	WG_XML_AUTH_REPLY, /* <config-auth type="auth-reply">: answers to a form */
	WG_XML_LOGOUT,     /* type="logout" */
};

struct wg_xml_field {
	char name[WG_XML_NAME_MAX];   /* element name inside <auth>: "username" */
	char value[WG_XML_VALUE_MAX]; /* unescaped text */
};

struct wg_auth_msg {
	int type; /* enum wg_xml_type */
	char version[64];        /* <version who="vpn">9.01</version> */
	char device_id[128];     /* <device-id ...>linux-64</device-id> */
	char platform[64];       /* attribute of device-id, e.g. "linux-64" */
	char group_select[128];  /* <group-select>..</group-select> */
	char group_access[256];  /* <group-access>https://..</group-access> */
	struct wg_xml_field fields[WG_XML_MAX_FIELDS]; /* children of <auth> */
	size_t n_fields;
};

/* Parses an XML body. Returns 0, or -1 with a reason in err. */
int wg_auth_xml_parse(const char *body, size_t len, struct wg_auth_msg *out, char *err, size_t errlen);
/* Parses an application/x-www-form-urlencoded body (older clients) into the
 * same structure, type WG_XML_AUTH_REPLY. Returns 0 or -1. */
int wg_auth_form_parse(const char *body, size_t len, struct wg_auth_msg *out, char *err, size_t errlen);
/* A field's value from a parsed message, or NULL. */
const char *wg_auth_msg_field(const struct wg_auth_msg *m, const char *name);

enum wg_xml_input_type { WG_XML_INPUT_TEXT = 1, WG_XML_INPUT_PASSWORD = 2, WG_XML_INPUT_SSO = 3 };

struct wg_xml_input {
	const char *name;
	const char *label;
	int type; /* enum wg_xml_input_type */
};

struct wg_xml_form {
	const char *title;     /* optional */
	const char *message;   /* shown above the fields, optional */
	const char *error;     /* shown as an error (e.g. "Login failed."), optional */
	const struct wg_xml_input *inputs;
	size_t n_inputs;
	const char *const *groups; /* optional group_list choices */
	size_t n_groups;
	const char *selected_group; /* optional */
	const char *action;    /* form action, default "/auth" */
	/* Single sign-on (openconnect's auth.c reads these from <auth>);
	 * each optional, emitted when set. */
	const char *sso_login, *sso_login_final, *sso_token_cookie, *sso_error_cookie, *sso_browser_mode;
};

/* <config-auth type="auth-request"> with the form. Returns the length
 * written (NUL-terminated), or -1 if it does not fit. */
int wg_auth_xml_request(char *buf, size_t buflen, const struct wg_xml_form *form);
/* <config-auth type="complete"> after a successful login. banner optional. */
int wg_auth_xml_complete(char *buf, size_t buflen, const char *banner);
/* Escapes text for XML into buf. Returns length or -1 if it does not fit. */
int wg_xml_escape(char *buf, size_t buflen, const char *text);

#endif

/* One PAM authentication with a fixed password: the conversation answers
 * every hidden prompt (PAM_PROMPT_ECHO_OFF) with the password and every
 * visible one (PAM_PROMPT_ECHO_ON, e.g. a "login:" prompt) with the user
 * name; informational and error messages get no answer. A stack that asks
 * for something else (an OTP) thus gets the password and fails. */
#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confine/privsep.h"

struct answers {
	const char *user, *password;
};

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	const struct answers *a = arg;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer = NULL;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = a->password;
			break;
		case PAM_PROMPT_ECHO_ON:
			answer = a->user;
			break;
		default: /* PAM_ERROR_MSG / PAM_TEXT_INFO: nothing to answer */
			continue;
		}
		if (!(r[i].resp = strdup(answer))) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int wg_pam_check(const char *service, const char *user, const char *password, char *msg, size_t msglen)
{
	struct answers a = {user, password};
	struct pam_conv conv = {conversation, &a};
	pam_handle_t *ph = NULL;
	int rc = pam_start(service, user, &conv, &ph);

	if (rc != PAM_SUCCESS) {
		snprintf(msg, msglen, "pam_start: %s", pam_strerror(ph, rc));
		return -EIO;
	}
	rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
	snprintf(msg, msglen, "%s", pam_strerror(ph, rc));
	pam_end(ph, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}

/* Login bodies: the XML scanner and the urlencoded form parser; whatever
 * parses must survive being echoed back through the form generator. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "login/auth_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_auth_msg m;
	char err[160], out[8192];

	if (wg_auth_xml_parse((const char *)data, size, &m, err, sizeof(err)) == 0 && m.n_fields > 0) {
		struct wg_xml_input in = {m.fields[0].name, m.fields[0].value, WG_XML_INPUT_TEXT};
		struct wg_xml_form f = {.message = m.version, .error = m.device_id, .inputs = &in, .n_inputs = 1};
		int n = wg_auth_xml_request(out, sizeof(out), &f);
		if (n > 0) {
			static struct wg_auth_msg again;
			/* Our own output must always parse. */
			if (wg_auth_xml_parse(out, (size_t)n, &again, err, sizeof(err)) != 0)
				__builtin_trap();
		}
	}
	(void)wg_auth_form_parse((const char *)data, size, &m, err, sizeof(err));
	return 0;
}

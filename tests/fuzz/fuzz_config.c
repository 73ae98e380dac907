/* conf.d files: JSON with positions, validated against the server's keys. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/server_options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_err err;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	wg_err_init(&err);
	struct wg_config *cfg = wg_config_from_string("fuzz.json", text, &err);
	if (cfg) {
		if (wg_config_validate(cfg, wg_server_options, &err) == 0) {
			(void)wg_config_string(cfg, "listen");
			(void)wg_config_int(cfg, "port");
			(void)wg_config_where(cfg, "port");
		}
		wg_config_free(cfg);
	}
	free(text);
	return 0;
}

/* Control-socket requests. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control/control_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_control_req req;
	char err[256];

	if (wg_control_parse((const char *)data, size, &req, err, sizeof(err)) == 0 &&
	    (strlen(req.user) >= sizeof(req.user) || strlen(req.id) >= sizeof(req.id) ||
	     strlen(req.addr) >= sizeof(req.addr) || req.seconds < 0 || req.seconds > WG_CONTROL_MAX_BAN_S))
		__builtin_trap();
	return 0;
}

/* ocserv password files, as auth-plain reads them. */
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/auth-plain/ocpasswd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ocpasswd_entry e;
	unsigned bad;

	(void)ocpasswd_parse_line((const char *)data, size, &e);
	(void)ocpasswd_find((const char *)data, size, "alice", &e, &bad);
	return 0;
}

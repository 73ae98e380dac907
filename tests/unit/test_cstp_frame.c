#include <criterion/criterion.h>
#include <string.h>

#include "tunnel/cstp_frame.h"

Test(cstp_frame, roundtrip_and_partial)
{
	uint8_t buf[64];
	struct wg_cstp_frame f;

	wg_cstp_header(buf, WG_CSTP_DPD_REQ, 5);
	memcpy(buf + 8, "hello", 5);
	for (size_t n = 0; n < 13; n++)
		cr_assert_eq(wg_cstp_parse(buf, n, 1500, &f), 0, "partial %zu", n);
	cr_assert_eq(wg_cstp_parse(buf, 13, 1500, &f), 13);
	cr_assert_eq(f.type, WG_CSTP_DPD_REQ);
	cr_assert_eq(f.len, 5);
	cr_assert_eq(memcmp(f.payload, "hello", 5), 0);
	cr_assert_str_eq(wg_cstp_type_name(f.type), "DPD-REQ");
}

Test(cstp_frame, rejects_bad_magic_and_oversize)
{
	uint8_t buf[16] = {'S', 'T', 'F', 0x02, 0, 0, 0, 0};
	struct wg_cstp_frame f;

	cr_assert_eq(wg_cstp_parse(buf, 8, 1500, &f), -1);
	cr_assert_eq(wg_cstp_parse((const uint8_t *)"GET ", 4, 1500, &f), -1);
	wg_cstp_header(buf, WG_CSTP_DATA, 2000);
	cr_assert_eq(wg_cstp_parse(buf, 8, 1500, &f), -1);
}

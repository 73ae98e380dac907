/* Lower-case hex for cookies, login contexts and DTLS App-IDs. */
#ifndef WG_HEX_H
#define WG_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n digits and a NUL into out (2*n+1 bytes). */
void wg_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2*n hex digits followed by the string's end into out.
 * Returns 0, or -1 for any other length or a non-hex character. */
int wg_hex_decode(const char *in, uint8_t *out, size_t n);

#endif

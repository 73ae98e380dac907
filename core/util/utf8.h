#ifndef WG_UTF8_H
#define WG_UTF8_H
/* Text a client chose (user names, User-Agent, version and platform
 * strings) made fit for JSON: every byte sequence that is not well-formed
 * UTF-8 (RFC 3629: no overlongs, surrogates or code points above U+10FFFF)
 * becomes U+FFFD, one per maximal ill-formed subpart as Unicode recommends,
 * so the rest of the text stays readable. */
#include <stdbool.h>
#include <stddef.h>

/* True when the NUL-terminated text is well-formed UTF-8. */
bool wg_utf8_valid(const char *text);
/* A malloc'd copy with each ill-formed subpart replaced by U+FFFD (at most
 * three times as long as the input); NULL without memory. */
char *wg_utf8_sanitize(const char *text);

#endif

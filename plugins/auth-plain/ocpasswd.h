/* ocserv's password file format, so ocserv users migrate unchanged:
 *   user:group1,group2:hash      (groups may be "*" or empty; hash is crypt(3);
 *                                 a hash starting with '!' is a locked user) */
#ifndef WG_OCPASSWD_H
#define WG_OCPASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define OCPASSWD_MAX_GROUPS 16
#define OCPASSWD_FIELD_MAX 256

struct ocpasswd_entry {
	char user[OCPASSWD_FIELD_MAX];
	char groups[OCPASSWD_MAX_GROUPS][OCPASSWD_FIELD_MAX];
	unsigned n_groups;
	char hash[OCPASSWD_FIELD_MAX];
	bool locked;
};

enum { OCPASSWD_OK = 0, OCPASSWD_SKIP = 1, OCPASSWD_BAD = -1 };

/* Parses one line (without its newline). Returns OCPASSWD_OK, OCPASSWD_SKIP
 * for blank lines and # comments, or OCPASSWD_BAD for a malformed line. */
int ocpasswd_parse_line(const char *line, size_t len, struct ocpasswd_entry *e);

/* Scans a whole file's contents for `user`. Returns 1 and fills e when
 * found, 0 when not, and counts malformed lines in *bad_lines. */
int ocpasswd_find(const char *buf, size_t len, const char *user, struct ocpasswd_entry *e, unsigned *bad_lines);

/* The hash of the first usable entry, as a crypt(3) setting: checking a
 * password against it costs what checking a real user's costs (same
 * algorithm and parameters), which is what an unknown user must cost. */
bool ocpasswd_sample_hash(const char *buf, size_t len, char *out, size_t outlen);

#endif

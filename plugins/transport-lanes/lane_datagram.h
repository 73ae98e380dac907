/* What the lanes server reads of a datagram before any key is known (docs/
 * lanes.md section 3): the connection ID of a DTLS 1.3 record that carries
 * one, or the PSK identity of a ClientHello. Nothing read here is trusted;
 * it only picks the association, or the key, to try. Fuzzed. */
#ifndef WG_LANE_DATAGRAM_H
#define WG_LANE_DATAGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_LANE_CID_LEN 8 /* the CID the server gives every lane */

/* The CID of a DTLS 1.3 unified-header record that has its C bit set
 * (RFC 9147 section 4), assuming the server's CID length: 0 with cid set,
 * or -1. */
int wg_lane_datagram_cid(const uint8_t *d, size_t len, uint8_t cid[WG_LANE_CID_LEN]);

/* Whether the datagram is exactly one record: a unified-header record
 * without a length (it runs to the datagram's end) or with one that ends
 * where the datagram does, or a 13-byte-header record likewise. Then its
 * read stops after the record that gave data (dtls_assoc.h, single), as
 * transport-dtls does for DTLS 1.2. Only a hint: a wrong true loses what
 * follows the first record (the peer's DTLS sends one per datagram), a
 * wrong false costs one read. */
bool wg_lane_datagram_single_record(const uint8_t *d, size_t len);

/* If d begins with a plaintext handshake record holding the first
 * fragment of a ClientHello that is whole in it, finds the first identity
 * of its pre_shared_key extension: 0 with *id and *id_len pointing into d,
 * or -1 (not a ClientHello, fragmented, no PSK extension, malformed). */
int wg_lane_datagram_psk_identity(const uint8_t *d, size_t len, const uint8_t **id, size_t *id_len);

#endif

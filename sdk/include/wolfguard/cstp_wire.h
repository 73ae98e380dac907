/* The packet types of the OpenConnect tunnel, one definition for the
 * server, transport plugins and clients. On TLS (CSTP) each payload follows
 * an 8-byte header: 'S' 'T' 'F' 0x01, the payload length (16 bits,
 * big-endian), the type, 0x00. On DTLS the type byte alone precedes the
 * payload. A DATA payload is one IP packet. */
#ifndef WOLFGUARD_CSTP_WIRE_H
#define WOLFGUARD_CSTP_WIRE_H

#define WG_CSTP_HEADER_LEN 8
#define WG_CSTP_MAGIC "STF\x01" /* the header's first 4 bytes */

enum wg_cstp_type {
	WG_CSTP_DATA = 0x00,
	WG_CSTP_DPD_REQ = 0x03,    /* answered with DPD_RESP and the same payload */
	WG_CSTP_DPD_RESP = 0x04,
	WG_CSTP_DISCONNECT = 0x05, /* the sender leaves; payload: a reason byte, text */
	WG_CSTP_KEEPALIVE = 0x07,
	WG_CSTP_COMPRESSED = 0x08,
	WG_CSTP_TERMINATE = 0x09,
};

#endif

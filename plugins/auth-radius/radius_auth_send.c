/* Access-Request exchange of auth-radius, done here rather than by radcli:
 * radcli before 1.5 sends no Message-Authenticator and never checks one in
 * a reply (only with EAP), which leaves logins open to BlastRADIUS
 * (CVE-2024-3596) and is refused by hardened servers. radcli still provides
 * the attribute lists and the dictionary; this file puts them on the wire
 * (radius_packet.c) and back. Runs on a worker thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "radius.h"
#include "radius_packet.h"

#define MAX_SEND_ATTRS 64

/* The list as wire attributes; integers and addresses in network order in
 * `ints`. Returns how many, or -1 for one that cannot be sent. */
static int to_wire(const VALUE_PAIR *vp, struct radius_wire_attr *out, uint32_t *ints)
{
	int n = 0;

	for (; vp; vp = vp->next) {
		if (n >= MAX_SEND_ATTRS || vp->attribute > 255)
			return -1;
		out[n].type = (uint8_t)vp->attribute;
		if (vp->type == PW_TYPE_INTEGER || vp->type == PW_TYPE_IPADDR || vp->type == PW_TYPE_DATE) {
			ints[n] = htonl(vp->lvalue);
			out[n].value = (const uint8_t *)&ints[n];
			out[n].len = 4;
		} else if (vp->type == PW_TYPE_STRING) {
			out[n].value = (const uint8_t *)vp->strvalue;
			out[n].len = vp->lvalue;
		} else {
			return -1;
		}
		n++;
	}
	return n;
}

/* The integer sub-attributes of a Vendor-Specific attribute that the
 * dictionary knows (WISPr and Roaring Penguin rates), added to list. */
static void vsa_from_wire(rc_handle *rh, VALUE_PAIR **list, const uint8_t *vsa, size_t vlen)
{
	size_t pos = 4, sublen;
	const uint8_t *value;
	uint32_t vendor;
	uint8_t type;

	while (radius_vsa_next(vsa, vlen, &pos, &vendor, &type, &value, &sublen)) {
		DICT_ATTR *d = vendor <= 0xffff ? rc_dict_getattr(rh, (int)RADIUS_VSA_ID(type, vendor)) : NULL;
		if (!d || d->type != PW_TYPE_INTEGER || sublen != 4)
			continue;
		uint32_t v = (uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 | (uint32_t)value[2] << 8 | value[3];
		rc_avpair_add(rh, list, type, &v, 0, (int)vendor);
	}
}

/* The reply's attributes that the dictionary knows, as a radcli list;
 * Reply-Messages joined in msg. */
static VALUE_PAIR *from_wire(rc_handle *rh, const uint8_t *pkt, size_t len, char *msg)
{
	VALUE_PAIR *list = NULL;
	size_t pos = RADIUS_HDR_LEN, vlen;
	const uint8_t *value;
	uint8_t type;

	while (radius_attr_next(pkt, len, &pos, &type, &value, &vlen)) {
		if (type == RADIUS_ATTR_VENDOR_SPECIFIC) {
			vsa_from_wire(rh, &list, value, vlen);
			continue;
		}
		DICT_ATTR *d = rc_dict_getattr(rh, type);
		if (!d || type == RADIUS_ATTR_MESSAGE_AUTHENTICATOR || vlen == 0)
			continue;
		if (type == PW_REPLY_MESSAGE && msg) {
			size_t used = strlen(msg);
			if (used + vlen + 1 < PW_MAX_MSG_SIZE) {
				memcpy(msg + used, value, vlen);
				msg[used + vlen] = '\0';
			}
		}
		if (d->type == PW_TYPE_INTEGER || d->type == PW_TYPE_IPADDR || d->type == PW_TYPE_DATE) {
			if (vlen != 4)
				continue;
			uint32_t v = (uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 | (uint32_t)value[2] << 8 | value[3];
			rc_avpair_add(rh, &list, type, &v, 0, 0);
		} else if (d->type == PW_TYPE_STRING) {
			rc_avpair_add(rh, &list, type, value, (int)vlen, 0);
		}
	}
	return list;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int radius_auth_exchange(struct radius_plugin *p, const struct radius_server *srv, VALUE_PAIR *pairs,
			 VALUE_PAIR **received, char *msg, char *why, size_t whylen)
{
	struct radius_wire_attr attrs[MAX_SEND_ATTRS];
	uint32_t ints[MAX_SEND_ATTRS];
	uint8_t req[RADIUS_PKT_MAX], reply[RADIUS_PKT_MAX], auth[16], id;
	char port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
	int n, len, fd = -1, rc = TIMEOUT_RC;

	why[0] = '\0';
	*received = NULL;
	if ((n = to_wire(pairs, attrs, ints)) < 0 || getrandom(auth, sizeof(auth), 0) != sizeof(auth) ||
	    getrandom(&id, 1, 0) != 1 ||
	    (len = radius_request_build(req, id, auth, attrs, (size_t)n, srv->spec.secret)) < 0) {
		snprintf(why, whylen, "could not build the Access-Request");
		return ERROR_RC;
	}
	snprintf(port, sizeof(port), "%u", srv->spec.auth_port);
	if (getaddrinfo(srv->spec.host, port, &hints, &ai) != 0 || !ai) {
		snprintf(why, whylen, "cannot resolve %s", srv->spec.host);
		return ERROR_RC;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return ERROR_RC;
	}
	freeaddrinfo(ai);
	for (int attempt = 0; attempt <= p->retries && rc == TIMEOUT_RC; attempt++) {
		if (send(fd, req, (size_t)len, 0) != len) {
			snprintf(why, whylen, "send: %s", strerror(errno));
			rc = ERROR_RC;
			break;
		}
		double deadline = now_s() + p->timeout_s;
		for (;;) {
			double left = deadline - now_s();
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
				break;
			ssize_t got = recv(fd, reply, sizeof(reply), 0);
			if (got < 0)
				continue; /* ICMP unreachable: wait out the try */
			/* A reply that fails the checks is dropped, as a forgery
			 * would be; a genuine one may still come. */
			if (radius_reply_check(reply, (size_t)got, id, auth, srv->spec.secret, p->require_ma, why, whylen) < 0)
				continue;
			size_t plen = (size_t)reply[2] << 8 | reply[3];
			if (msg)
				msg[0] = '\0';
			*received = from_wire(radius_dict(p), reply, plen, msg);
			rc = reply[0] == RADIUS_CODE_ACCESS_ACCEPT   ? OK_RC
			     : reply[0] == RADIUS_CODE_ACCESS_REJECT ? REJECT_RC
								     : CHALLENGE_RC;
			why[0] = '\0';
			break;
		}
	}
	explicit_bzero(req, sizeof(req));
	close(fd);
	if (rc == TIMEOUT_RC && why[0])
		rc = BADRESP_RC; /* only bad replies came */
	return rc;
}

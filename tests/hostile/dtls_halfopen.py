#!/usr/bin/env python3
"""One logged-in user tries to hold every half-open DTLS handshake slot
(issue 22 item 5), for tests/e2e/tests-transport.sh.

It logs in, sends CONNECT offering PSK-NEGOTIATE to learn its X-DTLS-App-ID,
then from N source ports sends a DTLS 1.2 ClientHello carrying that App-ID,
answers each HelloVerifyRequest with the cookie (so the server keeps state
for it) and never finishes the handshake. Prints
"RESULT hellos=N verified=V held=H" (held: hellos the server answered with
a ServerHello, i.e. half-open handshakes it keeps) and keeps the sockets
open for --hold seconds, so the slots stay taken while the test checks that
another user still gets DTLS. Standard library only.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attack  # noqa: E402  (login, TLS and HTTP helpers)

# The PSK suites openconnect's GnuTLS offers (RFC 5487 / RFC 7905 numbers).
PSK_SUITES = (0x00A9, 0x00A8, 0xCCAB, 0x00AF, 0x00AE)


def connect_app_id(a, cookie):
    """CONNECT offering PSK-NEGOTIATE; returns (socket, App-ID bytes)."""
    s = attack.tls_connect(a)
    s.sendall((f'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: {a.host}\r\n'
               'User-Agent: Open AnyConnect VPN Agent v9.01\r\nX-CSTP-Version: 1\r\n'
               'X-CSTP-MTU: 1400\r\nX-CSTP-Address-Type: IPv4\r\n'
               'X-DTLS-CipherSuite: PSK-NEGOTIATE\r\n'
               f'Cookie: webvpn={cookie}\r\n\r\n').encode())
    st, h, _ = attack.read_response(s)
    app_id = h.get('x-dtls-app-id', [''])[0]
    if st != 200 or len(app_id) != 64:
        raise RuntimeError(f'CONNECT gave {st}, App-ID "{app_id}"')
    return s, bytes.fromhex(app_id)


def u24(n):
    return n.to_bytes(3, 'big')


def client_hello(rnd, sid, cookie, seq):
    body = b'\xfe\xfd' + rnd + bytes([len(sid)]) + sid + bytes([len(cookie)]) + cookie
    body += struct.pack('>H', 2 * len(PSK_SUITES)) + b''.join(struct.pack('>H', x) for x in PSK_SUITES)
    body += b'\x01\x00'  # compression: null
    ext = struct.pack('>HH', 0x0017, 0) + struct.pack('>HHB', 0xFF01, 1, 0)  # EMS, renegotiation_info
    body += struct.pack('>H', len(ext)) + ext
    hs = b'\x01' + u24(len(body)) + struct.pack('>H', seq) + u24(0) + u24(len(body)) + body
    return b'\x16\xfe\xff' + b'\0\0' + seq.to_bytes(6, 'big') + struct.pack('>H', len(hs)) + hs


def recv_within(s, seconds):
    r, _, _ = select.select([s], [], [], seconds)
    return s.recv(4096) if r else None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, default=443)
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--n', type=int, default=40)
    p.add_argument('--hold', type=float, default=20)
    a = p.parse_args()
    cookie = attack.login(a, a.user, a.password)
    if not cookie:
        return attack.result(False, error='login')
    tunnel, app_id = connect_app_id(a, cookie)
    socks, verified, held = [], 0, 0
    for _ in range(a.n):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((a.host, a.port))
        socks.append(u)
        rnd = os.urandom(32)
        u.send(client_hello(rnd, app_id, b'', 0))
        hvr = recv_within(u, 0.5)
        if not hvr or len(hvr) < 28 or hvr[0] != 22 or hvr[13] != 3:
            continue  # no HelloVerifyRequest: refused before any state
        verified += 1
        cookie_len = hvr[27]
        u.send(client_hello(rnd, app_id, hvr[28:28 + cookie_len], 1))
        sh = recv_within(u, 0.5)
        if sh and sh[0] == 22 and len(sh) > 13 and sh[13] == 2:
            held += 1  # a ServerHello: the server holds a half-open handshake for us
    attack.result(True, hellos=a.n, verified=verified, held=held)
    time.sleep(a.hold)
    for u in socks:
        u.close()
    tunnel.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Logs in and sends one CONNECT with the legacy DTLS headers given, as a
Cisco client would (tests/e2e/tests-dtls-legacy.sh); prints the status and
every X-DTLS* header of the answer, one per line ("name: value"). openconnect
cannot be told to send X-DTLS12-CipherSuite without PSK-NEGOTIATE, so this
is how the e2e tests see the server answer that list. Standard library only;
the login helpers are those of tests/hostile/attack.py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'hostile'))
import attack  # noqa: E402


def login(a):
    """attack.py's XML login, answering up to three forms with the same
    username and password (ocserv asks for them one form at a time)."""
    with attack.tls_connect(a) as s:
        st, h, body = attack.post(s, a, '/', attack.LOGIN_INIT.format(host=a.host))
        ctx = attack.cookie_from(h, 'webvpncontext')
        for _ in range(3):
            if st != 200:
                return None
            cookies = f'webvpncontext={ctx}' if ctx else ''
            st, h, body = attack.post(s, a, '/auth', attack.LOGIN_REPLY.format(user=a.user, password=a.password),
                                      cookies)
            ctx = attack.cookie_from(h, 'webvpncontext') or ctx
            if st == 200 and b'type="complete"' in body:
                return attack.cookie_from(h, 'webvpn')
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, default=443)
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--master', help='X-DTLS-Master-Secret (default: 48 random bytes as hex)')
    p.add_argument('--suites', help='X-DTLS-CipherSuite')
    p.add_argument('--suites12', help='X-DTLS12-CipherSuite')
    a = p.parse_args()
    cookie = login(a)
    if not cookie:
        print('login failed')
        return 1
    master = a.master if a.master is not None else os.urandom(48).hex().upper()
    hdrs = [f'X-DTLS-Master-Secret: {master}']
    if a.suites is not None:
        hdrs.append(f'X-DTLS-CipherSuite: {a.suites}')
    if a.suites12 is not None:
        hdrs.append(f'X-DTLS12-CipherSuite: {a.suites12}')
    with attack.tls_connect(a) as s:
        s.sendall((f'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: {a.host}\r\n'
                   'User-Agent: AnyConnect Linux_64 4.10.07061\r\nX-CSTP-Version: 1\r\n'
                   'X-CSTP-Hostname: legacy\r\nX-CSTP-MTU: 1400\r\nX-CSTP-Address-Type: IPv4\r\n'
                   f'Cookie: webvpn={cookie}\r\n' + ''.join(h + '\r\n' for h in hdrs) + '\r\n').encode())
        status, headers, _ = attack.read_response(s)
    print(f'status: {status}')
    for name in sorted(headers):
        if name.startswith('x-dtls'):
            for v in headers[name]:
                print(f'{name}: {v}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

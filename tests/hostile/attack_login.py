#!/usr/bin/env python3
"""Hostile clients against the login path (tests/e2e/tests-hostile-login.sh).

Like attack.py (whose helpers it reuses): each subcommand attacks the server
at HOST:PORT and prints one line "RESULT key=value ..." with what it
measured; the exit status is 0 when the server behaved as expected.
Standard library only. Lab use: certificates are not verified.
"""
import argparse
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attack  # noqa: E402  (the shared helpers)
from attack import CTX, LOGIN_INIT, LOGIN_REPLY, cookie_from, read_response, result, tls_connect  # noqa: E402


class Records:
    """A TLS connection driven through memory BIOs, so that many records can
    be produced first and then written to the socket in one burst."""

    def __init__(self, a):
        self.sock = socket.create_connection((a.host, a.port), timeout=15)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = CTX.wrap_bio(self.inc, self.out, server_hostname=a.host)
        self.plain = b''
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionError('closed during the handshake')
                self.inc.write(data)
        self._flush()

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def burst(self, records):
        """Encrypts each item as its own TLS record, then sends them all at once."""
        for r in records:
            self.tls.write(r)
        try:
            self.sock.sendall(self.out.read())
        except OSError:
            pass  # the server may answer and close before it read them all

    def recv(self, n=65536):
        """Plaintext, b'' once the server closed the connection."""
        while True:
            try:
                data = self.tls.read(n)
                if data:
                    return data
            except ssl.SSLWantReadError:
                pass
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b''
            raw = self.sock.recv(65536)
            if not raw:
                return b''
            self.inc.write(raw)

    def responses(self, limit):
        """Reads responses until the server closes or `limit` seconds pass
        without a byte; yields (status, headers, body)."""
        buf = b''
        self.sock.settimeout(limit)
        while True:
            while b'\r\n\r\n' in buf:
                head, _, rest = buf.partition(b'\r\n\r\n')
                lines = head.decode('latin-1').split('\r\n')
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(':')
                    headers.setdefault(k.strip().lower(), []).append(v.strip())
                n = int(headers.get('content-length', ['0'])[0])
                if len(rest) < n:
                    break
                yield int(lines[0].split()[1]), headers, rest[:n]
                buf = rest[n:]
            try:
                data = self.recv()
            except (socket.timeout, OSError, ssl.SSLError):
                return
            if not data:
                return
            buf += data


def cmd_pipeline(a):
    """One TLS connection, N requests sent in one burst, each record holding
    one whole request; with --mix, GET / (a login form, 200) and GET
    /nothing-I (404) alternate, so answers out of order show, and the records
    hold 1, 2, 3, 1, 2, 3... requests. Expects the answers in order, and
    either all N or the first --bound then 429 and a clean close."""
    c = Records(a)
    reqs = []
    for i in range(a.n):
        path = f'/nothing-{i}' if a.mix and i % 2 else '/'
        reqs.append(f'GET {path} HTTP/1.1\r\nHost: {a.host}\r\nUser-Agent: hostile\r\n\r\n'.encode())
    records, i = [], 0
    while i < len(reqs):
        k = 1 + len(records) % 3 if a.mix else 1
        records.append(b''.join(reqs[i:i + k]))
        i += k
    t0 = time.monotonic()
    c.burst(records)
    got, in_order, contexts = [], True, set()
    for st, h, _ in c.responses(20):
        i = len(got)
        got.append(st)
        want = 404 if a.mix and i % 2 else 200
        if i < a.n and st != want and not (i == a.bound and st == 429):
            in_order = False
        ctx = cookie_from(h, 'webvpncontext')
        if ctx:
            contexts.add(ctx)
        if 'close' in [v.lower() for v in h.get('connection', [])]:
            break
    try:
        closed = c.recv() == b'' if len(got) < a.n else True
    except (OSError, ssl.SSLError):
        closed = True  # a reset: the server closed with requests unread
    dt = time.monotonic() - t0
    answered = sum(1 for s in got if s in (200, 404))
    ok = in_order and (answered == a.n if not a.bound else answered == a.bound and got[-1] == 429 and closed)
    return result(ok, sent=a.n, answered=answered, last=got[-1] if got else 'none', in_order=in_order, closed=closed,
                  closed_after=len(got), contexts=len(contexts), seconds=f'{dt:.1f}')


def init_once(s, a, cookies=''):
    """One login init on s; returns the status (429 and closing count too)."""
    st, h, _ = attack.post(s, a, '/', LOGIN_INIT.format(host=a.host), cookies)
    return st, cookie_from(h, 'webvpncontext')


def cmd_conversation_flood(a):
    """--conns connections, each starting --per-conn login conversations
    (inits without a context cookie) and keeping them open. Counts the
    conversations the server agreed to hold and the refusals (429)."""
    held, refused, closed, socks = 0, 0, 0, []
    t0 = time.monotonic()
    for _ in range(a.conns):
        try:
            s = tls_connect(a)
        except OSError:
            closed += 1
            continue
        socks.append(s)
        for _ in range(a.per_conn):
            try:
                st, ctx = init_once(s, a)
            except (OSError, ConnectionError, ValueError, IndexError):
                closed += 1
                break
            if st == 200 and ctx:
                held += 1
            elif st in (429, 503):
                refused += 1
                break
    dt = time.monotonic() - t0
    for s in socks:
        s.close()
    ok = held <= a.max_held and refused + closed > 0
    return result(ok, attempts=a.conns * a.per_conn, held=held, refused=refused, closed=closed,
                  seconds=f'{dt:.1f}')


def cmd_hold_unauth(a):
    """Opens --n TLS connections (handshake done, no request) and keeps them
    --seconds. Counts how many the server took and how many it closed at
    once (refused). The exit status says whether at most --max-held stayed."""
    socks, refused = [], 0
    for _ in range(a.n):
        try:
            s = tls_connect(a, timeout=5)
            s.settimeout(0.2)
            try:
                if s.recv(1) == b'':
                    refused += 1
                    s.close()
                    continue
            except socket.timeout:
                pass
            socks.append(s)
        except (OSError, ssl.SSLError):
            refused += 1
    # A refused connection may have completed its handshake before the
    # server closed it: look again.
    held = 0
    for s in socks:
        s.settimeout(0.1)
        try:
            if s.recv(1) == b'':
                refused += 1
                continue
        except socket.timeout:
            held += 1
        except (OSError, ssl.SSLError):
            refused += 1
    print(f'HELD {held}', flush=True)
    time.sleep(a.seconds)
    for s in socks:
        s.close()
    return result(held <= a.max_held and held > 0, opened=a.n, held=held, refused=refused)


def cmd_logout(a):
    """Logs in (for a cookie), sends the XML logout with that cookie, and
    presents the cookie again: a logged-out cookie must be refused."""
    cookie = attack.login(a, a.user, a.password)
    if not cookie:
        return result(False, error='login_failed')
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<config-auth client="vpn" type="logout">'
            '<session-token>' + cookie + '</session-token></config-auth>')
    with tls_connect(a) as s:
        st_logout, _, _ = attack.post(s, a, '/', body, f'webvpn={cookie}')
    s, st = attack.connect_tunnel(a, cookie)
    s.close()
    return result(st_logout == 200 and st == 401, logout=st_logout, connect_after=st)


def cmd_context_reuse(a):
    """After --failures wrong passwords (the server then delays its next
    answer), fails once more, leaves at once and answers the same context on
    a new connection with the right password. The answer must not be
    accepted before the failure delay has passed: the server says 409 until
    then. Prints how soon a login could be completed."""
    for _ in range(a.failures):
        attack.login(a, a.user, 'wrong-' + os.urandom(4).hex())
    with tls_connect(a) as s:
        st, h, _ = attack.post(s, a, '/', LOGIN_INIT.format(host=a.host))
        ctx = cookie_from(h, 'webvpncontext')
        if st != 200 or not ctx:
            return result(False, error=f'init_{st}')
        req = LOGIN_REPLY.format(user=a.user, password='wrong')
        hdr = (f'POST /auth HTTP/1.1\r\nHost: {a.host}\r\nContent-Type: application/xml\r\n'
               f'Cookie: webvpncontext={ctx}\r\nContent-Length: {len(req)}\r\n\r\n')
        s.sendall(hdr.encode() + req.encode())
        t0 = time.monotonic()
        # Leave once the backend has said no (well within --settle), while
        # the new form still waits for the failure delay.
        time.sleep(a.settle)
    early, statuses = None, []
    while time.monotonic() - t0 < 15:
        with tls_connect(a) as s:
            st, h, body = attack.post(s, a, '/auth', LOGIN_REPLY.format(user=a.user, password=a.password),
                                      f'webvpncontext={ctx}')
        statuses.append(st)
        if st == 200 and cookie_from(h, 'webvpn'):
            early = time.monotonic() - t0
            break
        if st != 409:
            break
        time.sleep(0.1)
    return result(early is not None and early >= a.min_delay, accepted_after=f'{early:.2f}' if early else 'never',
                  answers=len(statuses), first=statuses[0] if statuses else 'none')


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, default=443)
    sub = p.add_subparsers(dest='cmd', required=True)
    x = sub.add_parser('pipeline')
    x.add_argument('--n', type=int, default=300)
    x.add_argument('--mix', action='store_true')
    x.add_argument('--bound', type=int, default=0, help='expect this many answers, then 429 and a close')
    x = sub.add_parser('conversation-flood')
    x.add_argument('--conns', type=int, default=50)
    x.add_argument('--per-conn', type=int, default=20)
    x.add_argument('--max-held', type=int, default=1 << 30)
    x = sub.add_parser('hold-unauth')
    x.add_argument('--n', type=int, default=100)
    x.add_argument('--seconds', type=float, default=10)
    x.add_argument('--max-held', type=int, default=1 << 30)
    for name in ('logout', 'context-reuse'):
        x = sub.add_parser(name)
        x.add_argument('--user', required=True)
        x.add_argument('--password', required=True)
        x.add_argument('--failures', type=int, default=4)
        x.add_argument('--min-delay', type=float, default=3.0)
        x.add_argument('--settle', type=float, default=1.0)
    a = p.parse_args()
    return globals()['cmd_' + a.cmd.replace('-', '_')](a)


if __name__ == '__main__':
    sys.exit(main())

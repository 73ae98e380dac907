#!/usr/bin/env python3
"""Hostile-client tool for wolfguard's e2e tests (tests/e2e/tests-hostile.sh).

Each subcommand attacks the server at HOST:PORT and prints one line
"RESULT key=value ..." with what it measured; the exit status is 0 when the
server behaved as expected (the shell test decides what else to check).
Standard library only. Lab use: certificates are not verified.
"""
import argparse
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time

LOGIN_INIT = ('<?xml version="1.0" encoding="UTF-8"?>\n<config-auth client="vpn" type="init">'
              '<version who="vpn">v9.01</version><device-id>linux-64</device-id>'
              '<group-access>https://{host}/</group-access></config-auth>')
LOGIN_REPLY = ('<?xml version="1.0" encoding="UTF-8"?>\n<config-auth client="vpn" type="auth-reply">'
               '<version who="vpn">v9.01</version><device-id>linux-64</device-id>'
               '<auth><username>{user}</username><password>{password}</password></auth></config-auth>')


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


CTX = tls_ctx()


def tls_connect(a, timeout=30.0):
    raw = socket.create_connection((a.host, a.port), timeout=timeout)
    return CTX.wrap_socket(raw, server_hostname=a.host)


def read_response(s, limit=1 << 20):
    """One HTTP response: (status, headers dict of lists, body). Raises on EOF."""
    buf = b''
    while b'\r\n\r\n' not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError('closed before a response')
        buf += chunk
        if len(buf) > limit:
            raise ValueError('response too large')
    head, _, body = buf.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(':')
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    n = int(headers.get('content-length', ['0'])[0])
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            break
        body += chunk
    return status, headers, body


def post(s, a, path, body, cookies=''):
    req = (f'POST {path} HTTP/1.1\r\nHost: {a.host}\r\nUser-Agent: Open AnyConnect VPN Agent v9.01\r\n'
           'X-Aggregate-Auth: 1\r\nX-Transcend-Version: 1\r\nContent-Type: application/xml\r\n'
           + (f'Cookie: {cookies}\r\n' if cookies else '') +
           f'Content-Length: {len(body)}\r\n\r\n')
    s.sendall(req.encode() + body.encode())
    return read_response(s)


def cookie_from(headers, name):
    for v in headers.get('set-cookie', []):
        m = re.match(name + r'=([^;]*)', v)
        if m and m.group(1):
            return m.group(1)
    return None


def login(a, user, password):
    """The XML login flow on one TLS connection; returns the webvpn cookie or None."""
    with tls_connect(a) as s:
        st, h, _ = post(s, a, '/', LOGIN_INIT.format(host=a.host))
        ctx = cookie_from(h, 'webvpncontext')
        if st != 200 or not ctx:
            return None
        st, h, body = post(s, a, '/auth', LOGIN_REPLY.format(user=user, password=password),
                           f'webvpncontext={ctx}')
        return cookie_from(h, 'webvpn') if st == 200 and b'type="complete"' in body else None


def connect_tunnel(a, cookie):
    """CONNECT with the cookie; returns (socket, status)."""
    s = tls_connect(a)
    s.sendall((f'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: {a.host}\r\n'
               'User-Agent: Open AnyConnect VPN Agent v9.01\r\nX-CSTP-Version: 1\r\n'
               'X-CSTP-Hostname: hostile\r\nX-CSTP-MTU: 1400\r\nX-CSTP-Address-Type: IPv4\r\n'
               + (f'Cookie: webvpn={cookie}\r\n' if cookie else '') + '\r\n').encode())
    st, _, _ = read_response(s)
    return s, st


def closed_within(s, seconds):
    """Seconds until the peer closed s, or None if it stayed open."""
    s.settimeout(0.5)
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            if not s.recv(4096):
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            return time.monotonic() - t0
    return None


def result(ok, **kv):
    print('RESULT ' + ' '.join(f'{k}={v}' for k, v in kv.items()), flush=True)
    return 0 if ok else 1


# --- attacks ------------------------------------------------------------------

def cmd_slowloris(a):
    """N TLS connections that send a header byte every few seconds; the
    server must cut every one of them (auth-timeout)."""
    socks, started = [], time.monotonic()
    for _ in range(a.n):
        try:
            s = tls_connect(a)
            s.sendall(b'POST / HTTP/1.1\r\nHost: x\r\n')
            socks.append(s)
        except OSError:
            pass
    cut, t_max = 0, 0.0
    deadline = started + a.limit
    alive = list(socks)
    while alive and time.monotonic() < deadline:
        for s in list(alive):
            try:
                s.settimeout(0.05)
                s.sendall(b'X-a: b\r\n')
                if s.recv(4096) == b'':
                    raise ConnectionError
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError, ConnectionError):
                cut += 1
                t_max = max(t_max, time.monotonic() - started)
                alive.remove(s)
        time.sleep(a.interval)
    for s in socks:
        s.close()
    return result(cut == len(socks) and len(socks) > 0, opened=len(socks), cut=cut,
                  max_seconds_to_cut=f'{t_max:.1f}')


def cmd_idle(a):
    """N plain TCP connections that never start TLS. The first
    max-unauthenticated are held until auth-timeout, the rest are refused at
    once (closed without a byte)."""
    socks = []
    for _ in range(a.n):
        try:
            socks.append(socket.create_connection((a.host, a.port), timeout=5))
        except OSError:
            pass
    # Refused at once: closed well before the 20 s handshake timeout that
    # cuts the held ones. Counted until enough were seen or 10 s passed (a
    # busy server may take a moment to accept and close them all).
    refused, t0 = 0, time.monotonic()
    while True:
        refused = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1, socket.MSG_PEEK) == b'':
                    refused += 1
            except BlockingIOError:
                pass
            except OSError:
                refused += 1
        if refused >= a.expect_refused or time.monotonic() - t0 >= 10:
            break
        time.sleep(0.2)
    # Wait (bounded) for the server to close the rest; a socket counts as
    # closed once a read returns EOF or fails with anything but a timeout.
    t0 = time.monotonic()
    open_socks = [s for s in socks]
    cut_after = 0.0
    while open_socks and time.monotonic() - t0 < a.limit:
        for s in list(open_socks):
            s.setblocking(False)
            try:
                if s.recv(1) == b'':
                    raise ConnectionError
            except BlockingIOError:
                continue
            except OSError:
                open_socks.remove(s)
                cut_after = time.monotonic() - t0 + 1.0
        time.sleep(0.2)
    still_open = len(open_socks)
    for s in socks:
        s.close()
    return result(still_open == 0 and refused >= a.expect_refused, opened=len(socks), refused_at_once=refused,
                  all_closed_after_seconds=f'{cut_after:.1f}', still_open=still_open)


def probe(a, request):
    """Sends request (ignoring a reset mid-way: the server may answer and
    close before reading all of it) and returns the status or 'closed'."""
    with tls_connect(a) as s:
        try:
            s.sendall(request)
        except OSError:
            pass
        try:
            return read_response(s)[0]
        except (OSError, ConnectionError, ValueError, IndexError):
            return 'closed'


def cmd_big(a):
    """Oversized request headers (expect 431) and an oversized body (413).
    Requests are a little over the caps (16 KiB of headers, 64 KiB of body)."""
    got = {
        'many_headers': probe(a, b'POST / HTTP/1.1\r\nHost: x\r\n' + b''.join(
            b'X-Pad-%d: %s\r\n' % (i, b'a' * 1000) for i in range(17)) + b'\r\n'),
        'long_header': probe(a, b'POST / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'b' * 17000 + b'\r\n\r\n'),
        'header_count': probe(a, b'POST / HTTP/1.1\r\nHost: x\r\n' + b''.join(
            b'X-%d: 1\r\n' % i for i in range(60)) + b'\r\n'),
        'declared_body': probe(a, b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n'),
        'chunked_body': probe(a, b'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                              + b'10000\r\n' + b'd' * 65536 + b'\r\n10\r\n' + b'd' * 16 + b'\r\n0\r\n\r\n'),
    }
    ok = (got['many_headers'] == 431 and got['long_header'] == 431 and got['header_count'] == 431
          and got['declared_body'] == 413 and got['chunked_body'] == 413)
    return result(ok, **got)


def cstp(ptype, payload=b'', length=None):
    n = len(payload) if length is None else length
    return b'STF\x01' + struct.pack('>HBB', n, ptype, 0) + payload


def cmd_cstp(a):
    """After a real login and CONNECT: frames with wrong magic, a length
    beyond the MTU, a length larger than what follows, an unknown type. Each
    must end that tunnel connection (or be ignored), never the server."""
    cookie = login(a, a.user, a.password)
    if not cookie:
        return result(False, error='login_failed')
    cases = {
        'bad_magic': b'XXXX' + struct.pack('>HBB', 20, 0, 0) + b'\0' * 20,
        'huge_length': cstp(0, b'\x45' + b'\0' * 100, length=65535),
        'over_mtu': cstp(0, b'\x45' + b'\0' * 9000),
        'unknown_type': cstp(0x42, b'zz'),
        'truncated_then_close': cstp(0, b'\x45', length=1000),
    }
    out, ok = {}, True
    for name, frame in cases.items():
        s, st = connect_tunnel(a, cookie)
        if st != 200:
            out[name] = f'connect_{st}'
            ok = False
            s.close()
            continue
        try:
            s.sendall(frame)
        except OSError:
            pass
        t = closed_within(s, 3.0)
        out[name] = 'closed' if t is not None else 'ignored'
        s.close()
    return result(ok, **out)


def cmd_noauth(a):
    """CONNECT with no cookie, a made-up one and a malformed one: all 401."""
    out = {}
    for name, c in (('none', None), ('random', os.urandom(32).hex()), ('garbage', 'x' * 300)):
        s, st = connect_tunnel(a, c)
        out[name] = st
        s.close()
    return result(all(v in (401, 403) for v in out.values()), **out)


def cmd_login_cookie(a):
    c = login(a, a.user, a.password)
    if c:
        print(c)
    return 0 if c else 1


def cmd_connect_cookie(a):
    """CONNECT with a given cookie; prints the status."""
    s, st = connect_tunnel(a, a.cookie)
    s.close()
    return result(st == a.expect, status=st)


def cmd_failed_logins(a):
    """N wrong-password logins from T threads; counts how the server answered."""
    counts = {'denied': 0, 'refused': 0, 'accepted': 0}
    lock = threading.Lock()
    per = a.n // a.threads

    def worker():
        for _ in range(per):
            try:
                k = 'accepted' if login(a, a.user, 'wrong-' + os.urandom(4).hex()) else 'denied'
            except (OSError, ssl.SSLError, ConnectionError, ValueError, IndexError):
                k = 'refused'
            with lock:
                counts[k] += 1

    t0 = time.monotonic()
    th = [threading.Thread(target=worker) for _ in range(a.threads)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    dt = time.monotonic() - t0
    return result(counts['accepted'] == 0, attempts=per * a.threads, seconds=f'{dt:.1f}',
                  per_second=f'{per * a.threads / dt:.0f}', **counts)


def cmd_soak(a):
    """Login + CONNECT + DISCONNECT frame in a loop for S seconds."""
    t0, ok, bad = time.monotonic(), 0, 0
    while time.monotonic() - t0 < a.seconds:
        try:
            c = login(a, a.user, a.password)
            s, st = connect_tunnel(a, c)
            if st == 200:
                s.sendall(cstp(0x05, b'\xb0'))
                closed_within(s, 2.0)
                ok += 1
            else:
                bad += 1
            s.close()
        except (OSError, ssl.SSLError, ConnectionError, ValueError):
            bad += 1
    return result(ok > 0 and bad == 0, sessions=ok, errors=bad, seconds=f'{time.monotonic() - t0:.0f}')


def cmd_dtls_garbage(a):
    """Junk datagrams, truncated and oversized DTLS records and a ClientHello
    with an unknown App-ID, each sent many times (replays) to UDP 443."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hello = (b'\x16\xfe\xff' + b'\0\0' + b'\0' * 6 + struct.pack('>H', 80) + b'\x01' + b'\0\0\x4c' + b'\0\0'
             + b'\0\0\0' + b'\0\0\x4c' + b'\xfe\xfd' + os.urandom(32) + b'\x20' + os.urandom(32) + b'\0' * 10)
    kinds = [os.urandom(1), os.urandom(200), b'\x17\xfe\xfd' + os.urandom(10), b'\x16\xfe\xfd' + b'\xff' * 20,
             hello, b'\x17\xfe\xfd' + b'\0\x01' + b'\0' * 6 + b'\xff\xff' + os.urandom(1400)]
    sent = 0
    t0 = time.monotonic()
    for i in range(a.n):
        s.sendto(kinds[i % len(kinds)], (a.host, a.port))
        sent += 1
        if i % 200 == 0:
            time.sleep(0.01)
    return result(True, datagrams=sent, seconds=f'{time.monotonic() - t0:.1f}')


def cmd_dtls_replay(a):
    """Captures the client's own DTLS datagrams on its interface (AF_PACKET)
    and sends each one again, byte for byte, with the same IP and UDP header
    (raw socket): a true replay the DTLS replay window must drop."""
    ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
    # ETH_P_ALL: only "all protocols" packet sockets see outgoing packets.
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    cap.bind((a.iface, ETH_P_ALL))
    cap.settimeout(0.5)
    got, t0 = [], time.monotonic()
    while len(got) < a.n and time.monotonic() - t0 < a.limit:
        try:
            pkt, addr = cap.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[1] != ETH_P_IP or addr[2] != socket.PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17:
            continue
        ihl = (pkt[0] & 0x0f) * 4
        dport = struct.unpack('>H', pkt[ihl + 2:ihl + 4])[0]
        if dport == a.port and socket.inet_ntoa(pkt[16:20]) == a.host:
            got.append(pkt)
    cap.close()
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for _ in range(a.times):
        for pkt in got:
            raw.sendto(pkt, (a.host, 0))
            sent += 1
    return result(len(got) > 0, captured=len(got), replayed=sent)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, default=443)
    sub = p.add_subparsers(dest='cmd', required=True)
    x = sub.add_parser('slowloris')
    x.add_argument('--n', type=int, default=50)
    x.add_argument('--interval', type=float, default=1.0)
    x.add_argument('--limit', type=float, default=60)
    x = sub.add_parser('idle')
    x.add_argument('--n', type=int, default=100)
    x.add_argument('--limit', type=float, default=60)
    x.add_argument('--expect-refused', type=int, default=0)
    sub.add_parser('big')
    for name in ('cstp', 'login-cookie', 'failed-logins', 'soak'):
        x = sub.add_parser(name)
        x.add_argument('--user', required=True)
        x.add_argument('--password', required=True)
        x.add_argument('--n', type=int, default=1000)
        x.add_argument('--threads', type=int, default=8)
        x.add_argument('--seconds', type=float, default=30)
    sub.add_parser('noauth')
    x = sub.add_parser('connect-cookie')
    x.add_argument('--cookie', required=True)
    x.add_argument('--expect', type=int, default=200)
    x = sub.add_parser('dtls-garbage')
    x.add_argument('--n', type=int, default=5000)
    x = sub.add_parser('dtls-replay')
    x.add_argument('--iface', required=True)
    x.add_argument('--n', type=int, default=200)
    x.add_argument('--times', type=int, default=3)
    x.add_argument('--limit', type=float, default=15)
    a = p.parse_args()
    return globals()['cmd_' + a.cmd.replace('-', '_')](a)


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Failover of many sessions between two wolfguard nodes (bench/cluster.sh).

Opens SESSIONS OpenConnect sessions (XML login, then CONNECT with the
cookie, the tunnel held with CSTP keepalives and DPD answers), dealt in turn
to the nodes given; then kills node A's process (SIGKILL: no DISCONNECT to
its clients) and reconnects every session whose connection A dropped to
the next node with the session's cookie, as a client whose node died does.
Prints one JSON line: how many sessions came back, and how fast.

wolfguard-bench holds sessions but has no reconnect-by-cookie, so this
script speaks the few protocol steps itself (asyncio, one process).
"""
import argparse
import asyncio
import json
import os
import re
import resource
import signal
import ssl
import sys
import time

UA = "Open AnyConnect VPN Agent v9.01"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def ctx_for():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


async def http(reader, writer, req):
    """One request, its answer: (status, headers text, body)."""
    writer.write(req)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    text = head.decode("latin-1")
    status = int(text.split(" ", 2)[1])
    m = re.search(r"(?im)^content-length:\s*(\d+)", text)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, text, body.decode("utf-8", "replace")


def post(host, path, body, context=None):
    cookie = f"Cookie: webvpncontext={context}\r\n" if context else ""
    data = body.encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {UA}\r\n{cookie}"
            "X-Transcend-Version: 1\r\nX-Aggregate-Auth: 1\r\nX-Support-HTTP-Auth: true\r\n"
            f"Content-Type: application/xml; charset=utf-8\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data


async def login(node, src, user, password, tls):
    """The XML login; returns the webvpn cookie."""
    host, port = node
    reader, writer = await asyncio.open_connection(host, port, ssl=tls, local_addr=(src, 0))
    try:
        body = (XML_HEAD + '<config-auth client="vpn" type="init" aggregate-auth-version="2">'
                f"<group-access>https://{host}/</group-access></config-auth>")
        status, head, answer = await http(reader, writer, post(host, "/", body))
        context = None
        for _ in range(6):
            m = re.search(r"(?im)^set-cookie:\s*webvpn=([^;\r\n]+)", head)
            if m and m.group(1):
                return m.group(1)
            m = re.search(r"(?im)^set-cookie:\s*webvpncontext=([^;\r\n]*)", head)
            if m and m.group(1):
                context = m.group(1)
            if status != 200:
                raise RuntimeError(f"login answered {status}")
            action = re.search(r'<form[^>]*action="([^"]*)"', answer)
            fields = ""
            for tag in re.findall(r"<input[^>]*>", answer):
                name = re.search(r'name="([^"]+)"', tag)
                kind = re.search(r'type="([^"]+)"', tag)
                name, kind = (name.group(1) if name else ""), (kind.group(1) if kind else "text")
                if kind == "password":
                    fields += f"<{name}>{password}</{name}>"
                elif name == "username":
                    fields += f"<{name}>{user}</{name}>"
            body = (XML_HEAD + '<config-auth client="vpn" type="auth-reply" aggregate-auth-version="2">'
                    f"<auth>{fields}</auth></config-auth>")
            status, head, answer = await http(reader, writer,
                                              post(host, action.group(1) if action else "/", body, context))
        raise RuntimeError("no cookie after six steps")
    finally:
        writer.close()


class Session:
    def __init__(self, idx, src):
        self.idx, self.src = idx, src
        self.cookie = None
        self.node = None
        self.dropped = asyncio.Event()
        self.writer = None
        self.addr = None


async def hold(s, reader, writer, keepalive):
    """Keeps the tunnel: keepalives out, DPD requests answered, the rest read and dropped."""
    async def beat():
        while True:
            await asyncio.sleep(keepalive)
            writer.write(b"STF\x01\x00\x00\x07\x00")
            await writer.drain()
    beater = asyncio.ensure_future(beat())
    try:
        while True:
            hdr = await reader.readexactly(8)
            n = int.from_bytes(hdr[4:6], "big")
            if n:
                await reader.readexactly(n)
            if hdr[6] == 0x03:  # DPD request
                writer.write(b"STF\x01\x00\x00\x04\x00")
    except (asyncio.IncompleteReadError, ConnectionError, OSError, ssl.SSLError):
        pass
    finally:
        beater.cancel()
        s.dropped.set()


async def connect(s, node, tls, keepalive):
    """CONNECT with the cookie; the tunnel is then held in the background."""
    host, port = node
    reader, writer = await asyncio.open_connection(host, port, ssl=tls, local_addr=(s.src, 0))
    writer.write((f"CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {UA}\r\n"
                  f"Cookie: webvpn={s.cookie}\r\nX-CSTP-Version: 1\r\nX-CSTP-Hostname: bench{s.idx}\r\n"
                  "X-CSTP-Base-MTU: 1500\r\nX-CSTP-MTU: 1400\r\nX-CSTP-Address-Type: IPv4\r\n\r\n").encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    if status != 200:
        writer.close()
        raise RuntimeError(f"CONNECT answered {status}")
    m = re.search(r"(?im)^x-cstp-address:\s*(\S+)", head)
    s.addr = m.group(1) if m else None
    s.node, s.writer = node, writer
    s.dropped = asyncio.Event()
    asyncio.ensure_future(hold(s, reader, writer, keepalive))


def cpu_ms(pid):
    """utime + stime of a process and its children, in ms (None when unreadable)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def own_cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(len(v) * p / 100))], 1)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", required=True, help="HOST:PORT,HOST:PORT (A first: A is killed)")
    ap.add_argument("--kill-pid", type=int, required=True, help="node A's process")
    ap.add_argument("--b-pid", type=int, help="node B's process: its CPU time over the failover is reported")
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--keepalive", type=float, default=20)
    ap.add_argument("--settle", type=float, default=3, help="seconds between the ramp and the kill")
    ap.add_argument("--retry-for", type=float, default=60, help="how long a reconnect is retried")
    a = ap.parse_args()
    nodes = [(h, int(p)) for h, p in (n.rsplit(":", 1) for n in a.nodes.split(","))]
    tls = ctx_for()
    sessions = [Session(i, f"127.1.{(i // 250) % 250}.{i % 250 + 2}") for i in range(a.sessions)]
    gate = asyncio.Semaphore(a.concurrency)
    errors = []

    async def setup(s):
        async with gate:
            node = nodes[s.idx % len(nodes)]
            try:
                s.cookie = await login(node, s.src, a.user, a.password, tls)
                await connect(s, node, tls, a.keepalive)
            except Exception as e:  # a failed set-up is counted, not fatal
                errors.append(f"setup {s.idx}: {e}")
    t0 = time.monotonic()
    await asyncio.gather(*(setup(s) for s in sessions))
    ramp = time.monotonic() - t0
    up = [s for s in sessions if s.node]
    on_a = [s for s in up if s.node == nodes[0]]
    await asyncio.sleep(a.settle)

    # Node A dies; its sessions come back on the next node with their cookies.
    before = {s.idx: s.addr for s in on_a}
    b_cpu0, own0 = cpu_ms(a.b_pid) if a.b_pid else None, own_cpu_ms()
    killed = time.monotonic()
    os.kill(a.kill_pid, signal.SIGKILL)
    back_ms, failed = [], []

    async def failover(s):
        await s.dropped.wait()
        noticed = time.monotonic()
        deadline = noticed + a.retry_for
        last = ""
        while time.monotonic() < deadline:
            async with gate:
                try:
                    await connect(s, nodes[1], tls, a.keepalive)
                    back_ms.append((time.monotonic() - killed) * 1000)
                    return
                except Exception as e:
                    last = str(e)
            await asyncio.sleep(0.5)
        failed.append(f"{s.idx}: {last}")
    await asyncio.gather(*(failover(s) for s in on_a))
    b_cpu = cpu_ms(a.b_pid) if a.b_pid else None
    b_cpu = round(b_cpu - b_cpu0) if b_cpu is not None and b_cpu0 is not None else None
    own = round(own_cpu_ms() - own0)
    same_addr = sum(1 for s in on_a if s.node == nodes[1] and s.addr and s.addr == before[s.idx])
    print(json.dumps({
        "sessions": a.sessions, "set_up": len(up), "setup_errors": len(errors), "ramp_s": round(ramp, 2),
        "on_a": len(on_a), "back_on_b": len(back_ms), "not_back": len(failed),
        "back_ms_p50": pct(back_ms, 50), "back_ms_p95": pct(back_ms, 95), "back_ms_max": pct(back_ms, 100),
        "all_back_ms": round(max(back_ms), 1) if back_ms else None, "same_address": same_addr,
        "b_cpu_ms": b_cpu, "client_cpu_ms": own,
        "first_errors": (errors + failed)[:3],
    }))
    for s in sessions:
        if s.writer:
            s.writer.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

#!/usr/bin/env python3
"""Counts the occurrences of a byte string in the readable memory of a
process (its /proc/PID/maps and /proc/PID/mem; needs root).

Usage: mem_find.py PID HEX   -> prints the number of hits, exits 0
Used to check which process holds the server's TLS private key: the
private scalar (EC) or exponent (RSA) in big-endian, as a DER key holds it.
"""
import re
import sys


CHUNK = 16 << 20
HUGE = 4 << 30  # sanitizer shadow memory: terabytes of reserved zeros, no data


def main():
    pid, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
    hits = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not m or m.group(3)[0] != "r" or "[vvar" in line or "[vsyscall]" in line:
                continue
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            if end - start > HUGE:
                continue
            tail = b""
            for at in range(start, end, CHUNK):
                try:
                    mem.seek(at)
                    chunk = tail + mem.read(min(CHUNK, end - at))
                except (OSError, ValueError, OverflowError):
                    tail = b""
                    continue
                hits += chunk.count(needle)
                # a match across the chunk boundary is counted once, in the next chunk
                tail = chunk[-(len(needle) - 1):] if len(needle) > 1 else b""
    print(hits)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The service manager's side of sd_notify(3), for tests on machines where
systemd is not PID 1: binds the datagram socket named by NOTIFY_SOCKET
(a path, or @name for an abstract socket of the current network namespace)
and appends every message to LOGFILE as one line, its fields joined by
" | ". Runs until killed.

Usage: notify-listen.py SOCKET LOGFILE
"""
import os
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: notify-listen.py SOCKET LOGFILE")
    name, logfile = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if name.startswith("@"):
        sock.bind("\0" + name[1:])
    else:
        if os.path.exists(name):
            os.unlink(name)
        sock.bind(name)
        # The server sends after it dropped root.
        os.chmod(name, 0o777)
    # Credentials of the sender, as systemd reads them (NotifyAccess).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    with open(logfile, "a", buffering=1) as log:
        log.write("listening\n")
        while True:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
            pid = "?"
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = str(int.from_bytes(payload[0:4], sys.byteorder))
            fields = data.decode("utf-8", "replace").strip("\n").split("\n")
            log.write("pid=%s | %s\n" % (pid, " | ".join(fields)))


if __name__ == "__main__":
    main()

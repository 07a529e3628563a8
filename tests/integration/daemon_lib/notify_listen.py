#!/usr/bin/env python3
"""A stand-in for systemd's notification socket: bind a datagram socket at
argv[1] and append every message to argv[2], one line per message with the
message's own newlines shown as ' | '.  Used by the daemon's integration
tests to see READY=1, RELOADING=1, STATUS= and WATCHDOG=1 exactly as
systemd would receive them."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536)
        f.write(data.decode("utf-8", "replace").replace("\n", " | ") + "\n")

#!/usr/bin/env python3
"""A stand-in for journald's native socket (/run/systemd/journal/socket,
bound inside a private mount namespace by daemon_journal.sh): every
datagram is one entry of KEY=VALUE lines (or KEY, a 64-bit little-endian
length and binary data); each entry is written to argv[2] as one JSON
object, so the test can check the structured fields hashwatchd sends."""
import json
import os
import socket
import struct
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(1 << 20)
        entry, i = {}, 0
        while i < len(data):
            nl = data.index(b"\n", i)
            line = data[i:nl]
            if b"=" in line:
                k, v = line.split(b"=", 1)
                i = nl + 1
            else:
                k = line
                (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
                v = data[nl + 9:nl + 9 + n]
                i = nl + 9 + n + 1
            entry[k.decode()] = v.decode("utf-8", "replace")
        f.write(json.dumps(entry) + "\n")

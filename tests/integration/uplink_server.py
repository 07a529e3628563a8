#!/usr/bin/env python3
"""uplink_server.py - a small HTTPS receiver for uplink_retry.sh, speaking
the device API of hashwatch-receiver (docs/receiver-api.md): POST
/v1/alerts and /v1/heartbeats with the scanner's envelope {"format",
"payload", "sig", "device_pub"} as the body; 201 "stored" / 200
"duplicate" by alert id.  It answers the first requests from a plan
(--plan "503/2,ok,429/http-date+3,..."), which the real receiver cannot
be made to do on demand (503 or 429 with Retry-After); the other uplink
tests use the real receiver.  It checks neither enrolment nor signatures.
Every request is logged as one JSON line: time, path, alert id, status,
client port (one port = one TLS connection), so that tests count
deliveries server-side.
"""
import argparse
import base64
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--plan", default="",
                    help="answers for the first requests, comma-separated: 'ok' (the normal"
                         " answer), 'STATUS' or 'STATUS/RETRY-AFTER' ('http-date+N': a date"
                         " N s ahead); later requests get the normal answer")
    a = ap.parse_args()

    lock = threading.Lock()
    state = {"requests": 0, "stored": set()}
    plan = [p for p in a.plan.split(",") if p]
    log = open(a.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the uplink reuses one connection

        def setup(self):
            super().setup()
            # Headers and body go out in two writes: without this, Nagle
            # and delayed ACKs add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def reply(self, status, obj, extra=()):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def check(self, kind, raw):
            """(status, answer, alert_id) for one body."""
            try:
                env = json.loads(raw)
                if not isinstance(env, dict) or env.get("format") != "hashwatch-%s/1" % kind:
                    return 400, {"error": "bad_format", "detail": "wrong format"}, None
                payload = base64.b64decode(env["payload"], validate=True)
                rec = json.loads(payload)
            except (ValueError, TypeError, KeyError):
                return 400, {"error": "bad_json", "detail": "not JSON"}, None
            if kind == "heartbeat":
                return 200, {"status": "stored"}, None
            aid = rec.get("alert_id")
            with lock:
                dup = aid in state["stored"]
                state["stored"].add(aid)
            if dup:
                return 200, {"status": "duplicate", "alert_id": aid}, aid
            return 201, {"status": "stored", "alert_id": aid}, aid

        def do_POST(self):
            t = time.time()
            n = int(self.headers.get("Content-Length", "0"))
            if n > MAX_BODY:
                self.close_connection = True
                return self.reply(413, {"error": "too_large", "detail": "body too large"})
            raw = self.rfile.read(n)
            kind = {"/v1/alerts": "alert", "/v1/heartbeats": "heartbeat"}.get(self.path)
            extra, aid = [], None
            with lock:
                step = plan[state["requests"]] if state["requests"] < len(plan) else "ok"
                state["requests"] += 1
            if kind is None:
                status, answer = 404, {"error": "not_found", "detail": "no such endpoint"}
            elif not self.headers.get("Content-Type", "").startswith("application/json"):
                status, answer = 415, {"error": "content_type", "detail": "send JSON"}
            elif step != "ok":
                status, _, ra = step.partition("/")
                status, answer = int(status), {"error": "busy", "detail": "try later"}
                if ra:
                    if ra.startswith("http-date+"):
                        ra = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                           time.gmtime(time.time() + int(ra[10:])))
                    extra.append(("Retry-After", ra))
                try:
                    aid = json.loads(base64.b64decode(json.loads(raw)["payload"])).get("alert_id")
                except (ValueError, TypeError, KeyError, AttributeError):
                    pass
            else:
                status, answer, aid = self.check(kind, raw)
            log.write(json.dumps({"t": t, "path": self.path, "alert_id": aid, "status": status,
                                  "port": self.client_address[1]}) + "\n")
            self.reply(status, answer, extra)

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The receiving ends of Ferry's notifications, for the test command:

- a real SMTP server (aiosmtpd) on --smtp-port offering STARTTLS with --cert/--key and
  requiring AUTH (user "ferry", password "mail-secret") once TLS is on; every message it accepts
  is written to OUT/mail/<n>.json as {"from", "to", "data"};
- an HTTP receiver on --http-port for Slack-compatible webhooks and Telegram's Bot API: every
  POST is written to OUT/http/<n>.json as {"path", "body"}; it answers 200 (Telegram's paths get
  {"ok": true}), except paths containing "/fail" (HTTP 500) and "/refuse" (HTTP 403).

Usage: python notify_servers.py --smtp-port P --http-port Q --cert C --key K --out DIR
"""
import argparse
import itertools
import json
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

counter = itertools.count(1)
lock = threading.Lock()


def save(folder, record):
    with lock:
        n = next(counter)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{n}.tmp")
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.rename(tmp, os.path.join(folder, f"{n:06d}.json"))


class Mailbox:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        save(self.folder, {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                           "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"ferry" and auth_data.password == b"mail-secret"
    return AuthResult(success=ok)


class Receiver(BaseHTTPRequestHandler):
    folder = ""

    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length).decode("utf-8", "replace")
        save(self.folder, {"path": self.path, "body": body})
        if "/refuse" in self.path:
            self.send_response(403)
            payload = b'{"ok": false, "description": "Forbidden: bot was blocked"}'
        elif "/fail" in self.path:
            self.send_response(500)
            payload = b"{}"
        else:
            self.send_response(200)
            payload = b'{"ok": true, "result": {}}' if "/bot" in self.path else b"ok"
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(a.cert, a.key)
    smtp = Controller(Mailbox(os.path.join(a.out, "mail")), hostname="127.0.0.1", port=a.smtp_port, tls_context=context,
                      require_starttls=False, auth_require_tls=True, authenticator=authenticator)
    smtp.start()
    Receiver.folder = os.path.join(a.out, "http")
    http = ThreadingHTTPServer(("127.0.0.1", a.http_port), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

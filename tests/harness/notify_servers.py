"""The receiving ends of Ferry's notifications, for the test command:

- a real SMTP server (aiosmtpd) on --smtp-port offering STARTTLS with --cert/--key and
  requiring AUTH (user "ferry", password "mail-secret") once TLS is on; every message it accepts
  is written to OUT/mail/<n>.json as {"from", "to", "data"};
- an HTTP receiver on --http-port for Slack-compatible webhooks and Telegram's Bot API: every
  POST is written to OUT/http/<n>.json as {"path", "body"}; it answers 200 (Telegram's paths get
  {"ok": true}), except paths containing "/fail" (HTTP 500) and "/refuse" (HTTP 403);
- on the same port, an OpenAI-compatible chat completions API at POST /llm/v1/chat/completions
  (base URL <http>/llm/v1) for LLM reviews. It wants "Authorization: Bearer llm-secret" (else
  401, echoing the key it got, as some providers do) and answers by the request's "model":
  verdict-pass (a valid PASS), verdict-fail (a valid FAIL with the issue "Chart 'X' shows an
  error"), garbage (content that is not JSON), bad-verdict (verdict "MAYBE"), error-500 (always
  HTTP 500), slow (a PASS after 10 s); any other model is a 404. Every request is appended to
  OUT/llm-requests.jsonl as {"path", "model", "image", "text", "authorized", "headers"} (the
  headers without Authorization; "image": whether a content part was an image_url).

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


LLM_KEY = "llm-secret"
LLM_ISSUE = "Chart 'X' shows an error"


def llm_content(model):
    """The message content a model answers with, or None for a model that has no answer."""
    if model in ("verdict-pass", "slow"):
        return json.dumps({"verdict": "PASS", "summary": "The dashboard looks fine.", "issues": []})
    if model == "verdict-fail":
        return json.dumps({"verdict": "FAIL", "summary": "A chart shows an error box.",
                           "issues": [{"severity": "FAIL", "message": LLM_ISSUE}]})
    if model == "garbage":
        return "I looked at the dashboard and it seems mostly fine, I think!"
    if model == "bad-verdict":
        return json.dumps({"verdict": "MAYBE", "summary": "Hard to say.", "issues": []})
    return None


class Receiver(BaseHTTPRequestHandler):
    folder = ""
    out = ""

    def answer(self, status, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a "slow" model past its timeout)

    def do_llm(self):
        # Screenshots are large: the whole body, up to 64 MiB.
        length = min(int(self.headers.get("Content-Length") or 0), 64 << 20)
        raw = self.rfile.read(length)
        try:
            request = json.loads(raw.decode("utf-8"))
        except ValueError:
            request = {}
        if not isinstance(request, dict):
            request = {}
        model = request.get("model") if isinstance(request.get("model"), str) else ""
        image, texts = False, []
        for message in request.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str) and message.get("role") == "user":
                texts.append(content)
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and part.get("type") == "image_url":
                        image = True
                    elif isinstance(part, dict) and part.get("type") == "text":
                        texts.append(str(part.get("text")))
        given = self.headers.get("Authorization") or ""
        authorized = given == "Bearer " + LLM_KEY
        record = {"path": self.path, "model": model, "image": image, "text": "\n".join(texts)[:4000], "authorized": authorized,
                  "temperature": request.get("temperature"), "responseFormat": request.get("response_format"),
                  "headers": {k: v for k, v in self.headers.items() if k.lower() != "authorization"}}
        with lock:
            with open(os.path.join(self.out, "llm-requests.jsonl"), "a") as f:
                f.write(json.dumps(record) + "\n")
        if self.path != "/llm/v1/chat/completions":
            return self.answer(404, {"error": {"message": "no such endpoint: " + self.path}})
        if not authorized:
            key = given[len("Bearer "):] if given.startswith("Bearer ") else given
            return self.answer(401, {"error": {"message": "Incorrect API key provided: " + key, "type": "invalid_request_error"}})
        if model == "error-500":
            return self.answer(500, {"error": {"message": "the model is overloaded"}})
        if model == "slow":
            time.sleep(10)
        content = llm_content(model)
        if content is None:
            return self.answer(404, {"error": {"message": "The model '%s' does not exist" % model}})
        return self.answer(200, {"id": "chatcmpl-ferry-test", "object": "chat.completion", "model": model,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]})

    def do_POST(self):
        if self.path.startswith("/llm/"):
            return self.do_llm()
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
    Receiver.out = a.out
    http = ThreadingHTTPServer(("127.0.0.1", a.http_port), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

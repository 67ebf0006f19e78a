"""A real git server on loopback for the test suite: Git's smart HTTP protocol with Basic auth,
standing in for the git host (GitLab, Gitea, ...) that Ferry's git remote pushes to and pulls from.

Serves the bare repositories under --root through Debian's `git http-backend` run as a CGI, so
clones, fetches and pushes are answered by git itself. Every request needs HTTP Basic auth as
--user with --token as the password. On start it creates <root>/ferry.git (branch main) if it is
missing, with pushing allowed. Started by scripts/lib/git-server.sh:

    python3 tests/harness/git_server.py --root DIR --port PORT --user USER --token TOKEN

Standard library only; logs one line a request to stderr (never the token).
"""
import argparse
import base64
import hmac
import http.server
import os
import subprocess
import sys
import threading
import urllib.parse

GIT_HTTP_BACKEND = os.path.join(
    subprocess.run(["git", "--exec-path"], check=True, capture_output=True, text=True).stdout.strip(),
    "git-http-backend")


def log(msg):
    sys.stderr.write(f"git-server: {msg}\n")
    sys.stderr.flush()


def init_repo(root):
    """Creates <root>/ferry.git if missing and lets http-backend accept pushes to it."""
    repo = os.path.join(root, "ferry.git")
    if not os.path.isdir(repo):
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", repo], check=True)
    subprocess.run(["git", "-C", repo, "config", "http.receivepack", "true"], check=True)


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so that clients may send chunked bodies (and `Expect: 100-continue` is answered);
    # every response ends its connection, so a CGI body needs no length of its own.
    protocol_version = "HTTP/1.1"
    server_version = "ferry-test-git-server"
    root = user = token = ""  # set by main()

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def log_message(self, fmt, *args):
        log(f"{self.client_address[0]} {fmt % args}")

    def authorized(self):
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except ValueError:
            return False
        return (hmac.compare_digest(user.encode(), self.user.encode())
                and hmac.compare_digest(token.encode(), self.token.encode()))

    def read_body(self):
        """Yields the request body as it arrives, whether sized by Content-Length or chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return
                remaining = size
                while remaining:
                    data = self.rfile.read(min(remaining, 65536))
                    if not data:
                        raise ConnectionError("request body cut short")
                    remaining -= len(data)
                    yield data
                self.rfile.readline()  # the CRLF after each chunk
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                data = self.rfile.read(min(remaining, 65536))
                if not data:
                    raise ConnectionError("request body cut short")
                remaining -= len(data)
                yield data

    def serve(self):
        self.close_connection = True
        if not self.authorized():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return

        path, _, query = self.path.partition("?")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        env.update({
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": self.user,
            "REMOTE_ADDR": self.client_address[0],
        })
        if self.command == "POST" and not chunked:
            env["CONTENT_LENGTH"] = self.headers.get("Content-Length") or "0"
        # Without CONTENT_LENGTH, http-backend reads the (de-chunked) body until EOF.
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]

        proc = subprocess.Popen([GIT_HTTP_BACKEND], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

        def feed():  # in a thread, so a CGI writing while it reads can never deadlock with us
            try:
                if self.command == "POST":
                    for data in self.read_body():
                        proc.stdin.write(data)
            except (OSError, ValueError, ConnectionError) as e:
                log(f"request body: {e}")
            finally:
                try:
                    proc.stdin.close()
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            status, reason, headers = 200, "OK", []
            while True:
                line = proc.stdout.readline().decode("latin-1").rstrip("\r\n")
                if not line:
                    break
                name, _, value = line.partition(":")
                if name.strip().lower() == "status":
                    code, _, reason = value.strip().partition(" ")
                    status = int(code)
                else:
                    headers.append((name.strip(), value.strip()))
            self.send_response(status, reason or None)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            while data := proc.stdout.read1(65536):
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            proc.kill()
        finally:
            feeder.join(timeout=5)
            proc.stdout.close()
            proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="directory holding the bare repositories")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--token", required=True, help="the Basic auth password")
    args = parser.parse_args()

    root = os.path.abspath(args.root)
    os.makedirs(root, exist_ok=True)
    init_repo(root)
    Handler.root, Handler.user, Handler.token = root, args.user, args.token
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    log(f"serving {root} on http://127.0.0.1:{args.port}/ (Basic auth as {args.user})")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

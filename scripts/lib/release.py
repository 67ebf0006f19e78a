#!/usr/bin/env python3
"""Ferry's release tooling (called by scripts/release; standard library only).

    release.py sbom DIST VERSION COMMIT EPOCH PACKAGE_RESOLVED DEBS_JSON OUT
    release.py manifest DIST VERSION COMMIT EPOCH
    release.py gate DIST [--report FILE] [--allow-dir release]
    release.py urls PATH...   (the gate's address check alone, over source files)

`gate` is the release gate. It reads only DIST and the allow-lists in release/, and reports every
violation with the file and the line (or byte offset) it is at:

  data purity        no test data, no SQLite files, no private keys or tokens, no env file with
                     values, in the tarball, the image's layers and the files beside them;
  internal sources   every Swift package in the SBOM is on release/allowed-packages.txt at that
                     version, and every Debian package is on release/base-packages.txt;
  external endpoints every http(s) URL in Ferry's binary and resources (tarball and image) and in
                     compose.yaml starts with a prefix on release/allowed-urls.txt, and the
                     Content-Security-Policy compiled into the binary allows no other origin;
  manifest           every file in DIST is in SHA256SUMS and release.json, with its size and hash,
                     and nothing else is.

It exits 1 when anything is violated, 0 otherwise. With --report it writes the report to FILE,
refusing to overwrite one (a release's report is written once), and makes it read-only.
"""
import datetime
import fnmatch
import hashlib
import io
import json
import os
import pathlib
import re
import sys
import tarfile
import urllib.parse
import uuid

MANIFEST_FILES = {"SHA256SUMS", "release.json"}
REPORT = "GATE-REPORT.txt"
URL_RE = re.compile(rb"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+", re.I)
# A key, not the marker string a PEM parser compares with: the header, then a body of base64.
# (Line breaks as bytes, or escaped as in a JSON string.)
PRIVATE_KEY_RE = re.compile(rb"-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----(\r?\n|\\r?\\n)"
                            rb"([A-Za-z-]+: [^\n\\]*(\r?\n|\\r?\\n))*(\r?\n|\\r?\\n)?[A-Za-z0-9+/=]{40,}")
TOKEN_RES = [
    ("a Ferry API token", re.compile(rb"fry_[A-Za-z0-9_\-]{24,}")),
    ("a GitHub token", re.compile(rb"(ghp|gho|ghs|ghu)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}")),
    ("a GitLab token", re.compile(rb"glpat-[A-Za-z0-9_\-]{20}")),
    ("a Slack token", re.compile(rb"xox[abpors]-[A-Za-z0-9\-]{10,}")),
    ("an AWS access key", re.compile(rb"(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("a JSON Web Token", re.compile(rb"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}")),
]
TEST_DIRS = {"Tests", "tests", "test", "Fixtures", "fixtures", "testdata", "test-data", "__Snapshots__"}
STORE_SUFFIXES = (".sqlite", ".sqlite3", ".sqlite-wal", ".sqlite-shm", ".db")
ENV_NAME_RE = re.compile(r"(^|/)(\.env(\..*)?|[^/]*\.env(\.example)?)$")
MAX_SCAN = 512 << 20
NEWLINE = b"\n"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- SBOM -----------------------------------------------------------------------------------------

def swift_pins(resolved):
    pins = json.loads(pathlib.Path(resolved).read_text())["pins"]
    out = []
    for p in pins:
        loc = p["location"]
        m = re.match(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?$", loc)
        owner, name = (m.group(1), m.group(2)) if m else ("", p["identity"])
        state = p.get("state", {})
        out.append({"identity": p["identity"], "location": loc, "owner": owner, "name": name,
                    "version": state.get("version") or state.get("branch") or "", "revision": state.get("revision", "")})
    return sorted(out, key=lambda p: p["identity"])


def sbom(dist, version, commit, epoch, resolved, debs_json, out):
    components = []
    for p in swift_pins(resolved):
        components.append({
            "type": "library", "bom-ref": f"swift:{p['identity']}", "group": f"github.com/{p['owner']}", "name": p["name"],
            "version": p["version"], "purl": f"pkg:swift/github.com/{p['owner']}/{p['name']}@{p['version']}",
            "externalReferences": [{"type": "vcs", "url": p["location"]}],
            "properties": [{"name": "ferry:scope", "value": "binary"}, {"name": "ferry:revision", "value": p["revision"]}],
        })
    for d in json.loads(pathlib.Path(debs_json).read_text()) if debs_json != "-" else []:
        v = d["version"].replace(":", "%3A").replace("+", "%2B")
        components.append({
            "type": "library", "bom-ref": f"deb:{d['name']}", "name": d["name"], "version": d["version"],
            "purl": f"pkg:deb/debian/{d['name']}@{v}?arch={d['architecture']}&distro=debian-12",
            "hashes": [{"alg": "SHA-256", "content": d["sha256"]}],
            "properties": [{"name": "ferry:scope", "value": "image"}, {"name": "ferry:deb", "value": d["filename"]}],
        })
    body = {
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {
            "timestamp": iso(epoch),
            "tools": {"components": [{"type": "application", "name": "scripts/release", "version": version}]},
            "component": {"type": "application", "bom-ref": "ferry", "name": "ferry", "version": version,
                          "properties": [{"name": "ferry:commit", "value": commit}]},
        },
        "components": components,
        "dependencies": [{"ref": "ferry", "dependsOn": [c["bom-ref"] for c in components]}],
    }
    # The same inputs give the same serial number, so rebuilding a commit gives the same file.
    body["serialNumber"] = "urn:uuid:" + str(uuid.UUID(sha256(json.dumps(body, sort_keys=True).encode())[:32]))
    pathlib.Path(out).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n")


# --- SHA256SUMS and release.json ------------------------------------------------------------------

def release_files(dist):
    return sorted(p.name for p in pathlib.Path(dist).iterdir()
                  if p.is_file() and p.name not in MANIFEST_FILES and p.name != REPORT)


def manifest(dist, version, commit, epoch):
    dist = pathlib.Path(dist)
    entries = [{"path": n, "size": (dist / n).stat().st_size, "sha256": file_sha256(dist / n)} for n in release_files(dist)]
    (dist / "SHA256SUMS").write_text("".join(f"{e['sha256']}  {e['path']}\n" for e in entries))
    # One file per line, so the gate can name the line of an entry that lies.
    lines = [json.dumps(e, sort_keys=True) for e in entries]
    text = ("{\n" f' "name": "ferry",\n "version": {json.dumps(version)},\n "commit": {json.dumps(commit)},\n'
            f' "built": {json.dumps(iso(epoch))},\n "files": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n")
    (dist / "release.json").write_text(text)


# --- the gate -------------------------------------------------------------------------------------

class Gate:
    CHECKS = ["data purity", "internal sources", "external endpoints", "manifest"]

    def __init__(self, dist, allow_dir):
        self.dist = pathlib.Path(dist)
        self.allow_dir = pathlib.Path(allow_dir)
        self.violations = {c: [] for c in self.CHECKS}
        self.counts = {"files": 0, "urls": 0, "swift packages": 0, "debian packages": 0}
        self.allowed_urls = [self.allowed_entry(u) for u in self.read_list("allowed-urls.txt")]
        self.csp_found = 0
        self.allowed_packages = {tuple(l.split()[:2]) for l in self.read_list("allowed-packages.txt")}
        self.base_packages = {name for l in self.read_list("base-packages.txt") for name in l.split()}
        # (path pattern, SHA-256 prefix of the match): known public test vectors in Debian's builds.
        self.allowed_findings = [tuple(l.split()[:2]) for l in self.read_list("allowed-findings.txt")]
        self.allowed_found = 0

    def read_list(self, name):
        path = self.allow_dir / name
        if not path.exists():
            sys.exit(f"release gate: {path} is missing")
        return [l.split("#", 1)[0].strip() for l in path.read_text().splitlines() if l.split("#", 1)[0].strip()]

    def fail(self, check, where, message):
        self.violations[check].append(f"{where}: {message}")

    # Where a match is: a line number in text, a byte offset in a binary.
    @staticmethod
    def position(data, offset, binary):
        if binary:
            return f"byte {offset}"
        return f"line {data.count(NEWLINE, 0, offset) + 1}"

    def scan(self, name, data, ferry_file):
        """Checks one file's name and contents. `ferry_file`: written by Ferry (its URLs count)."""
        self.counts["files"] += 1
        binary = b"\0" in data[:8192]
        parts = name.split("/")
        if any(p in TEST_DIRS for p in parts[:-1]):
            self.fail("data purity", name, "test data: a folder named " + next(p for p in parts[:-1] if p in TEST_DIRS))
        if name.lower().endswith(STORE_SUFFIXES):
            self.fail("data purity", name, "a store file (SQLite) must not ship")
        if ENV_NAME_RE.search(name) and not binary:
            for i, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                s = line.strip()
                if s and not s.startswith("#") and "=" in s and s.split("=", 1)[1].strip() not in ("", '""', "''"):
                    self.fail("data purity", f"{name}:{i}", f"an env file with a value ({s.split('=', 1)[0]}=...): ship it commented or empty")
        if len(data) <= MAX_SCAN:
            for m in PRIVATE_KEY_RE.finditer(data):
                digest = sha256(m.group(0))[:16]
                inner = name.split("!")[-1]
                if any(fnmatch.fnmatch(inner, pattern) and digest == known for pattern, known in self.allowed_findings):
                    self.allowed_found += 1
                    continue
                self.fail("data purity", f"{name}:{self.position(data, m.start(), binary)}", f"a private key (match {digest})")
            # Tokens in what Ferry wrote and in any text; Debian's binaries are its own signed
            # builds, whose data tables match such patterns by chance.
            for what, rx in TOKEN_RES if ferry_file or not binary else []:
                for m in rx.finditer(data):
                    self.fail("data purity", f"{name}:{self.position(data, m.start(), binary)}", f"{what} ({m.group(0)[:8].decode()}...)")
        if ferry_file:
            for m in URL_RE.finditer(data):
                url = m.group(0).decode("ascii", "replace").rstrip(".,;:)]'*")
                try:
                    parts = urllib.parse.urlsplit(url)
                    hostname, port = (parts.hostname or ""), parts.port
                except ValueError:
                    parts, hostname, port = None, "?", None  # unparseable: judged as not allowed
                if parts is not None and "." not in hostname and ":" not in hostname and hostname != "localhost":
                    continue  # a scheme in a format string or a placeholder, not an address
                self.counts["urls"] += 1
                if parts is None or not self.url_allowed(parts, hostname, port):
                    self.fail("external endpoints", f"{name}:{self.position(data, m.start(), binary)}",
                              f"{url} is not on release/allowed-urls.txt (documentation links only)")
            if binary and b"default-src" in data:
                self.check_csp(name, data)

    @staticmethod
    def allowed_entry(text):
        """(scheme, host, port or "*", path prefix) of an allow-list line; `host:*` is any port."""
        any_port = False
        if re.match(r"^[a-z]+://[^/]+:\*", text):
            text, any_port = re.sub(r":\*", "", text, count=1), True
        u = urllib.parse.urlsplit(text)
        return (u.scheme, u.hostname, "*" if any_port else u.port, u.path)

    def url_allowed(self, parts, hostname, port):
        """Same scheme, exactly the same host and port, no credentials, the allowed path as a prefix."""
        for scheme, host, allowed_port, path in self.allowed_urls:
            if (parts.scheme.lower() == scheme and hostname == host and allowed_port in ("*", port)
                    and not parts.username and parts.path.startswith(path)):
                return True
        return False

    def check_csp(self, name, data):
        for m in re.finditer(rb"default-src[^\0\"]{0,600}", data):
            csp = m.group(0).decode("ascii", "replace")
            if "script-src" not in csp:
                continue
            self.csp_found += 1
            for directive in csp.split(";"):
                words = directive.split()
                for source in words[1:]:
                    if source not in ("'self'", "'none'", "data:") and not source.startswith("'nonce-"):
                        self.fail("external endpoints", f"{name}:byte {m.start()}",
                                  f"the Content-Security-Policy allows {source} in {words[0]}: only 'self' may be allowed")

    def scan_tar(self, label, fileobj, ferry_prefixes):
        with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./").lstrip("/")
                if member.issym() or member.islnk() or member.isdir():
                    if name.lower().endswith(STORE_SUFFIXES):
                        self.fail("data purity", f"{label}!{name}", "a store file (SQLite) must not ship")
                    continue
                if not member.isfile():
                    continue
                data = tar.extractfile(member).read()
                ferry = any(name.startswith(p) for p in ferry_prefixes)
                self.scan(f"{label}!{name}", data, ferry)

    def check_artifacts(self):
        for path in sorted(self.dist.iterdir()):
            if path.is_dir():
                self.fail("manifest", path.name, "a folder in the release: every file of a release lies beside SHA256SUMS")
                continue
            if not path.is_file() or path.name == REPORT:
                continue
            if path.name.endswith(".tar.gz"):
                with open(path, "rb") as f:
                    self.scan_tar(path.name, f, [""])
            elif path.name.endswith("-oci.tar"):
                self.scan_image(path)
            else:
                self.scan(path.name, path.read_bytes(), path.suffix in (".yaml", ".yml", ".md", ".txt", ".service", ".sh", ".example"))

    def scan_image(self, path):
        with tarfile.open(path) as outer:
            names = outer.getnames()
            manifest = json.loads(outer.extractfile("manifest.json").read()) if "manifest.json" in names else None
            if not manifest:
                self.fail("manifest", path.name, "not an image archive (no manifest.json): podman save -o ... wrote it?")
                return
            # The image's configuration (environment, labels, history) is scanned like a file.
            self.scan(f"{path.name}!{manifest[0]['Config']}", outer.extractfile(manifest[0]["Config"]).read(), True)
            for layer in manifest[0]["Layers"]:
                with outer.extractfile(layer) as f:
                    self.scan_tar(f"{path.name}!{layer}", io.BytesIO(f.read()), ["opt/ferry/"])

    def check_sources(self):
        sboms = sorted(self.dist.glob("*.cdx.json"))
        if not sboms:
            self.fail("internal sources", str(self.dist), "no SBOM (*.cdx.json)")
            return
        for sbom_path in sboms:
            lines = sbom_path.read_text().splitlines()
            body = json.loads("\n".join(lines))

            def line_of(text):
                return next((i for i, l in enumerate(lines, 1) if text in l), 0)
            for c in body.get("components", []):
                purl = c.get("purl", "")
                if purl.startswith("pkg:swift/"):
                    self.counts["swift packages"] += 1
                    location = next((r["url"] for r in c.get("externalReferences", []) if r.get("type") == "vcs"), "")
                    if (location, c.get("version")) not in self.allowed_packages:
                        self.fail("internal sources", f"{sbom_path.name}:{line_of(purl)}",
                                  f"Swift package {location} {c.get('version')} is not on release/allowed-packages.txt")
                elif purl.startswith("pkg:deb/debian/"):
                    self.counts["debian packages"] += 1
                    if c.get("name") not in self.base_packages:
                        self.fail("internal sources", f"{sbom_path.name}:{line_of(purl)}",
                                  f"Debian package {c.get('name')} is not on release/base-packages.txt")
                    if not any(h.get("alg") == "SHA-256" for h in c.get("hashes", [])):
                        self.fail("internal sources", f"{sbom_path.name}:{line_of(purl)}", f"Debian package {c.get('name')} has no SHA-256")
                else:
                    self.fail("internal sources", f"{sbom_path.name}:{line_of(purl or c.get('name', ''))}",
                              f"component {c.get('name')} comes from neither the allowed Swift packages nor Debian ({purl or 'no purl'})")

    def check_manifest(self):
        files = release_files(self.dist)
        actual = {n: ((self.dist / n).stat().st_size, file_sha256(self.dist / n)) for n in files}
        sums_path, rel_path = self.dist / "SHA256SUMS", self.dist / "release.json"
        if not sums_path.exists() or not rel_path.exists():
            self.fail("manifest", str(self.dist), "SHA256SUMS or release.json is missing")
            return
        seen = set()
        for i, line in enumerate(sums_path.read_text().splitlines(), 1):
            m = re.match(r"^([0-9a-f]{64})  (.+)$", line)
            if not m:
                self.fail("manifest", f"SHA256SUMS:{i}", "not '<sha256>  <file>'")
                continue
            digest, name = m.groups()
            seen.add(name)
            if name not in actual:
                self.fail("manifest", f"SHA256SUMS:{i}", f"lists {name}, which is not in the release")
            elif actual[name][1] != digest:
                self.fail("manifest", f"SHA256SUMS:{i}", f"{name}'s SHA-256 is {actual[name][1]}, not {digest}")
        for name in sorted(set(actual) - seen):
            self.fail("manifest", "SHA256SUMS", f"{name} is not listed")
        lines = rel_path.read_text().splitlines()
        try:
            listed = json.loads("\n".join(lines))["files"]
        except (ValueError, KeyError) as e:
            self.fail("manifest", "release.json", f"not a release manifest ({e})")
            return
        seen = set()
        for entry in listed:
            name = entry.get("path", "")
            i = next((n for n, l in enumerate(lines, 1) if f'"path": {json.dumps(name)}' in l), 0)
            seen.add(name)
            if name not in actual:
                self.fail("manifest", f"release.json:{i}", f"lists {name}, which is not in the release")
                continue
            size, digest = actual[name]
            if entry.get("size") != size:
                self.fail("manifest", f"release.json:{i}", f"{name} is {size} bytes, not {entry.get('size')}")
            if entry.get("sha256") != digest:
                self.fail("manifest", f"release.json:{i}", f"{name}'s SHA-256 is {digest}, not {entry.get('sha256')}")
        for name in sorted(set(actual) - seen):
            self.fail("manifest", "release.json", f"{name} is not listed")

    def run(self):
        self.check_artifacts()
        if self.csp_found == 0:
            self.fail("external endpoints", str(self.dist), "no Content-Security-Policy found in Ferry's binary: the check can't have run")
        self.check_sources()
        self.check_manifest()
        total = sum(len(v) for v in self.violations.values())
        head = "release.json"
        try:
            meta = json.loads((self.dist / head).read_text())
            head = f"ferry {meta.get('version')}, commit {meta.get('commit')}"
        except (OSError, ValueError):
            head = "no release.json"
        out = [f"Ferry release gate: {self.dist} ({head})",
               "scanned: " + ", ".join(f"{v} {k}" for k, v in self.counts.items()),
               f"known test vectors passed by release/allowed-findings.txt: {self.allowed_found}", ""]
        for check in self.CHECKS:
            found = self.violations[check]
            out.append(f"{'PASS' if not found else 'FAIL'} {check}" + (f": {len(found)} violation(s)" if found else ""))
            out += [f"  {v}" for v in found]
        out += ["", f"RESULT: {'PASS' if total == 0 else 'FAIL'} ({total} violation(s))"]
        return total, "\n".join(out) + "\n"


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "sbom":
        sbom(*args)
    elif cmd == "manifest":
        manifest(*args)
    elif cmd == "gate":
        report, allow = None, os.path.join(os.path.dirname(__file__), "..", "..", "release")
        rest = []
        while args:
            a = args.pop(0)
            if a == "--report":
                report = args.pop(0)
            elif a == "--allow-dir":
                allow = args.pop(0)
            else:
                rest.append(a)
        total, text = Gate(rest[0] if rest else "dist", allow).run()
        sys.stdout.write(text)
        if report:
            fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        sys.exit(1 if total else 0)
    elif cmd == "urls":
        # The gate's address check alone, over source files: the test command runs it first, so
        # an address the release gate would refuse fails in seconds, not after the release build.
        gate = Gate("dist", os.path.join(os.path.dirname(__file__), "..", "..", "release"))
        for root in args:
            paths = [root] if os.path.isfile(root) else sorted(
                os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
            for path in paths:
                with open(path, "rb") as f:
                    gate.scan(path, f.read(), True)
        found = gate.violations["external endpoints"]
        sys.stdout.write("".join(f"  {v}\n" for v in found))
        sys.exit(1 if found else 0)
    else:
        sys.exit(f"release.py: unknown command {cmd}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])

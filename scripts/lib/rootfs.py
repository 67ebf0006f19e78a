#!/usr/bin/env python3
"""Builds the container image's root file system from Debian's own .deb files, with no registry.

    scripts/lib/rootfs.py PACKAGES_FILE DEB_CACHE ROOTFS_DIR PACKAGES_JSON [EXTRA_ELF...]

PACKAGES_FILE (release/base-packages.txt) names the packages the image holds, one per line with a
comment saying why. Each is fetched with `apt-get download` (apt checks it against Debian's signed
indexes) into DEB_CACHE and unpacked into ROOTFS_DIR (merged /usr, as Debian 12 installs). No
maintainer script runs: what they would have made (users, the CA bundle) is made here.

Then every ELF file in the root, and each EXTRA_ELF (Ferry's binary), is checked: each shared
library it needs must be in the root. A missing one fails the build, naming the file, the library
and the package that has it, to add to PACKAGES_FILE. Nothing is added silently, so the image holds
exactly the listed packages, and the release gate can compare the SBOM with that list.

PACKAGES_JSON receives [{name, version, architecture, sha256, filename}] for the SBOM.
"""
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

# What no program in the image reads: documentation, manuals, translations, completion scripts.
PRUNE = ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian",
         "usr/share/bug", "usr/share/bash-completion", "usr/share/gitweb", "usr/share/zoneinfo/right",
         "usr/share/zoneinfo/posix", "usr/share/perl5", "usr/share/git-core/contrib",
         # glibc's converters between legacy character sets: Ferry and git work in UTF-8 only.
         "usr/lib/x86_64-linux-gnu/gconv", "usr/lib/aarch64-linux-gnu/gconv",
         # git's programs Ferry never runs (it runs `git` and, for an HTTPS remote,
         # git-remote-https): servers, other transports, scalar, merge tools.
         "usr/lib/git-core/git-daemon", "usr/lib/git-core/git-shell", "usr/bin/git-shell",
         "usr/lib/git-core/git-http-backend", "usr/lib/git-core/git-http-fetch", "usr/lib/git-core/git-http-push",
         "usr/lib/git-core/git-imap-send", "usr/lib/git-core/scalar", "usr/bin/scalar",
         "usr/lib/git-core/git-sh-i18n--envsubst", "usr/lib/git-core/mergetools", "usr/bin/git-upload-archive",
         # openssh-client's tools beside `ssh`, which an SSH remote runs: no agent, no keygen, no
         # scp/sftp, no helpers for security keys and PKCS#11.
         "usr/bin/scp", "usr/bin/sftp", "usr/bin/ssh-add", "usr/bin/ssh-agent", "usr/bin/ssh-argv0",
         "usr/bin/ssh-copy-id", "usr/bin/ssh-keygen", "usr/bin/ssh-keyscan", "usr/lib/openssh"]
LIB_DIRS = ["usr/lib/x86_64-linux-gnu", "usr/lib", "lib/x86_64-linux-gnu", "lib", "usr/lib64", "lib64",
            "usr/lib/aarch64-linux-gnu", "lib/aarch64-linux-gnu"]
FERRY_UID = 10001


def run(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def packages(path):
    names = []
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        names += line.split()
    return names


def fetch(name, cache):
    """The cached .deb of the candidate version of `name`, downloading it when missing."""
    version = run("apt-cache", "policy", name)
    m = re.search(r"Candidate:\s*(\S+)", version)
    if not m or m.group(1) == "(none)":
        sys.exit(f"rootfs: Debian has no package {name}: check release/base-packages.txt and `apt-get update`")
    candidate = m.group(1)
    arch = run("dpkg", "--print-architecture").strip()
    for deb in cache.glob(f"{name}_*.deb"):
        info = run("dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture")
        fields = dict(l.split(": ", 1) for l in info.strip().splitlines())
        if fields["Version"] == candidate and fields["Architecture"] in (arch, "all"):
            return deb
    # (As root, into a folder apt's own user may not write: no sandbox user for the download.)
    subprocess.run(["apt-get", "-o", "APT::Sandbox::User=root", "download", "-q", f"{name}={candidate}"], cwd=cache, check=True,
                   stdout=subprocess.DEVNULL)
    found = [d for d in cache.glob(f"{name}_*.deb")
             if run("dpkg-deb", "-f", str(d), "Version").strip() == candidate]
    if not found:
        sys.exit(f"rootfs: apt-get download {name}={candidate} left no .deb in {cache}")
    return found[0]


def unpack(deb, root):
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "--keep-directory-symlink", "--no-same-owner", "-C", str(root)],
                   stdin=tar.stdout, check=True)
    if tar.wait() != 0:
        sys.exit(f"rootfs: can't unpack {deb}")


def elf_files(root):
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = pathlib.Path(dirpath, f)
            if p.is_symlink() or not p.is_file():
                continue
            with open(p, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    yield p


def needed(path):
    out = subprocess.run(["readelf", "-d", str(path)], text=True, capture_output=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def owner(soname):
    r = subprocess.run(["dpkg", "-S", f"*/{soname}"], text=True, capture_output=True)
    return sorted({l.split(":")[0] for l in r.stdout.splitlines() if l}) or ["(not installed on this host)"]


def main():
    listing, cache, root, out_json, *extra = sys.argv[1:]
    cache, root = pathlib.Path(cache), pathlib.Path(root)
    cache.mkdir(parents=True, exist_ok=True)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    # Debian 12's merged /usr: /bin, /lib... are links into /usr.
    for d in ["bin", "sbin", "lib", "lib64"]:
        (root / "usr" / d).mkdir(parents=True, exist_ok=True)
        os.symlink(f"usr/{d}", root / d)
    record = []
    for name in packages(listing):
        deb = fetch(name, cache)
        unpack(deb, root)
        fields = dict(l.split(": ", 1) for l in run("dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture").strip().splitlines())
        record.append({"name": fields["Package"], "version": fields["Version"], "architecture": fields["Architecture"],
                       "sha256": hashlib.sha256(deb.read_bytes()).hexdigest(), "filename": deb.name})
    for p in PRUNE:
        target = root / p
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()

    # Every shared library each program needs is here.
    present = set()
    for d in LIB_DIRS:
        if (root / d).is_dir():
            present |= {f.name for f in (root / d).iterdir()}
    missing = []
    for path in list(elf_files(root)) + [pathlib.Path(e) for e in extra]:
        for so in needed(path):
            if so not in present:
                shown = path.relative_to(root) if root in path.parents else path
                missing.append(f"{shown} needs {so} (in {', '.join(owner(so))})")
    if missing:
        sys.exit("rootfs: shared libraries missing from the image; add their packages to release/base-packages.txt:\n  "
                 + "\n  ".join(sorted(set(missing))))

    # What maintainer scripts would have made.
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(f"root:x:0:0:root:/root:/usr/sbin/nologin\nferry:x:{FERRY_UID}:{FERRY_UID}:Ferry:/var/lib/ferry:/usr/sbin/nologin\n"
                                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    (etc / "group").write_text(f"root:x:0:\nferry:x:{FERRY_UID}:\nnogroup:x:65534:\n")
    (etc / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    (etc / "ssl/certs").mkdir(parents=True, exist_ok=True)
    (etc / "ssl/certs/ca-certificates.crt").write_bytes(b"".join(c.read_bytes().rstrip(b"\n") + b"\n" for c in certs))
    (root / "etc/localtime").unlink(missing_ok=True)
    os.symlink("/usr/share/zoneinfo/Etc/UTC", root / "etc/localtime")
    for d in ["tmp", "var/tmp"]:
        (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root / d, 0o1777)
    data = root / "var/lib/ferry"
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    (root / "root").mkdir(exist_ok=True)
    os.chmod(root / "root", 0o700)
    pathlib.Path(out_json).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()

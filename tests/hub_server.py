"""A small local stand-in for the Hugging Face Hub HTTP API, for offline tests.

Speaks the subset of the API that ``huggingface_hub`` (2.x) uses to create a static Space, commit
small files, list and download them: ``whoami-v2``, ``repos/create``, ``validate-yaml``,
``preupload``, ``commit`` (NDJSON), ``tree`` (recursive, paged with a ``Link`` header),
``revision``, ``spaces/{id}``, ``commits``, ``super-squash`` and ``HEAD``/``GET …/resolve/…``. Commits are stored on
disk (content-addressed blobs named by their git blob SHA-1, plus one JSON list of commits per repo).
``/_fake/spaces/{ns}/{name}/{path}`` serves a Space's current files, as the Space's web host would.

For tests it keeps a request log (:attr:`HubServer.log`) and injects failures (:meth:`HubServer.fail`):
a status code (429 with ``Retry-After``, 500, …) or a hang, for the next N matching requests.
Only the standard library and PyYAML (a ``huggingface_hub`` dependency) are used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

LFS_EXTENSIONS = (".parquet", ".arrow", ".bin", ".pkl", ".zip", ".gz", ".sqlite", ".db", ".h5", ".pt")
_REPO = r"(?P<type>model|dataset|space)s/(?P<ns>[^/]+)/(?P<name>[^/]+)"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob: SHA-1 of ``b"blob <size>\\0" + data`` (what the Hub calls ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Rule:
    """An injected failure: for the next ``times`` requests matching ``method`` and ``pattern``
    (a regex searched in the path), wait ``hang`` seconds (or until :meth:`HubServer.release`), then
    answer ``status`` with ``headers`` (or, with no status, go on normally)."""

    def __init__(self, method, pattern, status, headers, times, hang, body):
        self.method, self.pattern, self.status = method, re.compile(pattern), status
        self.headers, self.times, self.hang, self.body = headers or {}, times, hang, body


class Repo:
    """One repository: its commits (each with its full tree ``{path: blob sha}``) and settings."""

    def __init__(self, root: Path, repo_type: str, repo_id: str, private: bool, sdk):
        self.root, self.type, self.id, self.private, self.sdk = root, repo_type, repo_id, private, sdk
        self.commits: list[dict] = []

    @property
    def head(self) -> dict:
        return self.commits[-1]

    def save(self) -> None:
        (self.root / "repo.json").write_text(json.dumps(
            {"type": self.type, "id": self.id, "private": self.private, "sdk": self.sdk, "commits": self.commits}))

    def blob(self, sha: str) -> bytes:
        return (self.root / "blobs" / sha).read_bytes()

    def put_blob(self, data: bytes) -> str:
        sha = git_blob_sha1(data)
        path = self.root / "blobs" / sha
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return sha

    def commit(self, summary: str, tree: dict) -> dict:
        parent = self.commits[-1]["oid"] if self.commits else None
        seed = json.dumps([parent, summary, sorted(tree.items()), len(self.commits), time.time()])
        c = {"oid": hashlib.sha1(seed.encode()).hexdigest(), "parent": parent, "summary": summary,
             "time": time.time(), "tree": tree}
        self.commits.append(c)
        self.save()
        return c

    def at(self, rev: str) -> dict | None:
        if rev in ("main", "refs/heads/main") and self.commits:
            return self.head
        for c in self.commits:
            if c["oid"] == rev:
                return c
        return None


class HubServer:
    """The server. ``url`` is what ``HF_ENDPOINT`` should be. Start with :meth:`start`, stop with
    :meth:`stop`. ``user`` is the token owner's name; requests need ``Authorization: Bearer <token>``
    for writes, and private repos are visible only with it."""

    def __init__(self, root: Path, token: str = "hf_dummy_test_token_0123456789", user: str = "tester",
                 page_size: int = 50):
        self.root = Path(root)
        self.token, self.user, self.page_size = token, user, page_size
        self.repos: dict[tuple[str, str], Repo] = {}
        self.log: list[dict] = []
        self.rules: list[Rule] = []
        self.lock = threading.RLock()
        self._release = threading.Event()
        self._httpd = None

    # -- test controls ---------------------------------------------------------------------------
    def start(self) -> "HubServer":
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail(self, method: str, pattern: str, status: int | None = None, headers: dict | None = None,
             times: int = 1, hang: float | None = None, body: dict | None = None) -> None:
        """Inject a failure for the next ``times`` matching requests (see :class:`Rule`)."""
        with self.lock:
            self.rules.append(Rule(method, pattern, status, headers, times, hang, body))

    def release(self) -> None:
        """End every hang now (and any later one at once)."""
        self._release.set()

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def requests(self, method: str | None = None, pattern: str = "") -> list[dict]:
        """Logged requests, optionally filtered by method and a regex searched in the path."""
        rx = re.compile(pattern)
        with self.lock:
            return [r for r in self.log if (method is None or r["method"] == method) and rx.search(r["path"])]

    def repo(self, repo_id: str, repo_type: str = "space") -> Repo | None:
        return self.repos.get((repo_type, repo_id))

    def files(self, repo_id: str, repo_type: str = "space") -> dict[str, bytes]:
        """The current files of a repo: ``{path: content}``."""
        r = self.repo(repo_id, repo_type)
        return {} if r is None or not r.commits else {p: r.blob(s) for p, s in r.head["tree"].items()}

    # -- request handling ------------------------------------------------------------------------
    def _match_rule(self, method: str, path: str):
        with self.lock:
            for rule in self.rules:
                if rule.times > 0 and rule.method in (method, "*") and rule.pattern.search(path):
                    rule.times -= 1
                    return rule
        return None


def _handler_for(server: HubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        hub = server

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            self._dispatch("GET")

        def do_HEAD(self):
            self._dispatch("HEAD")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        # -- plumbing --------------------------------------------------------------------------
        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            path, query = unquote(parts.path), parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            entry = {"method": method, "path": path, "query": parts.query, "time": time.time(), "status": None,
                     "ops": None, "auth": self.headers.get("Authorization") is not None}
            with self.hub.lock:
                self.hub.log.append(entry)
            rule = self.hub._match_rule(method, path)
            if rule is not None:
                if rule.hang:
                    self.hub._release.wait(rule.hang)
                if rule.status:
                    entry["status"] = rule.status
                    self._json(rule.status, rule.body or {"error": f"injected {rule.status}"}, rule.headers)
                    return
            try:
                status = self._route(method, path, query, body, entry)
            except _Reply as r:
                status = r.status
                self._json(r.status, {"error": r.message}, r.headers)
            entry["status"] = status

        def _authed(self) -> bool:
            return self.headers.get("Authorization") == f"Bearer {self.hub.token}"

        def _json(self, status: int, obj, headers=None) -> int:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return status

        def _repo(self, m, need_write=False) -> Repo:
            repo = self.hub.repo(f"{m['ns']}/{m['name']}", m["type"])
            if repo is None or (repo.private and not self._authed()):
                raise _Reply(404, "Repository not found", {"X-Error-Code": "RepoNotFound",
                                                           "X-Error-Message": "Repository not found"})
            if need_write and not self._authed():
                raise _Reply(401, "Invalid credentials", {"X-Error-Message": "Invalid credentials"})
            return repo

        def _route(self, method, path, query, body, entry) -> int:
            if path == "/api/whoami-v2" and method == "GET":
                if not self._authed():
                    raise _Reply(401, "Invalid user token")
                return self._json(200, {"type": "user", "name": self.hub.user, "fullname": "Test User",
                                        "orgs": [], "auth": {"accessToken": {"displayName": "t", "role": "write"}}})
            if path == "/api/repos/create" and method == "POST":
                return self._create(json.loads(body or b"{}"))
            if path == "/api/validate-yaml" and method == "POST":
                return self._validate(json.loads(body or b"{}"))
            m = re.match(rf"^/api/{_REPO}/preupload/(?P<rev>[^/]+)$", path)
            if m and method == "POST":
                return self._preupload(self._repo(m, True), json.loads(body or b"{}"))
            m = re.match(rf"^/api/{_REPO}/commit/(?P<rev>[^/]+)$", path)
            if m and method == "POST":
                return self._commit(self._repo(m, True), body, entry)
            m = re.match(rf"^/api/{_REPO}/super-squash/(?P<rev>[^/]+)$", path)
            if m and method == "POST":
                repo = self._repo(m, True)
                with self.hub.lock:
                    head = repo.head
                    repo.commits = []
                    c = repo.commit(json.loads(body or b"{}").get("message") or "Super-squash commit", head["tree"])
                return self._json(200, {"commitId": c["oid"]})
            m = re.match(rf"^/api/{_REPO}/tree/(?P<rev>[^/]+)(?P<sub>/.*)?$", path)
            if m and method == "GET":
                return self._tree(self._repo(m), m, query)
            m = re.match(rf"^/api/{_REPO}/commits/(?P<rev>[^/]+)$", path)
            if m and method == "GET":
                repo = self._repo(m)
                return self._json(200, [{"id": c["oid"], "title": c["summary"]} for c in reversed(repo.commits)])
            m = re.match(rf"^/api/{_REPO}(?:/revision/(?P<rev>[^/]+))?$", path)
            if m and method == "GET":
                return self._info(self._repo(m), m["rev"] or "main")
            m = re.match(r"^/(?:(?P<prefix>spaces|datasets)/)?(?P<ns>[^/]+)/(?P<name>[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$",
                         path)
            if m and method in ("GET", "HEAD") and not path.startswith("/api/"):
                kind = {"spaces": "space", "datasets": "dataset", None: "model"}[m["prefix"]]
                return self._resolve(self._repo({"type": kind, "ns": m["ns"], "name": m["name"]}), m["rev"],
                                     m["file"], method)
            m = re.match(r"^/_fake/spaces/(?P<ns>[^/]+)/(?P<name>[^/]+)(?P<file>/.*)?$", path)
            if m and method in ("GET", "HEAD"):
                return self._serve(self._repo({"type": "space", "ns": m["ns"], "name": m["name"]}),
                                   (m["file"] or "/").lstrip("/") or "index.html")
            raise _Reply(404, f"no route for {method} {path}")

        # -- endpoints -------------------------------------------------------------------------
        def _create(self, req) -> int:
            if not self._authed():
                raise _Reply(401, "Invalid user token")
            repo_type = req.get("type") or "model"
            if not _valid_name(str(req.get("name") or "")):  # as the Hub: 400 for a name it does not accept
                raise _Reply(400, "Invalid repo name: use letters, digits, '-', '_' and '.' (at most 96 characters)")
            repo_id = f"{req.get('organization') or self.hub.user}/{req['name']}"
            prefix = "" if repo_type == "model" else f"{repo_type}s/"
            url = f"{self.hub.url}/{prefix}{repo_id}"
            with self.hub.lock:
                if (repo_type, repo_id) in self.hub.repos:
                    return self._json(409, {"error": "You already created this repo", "url": url})
                private = req.get("visibility") == "private" or bool(req.get("private"))
                root = self.hub.root / f"{repo_type}s" / repo_id
                root.mkdir(parents=True, exist_ok=True)
                repo = Repo(root, repo_type, repo_id, private, req.get("sdk"))
                tree = {}
                seed = {".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
                                          b"*.bin filter=lfs diff=lfs merge=lfs -text\n"}
                if repo_type == "space":
                    seed["README.md"] = f"---\ntitle: {req['name']}\nsdk: {req.get('sdk') or 'static'}\n---\n".encode()
                    if req.get("sdk") == "static":
                        seed["index.html"] = b"<!doctype html><p>Welcome to your static Space!</p>\n"
                        seed["style.css"] = b"body { padding: 2rem; }\n"
                for p, data in seed.items():
                    tree[p] = repo.put_blob(data)
                repo.commit("initial commit", tree)
                self.hub.repos[(repo_type, repo_id)] = repo
            return self._json(200, {"url": url, "name": repo_id, "id": repo_id})

        def _validate(self, req) -> int:
            import yaml

            text = req.get("content") or ""
            m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
            errors = []
            if m:
                try:
                    meta = yaml.safe_load(m.group(1))
                except yaml.YAMLError as e:
                    meta, errors = None, [{"message": f"invalid YAML: {e}"}]
                if not errors and not isinstance(meta, dict):
                    errors = [{"message": "front matter must be a mapping"}]
                if not errors and req.get("repoType") == "space" and meta.get("sdk") not in ("gradio", "docker", "static"):
                    errors = [{"message": f"\"sdk\" must be one of gradio, docker, static, got {meta.get('sdk')!r}"}]
            if errors:
                return self._json(400, {"errors": errors, "error": errors[0]["message"]})
            return self._json(200, {"errors": [], "warnings": []})

        def _preupload(self, repo: Repo, req) -> int:
            tree = repo.head["tree"] if repo.commits else {}
            out = []
            for f in req.get("files", []):
                sample = base64.b64decode(f.get("sample") or "")
                binary = b"\0" in sample
                lfs = (f.get("size", 0) > 10_000_000 or (binary and f.get("size", 0) >= 1_000_000)
                       or f["path"].endswith(LFS_EXTENSIONS))
                out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": tree.get(f["path"])})
            return self._json(200, {"files": out, "commitOid": repo.head["oid"] if repo.commits else None})

        def _commit(self, repo: Repo, body: bytes, entry) -> int:
            lines = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
            header = next((x["value"] for x in lines if x["key"] == "header"), {})
            ops = []
            with self.hub.lock:
                parent = header.get("parentCommit")
                if parent and repo.commits and parent != repo.head["oid"]:
                    raise _Reply(412, "A commit has happened since. Please refresh and try again.")
                tree = dict(repo.head["tree"]) if repo.commits else {}
                for item in lines:
                    key, val = item["key"], item["value"]
                    if key == "file":
                        data = base64.b64decode(val["content"]) if val.get("encoding") == "base64" else \
                            val["content"].encode()
                        tree[val["path"]] = repo.put_blob(data)
                        ops.append(("file", val["path"], len(data)))
                    elif key == "lfsFile":
                        raise _Reply(400, "This test hub does not store LFS/Xet files")
                    elif key == "deletedFile":
                        if val["path"] not in tree:
                            raise _Reply(404, "A file with this name doesn't exist", {"X-Error-Code": "EntryNotFound"})
                        del tree[val["path"]]
                        ops.append(("delete", val["path"], 0))
                    elif key == "deletedFolder":
                        prefix = val["path"].rstrip("/") + "/"
                        for p in [p for p in tree if p.startswith(prefix)]:
                            del tree[p]
                        ops.append(("deleteFolder", val["path"], 0))
                c = repo.commit(header.get("summary") or "", tree)
            entry["ops"] = ops
            prefix = "" if repo.type == "model" else f"{repo.type}s/"
            return self._json(200, {"commitOid": c["oid"], "commitUrl": f"{self.hub.url}/{prefix}{repo.id}/commit/{c['oid']}",
                                    "pullRequestUrl": None, "success": True, "hookOutput": ""})

        def _tree(self, repo: Repo, m, query) -> int:
            c = repo.at(unquote(m["rev"]))
            if c is None:
                raise _Reply(404, "Revision not found", {"X-Error-Code": "RevisionNotFound"})
            sub = (m["sub"] or "").strip("/")
            recursive = (query.get("recursive") or ["false"])[0].lower() == "true"
            entries = {}
            for p, sha in c["tree"].items():
                if sub and not p.startswith(sub + "/"):
                    continue
                rest = p[len(sub) + 1:] if sub else p
                segs = rest.split("/")
                base = f"{sub}/" if sub else ""
                for i in range(1, len(segs)):
                    if recursive or i == 1:
                        d = base + "/".join(segs[:i])
                        entries[d] = {"type": "directory", "oid": "0" * 40, "size": 0, "path": d}
                if recursive or len(segs) == 1:
                    entries[p] = {"type": "file", "oid": sha, "size": len(repo.blob(sha)), "path": p}
            items = [entries[k] for k in sorted(entries)]
            start = int((query.get("cursor") or ["0"])[0])
            page = items[start:start + self.hub.page_size]
            headers = {}
            if start + self.hub.page_size < len(items):
                nxt = (f"{self.hub.url}/api/{repo.type}s/{repo.id}/tree/{m['rev']}{('/' + quote(sub)) if sub else ''}"
                       f"?recursive={'true' if recursive else 'false'}&cursor={start + self.hub.page_size}")
                headers["Link"] = f'<{nxt}>; rel="next"'
            return self._json(200, page, headers)

        def _info(self, repo: Repo, rev: str) -> int:
            c = repo.at(unquote(rev))
            if c is None:
                raise _Reply(404, "Revision not found", {"X-Error-Code": "RevisionNotFound"})
            info = {"id": repo.id, "_id": repo.id, "author": repo.id.split("/")[0], "sha": c["oid"],
                    "private": repo.private, "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(c["time"])),
                    "siblings": [{"rfilename": p} for p in sorted(c["tree"])], "tags": [], "likes": 0,
                    "disabled": False, "cardData": {}}
            if repo.type == "space":
                info.update({"sdk": repo.sdk, "runtime": {"stage": "RUNNING", "hardware": {"current": None}}})
            return self._json(200, info)

        def _resolve(self, repo: Repo, rev: str, file: str, method: str) -> int:
            c = repo.at(unquote(rev))
            if c is None:
                raise _Reply(404, "Revision not found", {"X-Error-Code": "RevisionNotFound"})
            sha = c["tree"].get(file)
            if sha is None:
                raise _Reply(404, "Entry not found", {"X-Error-Code": "EntryNotFound"})
            data = repo.blob(sha)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Repo-Commit", c["oid"])
            self.end_headers()
            if method == "GET":
                self.wfile.write(data)
            return 200

        def _serve(self, repo: Repo, file: str) -> int:
            sha = repo.head["tree"].get(file) if repo.commits else None
            if sha is None:
                raise _Reply(404, "not found")
            data = repo.blob(sha)
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(file)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(data)
            return 200

    return Handler


def _valid_name(name: str) -> bool:
    """The Hub's repository name rule: ASCII letters, digits, ``-_.``, 1-96 characters, not starting or
    ending with ``-`` or ``.``, no ``--`` or ``..``."""
    return (re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?", name) is not None
            and "--" not in name and ".." not in name)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that gave up mid-hang: not an error here
        pass


class _Reply(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

"""Servers the tests start on 127.0.0.1 and stop when done."""
import collections
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Datasette:
    """A Datasette server on 127.0.0.1, stopped on exit."""

    def __init__(self, command, env):
        self.port = free_port()
        self.process = subprocess.Popen([*command(self.port)], env={**os.environ, **env},
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Its output is read as it comes: a full pipe (Datasette logs every request) would stop
        # the server at its next write. The last lines are kept for a message.
        self.output = collections.deque(maxlen=200)
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.get("/-/versions.json")
                return
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        self.process.wait(timeout=10)
        raise AssertionError(f"Datasette did not start: {''.join(self.output)}")

    def url(self, path, **params):
        return f"http://127.0.0.1:{self.port}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")

    def fetch(self, path, **params):
        """(status, headers, body bytes) of a GET."""
        try:
            with urllib.request.urlopen(self.url(path, **params), timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, path, **params):
        """(status, JSON body) of a GET; an HTML error page as {"html": ...}."""
        status, _, body = self.fetch(path, **params)
        return status, json.loads(body) if body.startswith(b"{") or body.startswith(b"[") else {
            "html": body.decode(errors="replace")}

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=10)


class RangeServer:
    """An HTTP server on 127.0.0.1 that serves a folder with byte ranges (as object stores and
    nginx do, and GDAL's /vsicurl/ needs), counts the bytes it sends, and answers 500 for the paths
    in `failing`. Runs in a thread; stopped on exit."""

    def __init__(self, folder, tls=None):
        """`tls`: (certificate, key) files to serve HTTPS with."""
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self):
                self.answer(send_body=False)

            def do_GET(self):
                self.answer(send_body=True)

            def answer(self, send_body):
                relative = urllib.parse.unquote(self.path.split("?")[0]).lstrip("/")
                path = (server.folder / relative).resolve()
                if relative in server.failing:
                    return self.send_error(500)
                if not path.is_file() or server.folder not in path.parents:
                    return self.send_error(404)
                size = path.stat().st_size
                start, end = 0, size - 1
                ranged = self.headers.get("Range", "").startswith("bytes=")
                if ranged:
                    first, _, last = self.headers["Range"][6:].partition("-")
                    start, end = int(first), min(int(last) if last else end, end)
                self.send_response(206 if ranged else 200)
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("Accept-Ranges", "bytes")
                if ranged:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                if send_body:
                    with path.open("rb") as f:
                        f.seek(start)
                        self.wfile.write(f.read(end - start + 1))
                    server.bytes_sent += end - start + 1
                server.requests += 1

            def log_message(self, *_):
                pass

        self.folder = folder.resolve()
        self.failing = set()
        self.bytes_sent = 0
        self.requests = 0
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "https" if tls else "http"
        if tls:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path=""):
        return f"{self.scheme}://127.0.0.1:{self.port}/{path}"

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.http.shutdown()
        self.http.server_close()


class S3Server:
    """moto's S3-compatible server (build/servers, `make servers`) on 127.0.0.1, holding `folder`
    under s3://BUCKET/PREFIX/; stopped on exit. `gdal_env` is what GDAL's /vsis3/ needs to reach it."""

    BUCKET, PREFIX = "sen12", "tree"
    VENV = __import__("pathlib").Path(__file__).resolve().parents[2] / "build" / "servers" / "bin"
    UPLOAD = """import sys, pathlib, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing",
                  region_name="us-east-1")
s3.create_bucket(Bucket=sys.argv[2])
folder = pathlib.Path(sys.argv[4])
for path in sorted(p for p in folder.rglob("*") if p.is_file()):
    s3.upload_file(str(path), sys.argv[2], f"{sys.argv[3]}/{path.relative_to(folder)}")
"""

    def __init__(self, folder):
        self.port = free_port()
        self.process = subprocess.Popen([str(self.VENV / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=5)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.time() > deadline:
                    self.process.kill()
                    raise AssertionError("moto_server did not start")
                time.sleep(0.2)
        subprocess.run([str(self.VENV / "python"), "-c", self.UPLOAD, endpoint, self.BUCKET, self.PREFIX, str(folder)],
                       check=True)
        self.root = f"/vsis3/{self.BUCKET}/{self.PREFIX}"
        self.gdal_env = {"AWS_S3_ENDPOINT": f"127.0.0.1:{self.port}", "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
                         "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.process.terminate()
        self.process.wait(timeout=10)

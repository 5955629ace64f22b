"""Servers the tests start on 127.0.0.1 and stop when done."""
import json
import os
import socket
import subprocess
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
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.get("/-/versions.json")
                return
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        raise AssertionError(f"Datasette did not start: {self.process.stdout.read()}")

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

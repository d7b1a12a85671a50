"""Two proxies on loopback that stand for vantage points elsewhere (tests only).

- ``StampingHttpProxy``: a forward HTTP proxy that passes each request on to where it was
  going with ``X-Memoryhole-Vantage: REGION`` added: the simulator answers as that region would.
- ``RedirectingSocks5Proxy``: a SOCKS5 proxy (no authentication, CONNECT) that connects every
  client to one address, whatever it asked for: a simulator started with ``--region REGION``,
  so the region is the proxy the request arrives through.
"""

from __future__ import annotations

import http.client
import select
import socket
import socketserver
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

VANTAGE_HEADER = "X-Memoryhole-Vantage"
_HOP = {"connection", "proxy-connection", "keep-alive", "transfer-encoding", "proxy-authorization"}


class StampingHttpProxy:
    def __init__(self, region: str) -> None:
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.requests += 1
                url = urlsplit(self.path)  # a proxy gets the absolute URL
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers[VANTAGE_HEADER] = region
                upstream = http.client.HTTPConnection(url.hostname or "", url.port or 80)
                try:
                    path = url.path + (f"?{url.query}" if url.query else "")
                    upstream.request("GET", path or "/", headers=headers)
                    answer = upstream.getresponse()
                    body = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedirectingSocks5Proxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.connections = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                client: socket.socket = self.request
                _, methods = client.recv(2)
                client.recv(methods)
                client.sendall(b"\x05\x00")  # no authentication
                _, command, _, kind = client.recv(4)
                if kind == 1:
                    client.recv(4)
                elif kind == 3:
                    client.recv(client.recv(1)[0])
                else:
                    client.recv(16)
                client.recv(2)  # the port asked for: ignored, like the address
                if command != 1:
                    client.sendall(b"\x05\x07\x00\x01" + bytes(6))
                    return
                proxy.connections += 1
                with socket.create_connection(upstream) as server:
                    client.sendall(
                        b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0)
                    )
                    _pipe(client, server)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"socks5://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    ends = [a, b]
    while True:
        ready, _, _ = select.select(ends, [], [], 30.0)
        if not ready:
            return
        for end in ready:
            data = end.recv(65536)
            if not data:
                return
            (b if end is a else a).sendall(data)

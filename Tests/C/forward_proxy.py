#!/usr/bin/env python3
"""A minimal HTTP forward proxy for the proxy test: it relays absolute-form
requests (GET/POST http://host:port/path) to loopback origins and logs one
line per request (method and path, never headers: they hold keys) to the
file named by --log. Prints its URL on the first line of stdout.

Only loopback targets are relayed; anything else gets 403."""
import argparse
import http.client
import http.server
import sys
import threading
import urllib.parse

LOCK = threading.Lock()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = ""

    def relay(self):
        target = urllib.parse.urlsplit(self.path)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost", "::1"):
            self.send_error(403, "only loopback http targets")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("proxy-connection", "connection", "keep-alive", "host")}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        path = target.path + ("?" + target.query if target.query else "")
        upstream.request(self.command, path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        with LOCK, open(self.log_path, "a") as log:
            log.write(f"{self.command} {target.path}\n")
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Via", "1.1 kasko-test-proxy")
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = relay
    do_POST = relay

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    Proxy.log_path = args.log
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Scripted HTTP server for PaperPost's tests.

Serves canned responses from a routes file on 127.0.0.1 only, so tests exercise real HTTP
(sockets, keep-alive, compression, redirects, slow and dropped responses) without leaving
the machine.

    python3 fixture_http_server.py --routes ROUTES.json

The first line on stdout is "PORT <n>". The server then runs until it is killed, until its
stdin reaches end-of-file (so it never outlives the test process that started it), or until
--max-seconds have passed.

ROUTES.json maps a request target to a list of responses served in order, the last one
repeating. A key with a query string ("/api/query?id=1") matches that exact target and is
tried first; a key without one ("/api/query") matches the path with any query. Each response:

    {
      "status": 200,                        default 200
      "headers": {"Name": "value"}          or [["Name", "value"], ...] to repeat a field
      "body": "text"                        UTF-8 text, or
      "body_base64": "...",                 raw bytes, or
      "body_file": "path",                  raw bytes of a file (relative to ROUTES.json), or
      "body_gzip_zeros": 1073741824,        that many zero bytes as gzip data: a decompression
                                            bomb (1 GiB is about 1 MiB on the wire); the route
                                            sets Content-Encoding itself
      "endless": false,                     send the body (64 KiB of "x" when empty) over and
                                            over, chunked, until the client hangs up
      "delay_seconds": 0.5,                 wait before answering
      "hold_until_waiting": 16,             hold the answer until this many requests served by
                                            this response are waiting at once (a barrier: a
                                            client that sends them one or two at a time never
                                            gets one); once reached, it stays open
      "hold_timeout_seconds": 60,           how long a held request waits for the barrier before
                                            it gets a 504 saying how many were waiting at most
      "close_without_response": false       drop the connection without a byte of reply
    }

Content-Length, Date and Server are added unless the route sets them (an endless body has no
Content-Length). Unknown targets get 404.

GET /__requests returns every request received so far (except these) as a JSON list of
{"method", "path" (with query), "headers": [[name, value], ...], "body_base64",
"arrival" (time.monotonic() seconds), "client_port"}.

GET /__requests?count=N&timeout=S waits until at least N requests have arrived (a state to
wait for, however slow the machine), then answers as above; after S seconds (default 60)
without them it answers 504 with the list so far.
"""

import base64
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler

import peer
from urllib.parse import parse_qs, urlsplit

SERVER_NAME = "PaperPostFixture/1.0"


def load_routes(path):
    base_dir = os.path.dirname(os.path.abspath(path))
    with open(path, "rb") as handle:
        raw = json.load(handle)
    if not isinstance(raw, dict):
        raise ValueError("routes file must hold a JSON object mapping paths to response lists")
    routes = {}
    for target, responses in raw.items():
        if isinstance(responses, dict):
            responses = [responses]
        if not isinstance(responses, list) or not responses:
            raise ValueError(f"route {target!r}: expected a non-empty list of responses")
        routes[target] = [normalise(target, response, base_dir) for response in responses]
    return routes


def normalise(target, response, base_dir):
    headers = response.get("headers", [])
    if isinstance(headers, dict):
        headers = list(headers.items())
    headers = [(str(name), str(value)) for name, value in headers]
    sources = [key for key in ("body", "body_base64", "body_file", "body_gzip_zeros") if key in response]
    if len(sources) > 1:
        raise ValueError(f"route {target!r}: give at most one of {sources}")
    body = b""
    if "body" in response:
        body = str(response["body"]).encode("utf-8")
    elif "body_base64" in response:
        body = base64.b64decode(response["body_base64"])
    elif "body_file" in response:
        with open(os.path.join(base_dir, response["body_file"]), "rb") as handle:
            body = handle.read()
    elif "body_gzip_zeros" in response:
        body = gzip_of_zeros(int(response["body_gzip_zeros"]))
    endless = bool(response.get("endless", False))
    if endless and not body:
        body = b"x" * 65536
    hold = int(response.get("hold_until_waiting", 0))
    return {
        "status": int(response.get("status", 200)),
        "headers": headers,
        "body": body,
        "delay_seconds": float(response.get("delay_seconds", 0)),
        "close_without_response": bool(response.get("close_without_response", False)),
        "endless": endless,
        "barrier": Barrier(hold, float(response.get("hold_timeout_seconds", 60))) if hold > 1 else None,
    }


class Barrier:
    """Holds each request until `parties` of them wait together, then lets every one through,
    now and later. Unlike threading.Barrier it never breaks or resets: a late or retried request
    passes straight through once the barrier has opened."""

    def __init__(self, parties, timeout):
        self.parties = parties
        self.timeout = timeout
        self.condition = threading.Condition()
        self.waiting = 0
        self.most_waiting = 0
        self.open = False

    def wait(self):
        """True once the barrier is open; False after the timeout without it."""
        with self.condition:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            if self.waiting >= self.parties:
                self.open = True
                self.condition.notify_all()
            opened = self.condition.wait_for(lambda: self.open, timeout=self.timeout)
            self.waiting -= 1
            return opened


def gzip_of_zeros(size):
    """`size` zero bytes as one gzip member, made from a single compressed MiB repeated: a full
    flush leaves no history behind, so every MiB compresses to the same bytes, and a 1 GiB bomb
    takes milliseconds to build instead of seconds of compressing."""
    mebibyte = 1 << 20

    def block(length):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(bytes(length)) + compressor.flush(zlib.Z_FULL_FLUSH)

    whole, rest = divmod(size, mebibyte)
    crc = 0
    zeros = bytes(mebibyte)
    for _ in range(whole):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(bytes(rest), crc)
    deflated = block(mebibyte) * whole + (block(rest) if rest else b"")
    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + deflated + final_block + struct.pack("<II", crc, size & 0xFFFFFFFF)


class State:
    def __init__(self, routes):
        self.routes = routes
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.served = {}
        self.requests = []

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            self.arrived.notify_all()

    def recorded(self, at_least=0, timeout=0):
        """The requests so far, once there are `at_least` of them, and whether there are."""
        with self.lock:
            enough = self.arrived.wait_for(lambda: len(self.requests) >= at_least, timeout=timeout)
            return list(self.requests), enough

    def next_response(self, target):
        path = urlsplit(target).path
        key = target if target in self.routes else path if path in self.routes else None
        if key is None:
            return None
        with self.lock:
            index = self.served.get(key, 0)
            self.served[key] = index + 1
        responses = self.routes[key]
        return responses[min(index, len(responses) - 1)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    verbose = False

    def log_message(self, format, *args):
        if self.verbose:
            super().log_message(format, *args)

    def handle(self):
        try:
            super().handle()
        except ConnectionResetError:
            # The client hung up with part of a body unread (it refused one over its size limit),
            # which resets the connection; there is no one left to answer.
            self.close_connection = True

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def read_body(self):
        return peer.read_body(self)

    def handle_any(self):
        arrival = time.monotonic()
        body = self.read_body()
        if self.command == "GET" and urlsplit(self.path).path == "/__requests":
            query = parse_qs(urlsplit(self.path).query)
            count = int(query.get("count", ["0"])[0])
            timeout = float(query.get("timeout", ["60"])[0])
            recorded, enough = self.state.recorded(at_least=count, timeout=timeout)
            self.send(200 if enough else 504, [("Content-Type", "application/json")], json.dumps(recorded).encode())
            return
        self.state.record({
            "method": self.command,
            "path": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body_base64": base64.b64encode(body).decode("ascii"),
            "arrival": arrival,
            "client_port": self.client_address[1],
        })
        response = self.state.next_response(self.path)
        if response is None:
            self.send(404, [("Content-Type", "text/plain")], f"no route for {self.path}\n".encode())
            return
        barrier = response["barrier"]
        if barrier is not None and not barrier.wait():
            message = (f"held {barrier.timeout:g} s for {barrier.parties} requests waiting at once, "
                       f"but at most {barrier.most_waiting} were\n")
            self.send(504, [("Content-Type", "text/plain")], message.encode())
            return
        if response["delay_seconds"] > 0:
            time.sleep(response["delay_seconds"])
        if response["close_without_response"]:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if response["endless"]:
            self.send_endless(response["status"], response["headers"], response["body"])
            return
        self.send(response["status"], response["headers"], response["body"])

    def send(self, status, headers, body):
        names = {name.lower() for name, _ in headers}
        try:
            self.send_response_only(status)
            if "server" not in names:
                self.send_header("Server", SERVER_NAME)
            if "date" not in names:
                self.send_header("Date", self.date_time_string())
            if "content-length" not in names and "transfer-encoding" not in names:
                self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD" and status >= 200 and status not in (204, 304):
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a timeout test); nothing is left to answer.
            self.close_connection = True

    def send_endless(self, status, headers, body):
        """A chunked body that never ends: only the client hanging up stops it."""
        self.close_connection = True
        chunk = b"%x\r\n" % len(body) + body + b"\r\n"
        try:
            self.send_response_only(status)
            self.send_header("Server", SERVER_NAME)
            self.send_header("Date", self.date_time_string())
            self.send_header("Transfer-Encoding", "chunked")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            while True:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    parser = peer.argument_parser(__doc__)
    parser.add_argument("--routes", required=True, help="JSON file of routes")
    arguments = parser.parse_args()

    try:
        routes = load_routes(arguments.routes)
    except (OSError, ValueError) as error:
        sys.exit(f"fixture_http_server: cannot load {arguments.routes}: {error}")
    Handler.state = State(routes)
    Handler.verbose = arguments.verbose
    peer.serve(Handler, arguments)


if __name__ == "__main__":
    main()

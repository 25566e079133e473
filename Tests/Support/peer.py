"""What every local test peer shares: the common flags, a threaded HTTP server on 127.0.0.1,
and the lifecycle rules (announce the port first; exit when stdin closes, so a peer never
outlives the test that started it; exit after --max-seconds regardless)."""
import argparse
import os
import sys
import threading
from http.server import ThreadingHTTPServer


def argument_parser(description):
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ignore-stdin", action="store_true", help="keep serving after stdin closes")
    parser.add_argument("--max-seconds", type=float, default=1800, help="exit after this long regardless")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Tests and benchmarks open many connections at once; the default backlog of 5 would drop
    # SYNs and add one-second client retransmits.
    request_queue_size = 128


def read_body(handler):
    """The request body, whether sent with Content-Length or chunked (libcurl chunks a POST
    whose size it does not know)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def exit_when_stdin_closes():
    stream = sys.stdin.buffer if sys.stdin else None
    if stream is not None:
        while stream.read(4096):
            pass
    os._exit(0)


def serve(handler, arguments):
    """Binds 127.0.0.1 on a free port, announces it, and serves until told to stop."""
    server = Server(("127.0.0.1", 0), handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    if not arguments.ignore_stdin:
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    timer = threading.Timer(arguments.max_seconds, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()

#!/usr/bin/env python3
"""Scripted SMTP server for PaperPost's tests, built on aiosmtpd.

Accepts mail on 127.0.0.1 only and keeps every message in memory, so tests exercise the real
SMTP path (libcurl, STARTTLS, AUTH, connection reuse, temporary and permanent failures, dropped
connections, slow servers) without leaving the machine.

    python3 smtp_server.py [--tls required|offered|off] [--auth USER:PASSWORD] [--max-seconds N]

stdout carries exactly three lines, then nothing more:

    PORT <smtp port>
    CONTROL <http port>           the control server below
    CERT <path>|none              the self-signed certificate's PEM (also its own CA)

The server then runs until it is killed, until its stdin reaches end-of-file (so it never
outlives the test process that started it), or until --max-seconds have passed.

--tls off (default): no STARTTLS. offered: STARTTLS offered with a certificate generated at
start (openssl command line; CN localhost, SAN IP:127.0.0.1 and DNS:localhost, valid 7 days).
required: the same, and any command other than EHLO, NOOP, STARTTLS and QUIT before STARTTLS
gets "530 5.7.0 Must issue a STARTTLS command first" (RFC 3207).

--auth USER:PASSWORD: AUTH PLAIN and LOGIN; other credentials get "535 5.7.8 Authentication
credentials invalid"; MAIL, RCPT and DATA before AUTH get "530 5.7.0 Authentication required".
With --tls off AUTH is offered in clear text; otherwise only after STARTTLS (before it, AUTH
gets "538 5.7.11 Encryption required for requested authentication mechanism"). Without --auth
no AUTH is advertised.

Every accepted message is stored with its envelope, its raw bytes (after dot-unstuffing), its
TLS state, the authenticated user and the connection ("session") it came on, and answered
"250 2.0.0 OK: queued as <id>".

Control server (HTTP on 127.0.0.1):

    GET  /messages   [{"id", "mail_from", "rcpt_tos", "data" (UTF-8, undecodable bytes as
                     U+FFFD), "data_base64" (the exact bytes), "tls", "auth_user" (or null),
                     "session" (connection id; equal ids = one reused connection), "helo",
                     "mail_options", "arrival" (time.time() seconds)}], in arrival order
    GET  /stats      counters since start or the last reset (see State.COUNTERS)
    POST /script     {"rules": [...]} replaces the rules (400 with a reason if malformed)
    GET  /script     the rules, with "times" counting down and "fired"
    POST /release    answers every held message ("hold" below) with its normal 250 reply
    POST /reset      clears messages, rules and counters (message and session ids keep
                     increasing, so they stay unique)

A rule: {"rcpt": ADDRESS or "*", "stage": STAGE, "action": ACTION, "times": N or absent}

    stage "connect"  when a connection opens, before the banner; "rcpt" must be "*"
          "mail"     on MAIL FROM; "rcpt" matches the sender address (or "*")
          "rcpt"     on RCPT TO; "rcpt" matches that recipient
          "data"     after the whole message body has been received, before the reply;
                     "rcpt" matches any recipient accepted in that transaction
    action {"reply": "451 4.3.0 Try again later"}
                     answer that line instead. A 2xx line accepts the command as usual but
                     with that text (at "data" the message is stored); any other code refuses
                     it (at "data" the message is not stored). A 421 line is followed by
                     closing the connection, as RFC 5321 prescribes. At "connect" the line
                     replaces the banner and the connection is closed.
           "drop"    close the TCP connection without a reply (at "data": after the body,
                     so the client sees the connection vanish mid-DATA); nothing is stored
           {"stall": seconds}
                     wait that long, then carry on normally (if the client closes the
                     connection meanwhile, that is the end of it: at "data", nothing is stored)
           "hold"    only at "data": store the message (it counts as received, as a real
                     server may have queued it), then give no reply until POST /release or
                     until the client goes away; "held" counts these. Tests use it to kill a
                     sender at a known state: a message taken by the server, its reply not sent
    times  how often the rule fires before it is used up; absent or null = forever

Addresses compare case-insensitively. At each event the first rule in the list that matches
and is not used up fires (and only that one); a stall is the whole action for that event.
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

IDENT = "PaperPostSMTP (aiosmtpd)"
HOSTNAME = "localhost"
STAGES = ("connect", "mail", "rcpt", "data")
ALLOWED_BEFORE_STARTTLS = {"NOOP", "EHLO", "STARTTLS", "QUIT"}
REQUIRE_TLS_REPLY = "530 5.7.0 Must issue a STARTTLS command first"


# ---------------------------------------------------------------------------------------------
# Rules

def parse_rule(raw):
    if not isinstance(raw, dict):
        raise ValueError(f"rule {raw!r}: expected an object")
    unknown = set(raw) - {"rcpt", "stage", "action", "times"}
    if unknown:
        raise ValueError(f"rule {raw!r}: unknown fields {sorted(unknown)}")
    stage = raw.get("stage")
    if stage not in STAGES:
        raise ValueError(f"rule {raw!r}: \"stage\" must be one of {list(STAGES)}")
    rcpt = raw.get("rcpt", "*")
    if not isinstance(rcpt, str) or not rcpt:
        raise ValueError(f"rule {raw!r}: \"rcpt\" must be an address or \"*\"")
    if stage == "connect" and rcpt != "*":
        raise ValueError(f"rule {raw!r}: a \"connect\" rule knows no address; use \"rcpt\": \"*\"")
    action = raw.get("action")
    if action == "drop":
        parsed = ("drop", None)
    elif action == "hold":
        if stage != "data":
            raise ValueError(f"rule {raw!r}: \"hold\" is only for the \"data\" stage")
        parsed = ("hold", None)
    elif isinstance(action, dict) and set(action) == {"reply"}:
        reply = action["reply"]
        if (not isinstance(reply, str) or len(reply) < 3 or not reply[:3].isdigit()
                or reply[0] not in "2345" or (len(reply) > 3 and reply[3] != " ")
                or "\r" in reply or "\n" in reply):
            raise ValueError(f"rule {raw!r}: \"reply\" must be one line \"NNN text\" with a 2xx-5xx code")
        parsed = ("reply", reply)
    elif isinstance(action, dict) and set(action) == {"stall"}:
        seconds = action["stall"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"rule {raw!r}: \"stall\" must be a non-negative number of seconds")
        parsed = ("stall", float(seconds))
    else:
        raise ValueError(f"rule {raw!r}: \"action\" must be {{\"reply\": \"NNN text\"}}, \"drop\", \"hold\" or {{\"stall\": seconds}}")
    times = raw.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise ValueError(f"rule {raw!r}: \"times\" must be a non-negative integer or null")
    return {"rcpt": rcpt, "match": rcpt.lower(), "stage": stage, "action": parsed, "times": times, "fired": 0}


def parse_rules(raw):
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
        raise ValueError("expected {\"rules\": [...]}")
    return [parse_rule(rule) for rule in raw["rules"]]


def rule_json(rule):
    kind, value = rule["action"]
    action = kind if kind in ("drop", "hold") else {kind: value}
    return {"rcpt": rule["rcpt"], "stage": rule["stage"], "action": action, "times": rule["times"], "fired": rule["fired"]}


# ---------------------------------------------------------------------------------------------
# Shared state (the SMTP event loop and the control server's threads)

class State:
    COUNTERS = (
        "connections",        # TCP connections accepted
        "connect_refused",    # connections answered by a "connect" reply rule instead of the banner
        "starttls",           # completed TLS handshakes after STARTTLS
        "auth_succeeded",
        "auth_failed",
        "mail",               # MAIL commands received
        "mail_accepted",
        "mail_refused",
        "rcpt",               # RCPT commands received
        "rcpt_accepted",
        "rcpt_refused",
        "data",               # message bodies received (after DATA, up to the final dot)
        "data_accepted",      # messages stored
        "data_refused",       # bodies refused by a reply rule
        "dropped",            # connections closed by a "drop" rule
        "stalled",            # "stall" rules fired
        "held",               # messages stored and left without a reply by a "hold" rule
    )

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.rules = []
        self.counters = dict.fromkeys(self.COUNTERS, 0)
        self.active = 0
        self.next_message_id = 1
        self.next_session_id = 1
        self.release_generation = 0

    def count(self, name, amount=1):
        with self.lock:
            self.counters[name] += amount

    def open_connection(self):
        with self.lock:
            session = self.next_session_id
            self.next_session_id += 1
            self.counters["connections"] += 1
            self.active += 1
            return session

    def close_connection(self):
        with self.lock:
            self.active -= 1

    def take_rule(self, stage, addresses):
        """The action of the first live rule for this stage matching one of the addresses,
        used up by one; None when no rule fires."""
        with self.lock:
            if not self.rules:
                return None
            lowered = None
            for rule in self.rules:
                if rule["stage"] != stage or rule["times"] == 0:
                    continue
                if rule["match"] != "*":
                    if lowered is None:
                        lowered = {address.lower() for address in addresses}
                    if rule["match"] not in lowered:
                        continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                rule["fired"] += 1
                return rule["action"]
            return None

    def store(self, message):
        with self.lock:
            message["id"] = self.next_message_id
            self.next_message_id += 1
            self.messages.append(message)
            self.counters["data_accepted"] += 1
            return message["id"]

    def release(self):
        with self.lock:
            self.release_generation += 1

    def released_since(self, generation):
        with self.lock:
            return self.release_generation != generation

    def replace_rules(self, rules):
        with self.lock:
            self.rules = rules

    def reset(self):
        with self.lock:
            self.messages = []
            self.rules = []
            self.counters = dict.fromkeys(self.COUNTERS, 0)

    def snapshot_messages(self):
        with self.lock:
            messages = list(self.messages)
        return [message_json(message) for message in messages]

    def snapshot_stats(self):
        with self.lock:
            return dict(self.counters, active_connections=self.active, messages=len(self.messages))

    def snapshot_rules(self):
        with self.lock:
            return {"rules": [rule_json(rule) for rule in self.rules]}


def message_json(message):
    raw = message["raw"]
    return {
        "id": message["id"],
        "mail_from": message["mail_from"],
        "rcpt_tos": message["rcpt_tos"],
        "data": raw.decode("utf-8", errors="replace"),
        "data_base64": base64.b64encode(raw).decode("ascii"),
        "tls": message["tls"],
        "auth_user": message["auth_user"],
        "session": message["session"],
        "helo": message["helo"],
        "mail_options": message["mail_options"],
        "arrival": message["arrival"],
    }


# ---------------------------------------------------------------------------------------------
# SMTP

# What apply_rule returns for a "hold" rule: store the message, then wait for /release.
HOLD = object()


class ScriptedSMTP(SMTP):
    """One instance per connection (and it survives STARTTLS). No attribute here or on Handler
    may start with "auth_", "handle_" or "smtp_": aiosmtpd takes those for AUTH mechanisms,
    hooks and commands."""

    def __init__(self, state, require_tls, advertise_auth, **kwargs):
        super().__init__(Handler(state, advertise_auth), **kwargs)
        self.state = state
        self.require_tls = require_tls
        self.connection_id = None
        self.closed = False
        # aiosmtpd dispatches every command through this table: wrap it to count commands and
        # to enforce STARTTLS with RFC 3207's reply text.
        for name, method in list(self._smtp_methods.items()):
            self._smtp_methods[name] = self.guarded(name, method)

    def guarded(self, name, method):
        state = self.state

        async def run(arg):
            if name == "MAIL":
                state.count("mail")
            elif name == "RCPT":
                state.count("rcpt")
            if self.require_tls and self._tls_protocol is None and name not in ALLOWED_BEFORE_STARTTLS:
                await self.push(REQUIRE_TLS_REPLY)
                if name in ("MAIL", "RCPT"):
                    state.count(name.lower() + "_refused")
                return
            if name == "MAIL":
                before = bool(self.envelope.mail_from)
                await method(arg)
                state.count("mail_accepted" if not before and self.envelope.mail_from else "mail_refused")
            elif name == "RCPT":
                before = len(self.envelope.rcpt_tos)
                await method(arg)
                state.count("rcpt_accepted" if len(self.envelope.rcpt_tos) > before else "rcpt_refused")
            else:
                await method(arg)

        return run

    def connection_made(self, transport):
        first = self._original_transport is None
        if first and self.connection_id is None:
            self.connection_id = self.state.open_connection()
        super().connection_made(transport)
        if not first:
            self.state.count("starttls")

    def connection_lost(self, error):
        if self.connection_id is not None and not self.closed:
            self.closed = True
            self.state.close_connection()
        super().connection_lost(error)

    async def _handle_client(self):
        action = self.state.take_rule("connect", ())
        if action is not None:
            kind, value = action
            if kind == "stall":
                self.state.count("stalled")
                await asyncio.sleep(value)
            elif kind == "drop":
                self.drop_connection()
                return
            else:
                self.state.count("connect_refused")
                try:
                    await self.push(value)
                finally:
                    if self.transport is not None:
                        self.transport.close()
                return
        await super()._handle_client()

    def drop_connection(self):
        self.state.count("dropped")
        raw = self._original_transport or self.transport
        if raw is not None:
            raw.close()

    async def apply_rule(self, stage, addresses):
        """Runs the rule for this event, if one fires. Returns the reply line to give instead
        of the normal one, or None to carry on normally. Does not return after a drop or a 421:
        it ends the session."""
        action = self.state.take_rule(stage, addresses)
        if action is None:
            return None
        kind, value = action
        if kind == "stall":
            self.state.count("stalled")
            await asyncio.sleep(value)
            return None
        if kind == "hold":
            return HOLD
        if kind == "drop":
            self.drop_connection()
            raise asyncio.CancelledError()
        if value.startswith("421"):
            self.state.count(stage + "_refused")
            await self.push(value)
            if self.transport is not None:
                self.transport.close()
            raise asyncio.CancelledError()
        return value

    def authenticated_user(self):
        session = self.session
        if not session.authenticated or not isinstance(session.auth_data, LoginPassword):
            return None
        return session.auth_data.login.decode("utf-8", errors="replace")


class Handler:
    def __init__(self, state, advertise_auth):
        self.state = state
        self.advertise_auth = advertise_auth

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # With this hook aiosmtpd leaves recording the name to us.
        session.host_name = hostname
        if not self.advertise_auth:
            responses = [line for line in responses if not line[4:].startswith("AUTH")]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = await server.apply_rule("mail", (address,))
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return reply or "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = await server.apply_rule("rcpt", (address,))
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return reply or "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.state.count("data")
        reply = await server.apply_rule("data", envelope.rcpt_tos)
        held = reply is HOLD
        if held:
            reply = None
            generation = self.state.release_generation
        if reply is not None and not reply.startswith("2"):
            self.state.count("data_refused")
            return reply
        message_id = self.state.store({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "raw": envelope.original_content,
            "tls": server._tls_protocol is not None,
            "auth_user": server.authenticated_user(),
            "session": server.connection_id,
            "helo": session.host_name,
            "mail_options": list(envelope.mail_options),
            "arrival": time.time(),
        })
        if held:
            self.state.count("held")
            while not server.closed and not self.state.released_since(generation):
                await asyncio.sleep(0.01)
        return reply or f"250 2.0.0 OK: queued as {message_id}"


def make_authenticator(state, user, password):
    user, password = user.encode("utf-8"), password.encode("utf-8")

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password:
            state.count("auth_succeeded")
            return AuthResult(success=True, auth_data=auth_data)
        state.count("auth_failed")
        return AuthResult(success=False, handled=False)

    return authenticate


def make_certificate(directory):
    """A self-signed certificate for localhost and 127.0.0.1 that is also its own CA."""
    config = os.path.join(directory, "openssl.cnf")
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    with open(config, "w") as handle:
        handle.write(
            "[req]\n"
            "distinguished_name = dn\n"
            "x509_extensions = ext\n"
            "prompt = no\n"
            "[dn]\n"
            "CN = localhost\n"
            "[ext]\n"
            "basicConstraints = critical, CA:TRUE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid:always\n"
        )
    subprocess.run(
        ["openssl", "req", "-x509", "-config", config, "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "7", "-sha256"],
        check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


# ---------------------------------------------------------------------------------------------
# Control server

class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_GET

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = urlsplit(self.path).path
        route = (self.command, path)
        if route == ("GET", "/messages"):
            self.send_json(200, self.state.snapshot_messages())
        elif route == ("GET", "/stats"):
            self.send_json(200, self.state.snapshot_stats())
        elif route == ("GET", "/script"):
            self.send_json(200, self.state.snapshot_rules())
        elif route == ("POST", "/script"):
            try:
                rules = parse_rules(json.loads(raw or b"null"))
            except ValueError as error:
                self.send_json(400, {"error": f"bad rules: {error}"})
                return
            self.state.replace_rules(rules)
            self.send_json(200, {"ok": True})
        elif route == ("POST", "/release"):
            self.state.release()
            self.send_json(200, {"ok": True})
        elif route == ("POST", "/reset"):
            self.state.reset()
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, {"error": f"no route for {self.command} {self.path}"})

    def send_json(self, status, value):
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class ControlServer(ThreadingHTTPServer):
    daemon_threads = True


# ---------------------------------------------------------------------------------------------
# Main

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tls", choices=("required", "offered", "off"), default="off")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH PLAIN/LOGIN with these credentials")
    parser.add_argument("--ignore-stdin", action="store_true", help="keep serving after stdin closes")
    parser.add_argument("--max-seconds", type=float, default=1800, help="exit after this long regardless")
    arguments = parser.parse_args()
    if arguments.auth is not None and ":" not in arguments.auth:
        parser.error("--auth takes USER:PASSWORD")

    # aiosmtpd warns (log and warnings) about AUTH without TLS and deprecated attributes; the
    # test log does not need them.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL + 1)

    directory = tempfile.mkdtemp(prefix="paperpost-smtp-")

    def finish(*_):
        shutil.rmtree(directory, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)

    certificate, context = None, None
    if arguments.tls != "off":
        try:
            certificate, context = make_certificate(directory)
        except (OSError, subprocess.CalledProcessError) as error:
            shutil.rmtree(directory, ignore_errors=True)
            detail = getattr(error, "stderr", b"") or b""
            sys.exit(f"smtp_server: cannot make a certificate with openssl: {error} {detail.decode(errors='replace')}")

    state = State()
    options = {
        "hostname": HOSTNAME,
        "ident": IDENT,
        "enable_SMTPUTF8": True,
        "tls_context": context,
        "require_starttls": False,  # enforced by ScriptedSMTP, with RFC 3207's reply text
        "auth_require_tls": arguments.tls != "off",
        "auth_required": arguments.auth is not None,
    }
    if arguments.auth is not None:
        user, password = arguments.auth.split(":", 1)
        options["authenticator"] = make_authenticator(state, user, password)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: ScriptedSMTP(state, arguments.tls == "required", arguments.auth is not None, loop=loop, **options),
        host="127.0.0.1", port=0, backlog=128,
    ))
    smtp_port = server.sockets[0].getsockname()[1]

    ControlHandler.state = state
    control = ControlServer(("127.0.0.1", 0), ControlHandler)
    threading.Thread(target=control.serve_forever, daemon=True).start()

    sys.stdout.write(f"PORT {smtp_port}\nCONTROL {control.server_address[1]}\nCERT {certificate or 'none'}\n")
    sys.stdout.flush()

    if not arguments.ignore_stdin:
        def watch_stdin():
            stream = sys.stdin.buffer if sys.stdin else None
            if stream is not None:
                while stream.read(4096):
                    pass
            finish()
        threading.Thread(target=watch_stdin, daemon=True).start()
    timer = threading.Timer(arguments.max_seconds, finish)
    timer.daemon = True
    timer.start()
    loop.run_forever()


if __name__ == "__main__":
    main()

"""Parses one RFC 5322 message with Python's email package (an independent MIME parser) and
prints what tests check, as JSON: defects, decoded headers, decoded parts, raw line facts."""
import email
import email.policy
import json
import sys


def main() -> None:
    raw = open(sys.argv[1], "rb").read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [type(d).__name__ for d in message.defects]
    parts = []
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "text": part.get_content().replace("\r\n", "\n"),
        })
    lines = raw.split(b"\r\n")
    print(json.dumps({
        "defects": defects,
        "headers": {name: str(value) for name, value in message.items()},
        "content_type": message.get_content_type(),
        "parts": parts,
        "bare_line_feeds": raw.replace(b"\r\n", b"").count(b"\n"),
        "bare_carriage_returns": raw.replace(b"\r\n", b"").count(b"\r"),
        "longest_line": max(len(line) for line in lines),
        "lines_over_78": sum(1 for line in lines if len(line) > 78),
    }, ensure_ascii=False))


main()

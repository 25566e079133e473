#!/usr/bin/env python3
"""Verifies every DKIM-Signature of one message with dkimpy, an independent implementation.

    python3 dkim_verify.py MESSAGE.eml NAME=RECORD [NAME=RECORD ...]

NAME is the record's DNS name (selector._domainkey.domain) and RECORD its TXT value; no DNS is
queried. Prints one JSON object: {"signatures": [{"selector", "algorithm", "valid", "error"}, ...]}.
Exits 0 when it could check the message (whatever the verdicts), 2 on bad arguments.
"""

import json
import re
import sys

import dkim


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1], "rb") as handle:
        message = handle.read()
    records = {}
    for pair in sys.argv[2:]:
        name, _, record = pair.partition("=")
        records[name.rstrip(".").lower()] = record.encode("ascii")

    def lookup(name, timeout=5):
        return records.get(name.decode("ascii").rstrip(".").lower())

    verifier = dkim.DKIM(message)
    count = len(re.findall(rb"(?im)^DKIM-Signature:", message.split(b"\r\n\r\n", 1)[0]))
    results = []
    for index in range(count):
        error = None
        try:
            valid = bool(verifier.verify(idx=index, dnsfunc=lookup))
        except dkim.DKIMException as exception:
            # dkimpy refuses some altered messages outright (a From added to an oversigned
            # message): a failed verification, with the reason.
            valid, error = False, str(exception)
        signature = verifier.signature_fields or {}
        results.append({
            "selector": (signature.get(b"s") or b"").decode(),
            "algorithm": (signature.get(b"a") or b"").decode(),
            "valid": valid,
            "error": error,
        })
    print(json.dumps({"signatures": results}))


if __name__ == "__main__":
    main()

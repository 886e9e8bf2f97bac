#!/usr/bin/env python3
"""Count test cases in a meson testlog.json: each TAP 'ok'/'not ok' line of a test's
output is one case; a test that printed no TAP line counts as one case by its result.
Prints "<label> <passed> <failed>"."""
import json
import re
import sys

path, label = sys.argv[1], sys.argv[2]
passed = failed = 0
try:
    lines = open(path).read().splitlines()
except OSError:
    print(f"{label} 0 1")
    sys.exit(0)
for line in lines:
    if not line.strip():
        continue
    t = json.loads(line)
    out = t.get("stdout") or ""
    oks = len(re.findall(r"^ok\b", out, re.M))
    noks = len(re.findall(r"^not ok\b", out, re.M))
    good = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    if oks + noks == 0:
        passed, failed = (passed + 1, failed) if good else (passed, failed + 1)
    else:
        passed += oks
        failed += noks
        if not good and noks == 0:
            failed += 1  # crashed or timed out after its last TAP line
print(f"{label} {passed} {failed}")

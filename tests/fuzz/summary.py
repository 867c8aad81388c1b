"""Summarise a schemathesis NDJSON event log: "N passed, M failed (K test cases)".

A scenario is one generated group of test cases for one operation; it fails when any of its
cases got a 5xx (the only check the driver enables) or the connection broke.
Exit status 1 when anything failed.
"""

import collections
import json
import sys

statuses = collections.Counter()
cases = 0
failed_operations = set()
with open(sys.argv[1]) as log:
    for line in log:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        statuses[finished["status"]] += 1
        recorder = finished.get("recorder") or {}
        cases += len(recorder.get("cases", {}))
        if finished["status"] in ("failure", "error"):
            failed_operations.add(recorder.get("label", "?"))

passed = statuses["success"]
failed = statuses["failure"] + statuses["error"]
print(f"{passed} passed, {failed} failed ({cases} test cases, {statuses['skip']} skipped scenarios)")
for operation in sorted(failed_operations):
    print(f"  failed: {operation}")
sys.exit(1 if failed else 0)

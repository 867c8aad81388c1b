"""Summarise a schemathesis NDJSON event log: "N passed, M failed (K test cases)".

A scenario is one generated group of test cases for one operation; it fails when any of its
cases failed a check the driver enables (a 5xx, an answer unlike the document, an invalid
request accepted) or the connection broke or timed out.
An error inside the fuzzing tool itself (a Python exception in schemathesis or hypothesis, not
a network error) says nothing about the server: it is reported, not counted as a failure.
Exit status 1 when anything failed.
"""

import collections
import json
import sys

statuses = collections.Counter()
cases = 0
failed_operations = set()
tool_errors = set()
# What a broken or hung server looks like in an error scenario.
NETWORK_MARKERS = ("Connection", "connection", "Timeout", "timed out", "RemoteDisconnected", "reset by peer")
with open(sys.argv[1]) as log:
    for line in log:
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        status = finished["status"]
        recorder = finished.get("recorder") or {}
        cases += len(recorder.get("cases", {}))
        if status == "error" and not any(m in line for m in NETWORK_MARKERS):
            tool_errors.add(recorder.get("label", "?"))
            status = "tool-error"
        statuses[status] += 1
        if status in ("failure", "error"):
            failed_operations.add(recorder.get("label", "?"))

passed = statuses["success"]
failed = statuses["failure"] + statuses["error"]
print(f"{passed} passed, {failed} failed ({cases} test cases, {statuses['skip']} skipped scenarios)")
for operation in sorted(failed_operations):
    print(f"  failed: {operation}")
for operation in sorted(tool_errors):
    print(f"  fuzzing-tool error (not a server failure, see the log above): {operation}")
sys.exit(1 if failed else 0)

#!/usr/bin/env bash
# Offline tests of charts/wasmcron (no cluster needed):
#   for every tests/chart/cases/<case>.yaml:
#     - helm lint --strict with the case's values
#     - helm template, then kubernetes-validate -k 1.30.0 --strict on every rendered manifest
#       (ServiceMonitor is a CRD with no schema in kubernetes-validate: it is the only kind allowed to be
#       skipped, and check.py asserts its shape instead; any other kind without a schema fails)
#     - NOTES.txt renders, names the Service, the token Secret and the jobs API, contains every
#       "# expect-notes: <text>" line of the case and none of its "# expect-no-notes: <text>" lines
#     - check.py asserts the chart's rules on the rendered manifests
#   for every tests/chart/cases/fail-<case>.yaml:
#     - helm template must fail, and its error must contain every "# expect-error: <text>" line of the case
#   plus: values.schema.json is a valid draft-07 schema of values.yaml; README.md documents every value;
#         rendering jobs-inline with other jobs changes the jobs ConfigMap and leaves the Deployment as it was.
# Prints "N passed, M failed" last and exits non-zero on any failure.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$REPO/charts/wasmcron"
CASES="$REPO/tests/chart/cases"
KUBE_VERSION="1.30.0"
SCHEMALESS_KINDS_RE='kind (ServiceMonitor) with'

started=$(date +%s.%N)
TOOLS="$("$REPO/scripts/install-helm-tools.sh")" || { echo "tool installation failed"; echo "0 passed, 1 failed"; exit 1; }
HELM="$TOOLS/bin/helm"
PY="$TOOLS/venv/bin/python"
KV="$TOOLS/venv/bin/kubernetes-validate"

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok      %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAILED  %s\n' "$1"; [[ -n "${2:-}" ]] && sed 's/^/        /' "$2"; }

# Runs a step; passes when the command exits 0, otherwise shows its output.
step() {
  local name="$1"; shift
  local log="$OUT/step.log"
  if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name" "$log"; fi
}

# kubernetes-validate must pass, and may skip a schema only for the CRD kinds named above.
validate_manifests() {
  local file="$1" log="$OUT/validate.log"
  "$KV" -k "$KUBE_VERSION" --strict "$file" >"$log" 2>&1
  local rc=$?
  cat "$log"
  [[ $rc -eq 0 ]] || return 1
  if grep "Couldn't find schema" "$log" | grep -Ev "$SCHEMALESS_KINDS_RE" | grep -q .; then
    echo "a non-CRD kind has no schema (wrong apiVersion?)"
    return 1
  fi
  grep -q "passed for resource deployment/" "$log" || { echo "Deployment was not validated"; return 1; }
}

render() {
  "$HELM" template wasmcron "$CHART" --namespace wasmcron-test -f "$1" >"$2"
}

# helm template does not print NOTES.txt and helm install needs a cluster, so a copy of the chart renders
# it into a ConfigMap through tpl; the notes must name the Service, the token Secret and the jobs API.
NOTES_CHART="$OUT/notes-chart/wasmcron"
mkdir -p "$(dirname "$NOTES_CHART")" && cp -R "$CHART" "$NOTES_CHART"
cp "$CHART/templates/NOTES.txt" "$NOTES_CHART/notes.txt"
cat >"$NOTES_CHART/templates/zz-notes.yaml" <<'EOF_NOTES'
apiVersion: v1
kind: ConfigMap
metadata:
  name: rendered-notes
data:
  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}
EOF_NOTES
check_notes() {
  local notes="$OUT/notes.txt"
  "$HELM" template wasmcron "$NOTES_CHART" --namespace wasmcron-test -f "$1" \
    --show-only templates/zz-notes.yaml >"$OUT/notes.yaml" || return 1
  "$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["notes"])' "$OUT/notes.yaml" >"$notes"
  cat "$notes" >"$OUT/notes.shown"
  grep -q 'rollout status deployment/wasmcron' "$notes" \
    && grep -q 'get secret .* -o jsonpath=' "$notes" \
    && grep -q 'Authorization: Bearer' "$notes" \
    && grep -q '/api/v1/jobs' "$notes" || { cat "$notes"; return 1; }
  local text ok=0
  while IFS= read -r text; do
    grep -qF -- "$text" "$notes" || { echo "NOTES lack: $text"; ok=1; }
  done < <(sed -n 's/^# expect-notes: //p' "$1")
  while IFS= read -r text; do
    ! grep -qF -- "$text" "$notes" || { echo "NOTES must not say: $text"; ok=1; }
  done < <(sed -n 's/^# expect-no-notes: //p' "$1")
  [[ $ok -eq 0 ]] || { echo "--- NOTES:"; cat "$notes"; }
  return $ok
}

step "helm lint --strict (chart defaults)" "$HELM" lint --strict "$CHART"

for case_file in "$CASES"/*.yaml; do
  name="$(basename "$case_file" .yaml)"
  [[ "$name" == fail-* ]] && continue
  rendered="$OUT/$name.rendered.yaml"
  step "$name: helm lint --strict" "$HELM" lint --strict "$CHART" -f "$case_file"
  if render "$case_file" "$rendered" 2>"$OUT/render.err"; then
    pass "$name: helm template"
  else
    fail "$name: helm template" "$OUT/render.err"
    continue
  fi
  step "$name: kubernetes-validate -k $KUBE_VERSION --strict" validate_manifests "$rendered"
  step "$name: NOTES.txt tells how to reach the API and add a job" check_notes "$case_file"
  step "$name: chart rules (check.py)" "$PY" "$REPO/tests/chart/check.py" render "$CHART" "$case_file" "$rendered"
done

for case_file in "$CASES"/fail-*.yaml; do
  name="$(basename "$case_file" .yaml)"
  err="$OUT/$name.err"
  if render "$case_file" "$OUT/$name.rendered.yaml" 2>"$err"; then
    echo "rendered although it must fail" >"$err"
    fail "$name: helm template refuses the values" "$err"
    continue
  fi
  missing=""
  while IFS= read -r expected; do
    grep -qF -- "$expected" "$err" || missing+="  missing expected text: $expected"$'\n'
  done < <(sed -n 's/^# expect-error: //p' "$case_file")
  if ! grep -q '^# expect-error: ' "$case_file"; then
    missing="case has no '# expect-error:' line"
  fi
  if [[ -z "$missing" ]]; then
    pass "$name: helm template refuses the values with the expected message"
  else
    printf '%s\n--- helm said:\n' "$missing" >"$OUT/missing.log"
    cat "$err" >>"$OUT/missing.log"
    fail "$name: helm template refuses the values with the expected message" "$OUT/missing.log"
  fi
done

# helm upgrade with other jobs must not restart the pods: render the jobs case, then the same values with
# another list of jobs (one edited, one removed, one added), and compare the Deployments.
jobs_change_keeps_pods() {
  local case_file="$1" other="$OUT/other-jobs.yaml"
  cat >"$other" <<'EOF_JOBS'
jobs:
  - name: nightly-report
    schedule: 30 4 * * *
    plugin: report
    paused: true
  - name: added-later
    schedule: "@every 5m"
    plugin: hello
EOF_JOBS
  render "$case_file" "$OUT/jobs-before.yaml" || return 1
  "$HELM" template wasmcron "$CHART" --namespace wasmcron-test -f "$case_file" -f "$other" >"$OUT/jobs-after.yaml" || return 1
  "$PY" "$REPO/tests/chart/check.py" same-deployment "$OUT/jobs-before.yaml" "$OUT/jobs-after.yaml"
}
step "jobs-inline: other jobs leave the Deployment unchanged (helm upgrade restarts no pod)" \
  jobs_change_keeps_pods "$CASES/jobs-inline.yaml"

step "values.schema.json is draft-07 and matches values.yaml" "$PY" "$REPO/tests/chart/check.py" schema "$CHART"
step "README.md documents every value" "$PY" "$REPO/tests/chart/check.py" readme "$CHART"

elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "chart tests took ${elapsed}s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

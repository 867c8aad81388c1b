#!/usr/bin/env python3
"""Asserts the key properties of manifests rendered from charts/wasmcron.

Usage:
  check.py render CHART CASE_VALUES RENDERED   check one rendered case against its values
  check.py readme CHART                         check that README.md documents every value as values.yaml does,
                                                and that its GitOps example is the case gitops
  check.py schema CHART                         check values.schema.json (draft-07, matches values.yaml)
  check.py same-deployment BEFORE AFTER         check that a change of jobs leaves the Deployment as it was

The expectations are derived from the chart defaults merged with the case's values, so each case
checks the same rules: anti-affinity, Service session affinity and the PodDisruptionBudget exist
only with more than one replica; downward API env; the database URL, pool mode and session URL
(secrets only through secretKeyRefs, never in clear); probes; security contexts; update strategy;
termination grace; the jobs file and the secrets directory. Exits non-zero and prints every failed
assertion when one fails.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CRD_KINDS = {"ServiceMonitor"}


class Checker:
    """Collects assertion results so that one run reports every failure, not just the first."""

    def __init__(self, case: str) -> None:
        self.case = case
        self.passed = 0
        self.failures: list[str] = []

    def that(self, condition: bool, what: str) -> bool:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition

    def equal(self, actual: Any, expected: Any, what: str) -> bool:
        return self.that(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")

    def finish(self) -> int:
        for failure in self.failures:
            print(f"  FAIL [{self.case}] {failure}")
        print(f"  check [{self.case}]: {self.passed} assertions passed, {len(self.failures)} failed")
        return 1 if self.failures else 0


def deep_merge(base: dict, override: dict) -> dict:
    """Helm's value merge: maps merge recursively, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as "30s" or "1m30s", rounded up (the chart's own rule)."""
    factors = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
    ms = sum(int(n) * factors[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h)", text))
    return (ms + 999) // 1000


def load_documents(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


def by_kind(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for doc in docs:
        out.setdefault(doc["kind"], []).append(doc)
    return out


def env_map(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def check_render(chart: Path, case_file: Path, rendered: Path) -> int:
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    case_values = yaml.safe_load(case_file.read_text()) or {}
    values = deep_merge(defaults, case_values)
    chart_meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    c = Checker(case_file.stem)

    docs = load_documents(rendered)
    kinds = by_kind(docs)
    replicas = int(values["replicaCount"])
    multi = replicas > 1
    is_sqlite = not values["database"]["existingSecret"] and values["database"]["url"].startswith("sqlite:")

    # Every resource carries the standard labels (and commonLabels).
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for key in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            c.that(key in labels, f"{name} has label {key}")
        for key, value in values["commonLabels"].items():
            c.equal(labels.get(key), value, f"{name} commonLabel {key}")

    if not c.equal(len(kinds.get("Deployment", [])), 1, "exactly one Deployment"):
        return c.finish()
    deploy = kinds["Deployment"][0]
    spec = deploy["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    selector = spec["selector"]["matchLabels"]
    c.that(selector.items() <= pod_labels.items(), "Deployment selector matches the pod labels")
    c.equal(spec["replicas"], replicas, "Deployment replicas")

    # Update strategy.
    if is_sqlite:
        c.equal(spec["strategy"], {"type": "Recreate"}, "SQLite strategy is Recreate")
    else:
        c.equal(spec["strategy"].get("type"), "RollingUpdate", "strategy type")
        c.equal(spec["strategy"].get("rollingUpdate"), {"maxUnavailable": 0, "maxSurge": 1}, "rollingUpdate")

    # Pod anti-affinity iff more than one replica.
    affinity = pod.get("affinity", {})
    anti = affinity.get("podAntiAffinity")
    if multi and values["podAntiAffinity"] != "none" and not values["affinity"]:
        if c.that(anti is not None, "podAntiAffinity present with replicas > 1"):
            if values["podAntiAffinity"] == "soft":
                terms = [t["podAffinityTerm"] for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
                c.that(not anti.get("requiredDuringSchedulingIgnoredDuringExecution"), "soft: nothing required")
            else:
                terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
                c.that(not anti.get("preferredDuringSchedulingIgnoredDuringExecution"), "hard: nothing preferred")
            c.equal(len(terms), 1, f"{values['podAntiAffinity']} anti-affinity term count")
            for term in terms:
                c.equal(term.get("topologyKey"), "kubernetes.io/hostname", "anti-affinity topologyKey")
                c.equal(term.get("labelSelector", {}).get("matchLabels"), selector, "anti-affinity selector")
    else:
        c.that(anti is None, "no podAntiAffinity with a single replica")
    tsc = pod.get("topologySpreadConstraints")
    if multi and values["topologySpreadConstraints"]:
        if c.equal(len(tsc or []), len(values["topologySpreadConstraints"]), "topologySpreadConstraints count"):
            for constraint in tsc:
                c.equal(
                    constraint.get("labelSelector", {}).get("matchLabels"),
                    selector,
                    "topologySpreadConstraint selector filled in",
                )
    else:
        c.that(tsc is None, "no topologySpreadConstraints")

    # Termination grace: grace period + 15 s unless set, always longer than the run grace period.
    grace = duration_seconds(values["server"]["gracePeriod"])
    expected_tgp = values["terminationGracePeriodSeconds"] or grace + 15
    c.equal(pod.get("terminationGracePeriodSeconds"), expected_tgp, "terminationGracePeriodSeconds")
    c.that(pod.get("terminationGracePeriodSeconds", 0) > grace, "termination grace longer than the run grace")

    # Pod security.
    psc = pod.get("securityContext", {})
    c.equal(psc.get("runAsNonRoot"), True, "pod runAsNonRoot")
    c.equal(psc.get("runAsUser"), 65532, "pod runAsUser")
    c.equal(psc.get("runAsGroup"), 65532, "pod runAsGroup")
    c.equal(psc.get("fsGroup"), 65532, "pod fsGroup")
    c.equal(psc.get("seccompProfile"), {"type": "RuntimeDefault"}, "pod seccompProfile")
    c.equal(pod.get("automountServiceAccountToken"), False, "pod automountServiceAccountToken")
    c.equal(pod.get("enableServiceLinks"), False, "no service-link env vars (they would look like WASMCRON_*)")
    c.equal(pod.get("serviceAccountName"), deploy["metadata"]["name"], "serviceAccountName")

    containers = {ct["name"]: ct for ct in pod["containers"]}
    if not c.that("wasmcron" in containers, "wasmcron container present"):
        return c.finish()
    main = containers["wasmcron"]
    all_containers = list(pod["containers"]) + list(pod.get("initContainers", []))
    for ct in all_containers:
        sc = ct.get("securityContext", {})
        c.equal(sc.get("readOnlyRootFilesystem"), True, f"{ct['name']} readOnlyRootFilesystem")
        c.equal(sc.get("allowPrivilegeEscalation"), False, f"{ct['name']} allowPrivilegeEscalation")
        c.equal(sc.get("capabilities", {}).get("drop"), ["ALL"], f"{ct['name']} drops ALL capabilities")

    # Image and command line.
    tag = values["image"]["tag"] or chart_meta["appVersion"]
    c.equal(main["image"], f"{values['image']['repository']}:{tag}", "image")
    c.equal(main.get("args"), ["serve"], "args")

    # Environment: downward API, secrets, flags.
    env = env_map(main)
    for name, field in (
        ("POD_NAME", "metadata.name"),
        ("POD_IP", "status.podIP"),
        ("POD_NAMESPACE", "metadata.namespace"),
    ):
        c.equal(
            env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath"), field, f"downward API {name}"
        )
    chart_secret = deploy["metadata"]["name"]
    db_ref = env.get("WASMCRON_DB", {}).get("valueFrom", {}).get("secretKeyRef", {})
    token_ref = env.get("WASMCRON_API_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
    if values["database"]["existingSecret"]:
        c.equal(
            db_ref,
            {"name": values["database"]["existingSecret"], "key": values["database"]["existingSecretKey"]},
            "WASMCRON_DB from the existing Secret",
        )
    else:
        c.equal(db_ref, {"name": chart_secret, "key": "database-url"}, "WASMCRON_DB from the chart Secret")
    if values["auth"]["existingSecret"]:
        c.equal(
            token_ref,
            {"name": values["auth"]["existingSecret"], "key": values["auth"]["existingSecretKey"]},
            "WASMCRON_API_TOKEN from the existing Secret",
        )
    else:
        c.equal(token_ref, {"name": chart_secret, "key": "api-token"}, "WASMCRON_API_TOKEN from the chart Secret")

    # Pool mode, and the session URL beside a transaction pooler: only ever through a secretKeyRef.
    database = values["database"]
    c.equal(env.get("WASMCRON_DB_POOL_MODE", {}).get("value"), database["poolMode"], "WASMCRON_DB_POOL_MODE")
    max_connections = database.get("maxConnections")
    c.equal(
        env.get("WASMCRON_DB_MAX_CONNECTIONS", {}).get("value"),
        None if max_connections is None else str(max_connections),
        "WASMCRON_DB_MAX_CONNECTIONS set only with database.maxConnections, as its value",
    )
    session_env = env.get("WASMCRON_DB_SESSION_URL")
    stores_session_url = not database["sessionUrlExistingSecret"] and bool(database["sessionUrl"].strip())
    if database["sessionUrlExistingSecret"]:
        expected_session_ref = {
            "name": database["sessionUrlExistingSecret"],
            "key": database["sessionUrlExistingSecretKey"],
        }
    elif stores_session_url:
        expected_session_ref = {"name": chart_secret, "key": "database-session-url"}
    else:
        expected_session_ref = None
    if expected_session_ref is None:
        c.that(session_env is None, "no WASMCRON_DB_SESSION_URL without a session URL")
    elif c.that(session_env is not None, "WASMCRON_DB_SESSION_URL present"):
        c.equal(set(session_env), {"name", "valueFrom"}, "WASMCRON_DB_SESSION_URL has no plain value")
        c.equal(
            session_env.get("valueFrom"),
            {"secretKeyRef": expected_session_ref},
            "WASMCRON_DB_SESSION_URL from a secretKeyRef",
        )
        c.equal(database["poolMode"], "transaction", "a session URL renders only in transaction mode")
    # No URL given as a value shows up in clear anywhere in the manifests (the chart Secret holds it base64).
    rendered_text = rendered.read_text()
    for key in ("url", "sessionUrl"):
        url = database[key].strip()
        if url:
            c.that(url not in rendered_text, f"database.{key} never rendered in clear")
    plain = {k: v.get("value") for k, v in env.items() if "value" in v}
    server = values["server"]
    c.equal(plain.get("WASMCRON_LISTEN"), f"0.0.0.0:{server['port']}", "WASMCRON_LISTEN")
    c.equal(plain.get("WASMCRON_PLUGINS"), values["plugins"]["mountPath"], "WASMCRON_PLUGINS")
    c.equal(plain.get("WASMCRON_CACHE_DIR"), values["cache"]["mountPath"], "WASMCRON_CACHE_DIR")
    c.equal(plain.get("WASMCRON_GRACE_PERIOD"), server["gracePeriod"], "WASMCRON_GRACE_PERIOD")
    c.equal(plain.get("WASMCRON_HEARTBEAT_INTERVAL"), server["heartbeatInterval"], "WASMCRON_HEARTBEAT_INTERVAL")
    c.equal(plain.get("WASMCRON_DEAD_AFTER"), server["deadAfter"], "WASMCRON_DEAD_AFTER")
    c.equal(plain.get("WASMCRON_SETTINGS_TTL"), server["settingsTtl"], "WASMCRON_SETTINGS_TTL")
    c.equal(plain.get("WASMCRON_HOUSEKEEPING_INTERVAL"), server["housekeepingInterval"], "WASMCRON_HOUSEKEEPING_INTERVAL")
    c.equal(plain.get("WASMCRON_LOG_FORMAT"), server["logFormat"], "WASMCRON_LOG_FORMAT")
    c.that("WASMCRON_ADVERTISE" not in env or bool(server["advertise"]), "advertise falls back to POD_IP")

    # Probes.
    ports = {p["name"]: p["containerPort"] for p in main.get("ports", [])}
    c.equal(ports.get("http"), server["port"], "container port http")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        get = main.get(probe, {}).get("httpGet", {})
        c.equal((get.get("path"), get.get("port")), (path, "http"), f"{probe} GET {path}")
        for key in ("periodSeconds", "failureThreshold", "timeoutSeconds"):
            c.equal(main.get(probe, {}).get(key), values[probe][key], f"{probe}.{key}")

    # Volumes: plugins read-only, writable cache, /tmp and data directory.
    mounts = {m["name"]: m for m in main.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    plugins_mount = mounts.get("plugins", {})
    c.equal(
        (plugins_mount.get("mountPath"), plugins_mount.get("readOnly")),
        (values["plugins"]["mountPath"], True),
        "plugins mounted read-only",
    )
    plugins_volume = {k: v for k, v in volumes.get("plugins", {}).items() if k != "name"}
    if values["plugins"]["image"]["repository"]:
        c.equal(plugins_volume, {"emptyDir": {}}, "plugins emptyDir filled from the image")
        init = {ct["name"]: ct for ct in pod.get("initContainers", [])}.get("copy-plugins", {})
        c.equal(
            init.get("image"),
            f"{values['plugins']['image']['repository']}:{values['plugins']['image']['tag']}",
            "copy-plugins image",
        )
        c.equal(
            init.get("command"),
            ["cp", "-R", f"{values['plugins']['image']['path']}/.", "/copy-target/"],
            "copy-plugins command",
        )
        c.that(
            any(m["name"] == "plugins" and not m.get("readOnly") for m in init.get("volumeMounts", [])),
            "copy-plugins writes the plugins volume",
        )
    else:
        c.equal(plugins_volume, values["plugins"]["volume"] or {"emptyDir": {}}, "plugins volume given verbatim")
        c.that("initContainers" not in pod, "no init container without a plugins image")
    # Plugins from OCI registries: NAME=REF by name, the interval, plain-HTTP registries, and the
    # image pull secret's .dockerconfigjson mounted read-only as the credentials file.
    refs = values["plugins"]["refs"]
    c.equal(
        plain.get("WASMCRON_PLUGIN_REFS"),
        ",".join(f"{name}={refs[name]}" for name in sorted(refs)) if refs else None,
        "WASMCRON_PLUGIN_REFS",
    )
    c.equal(
        plain.get("WASMCRON_PLUGIN_REF_INTERVAL"),
        values["plugins"]["refInterval"] if refs else None,
        "WASMCRON_PLUGIN_REF_INTERVAL",
    )
    insecure = values["plugins"]["insecureRegistries"]
    c.equal(
        plain.get("WASMCRON_INSECURE_REGISTRIES"),
        ",".join(insecure) if insecure else None,
        "WASMCRON_INSECURE_REGISTRIES",
    )
    auth_secret = values["plugins"]["registryAuth"]["existingSecret"]
    if auth_secret:
        c.equal(plain.get("WASMCRON_REGISTRY_AUTH"), "/etc/wasmcron/registry/config.json", "WASMCRON_REGISTRY_AUTH")
        c.equal(
            (mounts.get("registry-auth", {}).get("mountPath"), mounts.get("registry-auth", {}).get("readOnly")),
            ("/etc/wasmcron/registry", True),
            "registry credentials mounted read-only",
        )
        c.equal(
            volumes.get("registry-auth", {}).get("secret"),
            {"secretName": auth_secret, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]},
            "registry credentials from the image pull secret",
        )
    else:
        c.that("WASMCRON_REGISTRY_AUTH" not in plain and "registry-auth" not in volumes, "no registry credentials")
    check_jobs_file(c, values, kinds.get("ConfigMap", []), plain, mounts, volumes, deploy["metadata"]["name"])
    check_secrets_dir(c, values, plain, mounts, volumes, psc)
    c.that(
        mounts.get("cache", {}).get("mountPath") == values["cache"]["mountPath"]
        and not mounts["cache"].get("readOnly"),
        "cache dir mounted writable",
    )
    c.that("emptyDir" in volumes.get("cache", {}), "cache is an emptyDir")
    c.that(
        mounts.get("tmp", {}).get("mountPath") == "/tmp" and "emptyDir" in volumes.get("tmp", {}), "/tmp is an emptyDir"
    )
    c.equal(mounts.get("data", {}).get("mountPath"), values["persistence"]["mountPath"], "data dir mounted")
    pvcs = kinds.get("PersistentVolumeClaim", [])
    if values["persistence"]["enabled"]:
        claim = volumes.get("data", {}).get("persistentVolumeClaim", {}).get("claimName")
        c.equal(claim, f"{chart_secret}-data", "data volume is the chart's PVC")
        c.equal([p["metadata"]["name"] for p in pvcs], [f"{chart_secret}-data"], "PVC rendered")
        if pvcs:
            c.equal(pvcs[0]["spec"]["resources"]["requests"]["storage"], values["persistence"]["size"], "PVC size")
    else:
        c.that("emptyDir" in volumes.get("data", {}), "data dir is an emptyDir")
        c.equal(pvcs, [], "no PVC")

    # Service: session affinity iff more than one replica.
    services = kinds.get("Service", [])
    if c.equal(len(services), 1, "one Service"):
        svc = services[0]["spec"]
        c.that(svc["selector"].items() <= pod_labels.items(), "Service selects the pods")
        c.equal(
            [(p["port"], p["targetPort"]) for p in svc["ports"]], [(values["service"]["port"], "http")], "Service port"
        )
        if multi:
            c.equal(svc.get("sessionAffinity"), "ClientIP", "Service sessionAffinity with replicas > 1")
            c.equal(
                svc.get("sessionAffinityConfig", {}).get("clientIP", {}).get("timeoutSeconds"),
                values["service"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
                "session timeout",
            )
        else:
            c.that(
                "sessionAffinity" not in svc and "sessionAffinityConfig" not in svc,
                "no sessionAffinity with a single replica",
            )

    # PodDisruptionBudget iff more than one replica.
    pdbs = kinds.get("PodDisruptionBudget", [])
    if multi and values["pdb"]["create"]:
        if c.equal(len(pdbs), 1, "one PDB with replicas > 1"):
            c.equal(pdbs[0]["spec"].get("minAvailable"), 1, "PDB minAvailable")
            c.equal(pdbs[0]["spec"]["selector"]["matchLabels"], selector, "PDB selector")
    else:
        c.equal(pdbs, [], "no PDB with a single replica")

    # Secret: only the keys not taken from existing Secrets.
    expected_keys = set()
    expected_data = {}
    if not values["database"]["existingSecret"]:
        expected_keys.add("database-url")
        expected_data["database-url"] = values["database"]["url"].strip()
    if stores_session_url:
        expected_keys.add("database-session-url")
        expected_data["database-session-url"] = database["sessionUrl"].strip()
    if not values["auth"]["existingSecret"]:
        expected_keys.add("api-token")
    secrets = kinds.get("Secret", [])
    if expected_keys:
        if c.equal(len(secrets), 1, "one chart Secret"):
            data = secrets[0].get("data", {})
            c.equal(set(data), expected_keys, "chart Secret keys")
            for key, value in expected_data.items():
                c.equal(base64.b64decode(data.get(key, "")).decode(), value, f"chart Secret {key}")
            c.that(bool(secrets[0]["data"].get("api-token", "x")), "api-token not empty")
            if "api-token" in expected_keys:
                token = base64.b64decode(secrets[0]["data"].get("api-token", "")).decode()
                # A replica refuses a bootstrap token shorter than 32 characters.
                c.that(len(token) >= 32, f"api-token has at least 32 characters ({len(token)})")
    else:
        c.equal(secrets, [], "no chart Secret when both come from existing Secrets")

    # ServiceAccount.
    accounts = kinds.get("ServiceAccount", [])
    if c.equal(len(accounts), 1, "one ServiceAccount"):
        c.equal(accounts[0].get("automountServiceAccountToken"), False, "ServiceAccount automount off")

    # ServiceMonitor (a CRD: kubernetes-validate has no schema for it, so its shape is checked here).
    monitors = kinds.get("ServiceMonitor", [])
    if values["metrics"]["serviceMonitor"]["enabled"]:
        if c.equal(len(monitors), 1, "one ServiceMonitor"):
            sm = monitors[0]
            c.equal(sm["apiVersion"], "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
            c.equal(sm["spec"]["selector"]["matchLabels"], selector, "ServiceMonitor selector")
            endpoint = sm["spec"]["endpoints"][0]
            c.equal((endpoint["port"], endpoint["path"]), ("http", "/metrics"), "ServiceMonitor endpoint")
            c.equal(endpoint.get("interval"), values["metrics"]["serviceMonitor"]["interval"], "scrape interval")
            for key, value in values["metrics"]["serviceMonitor"]["labels"].items():
                c.equal(sm["metadata"]["labels"].get(key), value, f"ServiceMonitor label {key}")
            if services:
                svc_labels = services[0]["metadata"]["labels"]
                c.that(selector.items() <= svc_labels.items(), "ServiceMonitor selector matches the Service")
    else:
        c.equal(monitors, [], "no ServiceMonitor")

    # Ingress.
    ingresses = kinds.get("Ingress", [])
    if values["ingress"]["enabled"]:
        if c.equal(len(ingresses), 1, "one Ingress"):
            ing = ingresses[0]["spec"]
            c.equal(ing.get("ingressClassName"), values["ingress"]["className"], "ingressClassName")
            c.equal(ing.get("tls"), values["ingress"]["tls"], "Ingress TLS")
            backend = ing["rules"][0]["http"]["paths"][0]["backend"]["service"]
            c.equal(
                backend,
                {"name": services[0]["metadata"]["name"] if services else None, "port": {"name": "http"}},
                "Ingress backend",
            )
            c.equal(ing["rules"][0].get("host"), values["ingress"]["hosts"][0]["host"], "Ingress host")
    else:
        c.equal(ingresses, [], "no Ingress")

    check_network_policy(c, values, kinds.get("NetworkPolicy", []), selector, is_sqlite)

    unexpected = set(kinds) - {
        "Deployment",
        "Service",
        "ServiceAccount",
        "Secret",
        "PodDisruptionBudget",
        "PersistentVolumeClaim",
        "ServiceMonitor",
        "Ingress",
        "NetworkPolicy",
        "ConfigMap",
    }
    c.equal(unexpected, set(), "no unexpected kinds")
    return c.finish()


JOBS_DIR = "/etc/wasmcron/jobs"
SECRETS_DIR = "/etc/wasmcron/secrets"


def check_jobs_file(
    c: Checker, values: dict, config_maps: list[dict], plain: dict, mounts: dict, volumes: dict, fullname: str
) -> None:
    """The jobs file: inline jobs rendered into the chart's ConfigMap (parsing back to the values' list), or an
    existing ConfigMap; either mounted read-only as a whole directory (no subPath, which never sees updates)
    with WASMCRON_JOBS_FILE naming the file in it; nothing at all without jobs."""
    jobs = values["jobs"]
    existing = values["jobsFile"]["existingConfigMap"]
    if jobs:
        name, key = f"{fullname}-jobs", "jobs.yaml"
        if c.equal([cm["metadata"]["name"] for cm in config_maps], [name], "one jobs ConfigMap"):
            data = config_maps[0].get("data", {})
            c.equal(set(data), {key}, "jobs ConfigMap keys")
            c.equal(yaml.safe_load(data.get(key, "")), jobs, "jobs.yaml parses back to the values' jobs")
    elif existing:
        name, key = existing, values["jobsFile"]["existingConfigMapKey"]
        c.equal(config_maps, [], "no chart ConfigMap with an existing jobs ConfigMap")
    else:
        c.equal(config_maps, [], "no jobs ConfigMap without jobs")
        c.that("WASMCRON_JOBS_FILE" not in plain, "no WASMCRON_JOBS_FILE without jobs")
        c.that("jobs" not in volumes and "jobs" not in mounts, "no jobs volume without jobs")
        return
    c.equal(plain.get("WASMCRON_JOBS_FILE"), f"{JOBS_DIR}/{key}", "WASMCRON_JOBS_FILE in the mounted directory")
    c.equal(mounts.get("jobs"), {"name": "jobs", "mountPath": JOBS_DIR, "readOnly": True}, "jobs directory mount")
    c.equal(
        volumes.get("jobs"),
        {"name": "jobs", "configMap": {"name": name, "items": [{"key": key, "path": key}]}},
        "jobs volume from the ConfigMap",
    )


def secret_names(given: str | list[str]) -> list[str]:
    """secrets.existingSecret as a list: one name, several, or none."""
    if isinstance(given, str):
        return [given] if given else []
    return list(given)


def check_secrets_dir(c: Checker, values: dict, plain: dict, mounts: dict, volumes: dict, psc: dict) -> None:
    """The secrets directory: every Secret of secrets.existingSecret projected into one read-only directory
    (no subPath), readable by the pod's fsGroup, and WASMCRON_SECRETS_DIR naming it; nothing without."""
    names = secret_names(values["secrets"]["existingSecret"])
    if not names:
        c.that("WASMCRON_SECRETS_DIR" not in plain, "no WASMCRON_SECRETS_DIR without secrets")
        c.that("secrets" not in volumes and "secrets" not in mounts, "no secrets volume without secrets")
        return
    c.equal(plain.get("WASMCRON_SECRETS_DIR"), SECRETS_DIR, "WASMCRON_SECRETS_DIR")
    c.equal(
        mounts.get("secrets"), {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True}, "secrets directory mount"
    )
    projected = volumes.get("secrets", {}).get("projected", {})
    c.equal(
        projected.get("sources"), [{"secret": {"name": n}} for n in names], "every Secret projected into the directory"
    )
    c.equal(projected.get("defaultMode"), 0o440, "secret files readable by owner and group only")
    c.that(bool(psc.get("fsGroup")), "the pod's fsGroup owns the secret files")


def check_same_deployment(before: Path, after: Path) -> int:
    """Two renders whose values differ only in jobs: the jobs ConfigMap differs, the Deployment does not (no
    checksum or anything else derived from the jobs on it), so helm upgrade leaves the pods running."""
    c = Checker("jobs change")
    docs = [by_kind(load_documents(p)) for p in (before, after)]
    config_maps = [[cm.get("data") for cm in d.get("ConfigMap", [])] for d in docs]
    c.that(config_maps[0] != config_maps[1], "the jobs ConfigMap changes with the jobs")
    c.that(bool(docs[0].get("Deployment")), "a Deployment is rendered")
    changed = differences(docs[0].get("Deployment"), docs[1].get("Deployment"))
    c.equal(changed, [], "paths of the Deployment (pod template included) that changed with the jobs")
    return c.finish()


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """The paths at which two parsed documents differ, e.g. spec.template.metadata.annotations.checksum/jobs."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            out += differences(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [path or "(document)"]


# The ranges the public-egress rule must keep closed: what "*" never reaches in the host either.
INSIDE_V4 = {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"}
INSIDE_V6 = {"::1/128", "fc00::/7", "fe80::/10"}


def check_network_policy(c: Checker, values: dict, policies: list[dict], selector: dict, is_sqlite: bool) -> None:
    """The NetworkPolicy: ingress to the API port from the release and the named namespaces only;
    egress to DNS, the database, public addresses (never the inside) and the rules the values add."""
    np = values["networkPolicy"]
    if not np["enabled"]:
        c.equal(policies, [], "no NetworkPolicy")
        return
    if not c.equal(len(policies), 1, "one NetworkPolicy"):
        return
    spec = policies[0]["spec"]
    c.equal(spec["podSelector"].get("matchLabels"), selector, "NetworkPolicy selects the pods")
    c.equal(sorted(spec.get("policyTypes", [])), ["Egress", "Ingress"], "NetworkPolicy limits both directions")

    ingress = spec.get("ingress", [])
    if c.equal(len(ingress), 1, "one ingress rule"):
        rule = ingress[0]
        c.equal(rule.get("ports"), [{"port": "http", "protocol": "TCP"}], "ingress only to the API port")
        expected = [{"podSelector": {"matchLabels": selector}}]
        expected += [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}} for ns in np["apiFromNamespaces"]
        ]
        expected += np["apiFrom"]
        c.equal(rule.get("from"), expected, "ingress from the release and the named namespaces only")

    egress = list(spec.get("egress", []))
    if np["dns"]["enabled"]:
        dns = egress.pop(0) if egress else {}
        c.equal(
            dns.get("ports"),
            [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            "DNS egress on port 53",
        )
        c.equal(dns.get("to"), np["dns"]["to"] or None, "DNS peers")
    if not is_sqlite:
        db = egress.pop(0) if egress else {}
        c.equal(db.get("ports"), [{"port": np["database"]["port"], "protocol": "TCP"}], "database egress port")
        c.equal(db.get("to"), np["database"]["to"] or None, "database peers")
    if np["publicEgress"]:
        public = egress.pop(0) if egress else {}
        blocks = [peer.get("ipBlock", {}) for peer in public.get("to", [])]
        c.equal(public.get("ports"), None, "public egress on any port")
        c.equal([b.get("cidr") for b in blocks], ["0.0.0.0/0", "::/0"], "public egress covers IPv4 and IPv6")
        if len(blocks) == 2:
            c.equal(set(blocks[0].get("except", [])), INSIDE_V4, "public IPv4 egress keeps the inside closed")
            c.equal(set(blocks[1].get("except", [])), INSIDE_V6, "public IPv6 egress keeps the inside closed")
    c.equal(egress, np["egress"], "the values' egress rules follow, verbatim")
    for rule in egress:
        for peer in rule.get("to", []):
            cidr = peer.get("ipBlock", {}).get("cidr")
            c.that(cidr not in ("0.0.0.0/0", "::/0") or bool(peer["ipBlock"].get("except")), "no rule opens everything")


def value_paths(values: Any, prefix: str = "") -> list[str]:
    """Leaf value paths; a map that is empty by default (a verbatim object) counts as one leaf."""
    if isinstance(values, dict) and values and not prefix.endswith(("resources", "SecurityContext", "volume")):
        out: list[str] = []
        for key, value in values.items():
            out.extend(value_paths(value, f"{prefix}.{key}" if prefix else key))
        return out
    return [prefix]


def param_comments(values_text: str) -> dict[str, str]:
    """The "## @param NAME text" comments of values.yaml, continuation lines ("## more text") joined by spaces."""
    params: dict[str, str] = {}
    current = None
    for line in values_text.splitlines():
        text = line.strip()
        match = re.match(r"## @param (\S+) (.*)", text)
        if match:
            current = match.group(1)
            params[current] = match.group(2)
        elif current and text.startswith("## ") and not text.startswith("## @"):
            params[current] += " " + text[3:]
        else:
            current = None
    return params


def default_cell(value: Any) -> str:
    """How the README's Default column writes a value: strings bare ("" when empty), anything else as JSON."""
    if value == "":
        return '""'
    if isinstance(value, str):
        return value
    return json.dumps(value)


def value_at(values: dict, path: str) -> Any:
    for key in path.split("."):
        values = values[key]
    return values


def check_readme(chart: Path) -> int:
    """README's Values tables name every value, with its @param text from values.yaml and its default."""
    c = Checker("readme")
    values_text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(values_text)
    readme = (chart / "README.md").read_text()
    section = re.search(r"^## Values\n(.*?)(?=^## )", readme, flags=re.MULTILINE | re.DOTALL)
    if not c.that(section is not None, "README has a '## Values' section"):
        return c.finish()
    rows = {
        name: (description, default)
        for name, description, default in re.findall(
            r"^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*`(.*)`\s*\|\s*$", section.group(1), flags=re.MULTILINE
        )
    }
    documented = set(re.findall(r"^\|\s*`([^`]+)`\s*\|", section.group(1), flags=re.MULTILINE))
    paths = value_paths(values)
    for path in paths:
        c.that(path in documented, f"README documents `{path}`")
    for path in sorted(documented):
        c.that(any(p == path or p.startswith(path + ".") for p in paths), f"README value `{path}` exists")
    params = param_comments(values_text)
    for path in paths:
        c.that(path in params, f"values.yaml has a '## @param {path}' comment")
    for path, text in params.items():
        if not c.that(path in rows, f"README has a `{path}` row with a default"):
            continue
        description, default = rows[path]
        c.equal(description, text, f"README description of `{path}` (the @param text)")
        c.equal(default, default_cell(value_at(values, path)), f"README default of `{path}`")
    # The GitOps example is a tested case: the same values as tests/chart/cases/gitops.yaml.
    example = re.search(r"^```yaml\n(# values-gitops\.yaml\n.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    if c.that(example is not None, "README has the GitOps example (# values-gitops.yaml)"):
        case = chart.parent.parent / "tests" / "chart" / "cases" / "gitops.yaml"
        c.equal(yaml.safe_load(example.group(1)), yaml.safe_load(case.read_text()), "GitOps example = case gitops")
    return c.finish()


def check_schema(chart: Path) -> int:
    """values.schema.json is a valid draft-07 schema, accepts the defaults and is strict where it matters."""
    import jsonschema

    c = Checker("schema")
    schema = json.loads((chart / "values.schema.json").read_text())
    c.equal(schema.get("$schema"), "http://json-schema.org/draft-07/schema#", "draft-07")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
        c.that(True, "valid draft-07 schema")
    except jsonschema.SchemaError as err:
        c.that(False, f"valid draft-07 schema: {err.message}")
    values = yaml.safe_load((chart / "values.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [e.message for e in validator.iter_errors(values)]
    c.equal(errors, [], "values.yaml validates")
    c.equal(schema.get("additionalProperties"), False, "unknown top-level values are rejected")
    c.equal(set(schema["properties"]) - {"global"}, set(values), "schema and values.yaml name the same keys")
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "mysql://u@h/db", "mariadb://u@h/db", "sqlite:///d/x.db"):
        c.that(validator.is_valid({"database": {"url": url}}), f"database.url {url} accepted")
    c.that(not validator.is_valid({"database": {"url": "oracle://u@h/db"}}), "database.url of another scheme refused")
    for mode in ("session", "transaction"):
        c.that(validator.is_valid({"database": {"poolMode": mode}}), f"database.poolMode {mode} accepted")
    for mode in ("Transaction", "statement", ""):
        c.that(not validator.is_valid({"database": {"poolMode": mode}}), f"database.poolMode {mode!r} refused")
    c.that(
        not validator.is_valid({"database": {"sessionUrl": "mysql://u@h/db"}}),
        "database.sessionUrl must be PostgreSQL",
    )
    check_job_schema(c, validator)
    return c.finish()


def check_job_schema(c: Checker, validator: Any) -> None:
    """jobs entries take the host's job fields and nothing else; secrets.existingSecret is a name or a list."""
    base = {"name": "nightly.report_v2", "schedule": "0 3 * * *", "plugin": "report"}

    def job_ok(**fields: Any) -> bool:
        return validator.is_valid({"jobs": [{**base, **fields}]})

    c.that(job_ok(), "a job with name, schedule and plugin accepted")
    full = {
        "timezone": "Europe/Berlin",
        "input": {"any": ["json", 1, None]},
        "config": {"mode": "loud"},
        "secrets": {"API_TOKEN": "api-token"},
        "overlap": "queue",
        "misfire": "run_all",
        "catchup_window": "2h",
        "jitter": "30s",
        "timeout": "5m",
        "memory_limit": "64MiB",
        "allowed_hosts": ["api.example.com"],
        "paused": True,
        "retry": {"attempts": 3, "backoff": "10s", "max_backoff": "5m"},
        "pause_after_failures": 5,
        "stale_after": "26h",
    }
    c.that(job_ok(**full), "a job with every field accepted")
    for field in ("retry", "pause_after_failures", "stale_after"):
        c.that(job_ok(**{field: None}), f"{field}: null accepted (the cluster default, or never)")
    for value in (65536, 1 << 30, "64KiB", "1GiB", "100000"):
        c.that(job_ok(memory_limit=value), f"memory_limit {value!r} accepted")
    for field in ("name", "schedule", "plugin"):
        c.that(
            not validator.is_valid({"jobs": [{k: v for k, v in base.items() if k != field}]}),
            f"a job without {field} refused",
        )
    refused = [
        ("shedule", "@daily"),
        ("name", "nightly report"),
        ("name", "x" * 129),
        ("plugin", "a/b"),
        ("overlap", "never"),
        ("misfire", "run_twice"),
        ("memory_limit", 1024),
        ("memory_limit", "1TB"),
        ("memory_limit", 2 << 30),
        ("config", {"port": 8080}),
        ("secrets", {"TOKEN": "../token"}),
        ("secrets", {"TOKEN": "..data"}),
        ("secrets", {"TOKEN": "a/b"}),
        ("retry", {"attempts": 0}),
        ("retry", {"attempts": 101}),
        ("retry", {"tries": 2}),
        ("pause_after_failures", 0),
        ("paused", "yes"),
        ("allowed_hosts", "api.example.com"),
    ]
    for field, value in refused:
        c.that(not job_ok(**{field: value}), f"job field {field}={value!r} refused")
    for given in ("", "job-secrets", ["a", "b"], []):
        c.that(validator.is_valid({"secrets": {"existingSecret": given}}), f"secrets.existingSecret {given!r} accepted")
    for given in (3, ["a", "a"], ["Not_A_Name"], {"name": "a"}):
        c.that(
            not validator.is_valid({"secrets": {"existingSecret": given}}), f"secrets.existingSecret {given!r} refused"
        )
    c.that(
        not validator.is_valid({"jobsFile": {"existingConfigMapKey": "../jobs.yaml"}}),
        "jobsFile.existingConfigMapKey must be a ConfigMap key",
    )


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[1] == "render":
        return check_render(Path(argv[2]), Path(argv[3]), Path(argv[4]))
    if len(argv) == 3 and argv[1] == "readme":
        return check_readme(Path(argv[2]))
    if len(argv) == 4 and argv[1] == "same-deployment":
        return check_same_deployment(Path(argv[2]), Path(argv[3]))
    if len(argv) == 3 and argv[1] == "schema":
        return check_schema(Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

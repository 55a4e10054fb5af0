"""Prometheus metrics shared by every process."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("kongfu_events_published_total", "Events the outbox relay published", ["service"])
EVENTS_CONSUMED = Counter("kongfu_events_consumed_total", "Events a consumer handled", ["service", "topic"])
EVENTS_DUPLICATE = Counter(
    "kongfu_events_duplicate_total", "Redelivered events recognised and skipped", ["service", "topic"]
)
EVENTS_UNCHANGED = Counter(
    "kongfu_events_unchanged_total",
    "Events handled that changed nothing, so nothing was saved: a fact known already, as a redelivery is",
    ["service", "topic"],
)
EVENTS_DEAD_LETTERED = Counter(
    "kongfu_events_dead_lettered_total", "Messages parked in a dead-letter topic", ["service", "topic"]
)
REACTIONS_SAVED = Counter(
    "kongfu_reaction_saves_total",
    "Saves of a consumer batch's reactions: together (one transaction), or apart (the joint save "
    "was given up, nothing of it written, and each reaction saved on its own)",
    ["service", "how"],
)
CONSUMER_LAG = Gauge("kongfu_consumer_lag", "Messages behind the end of a partition", ["service", "topic", "partition"])
RELAY_LAG = Gauge("kongfu_relay_lag", "Stored events not yet published", ["service"])
HANDLER_LATENCY = Histogram("kongfu_handler_seconds", "Time to handle one event", ["service", "type"])
PROJECTION_LAG = Gauge("kongfu_projection_lag", "Events not yet applied to a projection", ["projection"])
PROJECTION_DELAY = Histogram(
    "kongfu_projection_delay_seconds", "From an event's commit to its entry in a projection", ["projection"],
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30))
HTTP_LATENCY = Histogram("kongfu_http_seconds", "HTTP request latency", ["service", "method", "route", "status"])

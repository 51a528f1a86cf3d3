"""deliverycheck: a formal, executable model of Kafka's delivery path and its checker."""

__version__ = "0.1.0"

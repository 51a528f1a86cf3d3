"""deliverycheck: a formal, executable model of Kafka's delivery path and its checker.

The Python API (docs/api.md)::

    import deliverycheck
    conf = deliverycheck.load_config({"producer": ["producer.properties"]}, kafka="4.1")
    result = deliverycheck.check(conf)
    result.verdict("no-duplicate-log").verdict      # "holds", "violated", ...

The names below are imported on first use, so that ``import deliverycheck``
(and the command line's ``--version``) stays instant.
"""

__version__ = "0.1.0"

# public name -> (module, attribute)
_API = {
    "load_config": ("deliverycheck.config", "load"),
    "Configuration": ("deliverycheck.config", "Configuration"),
    "ConfigError": ("deliverycheck.config", "ConfigError"),
    "check": ("deliverycheck.checking", "check"),
    "CheckResult": ("deliverycheck.checking", "CheckResult"),
    "PromiseVerdict": ("deliverycheck.checking", "PromiseVerdict"),
    "PROMISES": ("deliverycheck.checking", "PROMISES"),
    "PROMISE_NAMES": ("deliverycheck.checking", "PROMISE_NAMES"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """The API's names, imported when first asked for (PEP 562)."""
    if name in _API:
        import importlib
        module, attr = _API[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'deliverycheck' has no attribute {name!r}")

"""Renderers: turn a trace (deliverycheck.trace) into something a person reads."""

"""Renderers: turn a trace (deliverycheck.trace) into something a person reads.

Kept free of imports: the command line reads :data:`FORMATS` without loading the renderers.
"""

# what `deliverycheck render --format` draws (deliverycheck/render/files.py makes each)
FORMATS = ("text", "diff", "dot", "mermaid", "svg", "png", "html", "graph")

"""The commands of the command line, one module each; each has ``run(args) -> exit status``.

They are imported only when their command runs (deliverycheck/cli.py), after
the specification has been chosen (deliverycheck/source.py).
"""

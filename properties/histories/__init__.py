"""Saved histories of the specification: ITF traces (``*.itf.json``) that tell a case the
shortest counterexample does not (deliverycheck/histories.py reads them; the gallery draws them).

A package only so that the traces are installed with the specification.
"""

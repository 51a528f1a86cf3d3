"""Mutation testing of the model: which small changes to its steps would the checks notice?

:mod:`.sites` finds the mutants in the model's compiled form,
:mod:`.rewrite` applies them (one at a time for a replay, all behind
switches for the native search), :mod:`.run` checks each mutant and
classifies it, :mod:`.report` tells the result (docs/mutation.md).
"""

"""The native back end: the compiled model as C, and the explorer's search run natively.

* :mod:`~deliverycheck.native.emit`   - the model's expression DAGs spelt in C;
* :mod:`~deliverycheck.native.build`  - the system C compiler, and a cache of built libraries;
* :mod:`~deliverycheck.native.search` - the search driven from Python in slices (``search.c``).

The Python explorer stays the reference: where no compiler is found, or the
build fails, it runs instead, with a one-line note.
"""

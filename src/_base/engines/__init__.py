"""Engines that run a transform's declared steps: ``spark`` (the reference) and, in the
making, ``postgres`` (the same Spark SQL, transpiled, run inside the warehouse)."""

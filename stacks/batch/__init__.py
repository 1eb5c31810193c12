"""The batch scoring pipeline (``<prefix>-batch-score``, config ``batch``): its definition, its
least-privilege role and run-time model lookup (:mod:`.pipeline`), and its schedule (:mod:`.schedule`)."""

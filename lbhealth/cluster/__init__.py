"""The whole cluster as the EIM/WIM guide sees it: role pools, start order, user impact.

``model`` is pure (verdicts in, a view out); ``api`` serves it; ``page`` and
``table`` render it for a browser and a terminal.
"""

"""Where the state that readers serve lives: admin state (drain/maint) and check verdicts.

In memory, with the admin state file and the verdict file across restarts; and,
with ``settings.store``, a shared store (Redis) through which several lbhealth
instances act as one: probe side (``lease``, ``publish``), serve side (``follow``,
``shared_admin``), and the link between them and Redis (``link``, ``health``).
"""

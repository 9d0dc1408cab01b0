"""Turning probes into verdicts: checks, the engine, the scheduler, flap control, history.

scheduler -> :meth:`engine.Engine.run` -> probe -> interpret -> :func:`checks.judge`
-> flap -> the verdict store (:mod:`lbhealth.store.verdicts`).
"""

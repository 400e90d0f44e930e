"""Operating the running system: metrics exposition, ``bqingest status``, ``bqingest reconcile``.

``exposition`` serves a Prometheus registry over HTTP and reads one back (what the source and
the pipeline serve, what ``status`` reads); ``health`` turns two readings into rates and health
rules; ``status`` shows them live; ``reconcile`` compares what was published with what the
warehouse holds. Errors are in ``errors``.
"""

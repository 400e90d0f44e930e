"""The streaming pipeline: Pub/Sub messages to BigQuery rows, bad ones to dead letters.

Layout: ``records`` (plain functions: message -> row), ``transforms`` (the named DoFns and
PTransforms that wrap them), ``sink`` (Storage Write API writer), ``proto_rows`` (row encoding),
``options`` (the option contract), ``preflight`` and ``recovery`` (local runner), ``main``
(``run(argv)``, the one entry point).
"""

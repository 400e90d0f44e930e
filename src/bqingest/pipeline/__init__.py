"""The streaming pipeline: Pub/Sub messages to BigQuery rows, bad ones to dead letters.

Layout: ``processing`` (plain functions: message -> row), ``transforms`` (the named DoFns and
PTransforms that wrap them), ``writer`` (the Storage Write API writer, no Beam), ``sink`` (the Beam
step that batches rows for it), ``proto_rows`` (row encoding),
``options`` (the option contract), ``preflight`` and ``recovery`` (local runner), ``main``
(``run(argv)``, the one entry point).
"""

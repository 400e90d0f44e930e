"""The data source: Cloud Scheduler's stand-in, publishing CloudEvents to Pub/Sub.

``generator`` makes realistic events (and bad or repeated ones on purpose: ``kinds`` names what
each message is meant to be), ``publisher`` publishes them with explicit batching and records each
outcome in the ``ledger`` (SQLite, under the data directory), ``schedule`` runs it every N seconds
or at a rate. ``bqingest source`` is the command.
"""

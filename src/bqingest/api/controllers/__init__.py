"""Use cases, one module per concern: validation beyond the schema, caching, contract checks.

``events`` reads events (by id, listing, export, counts), ``publishing`` validates and publishes
posted events, ``probes`` answers the health probes.
"""

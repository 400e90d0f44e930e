"""The read API: FastAPI over the warehouse's de-duplicated events, plus publishing to Pub/Sub.

Layers, one module per resource in each: ``routes`` (HTTP only) call ``controllers`` (use cases:
validation beyond the schema, caching, the contract), which call the warehouse's ``EventReader``
(:mod:`bqingest.warehouse.events`, where all SQL lives) through the bounded ``pool`` and the
``publisher``; ``serializers`` hold the Pydantic schemas. ``errors`` maps failures to HTTP in one
place; ``deps`` holds the dependency aliases. ``main.create_app`` puts it all together.
"""

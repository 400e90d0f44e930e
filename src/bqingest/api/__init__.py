"""The read API: FastAPI over the de-duplicated events view, plus publishing to Pub/Sub.

Layers, one module per resource in each: ``routes`` (HTTP only) call ``controllers`` (use cases:
validation beyond the schema, caching, the contract) which call the ``Warehouse`` and
``EventPublisher`` of ``warehouse`` through the bounded ``pool``; ``models`` hold the only SQL;
``serializers`` the Pydantic schemas. ``errors`` maps failures to HTTP in one place; ``deps``
holds the dependency aliases tests override. ``main.create_app`` builds it all.
"""

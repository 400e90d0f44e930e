"""Use cases, one module per resource: validation beyond the schema, caching, contract checks."""

"""HTTP only: paths, status codes, headers and dependencies, one module per resource."""

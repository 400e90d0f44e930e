"""The only code of the API that talks to BigQuery and Pub/Sub, one module per resource."""

"""bqingest: stream CloudEvents from Pub/Sub through Apache Beam into BigQuery, and serve them."""

__version__ = "0.1.0"

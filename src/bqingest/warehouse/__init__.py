"""The warehouse: every query bqingest runs against BigQuery, and nothing else holds SQL.

==================  =================================================================
``query``           running a query so that a failure always raises (emulator too); DML
``records``         the typed records the queries return (events, dead letters, totals)
``events``          the API's reads: :class:`~.events.EventStore` implements ``EventReader``
``dead_letters``    list, claim and release dead letters (``bqingest deadletters``)
``reconcile``       which ids and messages arrived (``bqingest reconcile``)
``totals``          totals, and the newest publish time written (local runner recovery)
==================  =================================================================

Writes are not here: the pipeline appends rows through the Storage Write API
(:mod:`bqingest.pipeline.writer`), and tables are created by :mod:`bqingest.bootstrap` or
Terraform.
"""

-- One row per event (source, id): the earliest publish wins, then the earliest write, so a
-- redelivered or republished event is never visible twice and always the same copy is.
-- Readers that filter by time should not use this view: its window keeps BigQuery from pruning
-- partitions (docs/adr/0009-identity-and-read-cost.md); the API reads the table directly.
SELECT * EXCEPT (_row_number)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY source, id ORDER BY publish_time, message_id, ingested_at) AS _row_number
  FROM `${project}.${dataset}.${table}`
)
WHERE _row_number = 1

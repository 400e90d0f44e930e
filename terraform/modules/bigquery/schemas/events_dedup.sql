-- One row per event id: the earliest publish wins (ties broken by message id), so a redelivered
-- or republished event is never visible twice.
SELECT * EXCEPT (_row_number)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY publish_time, message_id) AS _row_number
  FROM `${project}.${dataset}.${table}`
)
WHERE _row_number = 1

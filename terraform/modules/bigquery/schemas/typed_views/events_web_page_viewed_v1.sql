-- Generated from the schema registry's com.bqingest.web.page.viewed/v1.json ($id https://schemas.bqingest.example/page-viewed/1.json): do not edit.
-- One row per com.bqingest.web.page.viewed event (source, id) at major version 1, one
-- typed column per schema property. time is a key of the window, so a filter on time
-- prunes the partitions of the events table (docs/adr/0012-typed-event-data.md).
SELECT
  id, source, type, specversion, subject, time, datacontenttype, dataschema, extensions, message_id, publish_time, ingested_at,
  JSON_VALUE(data, '$.session_id') AS session_id,
  JSON_VALUE(data, '$.url') AS url,
  JSON_VALUE(data, '$.referrer') AS referrer,
  JSON_VALUE(data, '$.user_agent') AS user_agent,
  SAFE_CAST(JSON_VALUE(data, '$.duration_ms') AS INT64) AS duration_ms,
  data
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY source, id, time ORDER BY publish_time, message_id, ingested_at) AS _row_number
  FROM `${project}.${dataset}.${table}`
  WHERE type = 'com.bqingest.web.page.viewed' AND (dataschema = 'https://schemas.bqingest.example/page-viewed/1.json' OR dataschema IS NULL)
)
WHERE _row_number = 1

-- Generated from the schema registry's com.bqingest.scheduler.tick/v1.json ($id https://schemas.bqingest.example/scheduler/tick/1.json): do not edit.
-- One row per com.bqingest.scheduler.tick event (source, id) at major version 1, one
-- typed column per schema property. time is a key of the window, so a filter on time
-- prunes the partitions of the events table (docs/adr/0012-typed-event-data.md).
SELECT
  id, source, type, specversion, subject, time, datacontenttype, dataschema, extensions, message_id, publish_time, ingested_at,
  JSON_VALUE(data, '$.job') AS job,
  JSON_VALUE(data, '$.schedule') AS schedule,
  data
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY source, id, time ORDER BY publish_time, message_id, ingested_at) AS _row_number
  FROM `${project}.${dataset}.${table}`
  WHERE type = 'com.bqingest.scheduler.tick' AND (dataschema = 'https://schemas.bqingest.example/scheduler/tick/1.json' OR dataschema IS NULL)
)
WHERE _row_number = 1

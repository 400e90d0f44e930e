-- Generated from the schema registry's com.bqingest.iot.sensor.reading/v1.json ($id https://schemas.bqingest.example/iot/sensor-reading/1.json): do not edit.
-- One row per com.bqingest.iot.sensor.reading event (source, id) at major version 1, one
-- typed column per schema property. time is a key of the window, so a filter on time
-- prunes the partitions of the events table (docs/adr/0012-typed-event-data.md).
SELECT
  id, source, type, specversion, subject, time, datacontenttype, dataschema, extensions, message_id, publish_time, ingested_at,
  JSON_VALUE(data, '$.device_id') AS device_id,
  SAFE_CAST(JSON_VALUE(data, '$.temperature_c') AS FLOAT64) AS temperature_c,
  SAFE_CAST(JSON_VALUE(data, '$.humidity_pct') AS FLOAT64) AS humidity_pct,
  SAFE_CAST(JSON_VALUE(data, '$.battery_v') AS FLOAT64) AS battery_v,
  data
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY source, id, time ORDER BY publish_time, message_id, ingested_at) AS _row_number
  FROM `${project}.${dataset}.${table}`
  WHERE type = 'com.bqingest.iot.sensor.reading' AND (dataschema = 'https://schemas.bqingest.example/iot/sensor-reading/1.json' OR dataschema IS NULL)
)
WHERE _row_number = 1

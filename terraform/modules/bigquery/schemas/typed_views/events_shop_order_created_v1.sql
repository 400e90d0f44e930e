-- Generated from the schema registry's com.bqingest.shop.order.created/v1.json ($id https://schemas.bqingest.example/shop/order-created/1.json): do not edit.
-- One row per com.bqingest.shop.order.created event (source, id) at major version 1, one
-- typed column per schema property. time is a key of the window, so a filter on time
-- prunes the partitions of the events table (docs/adr/0012-typed-event-data.md).
SELECT
  id, source, type, specversion, subject, time, datacontenttype, dataschema, extensions, message_id, publish_time, ingested_at,
  JSON_VALUE(data, '$.order_id') AS order_id,
  JSON_VALUE(data, '$.customer_id') AS customer_id,
  JSON_VALUE(data, '$.currency') AS currency,
  ARRAY(SELECT AS STRUCT JSON_VALUE(_element, '$.sku') AS sku, SAFE_CAST(JSON_VALUE(_element, '$.quantity') AS INT64) AS quantity, SAFE_CAST(JSON_VALUE(_element, '$.unit_price') AS FLOAT64) AS unit_price FROM UNNEST(JSON_QUERY_ARRAY(data, '$.items')) AS _element WITH OFFSET AS _offset ORDER BY _offset) AS items,
  SAFE_CAST(JSON_VALUE(data, '$.total') AS FLOAT64) AS total,
  JSON_VALUE(data, '$.coupon') AS coupon,
  data
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY source, id, time ORDER BY publish_time, message_id, ingested_at) AS _row_number
  FROM `${project}.${dataset}.${table}`
  WHERE type = 'com.bqingest.shop.order.created' AND (dataschema = 'https://schemas.bqingest.example/shop/order-created/1.json' OR dataschema IS NULL)
)
WHERE _row_number = 1

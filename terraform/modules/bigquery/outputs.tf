output "dataset" {
  description = "Dataset id (BQINGEST_DATASET)."
  value       = google_bigquery_dataset.this.dataset_id
}

output "dead_letter_table" {
  description = "Name of the dead-letter table (BQINGEST_DEAD_LETTER_TABLE)."
  value       = google_bigquery_table.dead_letters.table_id
}

output "dead_letter_table_id" {
  description = "PROJECT.DATASET.TABLE of the dead-letter table: the Dataflow job's dead_letter_table parameter."
  value       = "${var.project_id}.${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.dead_letters.table_id}"
}

output "dedup_view" {
  description = "Name of the de-duplicated view (BQINGEST_DEDUP_VIEW)."
  value       = google_bigquery_table.events_dedup.table_id
}

output "dedup_view_id" {
  description = "PROJECT.DATASET.VIEW of the de-duplicated view the API reads."
  value       = "${var.project_id}.${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.events_dedup.table_id}"
}

output "events_table" {
  description = "Name of the events table (BQINGEST_EVENTS_TABLE)."
  value       = google_bigquery_table.events.table_id
}

output "events_table_id" {
  description = "PROJECT.DATASET.TABLE of the events table: the Dataflow job's events_table parameter."
  value       = "${var.project_id}.${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.events.table_id}"
}

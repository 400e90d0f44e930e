resource "google_bigquery_table" "events_dedup" {
  #checkov:skip=CKV_GCP_80:A view stores no data of its own to encrypt.
  #checkov:skip=CKV_GCP_121:deletion_protection follows var.deletion_protection: true in prod; dev and staging are meant to be torn down.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = var.dedup_view
  description         = "One row per event id: the earliest publish wins. Readers use this view."
  deletion_protection = var.deletion_protection

  view {
    use_legacy_sql = false
    query = templatefile("${path.module}/schemas/events_dedup.sql", {
      project = var.project_id
      dataset = google_bigquery_dataset.this.dataset_id
      table   = google_bigquery_table.events.table_id
    })
  }
}

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

# One typed view per registered event type and major version, generated from the schema
# registry by `bqingest schema export` (docs/schemas.md); a test keeps the files current. A new
# file is a new view; a changed file replaces that view's query (no data is rewritten).
resource "google_bigquery_table" "typed" {
  #checkov:skip=CKV_GCP_80:A view stores no data of its own to encrypt.
  #checkov:skip=CKV_GCP_121:deletion_protection follows var.deletion_protection: true in prod; dev and staging are meant to be torn down.
  for_each = toset([for file in fileset("${path.module}/schemas/typed_views", "*.sql") : trimsuffix(file, ".sql")])

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = each.value
  description         = "Typed columns of one event type's data, from the schema registry."
  deletion_protection = var.deletion_protection

  view {
    use_legacy_sql = false
    query = templatefile("${path.module}/schemas/typed_views/${each.value}.sql", {
      project = var.project_id
      dataset = google_bigquery_dataset.this.dataset_id
      table   = google_bigquery_table.events.table_id
    })
  }
}

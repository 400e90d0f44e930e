# Grants on this dataset or on single tables, never on the project.

# Every table and view, dead letters included (the reconcile job counts them all).
resource "google_bigquery_dataset_iam_member" "viewers" {
  for_each = var.data_viewers

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

# The events the API serves, and nothing else: not the dead letters' payloads. The API queries
# the table itself (de-duplicating in SQL), so the view needs no grant and no authorization.
resource "google_bigquery_table_iam_member" "events_readers" {
  for_each = var.events_readers

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  table_id   = google_bigquery_table.events.table_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

# Appending: the Storage Write API's AppendRows needs bigquery.tables.updateData on the table.
# dataEditor on these two tables only; the pipeline holds no bigquery.jobs.create, so it can run
# no UPDATE, DELETE or MERGE (DML is a query job), and the tables have no primary key, so no
# change-data-capture write can delete or upsert either.
resource "google_bigquery_table_iam_member" "events_appenders" {
  for_each = var.table_appenders

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  table_id   = google_bigquery_table.events.table_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}

resource "google_bigquery_table_iam_member" "dead_letters_appenders" {
  for_each = var.table_appenders

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  table_id   = google_bigquery_table.dead_letters.table_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}

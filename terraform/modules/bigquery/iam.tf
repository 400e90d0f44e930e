# Grants on this dataset only: readers see the tables and the view, writers append rows.

resource "google_bigquery_dataset_iam_member" "viewers" {
  for_each = var.data_viewers

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

resource "google_bigquery_dataset_iam_member" "editors" {
  for_each = var.data_editors

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}

resource "google_bigquery_dataset" "this" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption; a customer-managed key would add a KMS key ring to operate per environment for data that does not require one.
  project                    = var.project_id
  dataset_id                 = var.dataset
  location                   = var.location
  description                = "bqingest: events ingested from Pub/Sub, and the messages that were rejected."
  delete_contents_on_destroy = !var.deletion_protection

  # Holds every row: never destroyed by a plan (docs/deploy.md, removing an environment).
  lifecycle {
    prevent_destroy = true
  }
}

# Schemas come from the event contract: `bqingest schema export terraform/modules/bigquery/schemas`
# writes these files, and a test fails when they drift from the code.

locals {
  ms_per_day = 24 * 60 * 60 * 1000
}

resource "google_bigquery_table" "events" {
  #checkov:skip=CKV_GCP_80:Google-managed encryption, as for the dataset.
  #checkov:skip=CKV_GCP_121:deletion_protection follows var.deletion_protection: true in prod; dev and staging are meant to be torn down.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = var.events_table
  description         = "One row per delivery of a valid CloudEvent; read through the de-duplicated view."
  schema              = file("${path.module}/schemas/events.json")
  clustering          = ["id"]
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "time"
    expiration_ms = var.events_partition_expiration_days == null ? null : var.events_partition_expiration_days * local.ms_per_day
  }

  # A change that forces replacement (a new REQUIRED column, a type change) would drop every
  # row, in dev and staging too where deletion_protection is off: the plan fails instead.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_bigquery_table" "dead_letters" {
  #checkov:skip=CKV_GCP_80:Google-managed encryption, as for the dataset.
  #checkov:skip=CKV_GCP_121:deletion_protection follows var.deletion_protection: true in prod; dev and staging are meant to be torn down.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = var.dead_letter_table
  description         = "Messages the pipeline rejected, with reason, stage and the raw payload for replay."
  schema              = file("${path.module}/schemas/dead_letters.json")
  clustering          = ["reason"]
  deletion_protection = var.deletion_protection

  time_partitioning {
    type          = "DAY"
    field         = "failed_at"
    expiration_ms = var.dead_letters_partition_expiration_days == null ? null : var.dead_letters_partition_expiration_days * local.ms_per_day
  }

  lifecycle {
    prevent_destroy = true
  }
}

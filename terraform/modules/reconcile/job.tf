locals {
  # Settings of `bqingest reconcile`, by their BQINGEST_* names (src/bqingest/config.py).
  environment_variables = {
    BQINGEST_DATASET           = var.dataset
    BQINGEST_DEAD_LETTER_TABLE = var.dead_letter_table
    BQINGEST_DEDUP_VIEW        = var.dedup_view
    BQINGEST_ENVIRONMENT       = var.environment
    BQINGEST_EVENTS_TABLE      = var.events_table
    BQINGEST_LOCATION          = var.location
    BQINGEST_PROJECT           = var.project_id
    BQINGEST_TOPIC             = var.topic
  }
}

# `bqingest reconcile` as a Cloud Run job, from the API's image (it holds the bqingest command).
# Each run compares the messages Pub/Sub accepted in [now - since, now - until) with the rows
# written to events and dead_letters, and prints one JSON line that Cloud Logging stores as a
# structured entry; the monitoring module's log-based metrics read it. It exits 1 (a failed
# execution) when messages are missing, and is not retried: the next run looks again.
resource "google_cloud_run_v2_job" "reconcile" {
  project             = var.project_id
  name                = var.job_name
  location            = var.region
  deletion_protection = var.deletion_protection

  template {
    task_count = 1

    template {
      service_account = var.service_account_email
      max_retries     = 0
      timeout         = "600s"

      containers {
        image   = var.image
        command = ["bqingest"]
        args    = ["reconcile", "--since", var.since, "--until", var.until, "--json"]

        resources {
          limits = {
            cpu    = "1"
            memory = "512Mi"
          }
        }

        dynamic "env" {
          for_each = local.environment_variables
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }
}

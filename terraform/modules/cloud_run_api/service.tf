locals {
  # Settings of the API process, by their BQINGEST_* names (src/bqingest/config/api.py, core.py).
  environment_variables = {
    BQINGEST_API_HOST          = "0.0.0.0"
    BQINGEST_API_PORT          = tostring(var.container_port)
    BQINGEST_DATASET           = var.dataset
    BQINGEST_DEAD_LETTER_TABLE = var.dead_letter_table
    BQINGEST_DEDUP_VIEW        = var.dedup_view
    BQINGEST_ENVIRONMENT       = var.environment
    BQINGEST_EVENTS_TABLE      = var.events_table
    BQINGEST_LOCATION          = var.location
    BQINGEST_PROJECT           = var.project_id
    BQINGEST_PUBLIC_READ       = "false"
    BQINGEST_TOPIC             = var.topic
  }
}

# The read API. Not public: only members in var.invokers may call it, with an identity token. It
# runs the image's default command (uvicorn --factory bqingest.api.main:create_app).
resource "google_cloud_run_v2_service" "api" {
  project             = var.project_id
  name                = var.service_name
  location            = var.region
  description         = "bqingest read API over the de-duplicated events."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = var.service_account_email
    max_instance_request_concurrency = var.concurrency
    timeout                          = "${var.request_timeout_seconds}s"

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    containers {
      image = var.image

      ports {
        container_port = var.container_port
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.environment_variables
        content {
          name  = env.key
          value = env.value
        }
      }

      env {
        name = "BQINGEST_API_KEYS"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.api_keys.secret_id
            version = "latest"
          }
        }
      }

      # The process serves (/healthz, no dependency called). Readiness (/readyz) asks BigQuery
      # and Pub/Sub within BQINGEST_API_READINESS_TIMEOUT_SECONDS: as a startup probe, a slow
      # dependency would keep every new instance from starting.
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 3
        timeout_seconds       = 2
        failure_threshold     = 20

        http_get {
          path = "/healthz"
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3

        http_get {
          path = "/healthz"
        }
      }
    }
  }

  # The revision reads the secret at start-up: the grant must exist, propagated, first.
  depends_on = [time_sleep.secret_grant_propagated]
}

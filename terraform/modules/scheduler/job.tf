# The source of the system: every few minutes, one CloudEvent in binary mode (ce-* attributes, the
# body is the event's data). No ce-id: every publish gets a new Pub/Sub message id, which the
# pipeline uses as the event id, so each tick is a distinct event.

locals {
  event_attributes = {
    "ce-specversion" = "1.0"
    "ce-type"        = "com.bqingest.scheduler.tick"
    "ce-source"      = "//cloudscheduler.googleapis.com/projects/${var.project_id}/locations/${var.region}/jobs/${var.job_name}"
    "content-type"   = "application/json"
  }

  event_data = {
    job      = var.job_name
    schedule = var.schedule
  }
}

resource "google_cloud_scheduler_job" "tick" {
  project     = var.project_id
  region      = var.region
  name        = var.job_name
  description = "Publishes a bqingest tick CloudEvent to ${var.topic_id}."
  schedule    = var.schedule
  time_zone   = var.time_zone
  paused      = var.paused

  pubsub_target {
    topic_name = var.topic_id
    data       = base64encode(jsonencode(local.event_data))
    attributes = local.event_attributes
  }
}

# The pipeline's subscription. Acknowledged messages are retained so a restarted pipeline can seek
# back; a message that fails max_delivery_attempts times goes to the dead-letter topic instead of
# being redelivered forever.
resource "google_pubsub_subscription" "pipeline" {
  project                    = var.project_id
  name                       = var.subscription
  topic                      = google_pubsub_topic.events.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "${var.message_retention_seconds}s"
  retain_acked_messages      = var.retain_acked_messages

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "${var.retry_min_backoff_seconds}s"
    maximum_backoff = "${var.retry_max_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  lifecycle {
    precondition {
      condition     = var.retry_min_backoff_seconds <= var.retry_max_backoff_seconds
      error_message = "retry_min_backoff_seconds must not exceed retry_max_backoff_seconds."
    }
  }
}

# Holds what Pub/Sub dead-lettered, for inspection and replay; nothing reads it automatically.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = var.dead_letter_subscription
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "${var.message_retention_seconds}s"
  retain_acked_messages      = var.retain_acked_messages

  expiration_policy {
    ttl = ""
  }
}

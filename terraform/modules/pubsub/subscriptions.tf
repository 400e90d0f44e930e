# The pipeline's subscription. Acknowledged messages are retained so that a replacement job (or a
# person, with gcloud pubsub subscriptions seek) can go back in time.
#
# No dead-letter policy and no retry policy: Pub/Sub documents both as not supported by Dataflow
# (cloud.google.com/pubsub/docs/handling-failures). Dataflow acknowledges a message once it has
# durably committed it, on its own schedule; a dead-letter policy would count its lease
# extensions as failed deliveries and could forward messages the pipeline holds out of its path.
# A message the pipeline cannot use goes to the dead_letters table, with its reason: that is the
# one place for bad messages.
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

  # Its backlog and retained messages go with it.
  lifecycle {
    prevent_destroy = true
  }
}

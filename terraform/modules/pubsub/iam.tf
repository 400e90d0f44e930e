# Every grant is on one topic or one subscription, never on the project.

resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = var.topic_publishers

  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

# Dataflow's Pub/Sub source pulls and acknowledges (subscriber) and reads the subscription's
# configuration when the job starts (viewer: pubsub.subscriptions.get).
resource "google_pubsub_subscription_iam_member" "readers_consume" {
  for_each = var.subscription_readers

  project      = var.project_id
  subscription = google_pubsub_subscription.pipeline.name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}

resource "google_pubsub_subscription_iam_member" "readers_view" {
  for_each = var.subscription_readers

  project      = var.project_id
  subscription = google_pubsub_subscription.pipeline.name
  role         = "roles/pubsub.viewer"
  member       = each.value
}

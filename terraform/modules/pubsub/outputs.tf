output "dead_letter_subscription_id" {
  description = "Id of the dead-letter subscription (projects/P/subscriptions/S)."
  value       = google_pubsub_subscription.dead_letter.id
}

output "dead_letter_subscription_name" {
  description = "Short name of the dead-letter subscription (BQINGEST_DEAD_LETTER_SUBSCRIPTION)."
  value       = google_pubsub_subscription.dead_letter.name
}

output "dead_letter_topic_id" {
  description = "Id of the dead-letter topic (projects/P/topics/T)."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_topic_name" {
  description = "Short name of the dead-letter topic (BQINGEST_DEAD_LETTER_TOPIC)."
  value       = google_pubsub_topic.dead_letter.name
}

output "subscription_id" {
  description = "Id of the pipeline's subscription (projects/P/subscriptions/S): the Dataflow job's subscription parameter."
  value       = google_pubsub_subscription.pipeline.id
}

output "subscription_name" {
  description = "Short name of the pipeline's subscription."
  value       = google_pubsub_subscription.pipeline.name
}

output "topic_id" {
  description = "Id of the events topic (projects/P/topics/T): what Cloud Scheduler publishes to."
  value       = google_pubsub_topic.events.id
}

output "topic_name" {
  description = "Short name of the events topic (BQINGEST_TOPIC)."
  value       = google_pubsub_topic.events.name
}

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

output "bucket_name" {
  description = "Name of the Dataflow bucket."
  value       = google_storage_bucket.dataflow.name
}

output "bucket_url" {
  description = "gs:// URL of the Dataflow bucket."
  value       = google_storage_bucket.dataflow.url
}

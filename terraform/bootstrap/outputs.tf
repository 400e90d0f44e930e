output "bucket_name" {
  description = "State bucket: pass it to terraform init -backend-config=\"bucket=...\" in each environment."
  value       = google_storage_bucket.state.name
}

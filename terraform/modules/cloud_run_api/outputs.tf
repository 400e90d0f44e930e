output "api_keys_secret_id" {
  description = "Secret Manager secret to add the BQINGEST_API_KEYS value to."
  value       = google_secret_manager_secret.api_keys.secret_id
}

output "service_name" {
  description = "Name of the Cloud Run service."
  value       = google_cloud_run_v2_service.api.name
}

output "url" {
  description = "HTTPS URL of the API (also the audience of the invoker's identity tokens)."
  value       = google_cloud_run_v2_service.api.uri
}

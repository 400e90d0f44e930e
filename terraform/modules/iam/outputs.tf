output "api_invoker_email" {
  description = "Email of the service account that may only invoke the API."
  value       = google_service_account.api_invoker.email
}

output "api_invoker_member" {
  description = "IAM member (serviceAccount:EMAIL) of the invoker service account."
  value       = "serviceAccount:${google_service_account.api_invoker.email}"
}

output "api_reader_email" {
  description = "Email of the service account the API runs as."
  value       = google_service_account.api_reader.email
}

output "api_reader_member" {
  description = "IAM member (serviceAccount:EMAIL) of the API's runtime service account."
  value       = "serviceAccount:${google_service_account.api_reader.email}"
}

output "dataflow_worker_email" {
  description = "Email of the service account the Dataflow job runs as."
  value       = google_service_account.dataflow_worker.email
}

output "dataflow_worker_member" {
  description = "IAM member (serviceAccount:EMAIL) of the Dataflow worker service account."
  value       = "serviceAccount:${google_service_account.dataflow_worker.email}"
}

output "deployer_email" {
  description = "Email of the CI deployer service account (the service_account input of google-github-actions/auth)."
  value       = google_service_account.deployer.email
}

output "deployer_member" {
  description = "IAM member (serviceAccount:EMAIL) of the CI deployer."
  value       = "serviceAccount:${google_service_account.deployer.email}"
}

output "planner_email" {
  description = "Email of the read-only CI planner (the service_account input of google-github-actions/auth in pull requests' plans)."
  value       = google_service_account.planner.email
}

output "planner_member" {
  description = "IAM member (serviceAccount:EMAIL) of the CI planner."
  value       = "serviceAccount:${google_service_account.planner.email}"
}

output "reconcile_email" {
  description = "Email of the service account the reconcile job runs as."
  value       = google_service_account.reconcile.email
}

output "reconcile_member" {
  description = "IAM member (serviceAccount:EMAIL) of the reconcile job's service account."
  value       = "serviceAccount:${google_service_account.reconcile.email}"
}

output "workload_identity_provider" {
  description = "Full name of the GitHub OIDC provider (the workload_identity_provider input of google-github-actions/auth)."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "api_invoker_service_account" {
  description = "Email of the service account that may only invoke the API: impersonate it to get an identity token."
  value       = module.iam.api_invoker_email
}

output "api_keys_secret" {
  description = "Secret Manager secret that holds BQINGEST_API_KEYS; add its value with gcloud secrets versions add."
  value       = module.cloud_run_api.api_keys_secret_id
}

output "api_reader_service_account" {
  description = "Email of the service account the API runs as."
  value       = module.iam.api_reader_email
}

output "api_url" {
  description = "HTTPS URL of the API."
  value       = module.cloud_run_api.url
}

output "artifact_registry_repository_url" {
  description = "Where CI pushes images: REGION-docker.pkg.dev/PROJECT/REPOSITORY."
  value       = module.artifact_registry.repository_url
}

output "bigquery_dataset" {
  description = "BigQuery dataset id."
  value       = module.bigquery.dataset
}

output "dataflow_bucket" {
  description = "Dataflow bucket: staging/, temp/ and templates/ (where CI writes the Flex Template spec)."
  value       = module.storage.bucket_name
}

output "dataflow_container_spec_gcs_path" {
  description = "gs:// path the Dataflow job reads its Flex Template spec from."
  value       = local.container_spec_gcs_path
}

output "dataflow_job_name" {
  description = "Name of the streaming Dataflow job."
  value       = module.dataflow.job_name
}

output "dataflow_worker_service_account" {
  description = "Email of the service account the Dataflow job runs as."
  value       = module.iam.dataflow_worker_email
}

output "dead_letter_table_id" {
  description = "PROJECT.DATASET.TABLE of the dead-letter table."
  value       = module.bigquery.dead_letter_table_id
}

output "dedup_view_id" {
  description = "PROJECT.DATASET.VIEW of the de-duplicated view."
  value       = module.bigquery.dedup_view_id
}

output "deployer_service_account" {
  description = "Email of the CI deployer (google-github-actions/auth service_account)."
  value       = module.iam.deployer_email
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "events_table_id" {
  description = "PROJECT.DATASET.TABLE of the events table."
  value       = module.bigquery.events_table_id
}

output "monitoring_alert_policies" {
  description = "Cloud Monitoring alert policies, by what they watch."
  value       = module.monitoring.alert_policies
}

output "monitoring_dashboard_url" {
  description = "The bqingest dashboard in the Google Cloud console."
  value       = module.monitoring.dashboard_url
}

output "monitoring_slos" {
  description = "The API's availability and latency SLOs (Monitoring > Services)."
  value       = module.monitoring.slos
}

output "planner_service_account" {
  description = "Email of the read-only CI planner (GCP_PLANNER_SERVICE_ACCOUNT of the GitHub Environment): pull requests' plans run as it."
  value       = module.iam.planner_email
}

output "project_id" {
  description = "GCP project of this environment."
  value       = var.project_id
}

output "region" {
  description = "Region of the regional resources."
  value       = var.region
}

output "scheduler_job_id" {
  description = "Cloud Scheduler job that publishes the tick events."
  value       = module.scheduler.job_id
}

output "subscription_id" {
  description = "The pipeline's Pub/Sub subscription."
  value       = module.pubsub.subscription_id
}

output "topic_id" {
  description = "Pub/Sub topic events are published to."
  value       = module.pubsub.topic_id
}

output "workload_identity_provider" {
  description = "Full name of the GitHub OIDC provider (google-github-actions/auth workload_identity_provider)."
  value       = module.iam.workload_identity_provider
}

output "job_name" {
  description = "Name of the Cloud Run job (the cloud_run_job resource's job_name label in its logs)."
  value       = google_cloud_run_v2_job.reconcile.name
}

output "scheduler_job_id" {
  description = "Id of the Cloud Scheduler job that runs it (projects/P/locations/L/jobs/J)."
  value       = google_cloud_scheduler_job.reconcile.id
}

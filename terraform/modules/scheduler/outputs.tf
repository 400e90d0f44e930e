output "job_id" {
  description = "Id of the Cloud Scheduler job (projects/P/locations/L/jobs/J)."
  value       = google_cloud_scheduler_job.tick.id
}

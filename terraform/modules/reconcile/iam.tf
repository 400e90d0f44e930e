# The job's service account may run this job (what Cloud Scheduler does with its token), on this
# job only.
resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_job" {
  project  = var.project_id
  location = google_cloud_run_v2_job.reconcile.location
  name     = google_cloud_run_v2_job.reconcile.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.service_account_email}"
}

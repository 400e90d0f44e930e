# Runs the job on a schedule: Cloud Scheduler calls the Cloud Run Admin API's jobs.run with an
# OAuth token of the job's own service account, which may run this job and nothing else.
resource "google_cloud_scheduler_job" "reconcile" {
  project     = var.project_id
  region      = var.region
  name        = var.job_name
  description = "Runs the Cloud Run job ${var.job_name}: bqingest reconcile."
  schedule    = var.schedule
  time_zone   = "Etc/UTC"
  paused      = var.paused

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.reconcile.name}:run"

    oauth_token {
      service_account_email = var.service_account_email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_runs_job]
}

# Who may call the API: listed members only, on this service only. There is no allUsers binding,
# so an unauthenticated request gets 403 from Cloud Run before it reaches the container.
resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = var.invokers

  project  = var.project_id
  location = google_cloud_run_v2_service.api.location
  name     = google_cloud_run_v2_service.api.name
  role     = "roles/run.invoker"
  member   = each.value
}

# Grants on this repository only. Cloud Run pulls with its own service agent, which already may
# read repositories of its project; the Dataflow launcher and workers pull as the pipeline account.
resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each = var.readers

  project    = var.project_id
  location   = google_artifact_registry_repository.docker.location
  repository = google_artifact_registry_repository.docker.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

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

# Promotion: the next environment's deployer copies an image by digest from here (skopeo), and its
# planner reads a tag's digest to plan with it. Read only: nothing is pushed into this repository
# from another environment.
resource "google_artifact_registry_repository_iam_member" "promotion_readers" {
  for_each = toset(var.promotion_readers)

  project    = var.project_id
  location   = google_artifact_registry_repository.docker.location
  repository = google_artifact_registry_repository.docker.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

output "repository_id" {
  description = "Name of the Docker repository."
  value       = google_artifact_registry_repository.docker.repository_id
}

output "repository_url" {
  description = "Registry path images are pushed to: LOCATION-docker.pkg.dev/PROJECT/REPOSITORY."
  value       = "${google_artifact_registry_repository.docker.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.docker.repository_id}"
}

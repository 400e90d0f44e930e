# Every API the other modules need. Turning an API off can destroy data (Pub/Sub topics, BigQuery
# datasets), so Terraform only ever turns them on: removing a service from the list leaves it enabled.
resource "google_project_service" "enabled" {
  for_each = var.services

  project                    = var.project_id
  service                    = each.value
  disable_dependent_services = false
  disable_on_destroy         = false
}

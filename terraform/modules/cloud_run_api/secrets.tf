# The API keys live in Secret Manager, never in Terraform state or variables: Terraform creates the
# empty secret and lets the API's account read it; an operator adds the value as a new version
# (docs/deploy.md).
resource "google_secret_manager_secret" "api_keys" {
  project   = var.project_id
  secret_id = var.api_keys_secret_id

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "runtime_reads_api_keys" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.api_keys.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_account_email}"
}

# IAM propagation: the first revision reads the secret as soon as the service exists, and a grant
# made seconds earlier can still be refused. A refused first revision leaves the service tainted,
# and in prod deletion_protection then blocks its replacement (docs/runbook.md, "untaint").
resource "time_sleep" "secret_grant_propagated" {
  create_duration = var.iam_propagation_wait

  triggers = {
    member = google_secret_manager_secret_iam_member.runtime_reads_api_keys.member
  }
}

# GitHub Actions authenticates with its OIDC token: no service-account key exists anywhere. The
# provider accepts only tokens of jobs that run in this environment's GitHub Environment of this
# repository (subject repo:OWNER/NAME:environment:ENV), so protection rules on that GitHub
# Environment (required reviewers for prod) guard the credentials. Only principals of that
# repository may impersonate the deployer.

locals {
  github_repository_principals = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository/${var.github_repository}"
}

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "Workflows of ${var.github_repository}."
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:The condition pins the subject to repo:OWNER/NAME:environment:ENV; checkov evaluates the interpolated == inside the CEL string as a boolean and then finds no subject (it passes the same condition written literally).
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = var.workload_identity_provider_id
  display_name                       = "GitHub OIDC"
  description                        = "Jobs of ${var.github_repository} in GitHub Environment ${var.github_environment} only."
  attribute_condition                = "assertion.repository == '${var.github_repository}' && assertion.sub == 'repo:${var.github_repository}:environment:${var.github_environment}'"
  attribute_mapping = {
    "google.subject"        = "assertion.sub"
    "attribute.actor"       = "assertion.actor"
    "attribute.environment" = "assertion.environment"
    "attribute.ref"         = "assertion.ref"
    "attribute.repository"  = "assertion.repository"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "github_impersonates_deployer" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = local.github_repository_principals
}

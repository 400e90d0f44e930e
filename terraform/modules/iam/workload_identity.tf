# GitHub Actions authenticates with its OIDC token: no service-account key exists anywhere.
#
# The provider accepts a token only when all of these hold (attribute_condition):
# - it comes from this repository, by its numeric id (a name can be renamed, or taken over
#   after a deletion; the id cannot);
# - the job runs in this environment's GitHub Environment, so that Environment's protection
#   rules (required reviewers for prod) guard the credentials, or in its plan Environment
#   (ENV-plan, the deployment's plan job, before any review);
# - it is a push (or manual run) of this environment's deployment branch, or a pull request
#   (pull_request only: pull_request_target runs with the base branch's ref and is refused);
#   the plan Environment admits the deployment branch only.
#
# What the token may become (attribute.access): the deployment branch in the environment's own
# GitHub Environment impersonates the deployer, which applies; a pull request, or the
# deployment's plan job, only the planner, which can read and nothing else. Neither a pull
# request nor an unreviewed plan job ever holds the deployer's rights, whatever its code does.

locals {
  pool_principals = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}"
  # Characters of the values below are limited by the variables' validations.
  deploys             = "(assertion.ref == '${var.github_deploy_ref}' && assertion.event_name in ['push', 'workflow_dispatch'])"
  plans               = "(assertion.event_name == 'pull_request' && assertion.ref.startsWith('refs/pull/'))"
  protected           = "assertion.environment == '${var.github_environment}'"
  planning            = "assertion.environment == '${var.github_environment}-plan'"
  access_mapping      = "(${local.protected} && ${local.deploys}) ? 'apply' : 'plan'"
  attribute_condition = "assertion.repository_id == '${var.github_repository_id}' && ((${local.protected} && (${local.deploys} || ${local.plans})) || (${local.planning} && ${local.deploys}))"
}

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "Workflows of ${var.github_repository}."
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:The condition pins the repository by id, the GitHub Environment and the ref (local.attribute_condition); checkov looks for an assertion.sub or repository name literal and does not evaluate the local.
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = var.workload_identity_provider_id
  display_name                       = "GitHub OIDC"
  description                        = "${var.github_repository}: ${var.github_deploy_ref} and pull requests, in GitHub Environment ${var.github_environment} (and ${var.github_environment}-plan for plans) only."
  attribute_condition                = local.attribute_condition
  attribute_mapping = {
    "google.subject"          = "assertion.sub"
    "attribute.access"        = local.access_mapping
    "attribute.actor"         = "assertion.actor"
    "attribute.environment"   = "assertion.environment"
    "attribute.event_name"    = "assertion.event_name"
    "attribute.ref"           = "assertion.ref"
    "attribute.repository_id" = "assertion.repository_id"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "github_impersonates_deployer" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.pool_principals}/attribute.access/apply"
}

resource "google_service_account_iam_member" "github_impersonates_planner" {
  service_account_id = google_service_account.planner.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.pool_principals}/attribute.access/plan"
}

locals {
  # The only roles Terraform grants on the whole project to the runtime accounts: BigQuery jobs and
  # Dataflow workers have no narrower resource to bind to. The deployer may grant these and no other.
  runtime_project_roles = ["roles/bigquery.jobUser", "roles/dataflow.worker", "roles/monitoring.viewer"]

  # What `terraform apply` needs to manage the resources of this configuration. Admin roles of the
  # services bqingest uses, never roles/owner or roles/editor; project IAM is delegated with a
  # condition below so that the deployer cannot grant itself more. Identities are not among
  # them: the deployer may read service accounts and the workload identity pool, and administer
  # no account (service_account_iam.tf). Storage is granted on the Dataflow bucket only (module
  # storage): at project level it would reach every bucket of the project, the Terraform state
  # bucket too when it lives there. Creating an account, changing the pool,
  # the provider, the deployer's or the planner's own grants is a person's apply
  # (docs/deploy.md); tests/static/permissions/ checks every role against what it must allow.
  deployer_project_roles = [
    "roles/artifactregistry.admin",
    "roles/bigquery.dataOwner",
    "roles/cloudscheduler.admin",
    "roles/compute.networkAdmin",
    "roles/compute.securityAdmin",
    "roles/dataflow.developer",
    "roles/iam.serviceAccountViewer",
    "roles/iam.workloadIdentityPoolViewer",
    "roles/logging.configWriter",
    "roles/monitoring.editor",
    "roles/pubsub.admin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/serviceusage.serviceUsageAdmin",
  ]

  # What `terraform plan` needs to refresh every resource of this configuration: the viewer role
  # of each service, and iam.securityReviewer for the IAM policies (no viewer role reads them
  # all). Nothing here can change anything.
  planner_project_roles = [
    "roles/artifactregistry.reader",
    "roles/bigquery.metadataViewer",
    "roles/cloudscheduler.viewer",
    "roles/compute.networkViewer",
    "roles/dataflow.viewer",
    "roles/iam.securityReviewer",
    "roles/iam.serviceAccountViewer",
    "roles/iam.workloadIdentityPoolViewer",
    "roles/logging.viewer",
    "roles/monitoring.viewer",
    "roles/pubsub.viewer",
    "roles/run.viewer",
    "roles/secretmanager.viewer",
    "roles/serviceusage.serviceUsageViewer",
  ]
}

resource "google_project_iam_member" "api_reader_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.api_reader.email}"
}

resource "google_project_iam_member" "dataflow_worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = "serviceAccount:${google_service_account.dataflow_worker.email}"
}

# The reconcile job runs queries and reads Pub/Sub's publish counts (time series have no narrower
# resource than the project).
resource "google_project_iam_member" "reconcile_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.reconcile.email}"
}

resource "google_project_iam_member" "reconcile_monitoring_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = "serviceAccount:${google_service_account.reconcile.email}"
}

resource "google_project_iam_member" "deployer" {
  #checkov:skip=CKV_GCP_42:The deployer runs terraform apply for this configuration, which needs the admin role of each service it manages; owner/editor are never granted and project IAM changes are limited by the condition on deployer_grants_runtime_roles.
  #checkov:skip=CKV_GCP_49:Flagged for a role among deployer_project_roles that checkov reads as able to act as accounts; none holds an iam.serviceAccounts permission (tests/static/permissions/roles.json, test_the_deployer_cannot_take_over_accounts_or_its_own_trust): it launches jobs as the pipeline account only through the actAs grant on that one account.
  for_each = toset(local.deployer_project_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_project_iam_member" "planner" {
  for_each = toset(local.planner_project_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.planner.email}"
}

# Delegated, limited project IAM administration: the deployer may add or remove only the runtime
# roles above, so a compromised workflow cannot grant itself or anyone else owner.
resource "google_project_iam_member" "deployer_grants_runtime_roles" {
  #checkov:skip=CKV_GCP_42:Project IAM admin limited by an IAM condition to granting runtime_project_roles only.
  project = var.project_id
  role    = "roles/resourcemanager.projectIamAdmin"
  member  = "serviceAccount:${google_service_account.deployer.email}"

  condition {
    title       = "grant-runtime-roles-only"
    description = "May grant and revoke only the bqingest runtime roles on the project."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(${jsonencode(local.runtime_project_roles)})"
  }
}

# Grants on the service accounts themselves, never on the project: the deployer administers the
# runtime accounts it manages (and no other account: not its own, not the planner, not a
# default compute account), may attach them to the Cloud Run service and job and the Dataflow
# job (actAs), and may mint identity tokens for the invoker account to smoke-test the API.

locals {
  runtime_accounts = {
    api_invoker     = google_service_account.api_invoker.name
    api_reader      = google_service_account.api_reader.name
    dataflow_worker = google_service_account.dataflow_worker.name
    reconcile       = google_service_account.reconcile.name
  }
}

resource "google_service_account_iam_member" "deployer_administers_runtime_accounts" {
  for_each = local.runtime_accounts

  service_account_id = each.value
  role               = "roles/iam.serviceAccountAdmin"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_service_account_iam_member" "deployer_acts_as_api_reader" {
  service_account_id = google_service_account.api_reader.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_service_account_iam_member" "deployer_acts_as_dataflow_worker" {
  service_account_id = google_service_account.dataflow_worker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_service_account_iam_member" "deployer_acts_as_reconcile" {
  service_account_id = google_service_account.reconcile.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_service_account_iam_member" "deployer_mints_invoker_id_tokens" {
  service_account_id = google_service_account.api_invoker.name
  role               = "roles/iam.serviceAccountOpenIdTokenCreator"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

# Grants on the service accounts themselves, never on the project: the deployer may attach the
# runtime accounts to the Cloud Run service and job and the Dataflow job (serviceAccountUser:
# actAs), and may mint identity tokens for the invoker account to smoke-test the API. It
# administers no account: with serviceAccountAdmin on an account it could grant itself token
# creation on it and act as it anywhere. These bindings are a person's apply (docs/deploy.md).

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

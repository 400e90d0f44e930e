# One identity per job, so each holds only what that job needs. Resource-level grants (dataset,
# topic, subscription, bucket, secret, service) are made by the module that owns the resource;
# this module makes the grants that have no narrower resource.

resource "google_service_account" "api_reader" {
  project      = var.project_id
  account_id   = var.api_reader_account_id
  display_name = "bqingest API"
  description  = "Runs the Cloud Run API: reads the BigQuery dataset, publishes to the events topic, reads the API keys secret."
}

resource "google_service_account" "api_invoker" {
  project      = var.project_id
  account_id   = var.api_invoker_account_id
  display_name = "bqingest API invoker"
  description  = "May only invoke the Cloud Run API (roles/run.invoker on that one service)."
}

resource "google_service_account" "dataflow_worker" {
  project      = var.project_id
  account_id   = var.dataflow_worker_account_id
  display_name = "bqingest pipeline"
  description  = "Runs the Dataflow launcher and workers: reads the subscription, writes the dataset, uses the Dataflow bucket."
}

resource "google_service_account" "reconcile" {
  project      = var.project_id
  account_id   = var.reconcile_account_id
  display_name = "bqingest reconcile"
  description  = "Runs the scheduled bqingest reconcile job: reads the BigQuery dataset and Cloud Monitoring's Pub/Sub counts, may run that job only."
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = var.deployer_account_id
  display_name = "bqingest CI deployer"
  description  = "Applies Terraform and deploys: impersonated by the deployment workflow of one repository, branch and GitHub Environment through Workload Identity Federation; no keys."
}

resource "google_service_account" "planner" {
  project      = var.project_id
  account_id   = var.planner_account_id
  display_name = "bqingest CI planner"
  description  = "Read-only: runs terraform plan for pull requests of one repository in one GitHub Environment, through Workload Identity Federation; no keys."
}

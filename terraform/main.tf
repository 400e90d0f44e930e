# One environment of bqingest per apply: dev, staging and prod are this same root, with the shared
# values of terraform.tfvars, the environment's own in envs/ENV.tfvars and its state prefix in
# envs/ENV.gcs.tfbackend (docs/deploy.md).

terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.50.0"
    }
    # time_sleep: waits for IAM grants to propagate before what needs them starts.
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}

provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}

locals {
  labels = {
    app         = "bqingest"
    environment = var.environment
    managed-by  = "terraform"
  }

  dataflow_bucket         = "${var.project_id}-bqingest-dataflow"
  container_spec_gcs_path = coalesce(var.dataflow_container_spec_gcs_path, "gs://${local.dataflow_bucket}/templates/bqingest-pipeline.json")

  # The branch that deploys each environment (.github/workflows/deployment.yml maps them the same
  # way, a test keeps them equal): only its pushes may impersonate the deployer.
  deploy_refs = {
    dev     = "refs/heads/dev"
    staging = "refs/heads/staging"
    prod    = "refs/heads/main"
  }

  # Alerts link to their section of the runbook as the repository shows it.
  runbook_url = "https://github.com/${var.github_repository}/blob/main/docs/runbook.md"
}

module "project_services" {
  source = "./modules/project_services"

  project_id = var.project_id
}

module "network" {
  source = "./modules/network"

  project_id  = var.project_id
  region      = var.region
  subnet_cidr = var.subnet_cidr

  depends_on = [module.project_services]
}

module "iam" {
  source = "./modules/iam"

  project_id                   = var.project_id
  github_repository            = var.github_repository
  github_repository_id         = var.github_repository_id
  github_environment           = var.environment
  github_deploy_ref            = local.deploy_refs[var.environment]

  depends_on = [module.project_services]
}

module "artifact_registry" {
  source = "./modules/artifact_registry"

  project_id    = var.project_id
  location      = var.region
  repository_id = var.artifact_registry_repository
  readers = {
    pipeline = module.iam.dataflow_worker_member
  }
  promotion_readers = var.image_promotion_readers

  depends_on = [module.project_services]
}

module "storage" {
  source = "./modules/storage"

  project_id    = var.project_id
  name          = local.dataflow_bucket
  location      = var.region
  force_destroy = !var.deletion_protection
  object_users = {
    pipeline = module.iam.dataflow_worker_member
  }
  admins = {
    deployer = module.iam.deployer_member
  }
  bucket_readers = {
    planner = module.iam.planner_member
  }

  depends_on = [module.project_services]
}

module "pubsub" {
  source = "./modules/pubsub"

  project_id = var.project_id
  topic_publishers = {
    api = module.iam.api_reader_member
  }
  subscription_readers = {
    pipeline = module.iam.dataflow_worker_member
  }

  depends_on = [module.project_services]
}

module "bigquery" {
  source = "./modules/bigquery"

  project_id                             = var.project_id
  location                               = var.bigquery_location
  deletion_protection                    = var.deletion_protection
  events_partition_expiration_days       = var.events_partition_expiration_days
  dead_letters_partition_expiration_days = var.dead_letters_partition_expiration_days
  data_viewers = {
    reconcile = module.iam.reconcile_member
  }
  events_readers = {
    api = module.iam.api_reader_member
  }
  table_appenders = {
    pipeline = module.iam.dataflow_worker_member
  }

  depends_on = [module.project_services]
}

module "cloud_run_api" {
  source = "./modules/cloud_run_api"

  project_id            = var.project_id
  region                = var.region
  environment           = var.environment
  image                 = var.api_image
  service_account_email = module.iam.api_reader_email
  location              = var.bigquery_location
  dataset               = module.bigquery.dataset
  events_table          = module.bigquery.events_table
  dead_letter_table     = module.bigquery.dead_letter_table
  dedup_view            = module.bigquery.dedup_view
  topic                 = module.pubsub.topic_name
  cpu                   = var.api_cpu
  memory                = var.api_memory
  concurrency           = var.api_concurrency
  min_instances         = var.api_min_instances
  max_instances         = var.api_max_instances
  deletion_protection   = var.deletion_protection
  iam_propagation_wait  = var.iam_propagation_wait
  invokers = {
    invoker = module.iam.api_invoker_member
  }

  # The runtime account's dataset and topic grants exist, propagated, before the first revision
  # starts (its secret grant waits in the module).
  depends_on = [time_sleep.runtime_grants_propagated]
}

module "dataflow" {
  source = "./modules/dataflow"

  project_id              = var.project_id
  region                  = var.region
  container_spec_gcs_path = local.container_spec_gcs_path
  sdk_container_image     = var.pipeline_image
  service_account_email   = module.iam.dataflow_worker_email
  bucket                  = module.storage.bucket_name
  subnetwork              = module.network.subnetwork_self_link
  subscription            = module.pubsub.subscription_id
  events_table            = module.bigquery.events_table_id
  dead_letter_table       = module.bigquery.dead_letter_table_id
  max_message_bytes       = var.max_message_bytes
  machine_type            = var.dataflow_machine_type
  max_workers             = var.dataflow_max_workers

  # Workers need their project roles (roles/dataflow.worker), subscription, dataset, bucket and
  # registry grants, propagated, and the NAT, at start-up.
  depends_on = [time_sleep.runtime_grants_propagated, module.network]
}

module "scheduler" {
  source = "./modules/scheduler"

  project_id = var.project_id
  region     = var.region
  topic_id   = module.pubsub.topic_id
  paused     = var.scheduler_paused

  depends_on = [module.project_services]
}

module "reconcile" {
  source = "./modules/reconcile"

  project_id            = var.project_id
  region                = var.region
  environment           = var.environment
  image                 = var.api_image
  service_account_email = module.iam.reconcile_email
  location              = var.bigquery_location
  dataset               = module.bigquery.dataset
  events_table          = module.bigquery.events_table
  dead_letter_table     = module.bigquery.dead_letter_table
  dedup_view            = module.bigquery.dedup_view
  topic                 = module.pubsub.topic_name
  deletion_protection   = var.deletion_protection

  # The account's dataset grant and project roles exist, propagated, before the first run.
  depends_on = [time_sleep.runtime_grants_propagated]
}

module "monitoring" {
  source = "./modules/monitoring"

  project_id                     = var.project_id
  environment                    = var.environment
  runbook_url                    = local.runbook_url
  notification_channels          = var.alert_notification_channels
  topic                          = module.pubsub.topic_name
  subscription                   = module.pubsub.subscription_name
  dataflow_job_name              = module.dataflow.job_name
  api_service_name               = module.cloud_run_api.service_name
  expected_events_min            = var.expected_events_min
  expected_events_max            = var.expected_events_max
  expected_events_window_seconds = var.expected_events_window_seconds
  reconcile_job_name             = module.reconcile.job_name

  depends_on = [module.project_services]
}

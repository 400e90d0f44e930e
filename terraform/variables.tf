variable "alert_notification_channels" {
  type        = list(string)
  description = "Notification channels every alert notifies (projects/PROJECT/notificationChannels/ID); empty: incidents show in the console only."
  default     = []
}

variable "api_concurrency" {
  type        = number
  description = "Requests one API instance serves at once before Cloud Run starts another."
  default     = 80
}

variable "api_cpu" {
  type        = string
  description = "vCPUs per API instance (1, 2, 4, 6 or 8)."
  default     = "1"
}

variable "api_image" {
  type        = string
  description = "API image to run, REGION-docker.pkg.dev/PROJECT/REPOSITORY/api@sha256:DIGEST (a tag is accepted, for a person's first apply). CI passes the image by digest (TF_VAR_api_image): built once in dev, promoted unchanged."
}

variable "api_max_instances" {
  type        = number
  description = "Most API instances Cloud Run may run: a cap on cost and on BigQuery load."
  default     = 3
}

variable "api_memory" {
  type        = string
  description = "Memory per API instance, e.g. 512Mi or 1Gi."
  default     = "512Mi"
}

variable "api_min_instances" {
  type        = number
  description = "API instances kept warm; 0 scales to zero when idle (no cost, a cold start on the next request)."
  default     = 0
}

variable "artifact_registry_repository" {
  type        = string
  description = "Name of the Docker repository in Artifact Registry for the API and pipeline images."
  default     = "bqingest"
}

variable "bigquery_location" {
  type        = string
  description = "Location of the BigQuery dataset (US, EU or a region); the API queries there."
  default     = "US"
}

variable "dataflow_container_spec_gcs_path" {
  type        = string
  description = "gs:// path of the pipeline's Flex Template spec; null means gs://PROJECT-bqingest-dataflow/templates/bqingest-pipeline.json."
  default     = null
}

variable "dataflow_machine_type" {
  type        = string
  description = "Machine type of the Dataflow workers."
  default     = "n1-standard-2"
}

variable "dataflow_max_workers" {
  type        = number
  description = "Most Dataflow workers autoscaling may start: a cap on cost."
  default     = 3
}

variable "dead_letters_partition_expiration_days" {
  type        = number
  description = "Days a day-partition of dead_letters is kept; null keeps them forever."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Protect data and the service from terraform destroy: BigQuery tables, the dataset's contents, the Dataflow bucket, the Cloud Run service."
}

variable "environment" {
  type        = string
  description = "Environment name: dev, staging or prod (BQINGEST_ENVIRONMENT, and the environment label)."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "events_partition_expiration_days" {
  type        = number
  description = "Days a day-partition of events is kept (by event time); null keeps them forever."
  default     = null
}

variable "expected_events_max" {
  type        = number
  description = "Upper edge of the expected volume: more events written within expected_events_window_seconds opens the volume alert."
  default     = 100000
}

variable "expected_events_min" {
  type        = number
  description = "Lower edge of the expected volume: fewer events written within expected_events_window_seconds opens the volume alert."
  default     = 1
}

variable "expected_events_window_seconds" {
  type        = number
  description = "Window over which written events are compared with the expected volume."
  default     = 3600
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (owner/name) that deploys this environment; names things, while access is pinned to github_repository_id."
}

variable "github_repository_id" {
  type        = string
  description = "Numeric id of that repository (gh api repos/OWNER/NAME --jq .id): Workload Identity Federation accepts only its jobs, in the GitHub Environment of this environment's name, on its deployment branch (deployer) or in a pull request (planner)."

  validation {
    condition     = can(regex("^[1-9][0-9]{0,19}$", var.github_repository_id))
    error_message = "github_repository_id must be your repository's numeric id (gh api repos/OWNER/NAME --jq .id): terraform.tfvars ships the placeholder 000000000."
  }
}

variable "iam_propagation_wait" {
  type        = string
  description = "How long a first apply waits after granting the runtime accounts, before the Dataflow job, the API and the reconcile job start as them (IAM propagation)."
  default     = "90s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.iam_propagation_wait)) && try(tonumber(trimsuffix(var.iam_propagation_wait, "s")) >= 60, false)
    error_message = "iam_propagation_wait must be seconds, at least 60s, e.g. 90s."
  }
}

variable "image_promotion_readers" {
  type        = list(string)
  description = "The next environment's deployer and planner (serviceAccount:EMAIL, its deployer_service_account and planner_service_account outputs): staging's in dev, prod's in staging, none in prod. They may read this environment's images, to promote them by digest."
  default     = []
}

variable "max_message_bytes" {
  type        = number
  description = "Largest message (body plus attributes) the pipeline accepts; larger ones are dead-lettered."
  default     = 1048576
}

variable "pipeline_image" {
  type        = string
  description = "Pipeline image (dataflow/Dockerfile), REGION-docker.pkg.dev/PROJECT/REPOSITORY/pipeline@sha256:DIGEST: the Flex Template launcher and the Dataflow workers' SDK container. CI passes it by digest (TF_VAR_pipeline_image), the same it builds the template spec from."
}

variable "project_id" {
  type        = string
  description = "GCP project of this environment: one project per environment."
}

variable "region" {
  type        = string
  description = "Region of Cloud Run, Dataflow, Cloud Scheduler, Artifact Registry, the bucket and the network."
  default     = "us-central1"
}

variable "scheduler_paused" {
  type        = bool
  description = "Keep the Cloud Scheduler job paused: no events are published."
  default     = false
}

variable "subnet_cidr" {
  type        = string
  description = "IPv4 range of the Dataflow workers' subnetwork."
  default     = "10.10.0.0/24"
}

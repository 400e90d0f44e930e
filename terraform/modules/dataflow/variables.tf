variable "bucket" {
  type        = string
  description = "Name of the Dataflow bucket: staging files go to gs://BUCKET/staging, scratch to gs://BUCKET/temp."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be a bucket name (no gs:// prefix)."
  }
}

variable "container_spec_gcs_path" {
  type        = string
  description = "gs:// path of the Flex Template spec (JSON) that CI builds for the pipeline image."

  validation {
    condition     = can(regex("^gs://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]/.+\\.json$", var.container_spec_gcs_path))
    error_message = "container_spec_gcs_path must be gs://BUCKET/PATH.json."
  }
}

variable "dead_letter_table" {
  type        = string
  description = "PROJECT.DATASET.TABLE of the dead-letter table (pipeline parameter dead_letter_table)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$", var.dead_letter_table))
    error_message = "dead_letter_table must be PROJECT.DATASET.TABLE."
  }
}

variable "events_table" {
  type        = string
  description = "PROJECT.DATASET.TABLE of the events table (pipeline parameter events_table)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]\\.[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$", var.events_table))
    error_message = "events_table must be PROJECT.DATASET.TABLE."
  }
}

variable "job_name" {
  type        = string
  description = "Name of the streaming Dataflow job."
  default     = "bqingest-pipeline"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$", var.job_name))
    error_message = "job_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "machine_type" {
  type        = string
  description = "Compute Engine machine type of the workers."
  default     = "n1-standard-2"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*-[a-z]+-[0-9]+$", var.machine_type))
    error_message = "machine_type must be a machine type such as n1-standard-2."
  }
}

variable "max_message_bytes" {
  type        = number
  description = "Largest message (body plus attributes) the pipeline accepts; larger ones are dead-lettered (pipeline parameter max_message_bytes, BQINGEST_MAX_MESSAGE_BYTES)."
  default     = 1048576

  validation {
    condition     = var.max_message_bytes >= 1024 && var.max_message_bytes <= 10485760
    error_message = "max_message_bytes must be between 1024 and 10485760."
  }
}

variable "max_workers" {
  type        = number
  description = "Upper bound of autoscaling: a cap on cost."
  default     = 3

  validation {
    condition     = var.max_workers >= 1 && var.max_workers <= 1000
    error_message = "max_workers must be between 1 and 1000."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the job runs in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Dataflow region (the subnetwork's region)."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1."
  }
}

variable "sdk_container_image" {
  type        = string
  description = "The pipeline image (dataflow/Dockerfile), LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG or @sha256 digest: the workers' SDK container, and the image the spec at container_spec_gcs_path launches with."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[^\\s]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.sdk_container_image))
    error_message = "sdk_container_image must be a full image reference with a tag or a digest."
  }
}

variable "service_account_email" {
  type        = string
  description = "Email of the service account the launcher and workers run as."

  validation {
    condition     = can(regex("^[^@]+@[^@]+\\.iam\\.gserviceaccount\\.com$", var.service_account_email))
    error_message = "service_account_email must be a service account email."
  }
}

variable "subnetwork" {
  type        = string
  description = "Self link of the subnetwork the workers run in; they get private IPs only."

  validation {
    condition     = can(regex("/regions/[a-z0-9-]+/subnetworks/[a-z0-9-]+$", var.subnetwork))
    error_message = "subnetwork must be a subnetwork self link ending in /regions/REGION/subnetworks/NAME."
  }
}

variable "subscription" {
  type        = string
  description = "projects/PROJECT/subscriptions/NAME the pipeline reads (pipeline parameter subscription)."

  validation {
    condition     = can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/subscriptions/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.subscription))
    error_message = "subscription must be projects/PROJECT/subscriptions/NAME."
  }
}

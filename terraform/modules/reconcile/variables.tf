variable "dataset" {
  type        = string
  description = "BigQuery dataset (BQINGEST_DATASET)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dataset))
    error_message = "dataset must be letters, digits and underscores."
  }
}

variable "dead_letter_table" {
  type        = string
  description = "Dead-letter table name (BQINGEST_DEAD_LETTER_TABLE)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dead_letter_table))
    error_message = "dead_letter_table must be letters, digits and underscores."
  }
}

variable "dedup_view" {
  type        = string
  description = "De-duplicated view name (BQINGEST_DEDUP_VIEW)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dedup_view))
    error_message = "dedup_view must be letters, digits and underscores."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the job (true in prod)."
  default     = true
}

variable "environment" {
  type        = string
  description = "Deployment environment (BQINGEST_ENVIRONMENT)."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "events_table" {
  type        = string
  description = "Events table name (BQINGEST_EVENTS_TABLE)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.events_table))
    error_message = "events_table must be letters, digits and underscores."
  }
}

variable "image" {
  type        = string
  description = "Container image with the bqingest command (the API's image), LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG or @sha256 digest."

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[^\\s]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.image))
    error_message = "image must be a full image reference with a tag or a digest."
  }
}

variable "job_name" {
  type        = string
  description = "Name of the Cloud Run job and of the Cloud Scheduler job that runs it."
  default     = "bqingest-reconcile"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.job_name))
    error_message = "job_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "location" {
  type        = string
  description = "BigQuery location the job runs its queries in (BQINGEST_LOCATION)."

  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a multi-region (US, EU) or a region such as europe-west1."
  }
}

variable "paused" {
  type        = bool
  description = "Create the schedule paused: the job runs only when started by hand."
  default     = false
}

variable "project_id" {
  type        = string
  description = "GCP project id the job runs in (BQINGEST_PROJECT)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run job and the Cloud Scheduler job."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1."
  }
}

variable "schedule" {
  type        = string
  description = "Cron schedule of the runs (unix-cron, UTC)."
  default     = "10 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.schedule))) == 5
    error_message = "schedule must be a five-field unix-cron expression such as 10 * * * *."
  }
}

variable "service_account_email" {
  type        = string
  description = "Service account the job runs as and Cloud Scheduler calls it with: reads the dataset, runs queries, reads Cloud Monitoring."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", var.service_account_email))
    error_message = "service_account_email must be a service account of the project (NAME@PROJECT.iam.gserviceaccount.com)."
  }
}

variable "since" {
  type        = string
  description = "Start of each run's window, as a duration before the run (bqingest reconcile --since)."
  default     = "2h"

  validation {
    condition     = can(regex("^[0-9]+[smhd]$", var.since))
    error_message = "since must be a whole number followed by s, m, h or d, e.g. 2h."
  }
}

variable "topic" {
  type        = string
  description = "Short name of the Pub/Sub topic whose published messages are counted (BQINGEST_TOPIC)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic))
    error_message = "topic must be a Pub/Sub topic name (not its full id)."
  }
}

variable "until" {
  type        = string
  description = "End of each run's window, as a duration before the run: how long a message gets to reach BigQuery before it counts as missing (bqingest reconcile --until)."
  default     = "1h"

  validation {
    condition     = can(regex("^[0-9]+[smhd]$", var.until))
    error_message = "until must be a whole number followed by s, m, h or d, e.g. 1h."
  }
}

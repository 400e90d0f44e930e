variable "data_viewers" {
  type        = map(string)
  description = "IAM members that read every table and view, dead letters included, by a static key: each gets roles/bigquery.dataViewer on this dataset (the reconcile job)."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.data_viewers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "data_viewers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "dataset" {
  type        = string
  description = "BigQuery dataset id (BQINGEST_DATASET)."
  default     = "bqingest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dataset))
    error_message = "dataset must be letters, digits and underscores."
  }
}

variable "dead_letter_table" {
  type        = string
  description = "Table of rejected messages (BQINGEST_DEAD_LETTER_TABLE)."
  default     = "dead_letters"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dead_letter_table))
    error_message = "dead_letter_table must be letters, digits and underscores."
  }
}

variable "dead_letters_partition_expiration_days" {
  type        = number
  description = "Days a day-partition of dead_letters is kept; null keeps them forever."
  default     = null

  validation {
    condition     = var.dead_letters_partition_expiration_days == null || try(var.dead_letters_partition_expiration_days >= 1, false)
    error_message = "dead_letters_partition_expiration_days must be null or at least 1."
  }
}

variable "dedup_view" {
  type        = string
  description = "View with one row per event id (BQINGEST_DEDUP_VIEW)."
  default     = "events_dedup"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dedup_view))
    error_message = "dedup_view must be letters, digits and underscores."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the tables and the view, and keep the dataset's contents on destroy (true in prod)."
  default     = true
}

variable "events_partition_expiration_days" {
  type        = number
  description = "Days a day-partition of events is kept (by event time); null keeps them forever."
  default     = null

  validation {
    condition     = var.events_partition_expiration_days == null || try(var.events_partition_expiration_days >= 1, false)
    error_message = "events_partition_expiration_days must be null or at least 1."
  }
}

variable "events_readers" {
  type        = map(string)
  description = "IAM members that read the events table only (not the dead letters), by a static key: each gets roles/bigquery.dataViewer on that table (the API)."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.events_readers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "events_readers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "events_table" {
  type        = string
  description = "Table of valid events (BQINGEST_EVENTS_TABLE)."
  default     = "events"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.events_table))
    error_message = "events_table must be letters, digits and underscores."
  }
}

variable "location" {
  type        = string
  description = "BigQuery dataset location, e.g. US, EU or a region (BQINGEST_LOCATION)."
  default     = "US"

  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a multi-region (US, EU) or a region such as europe-west1."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the dataset is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "table_appenders" {
  type        = map(string)
  description = "IAM members that append rows to the events and dead-letter tables (the pipeline), by a static key: roles/bigquery.dataEditor on those two tables only. Without bigquery.jobs.create (never granted to them) they run no query, so no DML: no UPDATE, DELETE or MERGE."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.table_appenders) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "table_appenders values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

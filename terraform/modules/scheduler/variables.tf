variable "job_name" {
  type        = string
  description = "Name of the Cloud Scheduler job; also part of the events' ce-source."
  default     = "bqingest-tick"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,500}$", var.job_name))
    error_message = "job_name must be letters, digits, hyphens and underscores."
  }
}

variable "paused" {
  type        = bool
  description = "Create the job paused: no events are published until it is resumed."
  default     = false
}

variable "project_id" {
  type        = string
  description = "GCP project id the job is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Cloud Scheduler region."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1."
  }
}

variable "schedule" {
  type        = string
  description = "Cron schedule of the job (unix-cron, in time_zone)."
  default     = "*/3 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.schedule))) == 5
    error_message = "schedule must be a five-field unix-cron expression such as */3 * * * *."
  }
}

variable "time_zone" {
  type        = string
  description = "Time zone the schedule is read in (tz database name)."
  default     = "Etc/UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.time_zone))
    error_message = "time_zone must be a tz database name such as Etc/UTC or Europe/Paris."
  }
}

variable "topic_id" {
  type        = string
  description = "projects/PROJECT/topics/NAME the job publishes to."

  validation {
    condition     = can(regex("^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic_id))
    error_message = "topic_id must be projects/PROJECT/topics/NAME."
  }
}

variable "alert_duration_seconds" {
  type        = number
  description = "How long a threshold (Dataflow system lag, oldest unacked message age, API 5xx ratio) must stay crossed before an incident opens."
  default     = 300

  validation {
    condition     = var.alert_duration_seconds >= 0 && var.alert_duration_seconds <= 86400 && var.alert_duration_seconds % 60 == 0
    error_message = "alert_duration_seconds must be a whole number of minutes between 0 and 86400 seconds."
  }
}

variable "api_5xx_ratio_threshold" {
  type        = number
  description = "Share of API requests answered 5xx (over 5-minute windows) above which the API 5xx alert opens."
  default     = 0.05

  validation {
    condition     = var.api_5xx_ratio_threshold > 0 && var.api_5xx_ratio_threshold < 1
    error_message = "api_5xx_ratio_threshold must be between 0 and 1, exclusive."
  }
}

variable "api_availability_goal" {
  type        = number
  description = "Availability SLO of the API: the share of requests over the rolling period that must not be answered 5xx."
  default     = 0.999

  validation {
    condition     = var.api_availability_goal > 0 && var.api_availability_goal < 1
    error_message = "api_availability_goal must be between 0 and 1, exclusive (e.g. 0.999)."
  }
}

variable "api_latency_goal" {
  type        = number
  description = "Latency SLO of the API: the share of requests over the rolling period that must be answered within api_latency_threshold_ms."
  default     = 0.99

  validation {
    condition     = var.api_latency_goal > 0 && var.api_latency_goal < 1
    error_message = "api_latency_goal must be between 0 and 1, exclusive (e.g. 0.99)."
  }
}

variable "api_latency_threshold_ms" {
  type        = number
  description = "A request answered within this many milliseconds (Cloud Run's request latency) is fast enough for the latency SLO."
  default     = 2000

  validation {
    condition     = var.api_latency_threshold_ms > 0 && var.api_latency_threshold_ms <= 60000
    error_message = "api_latency_threshold_ms must be between 0 (exclusive) and 60000."
  }
}

variable "api_service_name" {
  type        = string
  description = "Name of the API's Cloud Run service."

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.api_service_name))
    error_message = "api_service_name must be a Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "dataflow_job_name" {
  type        = string
  description = "Name of the streaming Dataflow job (the dataflow_job resource's job_name label)."

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,62}[a-z0-9])?$", var.dataflow_job_name))
    error_message = "dataflow_job_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "dataflow_not_running_seconds" {
  type        = number
  description = "The job-failed alert also opens when the job has reported no system lag for this long: it is not running."
  default     = 600

  validation {
    condition     = var.dataflow_not_running_seconds >= 120 && var.dataflow_not_running_seconds <= 86400 && var.dataflow_not_running_seconds % 60 == 0
    error_message = "dataflow_not_running_seconds must be a whole number of minutes between 120 and 86400 seconds."
  }
}

variable "dataflow_system_lag_threshold_seconds" {
  type        = number
  description = "Dataflow system lag (how long the oldest unprocessed element has waited) above which the lag alert opens."
  default     = 300

  validation {
    condition     = var.dataflow_system_lag_threshold_seconds > 0
    error_message = "dataflow_system_lag_threshold_seconds must be positive."
  }
}

variable "dead_letter_threshold" {
  type        = number
  description = "More rows written to the dead-letter table than this within dead_letter_window_seconds opens the pipeline dead-letter alert; 0 alerts on any."
  default     = 0

  validation {
    condition     = var.dead_letter_threshold >= 0
    error_message = "dead_letter_threshold must not be negative."
  }
}

variable "dead_letter_window_seconds" {
  type        = number
  description = "Window over which dead-lettered rows are counted for the dead-letter alert."
  default     = 900

  validation {
    condition     = var.dead_letter_window_seconds >= 300 && var.dead_letter_window_seconds <= 86400 && var.dead_letter_window_seconds % 60 == 0
    error_message = "dead_letter_window_seconds must be a whole number of minutes between 300 and 86400 seconds."
  }
}

variable "environment" {
  type        = string
  description = "Environment name (dev, staging, prod): part of every display name, so notifications say where they come from."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "expected_events_max" {
  type        = number
  description = "Upper edge of the expected band: more events written to BigQuery than this within expected_events_window_seconds opens the volume alert."
  default     = 100000

  validation {
    condition     = var.expected_events_max > 0
    error_message = "expected_events_max must be positive."
  }
}

variable "expected_events_min" {
  type        = number
  description = "Lower edge of the expected band: fewer events written to BigQuery than this within expected_events_window_seconds (none at all included) opens the volume alert."
  default     = 1

  validation {
    condition     = var.expected_events_min >= 0
    error_message = "expected_events_min must not be negative."
  }
}

variable "expected_events_window_seconds" {
  type        = number
  description = "Window over which written events are counted against the expected band."
  default     = 3600

  validation {
    condition     = var.expected_events_window_seconds >= 300 && var.expected_events_window_seconds <= 86400 && var.expected_events_window_seconds % 60 == 0
    error_message = "expected_events_window_seconds must be a whole number of minutes between 300 and 86400 seconds."
  }
}

variable "notification_channels" {
  type        = list(string)
  description = "Notification channels every alert notifies, as projects/PROJECT/notificationChannels/ID; empty opens incidents in the console only."
  default     = []

  validation {
    condition     = alltrue([for channel in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", channel))])
    error_message = "notification_channels must be ids of the form projects/PROJECT/notificationChannels/ID."
  }
}

variable "oldest_unacked_age_threshold_seconds" {
  type        = number
  description = "Age of the oldest unacknowledged message on the pipeline's subscription above which the backlog alert opens."
  default     = 600

  validation {
    condition     = var.oldest_unacked_age_threshold_seconds > 0
    error_message = "oldest_unacked_age_threshold_seconds must be positive."
  }
}

variable "pipeline_counter_dead_lettered" {
  type        = string
  description = "Name of the pipeline's Beam counter of rows written to the dead-letter table, all reasons (src/bqingest/pipeline/metrics.py)."
  default     = "rows_written_dead_letters"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.pipeline_counter_dead_lettered))
    error_message = "pipeline_counter_dead_lettered must be a Beam counter name: letters, digits, and _ . -"
  }
}

variable "pipeline_counter_events_written" {
  type        = string
  description = "Name of the pipeline's Beam counter of rows written to the events table (src/bqingest/pipeline/metrics.py)."
  default     = "rows_written_events"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.pipeline_counter_events_written))
    error_message = "pipeline_counter_events_written must be a Beam counter name: letters, digits, and _ . -"
  }
}

variable "processing_correctness_goal" {
  type        = number
  description = "Processing-correctness SLO: the share of processed messages over the rolling period that must be written as events rather than dead-lettered."
  default     = 0.99

  validation {
    condition     = var.processing_correctness_goal > 0 && var.processing_correctness_goal < 1
    error_message = "processing_correctness_goal must be between 0 and 1, exclusive (e.g. 0.99)."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the dashboard, alerts and SLOs are created in (the project they watch)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "reconcile_job_name" {
  type        = string
  description = "Name of the Cloud Run job that runs bqingest reconcile (module reconcile): its log lines feed the reconciliation metrics."
  default     = "bqingest-reconcile"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$", var.reconcile_job_name))
    error_message = "reconcile_job_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "runbook_url" {
  type        = string
  description = "URL of docs/runbook.md as people read it (e.g. on GitHub); every alert links to its section there."

  validation {
    condition     = can(regex("^https://[^#\\s\"\\\\]+$", var.runbook_url))
    error_message = "runbook_url must be an https:// URL without a #fragment, quotes or backslashes."
  }
}

variable "slo_rolling_period_days" {
  type        = number
  description = "Rolling period of every SLO, in days (Cloud Monitoring allows 1 to 30)."
  default     = 30

  validation {
    condition     = var.slo_rolling_period_days >= 1 && var.slo_rolling_period_days <= 30 && floor(var.slo_rolling_period_days) == var.slo_rolling_period_days
    error_message = "slo_rolling_period_days must be a whole number of days from 1 to 30."
  }
}

variable "subscription" {
  type        = string
  description = "Short name of the pipeline's Pub/Sub subscription (BQINGEST_SUBSCRIPTION)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.subscription))
    error_message = "subscription must be a Pub/Sub subscription name (not its full id)."
  }
}

variable "topic" {
  type        = string
  description = "Short name of the Pub/Sub topic events are published to (BQINGEST_TOPIC)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic))
    error_message = "topic must be a Pub/Sub topic name (not its full id)."
  }
}

# The pipeline's sink blocked: appends to BigQuery failing for a reason that is not a row's (the
# events table deleted, a permission revoked, BigQuery down, a whole request refused). The rows
# are held and retried, nothing is lost, but nothing is written either: Dataflow's own metrics
# show it only as growing lag. The pipeline counts every such failed attempt in the Beam counter
# `sink_blocked` (and `sink_blocked_<kind>`, the gRPC status code in lowercase, for the kind:
# src/bqingest/pipeline/metrics.py). Its own file, variables included, so that it merges apart
# from the other alerts.

variable "pipeline_counter_sink_blocked" {
  type        = string
  description = "Name of the pipeline's Beam counter of appends to BigQuery that failed for a reason that is not a row's (src/bqingest/pipeline/metrics.py)."
  default     = "sink_blocked"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+$", var.pipeline_counter_sink_blocked))
    error_message = "pipeline_counter_sink_blocked must be a Beam counter name: letters, digits, and _ . -"
  }
}

variable "sink_blocked_attempts_threshold" {
  type        = number
  description = "More failed appends than this within sink_blocked_window_seconds opens the sink-blocked alert. The writer retries with a backoff capped at 10 s, so 10 attempts are about 40 s of continuous failure; a passing blip makes 1 to 3."
  default     = 10

  validation {
    condition     = var.sink_blocked_attempts_threshold >= 1
    error_message = "sink_blocked_attempts_threshold must be at least 1."
  }
}

variable "sink_blocked_window_seconds" {
  type        = number
  description = "Window over which failed appends are counted for the sink-blocked alert."
  default     = 300

  validation {
    condition     = var.sink_blocked_window_seconds >= 120 && var.sink_blocked_window_seconds <= 3600 && var.sink_blocked_window_seconds % 60 == 0
    error_message = "sink_blocked_window_seconds must be a whole number of minutes between 120 and 3600 seconds."
  }
}

locals {
  sink_blocked = "dataflow_googleapis_com:job_user_counter{monitored_resource='dataflow_job',job_name='${var.dataflow_job_name}',metric_name='${var.pipeline_counter_sink_blocked}'}"
}

resource "google_monitoring_alert_policy" "pipeline_sink_blocked" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: pipeline sink blocked"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.sink_blocked_attempts_threshold} failed appends to BigQuery in ${var.sink_blocked_window_seconds} s"

    condition_prometheus_query_language {
      query                     = "sum(increase(${local.sink_blocked}[${var.sink_blocked_window_seconds}s])) > ${var.sink_blocked_attempts_threshold}"
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The Dataflow job `${var.dataflow_job_name}` failed more than ${var.sink_blocked_attempts_threshold} appends to BigQuery in ${var.sink_blocked_window_seconds} s for a reason that is not a row's (counter `${var.pipeline_counter_sink_blocked}`): the sink is blocked. Rows are held and retried; nothing is written until the cause is fixed. The kind is in the counters `${var.pipeline_counter_sink_blocked}_<kind>` (not_found: a table is missing; permission_denied; unavailable; invalid_argument: a whole request refused).

      Runbook: ${var.runbook_url}#pipeline-sink-blocked
    EOT
  }
}

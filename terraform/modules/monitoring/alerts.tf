# Threshold alerts on the pipeline and the API. Each one's documentation says what it means and
# links to its section of docs/runbook.md (a test checks that every link lands on a heading).

resource "google_monitoring_alert_policy" "dataflow_job_failed" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: Dataflow job failed or not running"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Dataflow reports the job as failed"

    condition_threshold {
      filter          = "metric.type=\"dataflow.googleapis.com/job/is_failed\" AND ${local.dataflow_job}"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  # A cancelled or drained job stops reporting instead of failing: no system lag means no job.
  conditions {
    display_name = "The job reports no system lag: it is not running"

    condition_absent {
      filter   = "metric.type=\"dataflow.googleapis.com/job/system_lag\" AND ${local.dataflow_job}"
      duration = "${var.dataflow_not_running_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The streaming Dataflow job `${var.dataflow_job_name}` failed, or has reported no metrics for ${var.dataflow_not_running_seconds} s. Nothing is written to BigQuery; messages wait on the subscription `${var.subscription}` until its retention ends.

      Runbook: ${var.runbook_url}#dataflow-job-failed-or-not-running
    EOT
  }
}

resource "google_monitoring_alert_policy" "dataflow_system_lag" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: Dataflow system lag high"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "System lag above ${var.dataflow_system_lag_threshold_seconds} s"

    condition_threshold {
      filter          = "metric.type=\"dataflow.googleapis.com/job/system_lag\" AND ${local.dataflow_job}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.dataflow_system_lag_threshold_seconds
      duration        = "${var.alert_duration_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      An element has waited more than ${var.dataflow_system_lag_threshold_seconds} s inside the Dataflow job `${var.dataflow_job_name}` for ${var.alert_duration_seconds} s: the pipeline is falling behind or a step is stuck (often the BigQuery write).

      Runbook: ${var.runbook_url}#dataflow-system-lag-high
    EOT
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked_message" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: oldest unacknowledged message too old"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Oldest unacknowledged message older than ${var.oldest_unacked_age_threshold_seconds} s"

    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.subscription}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.oldest_unacked_age_threshold_seconds
      duration        = "${var.alert_duration_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A message on the subscription `${var.subscription}` has waited more than ${var.oldest_unacked_age_threshold_seconds} s to be acknowledged: the pipeline does not keep up, is not running, or keeps failing one message.

      Runbook: ${var.runbook_url}#oldest-unacknowledged-message-too-old
    EOT
  }
}

# PromQL: the pipeline's counters are GAUGEs of running totals (see metrics.tf). A policy with a
# PromQL condition has that one condition only.
resource "google_monitoring_alert_policy" "pipeline_dead_letters" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: pipeline dead letters growing"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.dead_letter_threshold} rows dead-lettered in ${var.dead_letter_window_seconds} s"

    condition_prometheus_query_language {
      query                     = "sum(increase(${local.dead_lettered}[${var.dead_letter_window_seconds}s])) > ${var.dead_letter_threshold}"
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The pipeline wrote more than ${var.dead_letter_threshold} rows to the dead-letter table in the last ${var.dead_letter_window_seconds} s (counter `${var.pipeline_counter_dead_lettered}`): events that broke the contract, or that BigQuery refused. Nothing is lost; each row holds the raw message and a reason.

      Runbook: ${var.runbook_url}#pipeline-dead-letters-growing
    EOT
  }
}

# The original design's "ingested volume against the expected volume": events written to BigQuery
# per window, against a band set per environment. No data at all counts as zero.
resource "google_monitoring_alert_policy" "ingest_volume" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: ingested volume outside the expected band"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Events written in ${var.expected_events_window_seconds} s outside ${var.expected_events_min}..${var.expected_events_max}"

    condition_prometheus_query_language {
      query = <<-EOT
        (sum(increase(${local.events_written}[${var.expected_events_window_seconds}s])) or vector(0)) < ${var.expected_events_min}
        or
        sum(increase(${local.events_written}[${var.expected_events_window_seconds}s])) > ${var.expected_events_max}
      EOT
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The pipeline wrote fewer than ${var.expected_events_min} or more than ${var.expected_events_max} events to BigQuery in the last ${var.expected_events_window_seconds} s (counter `${var.pipeline_counter_events_written}`). Too few: the source stopped, or the pipeline reads or writes nothing. Too many: a producer floods the topic, or a replay is running.

      Runbook: ${var.runbook_url}#ingested-volume-outside-the-expected-band
    EOT
  }

  lifecycle {
    precondition {
      condition     = var.expected_events_min < var.expected_events_max
      error_message = "expected_events_min must be below expected_events_max."
    }
  }
}

resource "google_monitoring_alert_policy" "api_5xx_ratio" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: API 5xx ratio high"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.api_5xx_ratio_threshold} of requests answered 5xx over 5 min"

    condition_threshold {
      filter             = local.api_5xx_requests
      denominator_filter = local.api_requests
      comparison         = "COMPARISON_GT"
      threshold_value    = var.api_5xx_ratio_threshold
      duration           = "${var.alert_duration_seconds}s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }

      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      More than ${var.api_5xx_ratio_threshold} of the requests to the Cloud Run service `${var.api_service_name}` were answered with a 5xx status over 5 minutes, for ${var.alert_duration_seconds} s.

      Runbook: ${var.runbook_url}#api-5xx-ratio-high
    EOT
  }
}

# The scheduled reconciliation (module reconcile) found messages Pub/Sub accepted that reached
# neither table within its window's delay. The metric is a log-based metric of this module, and
# Cloud Monitoring refuses a threshold condition on a metric it has not seen yet (404 "Cannot
# find metric(s)... up to 10 minutes", terraform-provider-google issue 11102): depends_on cannot
# wait for that. A PromQL condition with metric validation off is accepted at once, so one apply
# creates the metric and this alert on a fresh project.
resource "google_monitoring_alert_policy" "reconcile_missing" {
  project               = var.project_id
  display_name          = "bqingest ${var.environment}: reconciliation found missing messages"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "A bqingest reconcile run reported missing messages in the last hour"

    condition_prometheus_query_language {
      query                     = "sum(increase(${local.reconcile_missing_runs}[1h])) > 0"
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A run of the Cloud Run job `${var.reconcile_job_name}` (bqingest reconcile) counted more messages accepted by the topic `${var.topic}` in its window than rows written to events and dead_letters for them: messages were lost, or are still on their way after the window's delay.

      Runbook: ${var.runbook_url}#reconciliation-found-missing-messages
    EOT
  }

  depends_on = [google_logging_metric.reconcile_missing_runs]
}

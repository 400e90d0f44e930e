# SLOs as code (docs/slo.md explains the numbers and what spends each budget).
#
# The API's SLOs live on a custom service rather than on the service Cloud Monitoring detects for
# Cloud Run by itself: a detected service gets a generated id only after the first request reaches
# the service, so Terraform could neither name it at plan time nor create its SLOs in the same
# apply. A custom service has an id Terraform chooses, and request-based SLIs with explicit
# filters work on it just the same.
resource "google_monitoring_custom_service" "api" {
  project      = var.project_id
  service_id   = var.api_service_name
  display_name = "bqingest ${var.environment} API (Cloud Run ${var.api_service_name})"
}

# Good = every request not answered 5xx (4xx are the caller's errors, not unavailability).
resource "google_monitoring_slo" "api_availability" {
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = "api-availability"
  display_name        = "API availability: ${var.api_availability_goal} of requests not 5xx over ${var.slo_rolling_period_days} days"
  goal                = var.api_availability_goal
  rolling_period_days = var.slo_rolling_period_days

  request_based_sli {
    good_total_ratio {
      bad_service_filter   = local.api_5xx_requests
      total_service_filter = local.api_requests
    }
  }
}

# Good = a request answered within the threshold, whatever its status (a fast error spends the
# availability budget instead).
resource "google_monitoring_slo" "api_latency" {
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = "api-latency"
  display_name        = "API latency: ${var.api_latency_goal} of requests within ${var.api_latency_threshold_ms} ms over ${var.slo_rolling_period_days} days"
  goal                = var.api_latency_goal
  rolling_period_days = var.slo_rolling_period_days

  request_based_sli {
    distribution_cut {
      distribution_filter = local.api_latencies

      range {
        max = var.api_latency_threshold_ms
      }
    }
  }
}

# Multi-window burn-rate alerts: both windows must burn faster than the rate at once.
resource "google_monitoring_alert_policy" "api_availability_burn" {
  for_each = local.burn_rate_windows

  project               = var.project_id
  display_name          = "bqingest ${var.environment}: API availability SLO, ${each.value.label}"
  combiner              = "AND"
  severity              = each.value.severity
  notification_channels = var.notification_channels

  conditions {
    display_name = "Availability budget burn rate over ${each.value.long} above ${each.value.burn_rate}"

    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api_availability.name}\", \"${each.value.long}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.burn_rate
      duration        = "0s"
    }
  }

  conditions {
    display_name = "Availability budget burn rate over ${each.value.short} above ${each.value.burn_rate}"

    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api_availability.name}\", \"${each.value.short}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.burn_rate
      duration        = "0s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The API's 5xx answers spend the availability error budget (${var.api_availability_goal} over ${var.slo_rolling_period_days} days) ${each.value.burn_rate} times faster than the budget allows, over both ${each.value.long} and ${each.value.short}.

      Runbook: ${var.runbook_url}#api-availability-${each.key}-burn
    EOT
  }
}

resource "google_monitoring_alert_policy" "api_latency_burn" {
  for_each = local.burn_rate_windows

  project               = var.project_id
  display_name          = "bqingest ${var.environment}: API latency SLO, ${each.value.label}"
  combiner              = "AND"
  severity              = each.value.severity
  notification_channels = var.notification_channels

  conditions {
    display_name = "Latency budget burn rate over ${each.value.long} above ${each.value.burn_rate}"

    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api_latency.name}\", \"${each.value.long}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.burn_rate
      duration        = "0s"
    }
  }

  conditions {
    display_name = "Latency budget burn rate over ${each.value.short} above ${each.value.burn_rate}"

    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api_latency.name}\", \"${each.value.short}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.burn_rate
      duration        = "0s"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      Requests slower than ${var.api_latency_threshold_ms} ms spend the latency error budget (${var.api_latency_goal} over ${var.slo_rolling_period_days} days) ${each.value.burn_rate} times faster than the budget allows, over both ${each.value.long} and ${each.value.short}.

      Runbook: ${var.runbook_url}#api-latency-${each.key}-burn
    EOT
  }
}

# Processing correctness: good = events written, bad = rows dead-lettered, from the pipeline's
# counters. A Cloud Monitoring SLO object accepts only DELTA or CUMULATIVE metrics and Dataflow
# exports Beam counters as GAUGEs, so this SLO is evaluated in PromQL: the share dead-lettered
# over each window, against burn rate x (1 - goal).
resource "google_monitoring_alert_policy" "processing_correctness_burn" {
  for_each = local.burn_rate_windows

  project               = var.project_id
  display_name          = "bqingest ${var.environment}: processing-correctness SLO, ${each.value.label}"
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = var.notification_channels

  conditions {
    display_name = "Dead-lettered share above ${each.value.burn_rate} x (1 - ${var.processing_correctness_goal}) over ${each.value.long} and ${each.value.short}"

    condition_prometheus_query_language {
      query = <<-EOT
        (
          sum(increase(${local.dead_lettered}[${each.value.long}]))
          /
          ((sum(increase(${local.events_written}[${each.value.long}])) or vector(0)) + sum(increase(${local.dead_lettered}[${each.value.long}])))
        ) > ${each.value.burn_rate} * (1 - ${var.processing_correctness_goal})
        and
        (
          sum(increase(${local.dead_lettered}[${each.value.short}]))
          /
          ((sum(increase(${local.events_written}[${each.value.short}])) or vector(0)) + sum(increase(${local.dead_lettered}[${each.value.short}])))
        ) > ${each.value.burn_rate} * (1 - ${var.processing_correctness_goal})
      EOT
      duration                  = "0s"
      evaluation_interval       = "60s"
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      The pipeline dead-letters messages fast enough to spend the processing-correctness error budget (${var.processing_correctness_goal} of messages written over ${var.slo_rolling_period_days} days) ${each.value.burn_rate} times faster than it allows, over both ${each.value.long} and ${each.value.short}.

      Runbook: ${var.runbook_url}#processing-correctness-${each.key}-burn
    EOT
  }
}

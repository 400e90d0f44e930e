# One dashboard for the whole path, top to bottom: Pub/Sub in, Dataflow, BigQuery, dead letters,
# then the API. dashboard.json is the Cloud Monitoring API's Dashboard resource with ${...}
# placeholders for the names, counters and thresholds below. Their string values never hold a
# character JSON would need escaped (the variables' validations see to it).
locals {
  dashboard_values = {
    api_5xx_ratio_threshold               = var.api_5xx_ratio_threshold
    api_latency_threshold_ms              = var.api_latency_threshold_ms
    api_service_name                      = var.api_service_name
    dataflow_job_name                     = var.dataflow_job_name
    dataflow_system_lag_threshold_seconds = var.dataflow_system_lag_threshold_seconds
    dead_lettered                         = local.dead_lettered
    environment                           = var.environment
    events_written                        = local.events_written
    oldest_unacked_age_threshold_seconds  = var.oldest_unacked_age_threshold_seconds
    processing_correctness_goal           = var.processing_correctness_goal
    reconcile_missing_metric              = local.reconcile_missing_metric
    runbook_url                           = var.runbook_url
    sink_blocked                          = local.sink_blocked
    subscription                          = var.subscription
    topic                                 = var.topic
  }
}

resource "google_monitoring_dashboard" "main" {
  project        = var.project_id
  dashboard_json = templatefile("${path.module}/dashboard.json", local.dashboard_values)
}

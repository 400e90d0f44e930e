output "alert_policies" {
  description = "Alert policy names (projects/P/alertPolicies/ID), by what they watch."
  value = merge(
    {
      api_5xx_ratio          = google_monitoring_alert_policy.api_5xx_ratio.name
      dataflow_job_failed    = google_monitoring_alert_policy.dataflow_job_failed.name
      dataflow_system_lag    = google_monitoring_alert_policy.dataflow_system_lag.name
      ingest_volume          = google_monitoring_alert_policy.ingest_volume.name
      oldest_unacked_message = google_monitoring_alert_policy.oldest_unacked_message.name
      pipeline_dead_letters  = google_monitoring_alert_policy.pipeline_dead_letters.name
      reconcile_missing      = google_monitoring_alert_policy.reconcile_missing.name
    },
    { for window, policy in google_monitoring_alert_policy.api_availability_burn : "api_availability_${window}_burn" => policy.name },
    { for window, policy in google_monitoring_alert_policy.api_latency_burn : "api_latency_${window}_burn" => policy.name },
    { for window, policy in google_monitoring_alert_policy.processing_correctness_burn : "processing_correctness_${window}_burn" => policy.name },
  )
}

output "dashboard_url" {
  description = "The dashboard in the Google Cloud console."
  value       = "https://console.cloud.google.com/monitoring/dashboards/custom/${basename(google_monitoring_dashboard.main.id)}?project=${var.project_id}"
}

output "service_id" {
  description = "Cloud Monitoring service that holds the API's SLOs (Monitoring > Services)."
  value       = google_monitoring_custom_service.api.name
}

output "slos" {
  description = "SLO names (projects/P/services/S/serviceLevelObjectives/ID) of the API's availability and latency SLOs."
  value = {
    api_availability = google_monitoring_slo.api_availability.name
    api_latency      = google_monitoring_slo.api_latency.name
  }
}

output "reconcile_metrics" {
  description = "Log-based metric types of the scheduled reconciliation: its SLI and its runs with missing messages."
  value = {
    sli          = "logging.googleapis.com/user/${google_logging_metric.reconcile_sli.name}"
    missing_runs = "logging.googleapis.com/user/${google_logging_metric.reconcile_missing_runs.name}"
  }
}

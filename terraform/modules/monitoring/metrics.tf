# Every metric the alerts and SLOs read, in one place (dashboard.json reads the same ones).
#
# Filters are Cloud Monitoring filters: an alert condition's filter must name the metric type and
# the resource type. The pipeline's Beam counters are read with PromQL instead: Dataflow exports
# them as dataflow.googleapis.com/job/user_counter, a GAUGE that holds the counter's running
# total, and filter-based rates and SLOs accept only DELTA or CUMULATIVE metrics. PromQL's
# increase() turns the running total into counts per window, resets included. A counter exists
# only once the pipeline has incremented it (the first dead letter, say), so PromQL conditions
# skip Cloud Monitoring's check that their metrics exist (disable_metric_validation).
locals {
  dataflow_job     = "resource.type=\"dataflow_job\" AND resource.label.\"job_name\"=\"${var.dataflow_job_name}\""
  subscription     = "resource.type=\"pubsub_subscription\" AND resource.label.\"subscription_id\"=\"${var.subscription}\""
  api_revisions    = "resource.type=\"cloud_run_revision\" AND resource.label.\"service_name\"=\"${var.api_service_name}\""
  api_requests     = "metric.type=\"run.googleapis.com/request_count\" AND ${local.api_revisions}"
  api_5xx_requests = "${local.api_requests} AND metric.label.\"response_code_class\"=\"5xx\""
  api_latencies    = "metric.type=\"run.googleapis.com/request_latencies\" AND ${local.api_revisions}"

  # The pipeline's counters, by the names var.pipeline_counter_* give them.
  # Single-quoted label values, so the selectors drop into dashboard.json's strings unescaped.
  events_written = "dataflow_googleapis_com:job_user_counter{monitored_resource='dataflow_job',job_name='${var.dataflow_job_name}',metric_name='${var.pipeline_counter_events_written}'}"
  dead_lettered  = "dataflow_googleapis_com:job_user_counter{monitored_resource='dataflow_job',job_name='${var.dataflow_job_name}',metric_name='${var.pipeline_counter_dead_lettered}'}"

  # Multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs"): a burn rate of
  # 14.4 for an hour spends 2 % of a 30-day error budget, 6 for six hours spends 5 %. The short
  # window makes the alert stop soon after the burning stops. docs/slo.md has the arithmetic.
  # Windows are in minutes, a duration both select_slo_burn_rate and PromQL read.
  burn_rate_windows = {
    fast = { long = "60m", short = "5m", burn_rate = 14.4, severity = "CRITICAL", label = "fast burn (1 h and 5 min above 14.4x)" }
    slow = { long = "360m", short = "30m", burn_rate = 6, severity = "WARNING", label = "slow burn (6 h and 30 min above 6x)" }
  }
}

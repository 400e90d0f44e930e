# Log-based metrics from the JSON line each `bqingest reconcile` run of the Cloud Run job writes
# (src/bqingest/operations/reconcile.py, Report.as_log_entry): the processing-correctness SLI it
# measured, and the runs that found messages missing. Their names are locals so that the alert
# filters name them as plain strings.
locals {
  reconcile_entries        = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${var.reconcile_job_name}\" AND jsonPayload.kind=\"bqingest.reconcile\""
  reconcile_sli_metric     = "bqingest/reconcile_sli"
  reconcile_missing_metric = "bqingest/reconcile_missing_runs"

  # The same metric for PromQL: logging.googleapis.com/user/bqingest/reconcile_missing_runs with
  # the first / as : and every other / and . as _ (Cloud Monitoring's PromQL mapping).
  reconcile_missing_runs = "logging_googleapis_com:user_bqingest_reconcile_missing_runs{monitored_resource='cloud_run_job',job_name='${var.reconcile_job_name}'}"
}

resource "google_logging_metric" "reconcile_sli" {
  project         = var.project_id
  name            = local.reconcile_sli_metric
  description     = "Processing-correctness SLI measured by each bqingest reconcile run: events written / (events written + dead letters) for the messages published in its window."
  filter          = "${local.reconcile_entries} AND jsonPayload.sli>=0"
  value_extractor = "EXTRACT(jsonPayload.sli)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "bqingest reconcile: processing-correctness SLI"
  }

  # 0.1 % steps from 90 % to 100 %; lower values fall in the underflow bucket.
  bucket_options {
    linear_buckets {
      num_finite_buckets = 100
      width              = 0.001
      offset             = 0.9
    }
  }
}

resource "google_logging_metric" "reconcile_missing_runs" {
  project     = var.project_id
  name        = local.reconcile_missing_metric
  description = "bqingest reconcile runs that found published messages in neither events nor dead_letters."
  filter      = "${local.reconcile_entries} AND jsonPayload.missing_count>0"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "bqingest reconcile: runs with missing messages"
  }
}

# The streaming pipeline as a Flex Template job. Changing a parameter or the template updates the
# running job in place; destroying it drains (in-flight messages are written first) rather than
# cancels. The pipeline's own options decide streaming mode; these are its parameters, exactly.
resource "google_dataflow_flex_template_job" "pipeline" {
  provider = google-beta

  project                 = var.project_id
  region                  = var.region
  name                    = var.job_name
  container_spec_gcs_path = var.container_spec_gcs_path
  service_account_email   = var.service_account_email
  staging_location        = "gs://${var.bucket}/staging"
  temp_location           = "gs://${var.bucket}/temp"
  machine_type            = var.machine_type
  max_workers             = var.max_workers
  enable_streaming_engine = true
  ip_configuration        = "WORKER_IP_PRIVATE"
  subnetwork              = var.subnetwork
  on_delete               = "drain"

  parameters = {
    subscription      = var.subscription
    events_table      = var.events_table
    dead_letter_table = var.dead_letter_table
    max_message_bytes = tostring(var.max_message_bytes)
  }
}

# The streaming pipeline as a Flex Template job. Changing a parameter or the template updates the
# running job in place; destroying it drains (in-flight messages are written first) rather than
# cancels. The parameters are the pipeline's own options, exactly (dataflow/metadata.json).
#
# The spec's image launches the job, and the workers run the same image as their SDK container
# (sdk_container_image): everything is installed in it when it is built (dataflow/Dockerfile).
#
# Streaming mode: at least once (docs/adr/0003-duplicates.md). The launch request's environment
# carries it as the streaming_mode_at_least_once experiment: the spec cannot, because
# `gcloud dataflow flex-template build` drops metadata.json's defaultStreamingMode. Dataflow runs
# that mode on Streaming Engine only.
locals {
  temp_location    = "gs://${var.bucket}/temp"
  staging_location = "gs://${var.bucket}/staging"
}

resource "google_dataflow_flex_template_job" "pipeline" {
  provider = google-beta

  project                 = var.project_id
  region                  = var.region
  name                    = var.job_name
  container_spec_gcs_path = var.container_spec_gcs_path
  sdk_container_image     = var.sdk_container_image
  service_account_email   = var.service_account_email
  staging_location        = local.staging_location
  temp_location           = local.temp_location
  machine_type            = var.machine_type
  max_workers             = var.max_workers
  enable_streaming_engine = true
  additional_experiments  = ["streaming_mode_at_least_once"]
  ip_configuration        = "WORKER_IP_PRIVATE"
  subnetwork              = var.subnetwork
  on_delete               = "drain"

  # The same locations as flags to the pipeline, on every launch: see lifecycle below.
  additional_pipeline_options = [
    "temp_location=${local.temp_location}",
    "staging_location=${local.staging_location}",
  ]

  parameters = {
    subscription      = var.subscription
    events_table      = var.events_table
    dead_letter_table = var.dead_letter_table
    max_message_bytes = tostring(var.max_message_bytes)
    # Whole bodies of dead letters too long for their row (docs/adr/0009-identity-and-read-cost.md).
    dead_letter_payloads = "gs://${var.bucket}/dead-letter-payloads"
  }

  # The provider reads temp_location and staging_location back from the camelCase keys
  # tempLocation and stagingLocation of the job's sdkPipelineOptions, where Beam Python writes
  # temp_location and staging_location: it reads nothing, and without this every plan shows an
  # update and every apply relaunches the streaming job. Ignored, an in-place update sends them
  # as the state holds them (empty); additional_pipeline_options, which the provider never
  # reads back, gives the pipeline both on every launch. tests/static/test_dataflow_plan.py.
  lifecycle {
    ignore_changes = [temp_location, staging_location]
  }
}

# IAM is eventually consistent: a grant Terraform has just made may be refused for a minute or
# more (cloud.google.com/iam/docs/access-change-propagation). The Dataflow job's launch, the API's
# first revision and the reconcile job need their runtime accounts' grants when they start, and
# roles/dataflow.worker is one of about forty project IAM writes of a first apply. So everything
# that runs as a runtime account waits here, once, after every module that grants it something.
# Later applies do not wait again (the sleep is created once) unless a runtime account changes.
resource "time_sleep" "runtime_grants_propagated" {
  create_duration = var.iam_propagation_wait

  triggers = {
    api_reader      = module.iam.api_reader_email
    dataflow_worker = module.iam.dataflow_worker_email
    reconcile       = module.iam.reconcile_email
  }

  depends_on = [module.iam, module.artifact_registry, module.bigquery, module.pubsub, module.storage]
}

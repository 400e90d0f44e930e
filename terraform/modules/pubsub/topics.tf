resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; events carry no data that needs a customer-managed key, and a CMEK would add a KMS key ring to operate per environment.
  project = var.project_id
  name    = var.topic

  # Replacing the topic detaches its subscription: messages published meanwhile are lost.
  lifecycle {
    prevent_destroy = true
  }
}

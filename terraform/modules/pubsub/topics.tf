resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; events carry no data that needs a customer-managed key, and a CMEK would add a KMS key ring to operate per environment.
  project = var.project_id
  name    = var.topic
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption, as for the events topic it receives messages from.
  project = var.project_id
  name    = var.dead_letter_topic
}

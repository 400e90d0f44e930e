# Images are tagged with the commit's source tree and never overwritten (immutable tags), so a
# tag names exactly one build, promoted unchanged from the first environment. The cleanup policy bounds storage while keeping recent rollback targets.
resource "google_artifact_registry_repository" "docker" {
  #checkov:skip=CKV_GCP_84:Google-managed encryption; the images hold no secrets and a customer-managed key would add a KMS key ring per environment.
  project                = var.project_id
  location               = var.location
  repository_id          = var.repository_id
  description            = "bqingest container images: the API and the Dataflow Flex Template."
  format                 = "DOCKER"
  cleanup_policy_dry_run = false

  docker_config {
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = var.keep_recent_versions
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"

    condition {
      tag_state  = "ANY"
      older_than = "${var.delete_after_days * 24 * 60 * 60}s"
    }
  }
}

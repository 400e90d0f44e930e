# The Terraform state of every environment: private, uniform access, versioned so that a damaged
# state can be restored from an earlier version, and never destroyed by Terraform.
resource "google_storage_bucket" "state" {
  #checkov:skip=CKV_GCP_62:Access to the state is recorded by Cloud Audit Logs (enable Data Access logs for Cloud Storage); a usage-log bucket would add nothing.
  project                     = var.project_id
  name                        = var.bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.state_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Dataflow's working bucket: staging/ (the pipeline package workers install), temp/ (scratch) and
# templates/ (Flex Template specs CI builds). Private, uniform access, versioned with short history.
resource "google_storage_bucket" "dataflow" {
  #checkov:skip=CKV_GCP_62:Access to this bucket is recorded by Cloud Audit Logs; a second bucket for usage logs would only add cost.
  project                     = var.project_id
  name                        = var.name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age            = var.temp_object_age_days
      matches_prefix = ["temp/"]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_age_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Holds the archived bodies of long dead letters (dead-letter-payloads/).
  lifecycle {
    prevent_destroy = true
  }
}

# Each environment's CI deployer reads and writes its own state and nothing else: listing the
# bucket (object names only) is unconditional, object access is limited by an IAM condition to
# objects under STATE_PREFIX/ENV/ (the default.tfstate and default.tflock of that environment).
# Each environment's planner reads that state only: it plans with -lock=false, so it never
# writes a lock either.

resource "google_storage_bucket_iam_member" "state_writers_list" {
  for_each = var.state_writers

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.legacyBucketReader"
  member = each.value
}

resource "google_storage_bucket_iam_member" "state_writers_objects" {
  for_each = var.state_writers

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectUser"
  member = each.value

  condition {
    title       = "${each.key}-state-only"
    description = "Objects of the ${each.key} environment's state only."
    expression  = "resource.name.startsWith('projects/_/buckets/${google_storage_bucket.state.name}/objects/${var.state_prefix}/${each.key}/')"
  }
}

resource "google_storage_bucket_iam_member" "state_readers_list" {
  for_each = var.state_readers

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.legacyBucketReader"
  member = each.value
}

resource "google_storage_bucket_iam_member" "state_readers_objects" {
  for_each = var.state_readers

  bucket = google_storage_bucket.state.name
  role   = "roles/storage.objectViewer"
  member = each.value

  condition {
    title       = "${each.key}-state-read-only"
    description = "Read the ${each.key} environment's state only."
    expression  = "resource.name.startsWith('projects/_/buckets/${google_storage_bucket.state.name}/objects/${var.state_prefix}/${each.key}/')"
  }
}

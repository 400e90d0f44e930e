# Grants on this bucket only.

resource "google_storage_bucket_iam_member" "object_admins" {
  for_each = var.object_admins

  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectAdmin"
  member = each.value
}

# Read the bucket's own configuration (storage.buckets.get), not its objects: what a plan's
# refresh needs.
resource "google_storage_bucket_iam_member" "bucket_readers" {
  for_each = var.bucket_readers

  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.legacyBucketReader"
  member = each.value
}

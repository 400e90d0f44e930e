# Grants on this bucket only.

resource "google_storage_bucket_iam_member" "object_admins" {
  for_each = var.object_admins

  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectAdmin"
  member = each.value
}

# Grants on this bucket only.

# Read, write and delete objects: what Dataflow's launcher and workers do with staging and temp
# files. objectUser rather than objectAdmin: no object IAM or retention changes.
resource "google_storage_bucket_iam_member" "object_users" {
  for_each = var.object_users

  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.objectUser"
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

# Administer this bucket (its settings, its IAM, its objects: the Flex Template specs CI writes),
# and no other bucket of the project.
resource "google_storage_bucket_iam_member" "admins" {
  for_each = var.admins

  bucket = google_storage_bucket.dataflow.name
  role   = "roles/storage.admin"
  member = each.value
}

variable "admins" {
  type        = map(string)
  description = "IAM members that administer this bucket and its objects, by a static key: each gets roles/storage.admin on this bucket only (the CI deployer)."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.admins) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "admins values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "bucket_readers" {
  type        = map(string)
  description = "IAM members that read the bucket's configuration and list its objects, by a static key: each gets roles/storage.legacyBucketReader on this bucket only (the CI planner)."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.bucket_readers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "bucket_readers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy the bucket with its objects (false in prod)."
  default     = false
}

variable "location" {
  type        = string
  description = "Bucket location: the Dataflow region keeps staging reads local."

  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a multi-region (US, EU) or a region such as europe-west1."
  }
}

variable "name" {
  type        = string
  description = "Globally unique bucket name for Dataflow staging, temp files and Flex Template specs."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "google")
    error_message = "name must be a valid bucket name: 3-63 lowercase letters, digits, dots, hyphens and underscores, without google."
  }
}

variable "noncurrent_version_age_days" {
  type        = number
  description = "Days an overwritten or deleted object version is kept before it is removed."
  default     = 7

  validation {
    condition     = var.noncurrent_version_age_days >= 1
    error_message = "noncurrent_version_age_days must be at least 1."
  }
}

variable "object_users" {
  type        = map(string)
  description = "IAM members that read and write objects, by a static key: each gets roles/storage.objectUser on this bucket only."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.object_users) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "object_users values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the bucket is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "temp_object_age_days" {
  type        = number
  description = "Days objects under temp/ are kept: Dataflow's scratch space, useless once written."
  default     = 7

  validation {
    condition     = var.temp_object_age_days >= 1
    error_message = "temp_object_age_days must be at least 1."
  }
}

variable "delete_after_days" {
  type        = number
  description = "Image versions older than this are deleted, except the keep_recent_versions newest of each image."
  default     = 30

  validation {
    condition     = var.delete_after_days >= 1
    error_message = "delete_after_days must be at least 1."
  }
}

variable "keep_recent_versions" {
  type        = number
  description = "Newest versions of each image never deleted by the cleanup policy, so a rollback target always exists."
  default     = 10

  validation {
    condition     = var.keep_recent_versions >= 1
    error_message = "keep_recent_versions must be at least 1."
  }
}

variable "location" {
  type        = string
  description = "Region of the repository: the Cloud Run and Dataflow region."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.location))
    error_message = "location must be a GCP region such as us-central1."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the repository is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "promotion_readers" {
  type        = list(string)
  description = "IAM members of the next environment of the promotion chain (its deployer and planner) that read this repository's images to copy them by digest into their own: each gets roles/artifactregistry.reader on this repository only."
  default     = []

  validation {
    condition     = alltrue([for member in var.promotion_readers : can(regex("^serviceAccount:[^@]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", member))])
    error_message = "promotion_readers must be service accounts, serviceAccount:NAME@PROJECT.iam.gserviceaccount.com: the next environment's deployer and planner."
  }
}

variable "readers" {
  type        = map(string)
  description = "IAM members that pull images, by a static key: each gets roles/artifactregistry.reader on this repository only."
  default     = {}

  validation {
    condition     = alltrue([for member in values(var.readers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "readers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "repository_id" {
  type        = string
  description = "Name of the Docker repository holding the API and pipeline images."
  default     = "bqingest"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.repository_id))
    error_message = "repository_id must be 1-63 lowercase letters, digits and hyphens, starting with a letter."
  }
}

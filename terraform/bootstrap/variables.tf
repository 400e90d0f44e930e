variable "bucket_name" {
  type        = string
  description = "Globally unique name of the Terraform state bucket."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.bucket_name)) && !strcontains(var.bucket_name, "google")
    error_message = "bucket_name must be a valid bucket name: 3-63 lowercase letters, digits, dots, hyphens and underscores, without google."
  }
}

variable "location" {
  type        = string
  description = "Location of the state bucket (a multi-region such as US or EU, or a region)."
  default     = "US"

  validation {
    condition     = can(regex("^[A-Za-z]+(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a multi-region (US, EU) or a region such as europe-west1."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project that holds the state bucket (e.g. a shared admin project, or the prod project)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "state_prefix" {
  type        = string
  description = "Common prefix of the environments' state (each environment uses STATE_PREFIX/ENV, as in envs/ENV.gcs.tfbackend)."
  default     = "bqingest"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.state_prefix))
    error_message = "state_prefix must be lowercase letters, digits, hyphens and underscores."
  }
}

variable "state_readers" {
  type        = map(string)
  description = "Environment name => IAM member (the environment's CI planner) that may read that environment's state, and no other, and write nothing."
  default     = {}

  validation {
    condition     = alltrue([for environment in keys(var.state_readers) : contains(["dev", "staging", "prod"], environment)])
    error_message = "state_readers keys must be dev, staging or prod."
  }

  validation {
    condition     = alltrue([for member in values(var.state_readers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "state_readers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

variable "state_versions_kept" {
  type        = number
  description = "Earlier versions of each state file kept for recovery; older ones are deleted."
  default     = 20

  validation {
    condition     = var.state_versions_kept >= 1
    error_message = "state_versions_kept must be at least 1."
  }
}

variable "state_writers" {
  type        = map(string)
  description = "Environment name => IAM member (the environment's CI deployer) that may read and write that environment's state, and no other."
  default     = {}

  validation {
    condition     = alltrue([for environment in keys(var.state_writers) : contains(["dev", "staging", "prod"], environment)])
    error_message = "state_writers keys must be dev, staging or prod."
  }

  validation {
    condition     = alltrue([for member in values(var.state_writers) : can(regex("^(serviceAccount|group|user):", member))])
    error_message = "state_writers values must be IAM members such as serviceAccount:EMAIL; public members are refused."
  }
}

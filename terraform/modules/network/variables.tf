variable "name" {
  type        = string
  description = "Name of the VPC network; the subnetwork, router and NAT are named after it."
  default     = "bqingest"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$", var.name))
    error_message = "name must be 1-50 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "project_id" {
  type        = string
  description = "GCP project id the network is created in."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens."
  }
}

variable "region" {
  type        = string
  description = "Region of the subnetwork, router and NAT: the Dataflow region."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a GCP region such as us-central1."
  }
}

variable "subnet_cidr" {
  type        = string
  description = "Primary IPv4 range of the Dataflow workers' subnetwork."
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be an IPv4 CIDR block such as 10.10.0.0/24."
  }
}

terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }
}

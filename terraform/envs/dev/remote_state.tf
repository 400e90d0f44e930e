# State lives in the bucket terraform/bootstrap creates, one prefix per environment. The bucket is
# given at init time so this file names no project:
#   terraform init -backend-config="bucket=STATE_BUCKET"
terraform {
  backend "gcs" {
    prefix = "bqingest/dev"
  }
}

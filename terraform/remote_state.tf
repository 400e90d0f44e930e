# State lives in the bucket terraform/bootstrap creates, one prefix per environment. Both come at
# init time, so this file names no environment:
#   terraform init -reconfigure -backend-config=envs/ENV.gcs.tfbackend -backend-config="bucket=STATE_BUCKET"
terraform {
  backend "gcs" {}
}

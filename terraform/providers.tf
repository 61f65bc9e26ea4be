# One AWS provider per region slot. Modules cannot pick a provider per instance, so the three
# regions are three explicit module blocks (main.tf), each handed one of these.
#
# offline_plan = true makes `terraform plan` work without an AWS account or network: no
# credential check, no account-id lookup, no metadata-service probe, no region-name check, and
# fake static credentials so the SDK never searches for real ones. Resources that are only
# created (never read) plan without calling AWS; this is what tests/ and check.sh rely on.
# Never apply with offline_plan = true: the fake keys are refused by AWS anyway.

locals {
  offline_access_key = "AKIAOFFLINEPLAN00000"
  offline_secret_key = "offline-plan-placeholder-not-a-credential"

  default_tags = merge(var.tags, {
    Project   = "incidentd"
    Cluster   = var.cluster_id
    ManagedBy = "terraform"
  })
}

provider "aws" {
  alias  = "a"
  region = var.regions[0]

  allowed_account_ids         = var.offline_plan ? null : [var.aws_account_id]
  skip_credentials_validation = var.offline_plan
  skip_requesting_account_id  = var.offline_plan
  skip_metadata_api_check     = var.offline_plan
  skip_region_validation      = var.offline_plan
  access_key                  = var.offline_plan ? local.offline_access_key : null
  secret_key                  = var.offline_plan ? local.offline_secret_key : null
  max_retries                 = var.offline_plan ? 1 : null

  default_tags {
    tags = local.default_tags
  }
}

provider "aws" {
  alias  = "b"
  region = var.regions[1]

  allowed_account_ids         = var.offline_plan ? null : [var.aws_account_id]
  skip_credentials_validation = var.offline_plan
  skip_requesting_account_id  = var.offline_plan
  skip_metadata_api_check     = var.offline_plan
  skip_region_validation      = var.offline_plan
  access_key                  = var.offline_plan ? local.offline_access_key : null
  secret_key                  = var.offline_plan ? local.offline_secret_key : null
  max_retries                 = var.offline_plan ? 1 : null

  default_tags {
    tags = local.default_tags
  }
}

provider "aws" {
  alias  = "c"
  region = var.regions[2]

  allowed_account_ids         = var.offline_plan ? null : [var.aws_account_id]
  skip_credentials_validation = var.offline_plan
  skip_requesting_account_id  = var.offline_plan
  skip_metadata_api_check     = var.offline_plan
  skip_region_validation      = var.offline_plan
  access_key                  = var.offline_plan ? local.offline_access_key : null
  secret_key                  = var.offline_plan ? local.offline_secret_key : null
  max_retries                 = var.offline_plan ? 1 : null

  default_tags {
    tags = local.default_tags
  }
}

# Three regions, each a copy of modules/region on its own provider; the archive database in the
# one chosen by var.archive.region; full-mesh VPC peering between the three (peering.tf); one
# latency-routed name in front of the three load balancers (dns.tf).

locals {
  archive_slot = var.archive.enabled ? local.region_slots[index(var.regions, local.archive_region)] : null

  # The archive's URL (no password in it; sslmode=verify-full with the RDS CA bundle). Unknown
  # until the database exists; it reaches the nodes through an SSM parameter, not user_data.
  archive_url = one(concat(module.archive_a[*].url, module.archive_b[*].url, module.archive_c[*].url))

  # The archive region's database subnets: the only place nodes may open 5432 to.
  archive_cidrs = var.archive.enabled ? local.database_subnet_cidrs[local.archive_region] : []

  region_common = {
    cluster_id             = var.cluster_id
    account_id             = var.aws_account_id
    cluster_node_cidrs     = local.all_node_cidrs
    nat_gateway_per_zone   = var.nat_gateway_per_zone
    instance_type          = var.instance_type
    root_volume_size_gb    = var.root_volume_size_gb
    data_volume            = var.data_volume
    kms_key_arn            = var.kms_key_arn
    ssh_key_name           = var.ssh_key_name
    ssh_cidrs              = var.ssh_cidrs
    termination_protection = var.termination_protection
    api_port               = var.api_port
    peer_port              = var.peer_port
    allowed_client_cidrs   = var.allowed_client_cidrs
    direct_api_cidrs       = var.direct_api_cidrs
    release_url            = var.release_url
    release_sha256         = var.release_sha256
    ssm_prefix             = local.ssm_prefix
    rds_ca_bundle_url      = var.rds_ca_bundle_url
  }
}

# ---------------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------------

module "region_a" {
  source    = "./modules/region"
  providers = { aws = aws.a }

  region                      = var.regions[0]
  common                      = local.region_common
  vpc_cidr                    = var.vpc_cidrs[var.regions[0]]
  availability_zones          = var.availability_zones[var.regions[0]]
  public_subnet_cidrs         = local.public_subnet_cidrs[var.regions[0]]
  node_subnet_cidrs           = local.node_subnet_cidrs[var.regions[0]]
  database_subnet_cidrs       = local.database_subnet_cidrs[var.regions[0]]
  nodes                       = local.region_inputs["a"].nodes
  ami_id                      = var.ami_ids[var.regions[0]]
  api_certificate_arn         = lookup(var.api_certificate_arns, var.regions[0], null)
  health_check_prefix_list_id = lookup(var.health_check_prefix_list_ids, var.regions[0], null)
  peer_vpc_cidrs              = local.region_inputs["a"].peer_vpc_cidrs
  peering_connection_ids = {
    (var.regions[1]) = aws_vpc_peering_connection_accepter.ab.id
    (var.regions[2]) = aws_vpc_peering_connection_accepter.ac.id
  }

  archive_enabled          = var.archive.enabled
  archive_cidrs            = local.archive_cidrs
  archive_url              = local.archive_url
  archive_password         = var.archive_db_password
  archive_password_version = var.archive_db_password_version
}

module "region_b" {
  source    = "./modules/region"
  providers = { aws = aws.b }

  region                      = var.regions[1]
  common                      = local.region_common
  vpc_cidr                    = var.vpc_cidrs[var.regions[1]]
  availability_zones          = var.availability_zones[var.regions[1]]
  public_subnet_cidrs         = local.public_subnet_cidrs[var.regions[1]]
  node_subnet_cidrs           = local.node_subnet_cidrs[var.regions[1]]
  database_subnet_cidrs       = local.database_subnet_cidrs[var.regions[1]]
  nodes                       = local.region_inputs["b"].nodes
  ami_id                      = var.ami_ids[var.regions[1]]
  api_certificate_arn         = lookup(var.api_certificate_arns, var.regions[1], null)
  health_check_prefix_list_id = lookup(var.health_check_prefix_list_ids, var.regions[1], null)
  peer_vpc_cidrs              = local.region_inputs["b"].peer_vpc_cidrs
  peering_connection_ids = {
    (var.regions[0]) = aws_vpc_peering_connection_accepter.ab.id
    (var.regions[2]) = aws_vpc_peering_connection_accepter.bc.id
  }

  archive_enabled          = var.archive.enabled
  archive_cidrs            = local.archive_cidrs
  archive_url              = local.archive_url
  archive_password         = var.archive_db_password
  archive_password_version = var.archive_db_password_version
}

module "region_c" {
  source    = "./modules/region"
  providers = { aws = aws.c }

  region                      = var.regions[2]
  common                      = local.region_common
  vpc_cidr                    = var.vpc_cidrs[var.regions[2]]
  availability_zones          = var.availability_zones[var.regions[2]]
  public_subnet_cidrs         = local.public_subnet_cidrs[var.regions[2]]
  node_subnet_cidrs           = local.node_subnet_cidrs[var.regions[2]]
  database_subnet_cidrs       = local.database_subnet_cidrs[var.regions[2]]
  nodes                       = local.region_inputs["c"].nodes
  ami_id                      = var.ami_ids[var.regions[2]]
  api_certificate_arn         = lookup(var.api_certificate_arns, var.regions[2], null)
  health_check_prefix_list_id = lookup(var.health_check_prefix_list_ids, var.regions[2], null)
  peer_vpc_cidrs              = local.region_inputs["c"].peer_vpc_cidrs
  peering_connection_ids = {
    (var.regions[0]) = aws_vpc_peering_connection_accepter.ac.id
    (var.regions[1]) = aws_vpc_peering_connection_accepter.bc.id
  }

  archive_enabled          = var.archive.enabled
  archive_cidrs            = local.archive_cidrs
  archive_url              = local.archive_url
  archive_password         = var.archive_db_password
  archive_password_version = var.archive_db_password_version
}

# ---------------------------------------------------------------------------------------------
# Archive: one RDS PostgreSQL instance, in the slot of var.archive.region (count 0 elsewhere)
# ---------------------------------------------------------------------------------------------

module "archive_a" {
  source    = "./modules/archive"
  count     = local.archive_slot == "a" ? 1 : 0
  providers = { aws = aws.a }

  cluster_id       = var.cluster_id
  settings         = var.archive
  vpc_id           = module.region_a.vpc_id
  subnet_ids       = module.region_a.database_subnet_ids
  node_cidrs       = local.all_node_cidrs
  kms_key_arn      = var.kms_key_arn
  password         = var.archive_db_password
  password_version = var.archive_db_password_version
}

module "archive_b" {
  source    = "./modules/archive"
  count     = local.archive_slot == "b" ? 1 : 0
  providers = { aws = aws.b }

  cluster_id       = var.cluster_id
  settings         = var.archive
  vpc_id           = module.region_b.vpc_id
  subnet_ids       = module.region_b.database_subnet_ids
  node_cidrs       = local.all_node_cidrs
  kms_key_arn      = var.kms_key_arn
  password         = var.archive_db_password
  password_version = var.archive_db_password_version
}

module "archive_c" {
  source    = "./modules/archive"
  count     = local.archive_slot == "c" ? 1 : 0
  providers = { aws = aws.c }

  cluster_id       = var.cluster_id
  settings         = var.archive
  vpc_id           = module.region_c.vpc_id
  subnet_ids       = module.region_c.database_subnet_ids
  node_cidrs       = local.all_node_cidrs
  kms_key_arn      = var.kms_key_arn
  password         = var.archive_db_password
  password_version = var.archive_db_password_version
}

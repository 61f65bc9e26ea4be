# ---------------------------------------------------------------------------------------------
# Account, mode, cluster identity
# ---------------------------------------------------------------------------------------------

variable "offline_plan" {
  description = "Plan without an AWS account or network (fake credentials, no API calls). For tests/check.sh only; never apply with it."
  type        = bool
  default     = false
}

variable "aws_account_id" {
  description = "The AWS account to deploy into. Applies are refused in any other account (allowed_account_ids); also used to build the ARNs of the SSM parameters the nodes may read."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "cluster_id" {
  description = "incidentd cluster_id (peers of another cluster are refused at the handshake). Also prefixes AWS resource names, hence the short limit."
  type        = string
  default     = "incidentd"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.cluster_id))
    error_message = "cluster_id must be 2-16 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it prefixes load balancer names, which AWS limits to 32 characters)."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Regions and topology
# ---------------------------------------------------------------------------------------------

variable "regions" {
  description = "Exactly three distinct AWS regions. The first hosts the Route 53 health checks; the order also fixes node ids (region 1's nodes first)."
  type        = list(string)
  default     = ["us-east-1", "eu-west-1", "ap-south-1"]

  validation {
    condition     = length(var.regions) == 3 && length(distinct(var.regions)) == 3
    error_message = "regions must list exactly 3 distinct regions (one provider and one region module per slot; three failure domains for a Raft majority)."
  }

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "regions must be AWS region names such as us-east-1 or ap-south-1."
  }
}

variable "nodes_per_region" {
  description = "Voters per region, keyed by region name; a region not listed gets 1. The total must be odd (Raft) and no region may hold a majority. 3 regions x 1 = 3 voters by default; { \"us-east-1\" = 2, \"eu-west-1\" = 2, \"ap-south-1\" = 1 } gives 5."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for r in keys(var.nodes_per_region) : contains(var.regions, r)])
    error_message = "nodes_per_region has a key that is not one of var.regions."
  }

  validation {
    condition     = alltrue([for n in values(var.nodes_per_region) : n >= 1 && n <= 4 && floor(n) == n])
    error_message = "nodes_per_region values must be whole numbers from 1 to 4 (every region runs at least one node)."
  }

  validation {
    condition     = sum([for r in var.regions : lookup(var.nodes_per_region, r, 1)]) % 2 == 1
    error_message = "nodes_per_region must add up to an odd number of voters (Raft: an even count adds no fault tolerance and can split 50/50); it adds up to ${sum([for r in var.regions : lookup(var.nodes_per_region, r, 1)])}. Use e.g. 1+1+1 = 3 or 2+2+1 = 5."
  }

  validation {
    condition     = sum([for r in var.regions : lookup(var.nodes_per_region, r, 1)]) <= 7
    error_message = "nodes_per_region must add up to at most 7 voters: every write waits for a majority across regions, and more voters only add latency. Add learners instead."
  }

  validation {
    condition = alltrue([
      for r in var.regions :
      2 * lookup(var.nodes_per_region, r, 1) < sum([for x in var.regions : lookup(var.nodes_per_region, x, 1)])
    ])
    error_message = "nodes_per_region puts half or more of the voters in one region: that region's outage would leave no majority and stop the whole cluster. Spread them (e.g. 2+2+1)."
  }
}

variable "vpc_cidrs" {
  description = "VPC CIDR per region (/16 to /20, non-overlapping: the VPCs are peered). Public, node and database /24 subnets are carved from it."
  type        = map(string)
  default = {
    "us-east-1"  = "10.10.0.0/16"
    "eu-west-1"  = "10.20.0.0/16"
    "ap-south-1" = "10.30.0.0/16"
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(keys(var.vpc_cidrs), r)])
    error_message = "vpc_cidrs needs an entry for every region in var.regions."
  }

  validation {
    condition = alltrue([
      for c in values(var.vpc_cidrs) :
      can(cidrnetmask(c)) && can(regex("^[0-9.]+/(1[6-9]|20)$", c)) && try(cidrhost(c, 0) == split("/", c)[0], false)
    ])
    error_message = "vpc_cidrs values must be IPv4 network addresses with a prefix from /16 to /20 (e.g. 10.10.0.0/16; the address must be the network's first)."
  }

  validation {
    condition = try(alltrue([
      for pair in setproduct(var.regions, var.regions) :
      pair[0] == pair[1] || (
        cidrhost("${cidrhost(var.vpc_cidrs[pair[0]], 0)}/${min(tonumber(split("/", var.vpc_cidrs[pair[0]])[1]), tonumber(split("/", var.vpc_cidrs[pair[1]])[1]))}", 0)
        != cidrhost("${cidrhost(var.vpc_cidrs[pair[1]], 0)}/${min(tonumber(split("/", var.vpc_cidrs[pair[0]])[1]), tonumber(split("/", var.vpc_cidrs[pair[1]])[1]))}", 0)
      )
    ]), true)
    error_message = "vpc_cidrs overlap: the regions' VPCs are peered and routed to each other, so their CIDRs must not overlap."
  }
}

variable "availability_zones" {
  description = "Availability zones per region (1-4, distinct). Nodes are spread over the first ones (one node subnet per zone used); the NLB and NAT use all of them. The archive region needs at least 2 (RDS subnet group). Given as a variable so that planning needs no AWS call."
  type        = map(list(string))
  default = {
    "us-east-1"  = ["us-east-1a", "us-east-1b", "us-east-1c"]
    "eu-west-1"  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    "ap-south-1" = ["ap-south-1a", "ap-south-1b", "ap-south-1c"]
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(keys(var.availability_zones), r)])
    error_message = "availability_zones needs an entry for every region in var.regions."
  }

  validation {
    condition = alltrue([
      for r, zones in var.availability_zones :
      length(zones) >= 1 && length(zones) <= 4 && length(distinct(zones)) == length(zones) &&
      alltrue([for z in zones : can(regex("^${r}[a-z]$", z))])
    ])
    error_message = "availability_zones: each region needs 1-4 distinct zones of that region (us-east-1a, us-east-1b, ...)."
  }
}

variable "ami_ids" {
  description = "AMI per region: Debian 12 (bookworm) x86_64, the glibc the incidentd release is built against. A variable, not a data source, so that planning needs no AWS call."
  type        = map(string)

  validation {
    condition     = alltrue([for r in var.regions : contains(keys(var.ami_ids), r)])
    error_message = "ami_ids needs an entry for every region in var.regions."
  }

  validation {
    condition     = alltrue([for a in values(var.ami_ids) : can(regex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$", a))])
    error_message = "ami_ids values must look like ami-0123456789abcdef0."
  }
}

variable "nat_gateway_per_zone" {
  description = "One NAT gateway per availability zone (zone-independent egress) instead of one per region (cheaper). Nodes need egress only at boot (packages, release, SSM) and for notifications."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------------------------

variable "instance_type" {
  description = "EC2 instance type of a node (x86_64)."
  type        = string
  default     = "m7i.large"
}

variable "root_volume_size_gb" {
  description = "Root volume size."
  type        = number
  default     = 20
}

variable "data_volume" {
  description = "The encrypted gp3 EBS volume holding data_dir (Raft log and snapshots). A separate volume, so an instance can be replaced without losing its log."
  type = object({
    size_gb         = optional(number, 100)
    iops            = optional(number, 3000)
    throughput_mbps = optional(number, 125)
  })
  default = {}

  validation {
    condition     = var.data_volume.size_gb >= 10 && var.data_volume.iops >= 3000 && var.data_volume.throughput_mbps >= 125
    error_message = "data_volume: at least 10 GiB, 3000 IOPS and 125 MB/s (gp3's baseline)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for EBS, RDS and the SSM SecureStrings Terraform writes; null uses the AWS-managed keys. The nodes get kms:Decrypt on it through SSM only."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...) or null."
  }
}

variable "ssh_key_name" {
  description = "EC2 key pair for SSH; null (default) for none."
  type        = string
  default     = null
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH to the nodes. Empty (default): port 22 is not opened."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.ssh_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "ssh_cidrs must be IPv4 CIDRs, and not 0.0.0.0/0."
  }
}

variable "termination_protection" {
  description = "EC2 termination protection on the nodes and deletion protection on the load balancers. Turn off before `terraform destroy`."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# incidentd
# ---------------------------------------------------------------------------------------------

variable "release_url" {
  description = "HTTPS URL of the incidentd release tarball (bin/incidentd, optionally under one top-level directory)."
  type        = string

  validation {
    condition     = can(regex("^https://[^[:space:]'\"]+$", var.release_url))
    error_message = "release_url must be an https:// URL without spaces or quotes."
  }
}

variable "release_sha256" {
  description = "SHA-256 of the release tarball (64 lowercase hex digits); the node refuses a download that does not match."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release_sha256))
    error_message = "release_sha256 must be a SHA-256 digest: exactly 64 lowercase hexadecimal digits."
  }
}

variable "api_port" {
  description = "incidentd HTTP API port on the nodes."
  type        = number
  default     = 8080

  validation {
    condition     = var.api_port >= 1024 && var.api_port <= 65535
    error_message = "api_port must be 1024-65535 (the service runs without privileges)."
  }
}

variable "peer_port" {
  description = "incidentd peer (Raft replication) port."
  type        = number
  default     = 7000

  validation {
    condition     = var.peer_port >= 1024 && var.peer_port <= 65535 && var.peer_port != var.api_port
    error_message = "peer_port must be 1024-65535 and differ from api_port."
  }
}

variable "raft_timing" {
  description = <<-EOT
    Raft timing for a WAN cluster (docs/CONFIGURATION.md: heartbeat ~ RTT, election timeout >= 10 x RTT).
    Between us-east-1, eu-west-1 and ap-south-1 the worst round trip is about 190-200 ms
    (us-east-1 <-> ap-south-1). With 100 ms ticks: heartbeat 2 ticks = 200 ms, and election 25
    ticks = 2.5 s (randomised 2.5-5 s), above 10 x 200 ms with room for jitter, so a slow
    trans-oceanic link does not cause spurious elections. A failover then takes about 3-6 s.
  EOT
  type = object({
    tick_interval_ms = optional(number, 100)
    heartbeat_ticks  = optional(number, 2)
    election_ticks   = optional(number, 25)
  })
  default = {}

  validation {
    condition     = var.raft_timing.tick_interval_ms >= 10 && var.raft_timing.tick_interval_ms <= 1000 && var.raft_timing.heartbeat_ticks >= 1
    error_message = "raft_timing: tick_interval_ms must be 10-1000 and heartbeat_ticks at least 1."
  }

  validation {
    condition     = var.raft_timing.election_ticks >= 10 * var.raft_timing.heartbeat_ticks
    error_message = "raft_timing: election_ticks must be at least 10 x heartbeat_ticks (election timeout >= 10 x the round trip)."
  }
}

variable "preferred_leader_regions" {
  description = "Regions whose nodes should lead (incidentd preferred_leader_regions), e.g. the one closest to most clients. Empty: no preference."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.preferred_leader_regions : contains(var.regions, r)])
    error_message = "preferred_leader_regions must name regions from var.regions."
  }
}

variable "log_level" {
  description = "incidentd log_level."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "notice", "warning", "error", "critical"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, notice, warning, error, critical."
  }
}

variable "ssm_parameter_prefix" {
  description = <<-EOT
    SSM Parameter Store path of this cluster's secrets, read by the nodes at boot in their own region
    (null: /incidentd/<cluster_id>). Create these SecureStrings in every region before applying:
      <prefix>/admin-key            INCIDENTD_BOOTSTRAP_ADMIN_KEY
      <prefix>/tls/ca.pem           peer CA certificate
      <prefix>/tls/node-<id>.pem    node certificate (CN or DNS SAN node-<id>)
      <prefix>/tls/node-<id>-key.pem
    Terraform itself writes <prefix>/archive/password (SecureString, write-only) and <prefix>/archive/url.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.ssm_parameter_prefix == null || can(regex("^(/[A-Za-z0-9_.-]+)+$", var.ssm_parameter_prefix))
    error_message = "ssm_parameter_prefix must be a path such as /incidentd/prod (leading slash, no trailing slash)."
  }
}

# ---------------------------------------------------------------------------------------------
# Public entry: NLB and Route 53
# ---------------------------------------------------------------------------------------------

variable "allowed_client_cidrs" {
  description = "CIDRs allowed to reach the API through the load balancers (0.0.0.0/0 for a public API; every call still needs an API key)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_client_cidrs) > 0 && alltrue([for c in var.allowed_client_cidrs : can(cidrnetmask(c))])
    error_message = "allowed_client_cidrs must list at least one IPv4 CIDR."
  }
}

variable "health_check_prefix_list_ids" {
  description = "Per region, the managed prefix list of Route 53 health checkers (com.amazonaws.<region>.route53-healthchecks), allowed to the NLB. Needed when allowed_client_cidrs does not already cover them."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.health_check_prefix_list_ids) : can(regex("^pl-[0-9a-f]+$", id))])
    error_message = "health_check_prefix_list_ids values must be prefix list ids (pl-...)."
  }
}

variable "direct_api_cidrs" {
  description = "CIDRs (e.g. an operator VPN reached through peering/transit) allowed to the nodes' API port directly, bypassing the NLB. Empty by default."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.direct_api_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "direct_api_cidrs must be IPv4 CIDRs, and not 0.0.0.0/0."
  }
}

variable "api_certificate_arns" {
  description = "ACM certificate ARN per region for a TLS listener on 443 (for dns_name). A region without one gets a plain TCP listener on 80: test setups only, API keys would cross the internet in clear."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for r, arn in var.api_certificate_arns : contains(var.regions, r) && can(regex("^arn:aws[a-z-]*:acm:${r}:[0-9]{12}:certificate/", arn))])
    error_message = "api_certificate_arns: keys must be regions from var.regions and values ACM certificate ARNs of that region."
  }
}

variable "route53_zone_id" {
  description = "Public hosted zone that holds dns_name."
  type        = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]{6,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a hosted zone id such as Z0123456789ABCDEFGHIJ."
  }
}

variable "dns_name" {
  description = "The API's name, e.g. incidents.example.com: one latency record per region, each with a Route 53 health check on /api/v1/ready."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.dns_name))
    error_message = "dns_name must be a lowercase fully qualified domain name without a trailing dot."
  }
}

# ---------------------------------------------------------------------------------------------
# Archive (RDS PostgreSQL)
# ---------------------------------------------------------------------------------------------

variable "archive" {
  description = "The PostgreSQL archive (docs/ARCHIVE.md): an RDS instance in one of the regions, reached by every node over the VPC peering. enabled = false: no archive_url, no database."
  type = object({
    enabled                  = optional(bool, true)
    region                   = optional(string) # null: the first region
    engine_version           = optional(string, "16")
    instance_class           = optional(string, "db.m7g.large")
    allocated_storage_gb     = optional(number, 50)
    max_allocated_storage_gb = optional(number, 500)
    multi_az                 = optional(bool, true)
    backup_retention_days    = optional(number, 7)
    deletion_protection      = optional(bool, true)
    database                 = optional(string, "incidents")
    username                 = optional(string, "incidentd")
  })
  default = {}

  validation {
    condition     = var.archive.region == null || contains(var.regions, coalesce(var.archive.region, "-"))
    error_message = "archive.region must be one of var.regions."
  }

  validation {
    condition     = !var.archive.enabled || try(length(var.availability_zones[coalesce(var.archive.region, var.regions[0])]) >= 2, false)
    error_message = "The archive region needs at least 2 availability_zones (an RDS subnet group spans two zones)."
  }

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?$", var.archive.engine_version)) && tonumber(split(".", var.archive.engine_version)[0]) >= 13
    error_message = "archive.engine_version must be a PostgreSQL version such as 16 or 16.4 (13 or later)."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.archive.database)) && can(regex("^[a-z][a-z0-9_]{0,62}$", var.archive.username))
    error_message = "archive.database and archive.username must be lowercase identifiers."
  }

  validation {
    condition     = var.archive.backup_retention_days >= 1 && var.archive.backup_retention_days <= 35
    error_message = "archive.backup_retention_days must be 1-35."
  }
}

variable "archive_db_password" {
  description = "Master password of the archive database. Ephemeral and write-only: it goes to RDS (password_wo) and to an SSM SecureString per region (value_wo), never into a plan or the state. Give it at plan and at apply (TF_VAR_archive_db_password)."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition = !var.archive.enabled || (
      var.archive_db_password != null &&
      try(length(var.archive_db_password) >= 16 && length(var.archive_db_password) <= 128, false) &&
      !can(regex("[/@\" [:cntrl:]]", coalesce(var.archive_db_password, "x")))
    )
    error_message = "archive_db_password is required when the archive is enabled: 16-128 characters, without '/', '@', '\"', spaces or control characters (RDS refuses those)."
  }
}

variable "archive_db_password_version" {
  description = "Bump to push a new archive_db_password to RDS and SSM (write-only values are only sent when this changes)."
  type        = number
  default     = 1
}

variable "rds_ca_bundle_url" {
  description = "Where the nodes fetch the RDS CA bundle (sslrootcert, with sslmode=verify-full)."
  type        = string
  default     = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

  validation {
    condition     = can(regex("^https://[^[:space:]'\"]+$", var.rds_ca_bundle_url))
    error_message = "rds_ca_bundle_url must be an https:// URL."
  }
}

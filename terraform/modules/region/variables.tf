# One region of the cluster: network, nodes, load balancer, the node's secrets wiring. The root
# module validates every value (variables.tf there); these declarations only type them.

variable "region" {
  description = "AWS region of this module's provider (also the incidentd region label)."
  type        = string
}

variable "common" {
  description = "Settings shared by the three regions (see the root module's variables)."
  type = object({
    cluster_id           = string
    account_id           = string
    cluster_node_cidrs   = list(string)
    nat_gateway_per_zone = bool
    instance_type        = string
    root_volume_size_gb  = number
    data_volume = object({
      size_gb         = number
      iops            = number
      throughput_mbps = number
    })
    kms_key_arn            = string
    ssh_key_name           = string
    ssh_cidrs              = list(string)
    termination_protection = bool
    api_port               = number
    peer_port              = number
    allowed_client_cidrs   = list(string)
    direct_api_cidrs       = list(string)
    release_url            = string
    release_sha256         = string
    ssm_prefix             = string
    rds_ca_bundle_url      = string
  })
}

variable "vpc_cidr" {
  type = string
}

variable "availability_zones" {
  description = "All zones used in the region (public subnets, NAT, NLB)."
  type        = list(string)
}

variable "public_subnet_cidrs" {
  description = "One per availability zone, same order."
  type        = list(string)
}

variable "node_subnet_cidrs" {
  description = "One per zone that holds a node (the first ones of availability_zones)."
  type        = list(string)
}

variable "database_subnet_cidrs" {
  description = "One per availability zone in the archive region; empty elsewhere."
  type        = list(string)
  default     = []
}

variable "nodes" {
  description = "This region's nodes by id: zone, index of its node subnet, fixed private IP, rendered config.json."
  type = map(object({
    zone        = string
    zone_index  = number
    private_ip  = string
    config_json = string
  }))
}

variable "ami_id" {
  type = string
}

variable "api_certificate_arn" {
  description = "ACM certificate for a TLS listener on 443; null: TCP on 80."
  type        = string
  default     = null
}

variable "health_check_prefix_list_id" {
  description = "Prefix list of the Route 53 health checkers, allowed to the NLB listener; null: none."
  type        = string
  default     = null
}

variable "peer_vpc_cidrs" {
  description = "The other regions' VPC CIDRs, by region."
  type        = map(string)
}

variable "peering_connection_ids" {
  description = "The (accepted) peering connection to each other region, by region (same keys as peer_vpc_cidrs)."
  type        = map(string)
}

variable "archive_enabled" {
  type = bool
}

variable "archive_cidrs" {
  description = "The archive database's subnets (in whichever region it lives): the nodes' only 5432 egress."
  type        = list(string)
  default     = []
}

variable "archive_url" {
  description = "postgres:// URL of the archive (no password); written to SSM for the nodes. Unknown until the database exists."
  type        = string
  default     = null
}

variable "archive_password" {
  description = "Archive password: written to this region's SSM SecureString as a write-only value."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "archive_password_version" {
  type    = number
  default = 1
}

variable "cluster_id" {
  type = string
}

variable "settings" {
  description = "The root module's var.archive (validated there)."
  type = object({
    enabled                  = bool
    region                   = string
    engine_version           = string
    instance_class           = string
    allocated_storage_gb     = number
    max_allocated_storage_gb = number
    multi_az                 = bool
    backup_retention_days    = number
    deletion_protection      = bool
    database                 = string
    username                 = string
  })
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "Private database subnets, at least two zones."
  type        = list(string)
}

variable "node_cidrs" {
  description = "Subnets of every incidentd node in every region: the only sources allowed to 5432."
  type        = list(string)
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "password" {
  description = "Master password, write-only (never in the plan or the state)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "password_version" {
  type = number
}

variable "ca_bundle_path" {
  description = "Where the nodes keep the RDS CA bundle (sslrootcert)."
  type        = string
  default     = "/etc/incidentd/rds-ca.pem"
}

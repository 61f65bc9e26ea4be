# The archive: RDS for PostgreSQL, private (no public address, database subnets without an
# internet route), encrypted at rest, TLS enforced (rds.force_ssl), reachable on 5432 only from
# the incidentd node subnets of the three regions (over VPC peering for the remote ones).
#
# incidentd connects as the master user, whose password Terraform never stores (password_wo).
# A production setup may create a least-privilege role once (docs/ARCHIVE.md lists what the
# archiver needs) and point <prefix>/archive/url at it; Terraform cannot do that without a
# PostgreSQL provider, which this configuration deliberately does not use.

locals {
  name         = "${var.cluster_id}-archive"
  major        = split(".", var.settings.engine_version)[0]
  ca_cert_name = "rds-ca-rsa2048-g1"
}

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "incidentd archive (${var.cluster_id})"
  subnet_ids  = var.subnet_ids

  tags = { Name = local.name }
}

resource "aws_security_group" "db" {
  name        = local.name
  description = "incidentd archive database"
  vpc_id      = var.vpc_id

  tags = { Name = local.name }
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_nodes" {
  for_each = toset(var.node_cidrs)

  security_group_id = aws_security_group.db.id
  description       = "PostgreSQL from incidentd nodes"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = each.value
}

resource "aws_db_parameter_group" "this" {
  name        = "${local.name}-pg${local.major}"
  family      = "postgres${local.major}"
  description = "incidentd archive: TLS only"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "this" {
  identifier     = local.name
  engine         = "postgres"
  engine_version = var.settings.engine_version
  instance_class = var.settings.instance_class

  db_name             = var.settings.database
  username            = var.settings.username
  password_wo         = var.password
  password_wo_version = var.password_version
  port                = 5432

  allocated_storage     = var.settings.allocated_storage_gb
  max_allocated_storage = var.settings.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  multi_az               = var.settings.multi_az
  network_type           = "IPV4"
  ca_cert_identifier     = local.ca_cert_name
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period   = var.settings.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.settings.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-final"

  auto_minor_version_upgrade      = true
  allow_major_version_upgrade     = false
  apply_immediately               = false
  enabled_cloudwatch_logs_exports = ["postgresql"]

  tags = { Name = local.name }
}

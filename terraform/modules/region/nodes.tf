# The nodes: fixed private IPs (so the founding peers list is known before boot), IMDSv2 only,
# encrypted root and data volumes, one instance profile each.
#
# ami and user_data are ignored after creation: incidentd reads `peers` only on an empty data
# dir, and replacing every voter at once would lose the cluster. Roll changes (new AMI, new
# release) one node at a time: terraform apply -replace='module.region_a.aws_instance.node["1"]',
# wait until GET /api/v1/cluster shows it caught up, then the next. The data volume survives the
# replacement and is re-attached, so the node rejoins with its log.

locals {
  install_dir = "/opt/incidentd"
  etc_dir     = "/etc/incidentd"
  data_mount  = "/var/lib/incidentd"

  runtime_packages = [
    "liblz4-1", "libjemalloc2", "libpq5", "libssl3", "libstdc++6", "zlib1g", "libcurl4",
    "ca-certificates", "curl", "awscli", "chrony", "e2fsprogs",
  ]

  user_data = {
    for id, n in var.nodes : id => templatefile("${path.module}/templates/user_data.sh.tftpl", {
      node_id           = id
      cluster_id        = var.common.cluster_id
      region            = var.region
      zone              = n.zone
      install_dir       = local.install_dir
      etc_dir           = local.etc_dir
      data_mount        = local.data_mount
      data_dir          = jsondecode(n.config_json).data_dir
      release_url       = var.common.release_url
      release_sha256    = var.common.release_sha256
      rds_ca_bundle_url = var.common.rds_ca_bundle_url
      archive_enabled   = var.archive_enabled
      api_port          = var.common.api_port
      packages          = join(" ", local.runtime_packages)
      config_json       = n.config_json
      parameters = merge(local.parameter_names, {
        tls_cert = local.node_parameter_names[id].tls_cert
        tls_key  = local.node_parameter_names[id].tls_key
      })
      systemd_unit = templatefile("${path.module}/templates/incidentd.service.tftpl", {
        node_id     = id
        cluster_id  = var.common.cluster_id
        region      = var.region
        install_dir = local.install_dir
        etc_dir     = local.etc_dir
        data_mount  = local.data_mount
      })
    })
  }
}

resource "aws_ebs_volume" "data" {
  for_each = var.nodes

  availability_zone = each.value.zone
  type              = "gp3"
  size              = var.common.data_volume.size_gb
  iops              = var.common.data_volume.iops
  throughput        = var.common.data_volume.throughput_mbps
  encrypted         = true
  kms_key_id        = var.common.kms_key_arn
  final_snapshot    = true

  tags = { Name = "${var.common.cluster_id}-node-${each.key}-data", IncidentdNodeId = each.key }
}

resource "aws_instance" "node" {
  for_each = var.nodes

  ami                         = var.ami_id
  instance_type               = var.common.instance_type
  subnet_id                   = aws_subnet.nodes[each.value.zone_index].id
  private_ip                  = each.value.private_ip
  associate_public_ip_address = false
  vpc_security_group_ids      = [aws_security_group.nodes.id]
  iam_instance_profile        = aws_iam_instance_profile.node[each.key].name
  key_name                    = var.common.ssh_key_name
  ebs_optimized               = true
  monitoring                  = true
  disable_api_termination     = var.common.termination_protection

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.common.root_volume_size_gb
    encrypted             = true
    kms_key_id            = var.common.kms_key_arn
    delete_on_termination = true
  }

  # gzip + base64: cloud-init unpacks it; keeps the script far below the 16 KB limit.
  user_data_base64            = base64gzip(local.user_data[each.key])
  user_data_replace_on_change = false

  tags = { Name = "${var.common.cluster_id}-node-${each.key}", IncidentdNodeId = each.key }

  lifecycle {
    ignore_changes = [ami, user_data_base64]
  }

  # The archive parameters must exist before a node boots and reads them.
  depends_on = [aws_ssm_parameter.archive_url, aws_ssm_parameter.archive_password, aws_iam_role_policy.node_parameters]
}

resource "aws_volume_attachment" "data" {
  for_each = var.nodes

  device_name                    = "/dev/sdf"
  volume_id                      = aws_ebs_volume.data[each.key].id
  instance_id                    = aws_instance.node[each.key].id
  stop_instance_before_detaching = true
}

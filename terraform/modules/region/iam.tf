# One role per node: it may read this region's copies of the cluster-wide parameters and its own
# certificate and key, nothing else (node 1 cannot read node 2's key). No managed policies are
# attached (AmazonSSMManagedInstanceCore, for instance, would grant ssm:GetParameter on "*").

locals {
  partition = startswith(var.region, "cn-") ? "aws-cn" : (startswith(var.region, "us-gov-") ? "aws-us-gov" : "aws")

  parameter_names = {
    admin_key        = "${var.common.ssm_prefix}/admin-key"
    tls_ca           = "${var.common.ssm_prefix}/tls/ca.pem"
    archive_password = "${var.common.ssm_prefix}/archive/password"
    archive_url      = "${var.common.ssm_prefix}/archive/url"
  }
  node_parameter_names = {
    for id, n in var.nodes : id => {
      tls_cert = "${var.common.ssm_prefix}/tls/node-${id}.pem"
      tls_key  = "${var.common.ssm_prefix}/tls/node-${id}-key.pem"
    }
  }
  parameter_arn_prefix = "arn:${local.partition}:ssm:${var.region}:${var.common.account_id}:parameter"
}

resource "aws_iam_role" "node" {
  for_each = var.nodes

  name        = "${var.common.cluster_id}-${var.region}-node-${each.key}"
  description = "incidentd node ${each.key} (${var.region}): reads its own SSM parameters"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "node_parameters" {
  for_each = var.nodes

  name = "read-own-parameters"
  role = aws_iam_role.node[each.key].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid    = "ReadOwnParameters"
        Effect = "Allow"
        Action = ["ssm:GetParameter"]
        Resource = [for name in concat(
          [local.parameter_names.admin_key, local.parameter_names.tls_ca],
          [local.node_parameter_names[each.key].tls_cert, local.node_parameter_names[each.key].tls_key],
          var.archive_enabled ? [local.parameter_names.archive_password, local.parameter_names.archive_url] : [],
        ) : "${local.parameter_arn_prefix}${name}"]
      }],
      var.common.kms_key_arn == null ? [] : [{
        Sid       = "DecryptThroughSsmOnly"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.common.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "ssm.${var.region}.amazonaws.com" } }
      }],
    )
  })
}

resource "aws_iam_instance_profile" "node" {
  for_each = var.nodes

  name = aws_iam_role.node[each.key].name
  role = aws_iam_role.node[each.key].name
}

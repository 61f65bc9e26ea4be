# The archive's connection settings, in this region's Parameter Store, for this region's nodes:
# the URL (no secret; known only once the database exists, hence not in user_data) and the
# password as a SecureString whose value is write-only: Terraform sends it to SSM but keeps it
# out of the plan and the state. The nodes write the password to a file at boot
# (archive_password_file); it is never in user_data or in the environment.

resource "aws_ssm_parameter" "archive_url" {
  count = var.archive_enabled ? 1 : 0

  name        = local.parameter_names.archive_url
  description = "incidentd archive_url (${var.common.cluster_id})"
  type        = "String"
  value       = var.archive_url
}

resource "aws_ssm_parameter" "archive_password" {
  count = var.archive_enabled ? 1 : 0

  name             = local.parameter_names.archive_password
  description      = "incidentd archive password (${var.common.cluster_id})"
  type             = "SecureString"
  key_id           = var.common.kms_key_arn
  value_wo         = var.archive_password
  value_wo_version = var.archive_password_version
}

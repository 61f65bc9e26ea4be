output "endpoint" {
  description = "host:port"
  value       = "${aws_db_instance.this.address}:${aws_db_instance.this.port}"
}

output "url" {
  description = "libpq URI for incidentd's archive_url: no password (archive_password_file), sslmode=verify-full against the RDS CA bundle."
  value = format(
    "postgres://%s@%s:%d/%s?sslmode=verify-full&sslrootcert=%s&connect_timeout=10",
    var.settings.username, aws_db_instance.this.address, aws_db_instance.this.port, var.settings.database, var.ca_bundle_path,
  )
}

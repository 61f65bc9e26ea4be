terraform {
  # 1.11 is the first release with write-only attributes (password_wo, value_wo): the archive
  # password goes to RDS and SSM without ever being stored in a plan or in the state.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 6.0.0"
    }
  }
}

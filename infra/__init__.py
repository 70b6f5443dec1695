"""Resource definitions shared by the CloudFormation template and the local stack."""

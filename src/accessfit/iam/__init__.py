"""What accessfit knows of IAM: the catalog of actions and ARN templates, and the mapping of CloudTrail calls to
the actions and resources they needed. Pure."""

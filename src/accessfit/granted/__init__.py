"""What principals are granted: IAM authorization details fetched per account, resolved to effective actions."""

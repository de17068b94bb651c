"""What CloudTrail cannot show as used: actions it never records under their own name, and data-event actions,
which it records only when the trail logs that kind of data event. Pure data."""

from __future__ import annotations

NEVER_RECORDED = {
    "iam:PassRole": "a permission, never an API call in CloudTrail (IAM user guide, PassRole)",
}

_DATA_FAMILIES: dict[str, tuple[str, ...]] = {
    "S3 object data events": (
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "s3:GetObjectVersion",
        "s3:DeleteObjectVersion",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
        "s3:GetObjectAcl",
        "s3:PutObjectAcl",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        "s3:DeleteObjectTagging",
        "s3:RestoreObject",
        "s3:GetObjectAttributes",
        "s3:GetObjectVersionTagging",
        "s3:PutObjectVersionTagging",
        "s3:GetObjectVersionAcl",
        "s3:PutObjectVersionAcl",
        "s3:GetObjectRetention",
        "s3:PutObjectRetention",
        "s3:GetObjectLegalHold",
        "s3:PutObjectLegalHold",
    ),
    "Lambda Invoke data events": ("lambda:InvokeFunction", "lambda:InvokeAsync", "lambda:InvokeFunctionUrl"),
    "DynamoDB item data events": (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PartiQLSelect",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    ),
    "SNS Publish data events": ("sns:Publish",),
    "SQS message data events": (
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    ),
}
DATA_EVENT_FAMILY = {action: family for family, actions in _DATA_FAMILIES.items() for action in actions}

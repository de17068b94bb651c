"""Hand-checked mapping cases: a CloudTrail call (eventSource, eventName, requestParameters, resources) and the IAM
actions it needs, each with the fact it rests on.

SAR = AWS Service Authorization Reference ("Actions, resources, and condition keys for <service>" and its
Operations → AuthorizedActions data). Identity rows state that AWS lists the operation as authorized by the action
of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    source: str  # eventSource host without .amazonaws.com
    name: str  # eventName as CloudTrail writes it
    actions: frozenset[str]  # expected; empty for no permission or unmapped
    cite: str
    params: Any = None
    resources: Any = None
    status: str = "mapped"
    arns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # expected resources for some actions


def identity(source: str, service: str, ops: str, prefix: str | None = None) -> list[Case]:
    prefix = prefix or source
    return [
        Case(source, op, frozenset({f"{prefix}:{op}"}), f"SAR {service}: {op} is authorized by {prefix}:{op}")
        for op in ops.split()
    ]


def renamed(source: str, service: str, pairs: str, prefix: str | None = None) -> list[Case]:
    prefix = prefix or source
    out = []
    for pair in pairs.split():
        op, actions = pair.split("=")
        acts = frozenset(f"{prefix}:{a}" if ":" not in a else a for a in actions.split("+"))
        out.append(Case(source, op, acts, f"SAR {service}: {op} is authorized by {', '.join(sorted(acts))}"))
    return out


A = "111122223333"
CASES: list[Case] = [
    *identity(
        "ec2",
        "Amazon EC2",
        "DescribeInstances TerminateInstances StopInstances StartInstances "
        "CreateSecurityGroup AuthorizeSecurityGroupIngress DescribeVpcs DescribeSubnets CreateTags "
        "CreateVolume AttachVolume DescribeImages CreateSnapshot ModifyInstanceAttribute DescribeRegions "
        "CreateKeyPair DeleteSecurityGroup DescribeSecurityGroups",
    ),
    *identity(
        "iam",
        "IAM",
        "CreateRole AttachRolePolicy PutRolePolicy CreateUser CreateAccessKey DeleteUser "
        "ListRoles GetRole UpdateAssumeRolePolicy CreatePolicy CreatePolicyVersion AddUserToGroup ListUsers "
        "GetUser CreateLoginProfile ListAttachedRolePolicies GetAccountAuthorizationDetails DeleteRole",
    ),
    *identity(
        "sts", "AWS STS", "AssumeRole GetSessionToken GetFederationToken DecodeAuthorizationMessage GetAccessKeyInfo"
    ),
    *identity(
        "kms",
        "AWS KMS",
        "Decrypt Encrypt GenerateDataKey CreateKey DescribeKey ScheduleKeyDeletion "
        "CreateGrant ListKeys GenerateDataKeyWithoutPlaintext",
    ),
    *identity(
        "dynamodb",
        "Amazon DynamoDB",
        "GetItem PutItem Query Scan UpdateItem DeleteItem BatchGetItem "
        "BatchWriteItem CreateTable DescribeTable ListTables",
    ),
    *identity(
        "sqs",
        "Amazon SQS",
        "SendMessage ReceiveMessage DeleteMessage CreateQueue GetQueueAttributes "
        "SetQueueAttributes PurgeQueue GetQueueUrl",
    ),
    *identity("sns", "Amazon SNS", "Publish CreateTopic Subscribe SetTopicAttributes ListTopics"),
    *identity(
        "logs",
        "CloudWatch Logs",
        "CreateLogGroup CreateLogStream PutLogEvents DescribeLogGroups "
        "FilterLogEvents PutRetentionPolicy DeleteLogGroup",
    ),
    *identity(
        "monitoring",
        "Amazon CloudWatch (endpoint monitoring)",
        "PutMetricData GetMetricData PutMetricAlarm DescribeAlarms DeleteAlarms ListMetrics GetMetricStatistics",
        prefix="cloudwatch",
    ),
    *identity(
        "ssm",
        "AWS Systems Manager",
        "GetParameter GetParameters GetParametersByPath PutParameter "
        "SendCommand StartSession DescribeInstanceInformation",
    ),
    *identity(
        "secretsmanager",
        "AWS Secrets Manager",
        "GetSecretValue PutSecretValue CreateSecret DescribeSecret RotateSecret",
    ),
    *identity("cloudformation", "AWS CloudFormation", "DescribeStacks ExecuteChangeSet ListStacks DescribeStackEvents"),
    *identity("ecs", "Amazon ECS", "RunTask DescribeServices UpdateService ListClusters CreateCluster"),
    *identity(
        "ecr",
        "Amazon ECR",
        "GetAuthorizationToken BatchGetImage PutImage InitiateLayerUpload CreateRepository DescribeRepositories",
    ),
    *identity(
        "elasticloadbalancing",
        "Elastic Load Balancing",
        "DescribeLoadBalancers CreateLoadBalancer RegisterTargets DescribeTargetHealth",
    ),
    *identity("cloudtrail", "AWS CloudTrail", "LookupEvents DescribeTrails StopLogging CreateTrail PutEventSelectors"),
    *identity("tagging", "Resource Groups Tagging API (IAM prefix tag)", "GetResources TagResources", prefix="tag"),
    *identity("route53", "Amazon Route 53", "ChangeResourceRecordSets ListHostedZones"),
    *identity("states", "AWS Step Functions", "StartExecution DescribeExecution"),
    *identity("glue", "AWS Glue", "GetJob StartJobRun GetTables"),
    *identity("athena", "Amazon Athena", "StartQueryExecution GetQueryResults"),
    *identity("rds", "Amazon RDS", "DescribeDBInstances CreateDBSnapshot ModifyDBInstance"),
    *identity("autoscaling", "Amazon EC2 Auto Scaling", "DescribeAutoScalingGroups UpdateAutoScalingGroup"),
    *identity("config", "AWS Config", "PutConfigRule DescribeConfigRules"),
    *identity("guardduty", "Amazon GuardDuty", "ListDetectors GetFindings"),
    *identity("organizations", "AWS Organizations", "DescribeOrganization ListAccounts"),
    *identity("bedrock", "Amazon Bedrock", "InvokeModel ListFoundationModels"),
    *identity("codebuild", "AWS CodeBuild", "StartBuild BatchGetBuilds"),
    *identity("eks", "Amazon EKS", "DescribeCluster ListClusters"),
    *identity("kinesis", "Amazon Kinesis Data Streams", "PutRecord PutRecords GetRecords"),
    *identity("firehose", "Amazon Data Firehose", "PutRecordBatch"),
    *identity("ses", "Amazon SES", "SendEmail SendRawEmail"),
    *identity("cognito-idp", "Amazon Cognito user pools", "AdminCreateUser ListUserPools"),
    *identity("access-analyzer", "IAM Access Analyzer", "ListAnalyzers StartPolicyGeneration"),
    *identity("ssmmessages", "Session Manager messages", "CreateControlChannel OpenDataChannel"),
    *identity(
        "s3",
        "Amazon S3",
        "GetObject PutObject DeleteObject GetBucketPolicy PutBucketPolicy "
        "GetBucketLocation CreateBucket DeleteBucket PutBucketVersioning GetBucketVersioning "
        "PutObjectAcl GetObjectTagging AbortMultipartUpload RestoreObject PutBucketTagging",
    ),
    Case(
        "lambda",
        "GetFunction20150331v2",
        frozenset({"lambda:GetFunction"}),
        "SAR AWS Lambda: GetFunction; CloudTrail appends the API version (Lambda CloudTrail docs)",
    ),
    Case("lambda", "ListFunctions20150331", frozenset({"lambda:ListFunctions"}), "SAR AWS Lambda: ListFunctions"),
    Case(
        "lambda",
        "UpdateFunctionCode20150331v2",
        frozenset({"lambda:UpdateFunctionCode"}),
        "SAR AWS Lambda: UpdateFunctionCode",
    ),
    Case("lambda", "AddPermission20150331v2", frozenset({"lambda:AddPermission"}), "SAR AWS Lambda: AddPermission"),
    Case("lambda", "DeleteFunction20150331", frozenset({"lambda:DeleteFunction"}), "SAR AWS Lambda: DeleteFunction"),
    Case("lambda", "PublishVersion20150331", frozenset({"lambda:PublishVersion"}), "SAR AWS Lambda: PublishVersion"),
    Case(
        "lambda",
        "CreateEventSourceMapping20150331",
        frozenset({"lambda:CreateEventSourceMapping"}),
        "SAR AWS Lambda: CreateEventSourceMapping",
    ),
    Case("lambda", "ListTags20170331", frozenset({"lambda:ListTags"}), "SAR AWS Lambda: ListTags"),
    Case(
        "cloudfront",
        "UpdateDistribution2016_11_25",
        frozenset({"cloudfront:UpdateDistribution"}),
        "SAR Amazon CloudFront: UpdateDistribution; CloudTrail appends the API date",
    ),
    Case(
        "cloudfront",
        "GetDistribution2020_05_31",
        frozenset({"cloudfront:GetDistribution"}),
        "SAR Amazon CloudFront: GetDistribution",
    ),
    *renamed(
        "s3",
        "Amazon S3",
        "ListObjects=ListBucket ListObjectsV2=ListBucket HeadBucket=ListBucket "
        "ListObjectVersions=ListBucketVersions HeadObject=GetObject ListBuckets=ListAllMyBuckets "
        "ListMultipartUploads=ListBucketMultipartUploads ListParts=ListMultipartUploadParts "
        "CreateMultipartUpload=PutObject UploadPart=PutObject CompleteMultipartUpload=PutObject "
        "DeleteObjects=DeleteObject SelectObjectContent=GetObject GetBucketEncryption=GetEncryptionConfiguration "
        "PutBucketEncryption=PutEncryptionConfiguration DeleteBucketEncryption=PutEncryptionConfiguration "
        "GetBucketLifecycle=GetLifecycleConfiguration GetBucketLifecycleConfiguration=GetLifecycleConfiguration "
        "PutBucketLifecycle=PutLifecycleConfiguration "
        "PutBucketLifecycleConfiguration=PutLifecycleConfiguration "
        "DeleteBucketLifecycle=PutLifecycleConfiguration "
        "GetBucketNotificationConfiguration=GetBucketNotification "
        "PutBucketNotificationConfiguration=PutBucketNotification GetBucketCors=GetBucketCORS "
        "PutBucketCors=PutBucketCORS DeleteBucketCors=PutBucketCORS "
        "GetBucketReplication=GetReplicationConfiguration PutBucketReplication=PutReplicationConfiguration "
        "DeleteBucketReplication=PutReplicationConfiguration DeleteBucketTagging=PutBucketTagging "
        "DeleteBucketPublicAccessBlock=PutBucketPublicAccessBlock "
        "DeleteBucketOwnershipControls=PutBucketOwnershipControls "
        "GetBucketAccelerateConfiguration=GetAccelerateConfiguration "
        "PutBucketAccelerateConfiguration=PutAccelerateConfiguration "
        "GetBucketAnalyticsConfiguration=GetAnalyticsConfiguration "
        "ListBucketAnalyticsConfigurations=GetAnalyticsConfiguration "
        "PutBucketAnalyticsConfiguration=PutAnalyticsConfiguration "
        "GetBucketInventoryConfiguration=GetInventoryConfiguration "
        "ListBucketInventoryConfigurations=GetInventoryConfiguration "
        "PutBucketInventoryConfiguration=PutInventoryConfiguration "
        "GetBucketMetricsConfiguration=GetMetricsConfiguration "
        "PutBucketMetricsConfiguration=PutMetricsConfiguration "
        "GetBucketIntelligentTieringConfiguration=GetIntelligentTieringConfiguration "
        "GetObjectLockConfiguration=GetBucketObjectLockConfiguration "
        "PutObjectLockConfiguration=PutBucketObjectLockConfiguration",
    ),
    *renamed("lambda", "AWS Lambda", "Invoke=InvokeFunction InvokeWithResponseStream=InvokeFunction"),
    *renamed(
        "sqs",
        "Amazon SQS",
        "SendMessageBatch=SendMessage DeleteMessageBatch=DeleteMessage "
        "ChangeMessageVisibilityBatch=ChangeMessageVisibility",
    ),
    *renamed("sns", "Amazon SNS", "PublishBatch=Publish"),
    *renamed("bedrock", "Amazon Bedrock", "Converse=InvokeModel ConverseStream=InvokeModelWithResponseStream"),
    *renamed("bedrock-runtime", "Amazon Bedrock (runtime endpoint)", "InvokeModel=InvokeModel", prefix="bedrock"),
    *renamed(
        "ssm",
        "Session Manager",
        "OpenControlChannel=ssmmessages:OpenControlChannel CreateDataChannel=ssmmessages:CreateDataChannel",
    ),
    *renamed("s3express", "Amazon S3 Express", "ListDirectoryBuckets=ListAllMyDirectoryBuckets"),
    *renamed(
        "cloudcontrolapi",
        "AWS Cloud Control API (IAM prefix cloudformation)",
        "GetResource=GetResource ListResources=ListResources",
        prefix="cloudformation",
    ),
    *renamed("api.ecr", "Amazon ECR (api endpoint)", "GetAuthorizationToken=GetAuthorizationToken", prefix="ecr"),
    *renamed(
        "streams.dynamodb", "DynamoDB Streams", "GetRecords=GetRecords DescribeStream=DescribeStream", prefix="dynamodb"
    ),
    *renamed("appstream2", "Amazon AppStream 2.0", "DescribeFleets=DescribeFleets", prefix="appstream"),
    *renamed("runtime.sagemaker", "Amazon SageMaker runtime", "InvokeEndpoint=InvokeEndpoint", prefix="sagemaker"),
    # Context rules.
    Case(
        "s3",
        "GetObject",
        frozenset({"s3:GetObjectVersion"}),
        "SAR Amazon S3: GetObjectVersion authorizes reading a specific version",
        params={"bucketName": "b", "key": "k", "versionId": "3HL4kqtJ"},
        arns={"s3:GetObjectVersion": ("arn:aws:s3:::b/k",)},
    ),
    Case(
        "s3",
        "HeadObject",
        frozenset({"s3:GetObjectVersion"}),
        "S3 API reference HeadObject: with versionId, s3:GetObjectVersion",
        params={"bucketName": "b", "key": "k", "versionId": "v"},
    ),
    Case(
        "s3",
        "DeleteObject",
        frozenset({"s3:DeleteObjectVersion"}),
        "SAR Amazon S3: DeleteObjectVersion authorizes deleting a specific version",
        params={"bucketName": "b", "key": "k", "versionId": "v"},
    ),
    Case(
        "s3",
        "GetObjectTagging",
        frozenset({"s3:GetObjectVersionTagging"}),
        "SAR Amazon S3: GetObjectVersionTagging for a specific version",
        params={"bucketName": "b", "key": "k", "versionId": "v"},
    ),
    Case(
        "s3",
        "PutObjectAcl",
        frozenset({"s3:PutObjectVersionAcl"}),
        "SAR Amazon S3: PutObjectVersionAcl for a specific version",
        params={"bucketName": "b", "key": "k", "versionId": "v"},
    ),
    Case(
        "s3",
        "CopyObject",
        frozenset({"s3:GetObject", "s3:PutObject"}),
        "S3 API reference CopyObject: s3:GetObject on the source, s3:PutObject on the target",
        params={"bucketName": "dst", "key": "out/a", "x-amz-copy-source": "src/in/a"},
        arns={"s3:GetObject": ("arn:aws:s3:::src/in/a",), "s3:PutObject": ("arn:aws:s3:::dst/out/a",)},
    ),
    Case(
        "s3",
        "CopyObject",
        frozenset({"s3:GetObjectVersion", "s3:PutObject"}),
        "S3 API reference CopyObject: a versioned source needs s3:GetObjectVersion",
        params={"bucketName": "dst", "key": "a", "x-amz-copy-source": "/src/a%20b?versionId=12"},
        arns={"s3:GetObjectVersion": ("arn:aws:s3:::src/a b",)},
    ),
    Case(
        "s3",
        "UploadPartCopy",
        frozenset({"s3:GetObject", "s3:PutObject"}),
        "SAR Amazon S3: UploadPartCopy, source read and target write",
        params={"bucketName": "dst", "key": "a", "x-amz-copy-source": "src/a"},
    ),
    Case(
        "dynamodb",
        "TransactWriteItems",
        frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}),
        "DynamoDB developer guide, IAM with transactions: each item needs its own action",
        params={
            "transactItems": [
                {"put": {"tableName": "orders"}},
                {"update": {"tableName": "stock"}},
                {"conditionCheck": {"tableName": "users"}},
            ]
        },
        arns={"dynamodb:PutItem": (f"arn:aws:dynamodb:us-east-1:{A}:table/orders",)},
    ),
    Case(
        "dynamodb",
        "TransactGetItems",
        frozenset({"dynamodb:GetItem"}),
        "DynamoDB developer guide, IAM with transactions: TransactGetItems needs GetItem per item",
        params={"transactItems": [{"get": {"tableName": "orders"}}]},
    ),
    Case(
        "kms",
        "ReEncrypt",
        frozenset({"kms:ReEncryptFrom", "kms:ReEncryptTo"}),
        "SAR AWS KMS: ReEncrypt is authorized by ReEncryptFrom (source key) and ReEncryptTo (destination key)",
        params={"sourceKeyId": f"arn:aws:kms:us-east-1:{A}:key/k1", "destinationKeyId": "k2"},
        arns={
            "kms:ReEncryptFrom": (f"arn:aws:kms:us-east-1:{A}:key/k1",),
            "kms:ReEncryptTo": (f"arn:aws:kms:us-east-1:{A}:key/k2",),
        },
    ),
    Case(
        "apigateway",
        "GetRestApis",
        frozenset({"apigateway:GET"}),
        "API Gateway: management actions are HTTP verbs on resource paths (SAR Amazon API Gateway Management)",
        arns={"apigateway:GET": ("arn:aws:apigateway:us-east-1::/restapis",)},
    ),
    Case(
        "apigateway",
        "CreateDeployment",
        frozenset({"apigateway:POST"}),
        "API Gateway: POST on /restapis/{id}/deployments",
        params={"restApiId": "a1b2"},
        arns={"apigateway:POST": ("arn:aws:apigateway:us-east-1::/restapis/a1b2/deployments",)},
    ),
    Case(
        "apigateway",
        "DeleteRestApi",
        frozenset({"apigateway:DELETE"}),
        "API Gateway: DELETE on /restapis/{id}",
        params={"restApiId": "a1b2"},
    ),
    Case("apigateway", "CreateRestApi", frozenset({"apigateway:POST"}), "API Gateway: POST on /restapis"),
    Case(
        "apigateway",
        "UpdateStage",
        frozenset({"apigateway:PATCH"}),
        "API Gateway: PATCH on /restapis/{id}/stages/{name}",
        params={"restApiId": "a1b2"},
    ),
    # iam:PassRole inferred from the role a service will assume.
    Case(
        "lambda",
        "CreateFunction20150331",
        frozenset({"lambda:CreateFunction", "iam:PassRole"}),
        "IAM user guide, passing a role: Lambda CreateFunction Role needs iam:PassRole",
        params={"functionName": "f", "role": f"arn:aws:iam::{A}:role/service-role/f-role"},
        arns={
            "iam:PassRole": (f"arn:aws:iam::{A}:role/service-role/f-role",),
            "lambda:CreateFunction": (f"arn:aws:lambda:us-east-1:{A}:function:f",),
        },
    ),
    Case(
        "lambda",
        "UpdateFunctionConfiguration20150331v2",
        frozenset({"lambda:UpdateFunctionConfiguration", "iam:PassRole"}),
        "IAM user guide, passing a role: a new execution role needs iam:PassRole",
        params={"functionName": "f", "role": f"arn:aws:iam::{A}:role/r2"},
    ),
    Case(
        "ec2",
        "RunInstances",
        frozenset({"ec2:RunInstances", "iam:PassRole"}),
        "EC2 user guide, IAM roles for instances: launching with an instance profile needs iam:PassRole",
        params={"iamInstanceProfile": {"arn": f"arn:aws:iam::{A}:instance-profile/web"}},
        # The profile, never role/*: policy generation resolves its role from the authorization snapshot.
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:instance-profile/web",)},
    ),
    Case(
        "ec2",
        "RunInstances",
        frozenset({"ec2:RunInstances"}),
        "SAR Amazon EC2: RunInstances without a profile",
        params={"instancesSet": {"items": [{"imageId": "ami-1"}]}},
    ),
    Case(
        "ecs",
        "RegisterTaskDefinition",
        frozenset({"ecs:RegisterTaskDefinition", "iam:PassRole"}),
        "ECS developer guide, task IAM role: registering task and execution roles needs iam:PassRole",
        params={"taskRoleArn": f"arn:aws:iam::{A}:role/task", "executionRoleArn": f"arn:aws:iam::{A}:role/exec"},
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/exec", f"arn:aws:iam::{A}:role/task")},
    ),
    Case(
        "cloudformation",
        "CreateStack",
        frozenset({"cloudformation:CreateStack", "iam:PassRole"}),
        "CloudFormation user guide, service role: passing RoleARN needs iam:PassRole",
        params={"stackName": "net", "roleARN": f"arn:aws:iam::{A}:role/cfn"},
    ),
    Case(
        "cloudformation",
        "UpdateStack",
        frozenset({"cloudformation:UpdateStack", "iam:PassRole"}),
        "CloudFormation user guide, service role",
        params={"stackName": "net", "roleARN": f"arn:aws:iam::{A}:role/cfn"},
    ),
    Case(
        "cloudformation",
        "CreateChangeSet",
        frozenset({"cloudformation:CreateChangeSet", "iam:PassRole"}),
        "CloudFormation user guide, service role",
        params={"stackName": "n", "roleARN": f"arn:aws:iam::{A}:role/cfn"},
    ),
    Case(
        "states",
        "CreateStateMachine",
        frozenset({"states:CreateStateMachine", "iam:PassRole"}),
        "Step Functions developer guide: the state machine role is passed",
        params={"name": "sm", "roleArn": f"arn:aws:iam::{A}:role/sfn"},
    ),
    Case(
        "glue",
        "CreateJob",
        frozenset({"glue:CreateJob", "iam:PassRole"}),
        "Glue developer guide: the job role is passed (a name or an ARN)",
        params={"name": "j", "role": "GlueJobRole"},
        # A bare name: the role of that name in the caller's account, whatever its path (names are unique).
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/GlueJobRole", f"arn:aws:iam::{A}:role/*/GlueJobRole")},
    ),
    Case(
        "codebuild",
        "CreateProject",
        frozenset({"codebuild:CreateProject", "iam:PassRole"}),
        "CodeBuild user guide: the project service role is passed",
        params={"name": "p", "serviceRole": f"arn:aws:iam::{A}:role/cb"},
    ),
    Case(
        "sagemaker",
        "CreateTrainingJob",
        frozenset({"sagemaker:CreateTrainingJob", "iam:PassRole"}),
        "SageMaker developer guide: the execution role is passed",
        params={"roleArn": f"arn:aws:iam::{A}:role/sm"},
    ),
    Case(
        "eks",
        "CreateCluster",
        frozenset({"eks:CreateCluster", "iam:PassRole"}),
        "EKS user guide: the cluster role is passed",
        params={"name": "c", "roleArn": f"arn:aws:iam::{A}:role/eks"},
    ),
    Case(
        "eks",
        "CreateNodegroup",
        frozenset({"eks:CreateNodegroup", "iam:PassRole"}),
        "EKS user guide: the node role is passed",
        params={"nodeRole": f"arn:aws:iam::{A}:role/node"},
    ),
    # iam:PassRole from a role nested in the request (paths generated from botocore's input shapes).
    Case(
        "ecs",
        "RunTask",
        frozenset({"ecs:RunTask", "iam:PassRole"}),
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html (overriding the task role "
        "needs iam:PassRole); botocore ecs TaskOverride.taskRoleArn/executionRoleArn; SAR ecs RunTask lists "
        "iam:PassRole",
        params={
            "cluster": "c",
            "taskDefinition": "td:3",
            "overrides": {
                "containerOverrides": [{"name": "app"}],
                "taskRoleArn": f"arn:aws:iam::{A}:role/task-override",
                "executionRoleArn": f"arn:aws:iam::{A}:role/exec-override",
            },
        },
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/exec-override", f"arn:aws:iam::{A}:role/task-override")},
    ),
    Case(
        "events",
        "PutTargets",
        frozenset({"events:PutTargets", "iam:PassRole"}),
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-identity-based.html (a target's RoleArn "
        "needs iam:PassRole); botocore events Target.RoleArn; SAR events PutTargets lists iam:PassRole",
        params={
            "rule": "nightly",
            "targets": [
                {
                    "id": "1",
                    "arn": f"arn:aws:states:us-east-1:{A}:stateMachine:sm",
                    "roleArn": f"arn:aws:iam::{A}:role/ev",
                },
                {"id": "2", "arn": f"arn:aws:sqs:us-east-1:{A}:q"},
            ],
        },
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/ev",)},
    ),
    Case(
        "codepipeline",
        "CreatePipeline",
        frozenset({"codepipeline:CreatePipeline", "iam:PassRole"}),
        "https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html (the pipeline's and an "
        "action's role are passed); botocore codepipeline PipelineDeclaration.roleArn, ActionDeclaration.roleArn",
        params={
            "pipeline": {
                "name": "p",
                "roleArn": f"arn:aws:iam::{A}:role/pipeline",
                "stages": [
                    {"name": "Source", "actions": [{"name": "s", "roleArn": f"arn:aws:iam::{A}:role/action"}]},
                    {"name": "Build", "actions": [{"name": "b"}]},
                ],
            }
        },
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/action", f"arn:aws:iam::{A}:role/pipeline")},
    ),
    Case(
        "scheduler",
        "CreateSchedule",
        frozenset({"scheduler:CreateSchedule", "iam:PassRole"}),
        "https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html (the execution role is passed); "
        "botocore scheduler Target.RoleArn; SAR scheduler CreateSchedule lists iam:PassRole",
        params={
            "name": "s",
            "target": {"arn": f"arn:aws:lambda:us-east-1:{A}:function:f", "roleArn": f"arn:aws:iam::{A}:role/sched"},
        },
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/sched",)},
    ),
    Case(
        "s3",
        "CreateJob",
        frozenset({"s3:CreateJob", "iam:PassRole"}),
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html (creating a job "
        "needs iam:PassRole on its role; the SAR row omits it); botocore s3control CreateJobRequest.RoleArn",
        params={"CreateJobRequest": {"Priority": "10", "RoleArn": f"arn:aws:iam::{A}:role/batch-ops"}},
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/batch-ops",)},
    ),
    Case(
        "rds",
        "CreateDBInstance",
        frozenset({"rds:CreateDBInstance", "iam:PassRole"}),
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html (Enhanced "
        "Monitoring's role is passed); botocore rds CreateDBInstanceMessage.MonitoringRoleArn",
        params={"dBInstanceIdentifier": "db1", "monitoringRoleArn": f"arn:aws:iam::{A}:role/rds-monitoring-role"},
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/rds-monitoring-role",)},
    ),
    Case(
        "datasync",
        "CreateLocationS3",
        frozenset({"datasync:CreateLocationS3", "iam:PassRole"}),
        "https://docs.aws.amazon.com/datasync/latest/userguide/create-s3-location.html (the bucket access role "
        "is passed); botocore datasync S3Config.BucketAccessRoleArn; SAR lists iam:PassRole",
        params={"s3BucketArn": "arn:aws:s3:::b", "s3Config": {"bucketAccessRoleArn": f"arn:aws:iam::{A}:role/ds"}},
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/ds",)},
    ),
    Case(
        "amplify",
        "CreateApp",
        frozenset({"amplify:CreateApp", "iam:PassRole"}),
        "https://docs.aws.amazon.com/amplify/latest/userguide/amplify-SSR-compute-role.html (the compute role is "
        "passed); botocore amplify CreateAppRequest.computeRoleArn; SAR amplify CreateApp lists iam:PassRole",
        params={"name": "web", "computeRoleArn": f"arn:aws:iam::{A}:role/ssr"},
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/ssr",)},
    ),
    Case(
        "access-analyzer",
        "StartPolicyGeneration",
        frozenset({"access-analyzer:StartPolicyGeneration", "iam:PassRole"}),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html (the service role "
        "that reads the trail is passed; principalArn is the identity analysed, not passed); botocore "
        "accessanalyzer CloudTrailDetails.accessRole; SAR lists iam:PassRole",
        params={
            "policyGenerationDetails": {"principalArn": f"arn:aws:iam::{A}:role/analysed"},
            "cloudTrailDetails": {"accessRole": f"arn:aws:iam::{A}:role/service-role/aa-trail", "trails": []},
        },
        arns={"iam:PassRole": (f"arn:aws:iam::{A}:role/service-role/aa-trail",)},
    ),
    Case(
        "access-analyzer",
        "StartPolicyGeneration",
        frozenset({"access-analyzer:StartPolicyGeneration"}),
        "IAM user guide, Access Analyzer policy generation: policyGenerationDetails.principalArn names the identity "
        "whose activity is analysed; nothing is passed without cloudTrailDetails",
        params={"policyGenerationDetails": {"principalArn": f"arn:aws:iam::{A}:role/analysed"}},
    ),
    Case(
        "iam",
        "CreateRole",
        frozenset({"iam:CreateRole"}),
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html: iam:CreateRole's RoleName "
        "creates the role, it hands it to no service (IAM is excluded from the PassRole table)",
        params={"roleName": "new-role", "assumeRolePolicyDocument": "{}"},
    ),
    Case(
        "sts",
        "AssumeRole",
        frozenset({"sts:AssumeRole"}),
        "STS API reference AssumeRole: the caller assumes RoleArn itself (sts:AssumeRole), it passes no role",
        params={"roleArn": f"arn:aws:iam::{A}:role/target", "roleSessionName": "s"},
    ),
    # Resources.
    Case(
        "sqs",
        "SendMessage",
        frozenset({"sqs:SendMessage"}),
        "SAR Amazon SQS: SendMessage on queue",
        params={"queueUrl": "https://sqs.eu-west-1.amazonaws.com/444455556666/jobs"},
        arns={"sqs:SendMessage": ("arn:aws:sqs:eu-west-1:444455556666:jobs",)},
    ),
    Case(
        "secretsmanager",
        "GetSecretValue",
        frozenset({"secretsmanager:GetSecretValue"}),
        "Secrets Manager user guide: secret ARNs end in a 6-character random suffix",
        params={"secretId": "prod/db"},
        arns={"secretsmanager:GetSecretValue": (f"arn:aws:secretsmanager:us-east-1:{A}:secret:prod/db-??????",)},
    ),
    Case(
        "ssm",
        "GetParameter",
        frozenset({"ssm:GetParameter"}),
        "SAR AWS Systems Manager: parameter ARN",
        params={"name": "/app/db-url"},
        arns={"ssm:GetParameter": (f"arn:aws:ssm:us-east-1:{A}:parameter/app/db-url",)},
    ),
    Case(
        "dynamodb",
        "GetItem",
        frozenset({"dynamodb:GetItem"}),
        "SAR Amazon DynamoDB: table ARN",
        params={"tableName": "orders", "key": {"pk": {"S": "1"}}},
        arns={"dynamodb:GetItem": (f"arn:aws:dynamodb:us-east-1:{A}:table/orders",)},
    ),
    Case(
        "kms",
        "Decrypt",
        frozenset({"kms:Decrypt"}),
        "SAR AWS KMS: key ARN from resources[]",
        resources=[{"type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{A}:key/abc"}],
        arns={"kms:Decrypt": (f"arn:aws:kms:us-east-1:{A}:key/abc",)},
    ),
    Case(
        "s3",
        "ListObjects",
        frozenset({"s3:ListBucket"}),
        "SAR Amazon S3: ListBucket on the bucket",
        params={"bucketName": "logs", "prefix": "a/"},
        arns={"s3:ListBucket": ("arn:aws:s3:::logs",)},
    ),
    Case(
        "ec2",
        "DescribeInstances",
        frozenset({"ec2:DescribeInstances"}),
        "SAR Amazon EC2: DescribeInstances supports no resource-level permission",
        arns={"ec2:DescribeInstances": ("*",)},
    ),
    Case(
        "lambda",
        "Invoke",
        frozenset({"lambda:InvokeFunction"}),
        "SAR AWS Lambda: function ARN (data event)",
        params={"functionName": f"arn:aws:lambda:us-east-1:{A}:function:f"},
        arns={"lambda:InvokeFunction": (f"arn:aws:lambda:us-east-1:{A}:function:f",)},
    ),
    Case(
        "logs",
        "CreateLogStream",
        frozenset({"logs:CreateLogStream"}),
        "SAR CloudWatch Logs: log-group ARN",
        params={"logGroupName": "/aws/lambda/f", "logStreamName": "s"},
    ),
    Case(
        "iam",
        "GetRole",
        frozenset({"iam:GetRole"}),
        "SAR IAM: role ARN",
        params={"roleName": "web"},
        arns={"iam:GetRole": (f"arn:aws:iam::{A}:role/web",)},
    ),
    # Operations whose action depends on the request body.
    Case(
        "dynamodb",
        "ExecuteStatement",
        frozenset({"dynamodb:PartiQLSelect"}),
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html: a SELECT statement is "
        "authorized by dynamodb:PartiQLSelect on the table it names",
        params={"statement": 'SELECT * FROM "orders" WHERE pk = ?'},
        arns={"dynamodb:PartiQLSelect": (f"arn:aws:dynamodb:us-east-1:{A}:table/orders",)},
    ),
    Case(
        "dynamodb",
        "ExecuteStatement",
        frozenset({"dynamodb:PartiQLSelect"}),
        'DynamoDB developer guide, PartiQL select statements: a SELECT on an index ("table"."index") is '
        "authorized on the index",
        params={"statement": 'select id from "orders"."by-customer" where customer = \'c1\''},
        arns={"dynamodb:PartiQLSelect": (f"arn:aws:dynamodb:us-east-1:{A}:table/orders/index/by-customer",)},
    ),
    Case(
        "dynamodb",
        "ExecuteStatement",
        frozenset({"dynamodb:PartiQLUpdate"}),
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html: UPDATE needs "
        "dynamodb:PartiQLUpdate (a quoted name keeps its case and doubled quotes)",
        params={"statement": 'UPDATE "Order""s" SET status = \'shipped\' WHERE pk = 1'},
        arns={"dynamodb:PartiQLUpdate": (f'arn:aws:dynamodb:us-east-1:{A}:table/Order"s',)},
    ),
    Case(
        "dynamodb",
        "BatchExecuteStatement",
        frozenset({"dynamodb:PartiQLInsert", "dynamodb:PartiQLDelete"}),
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html: each statement of a batch "
        "is authorized by its own verb's action on its table",
        params={
            "statements": [
                {"statement": "INSERT INTO audit VALUE {'pk': ?}"},
                {"statement": 'DELETE FROM "sessions" WHERE pk = ?'},
            ]
        },
        arns={
            "dynamodb:PartiQLInsert": (f"arn:aws:dynamodb:us-east-1:{A}:table/audit",),
            "dynamodb:PartiQLDelete": (f"arn:aws:dynamodb:us-east-1:{A}:table/sessions",),
        },
    ),
    Case(
        "dynamodb",
        "ExecuteTransaction",
        frozenset({"dynamodb:PartiQLSelect", "dynamodb:PartiQLUpdate"}),
        "DynamoDB developer guide, PartiQL transactions: EXISTS(SELECT …) is a condition check read with "
        "PartiQLSelect; the UPDATE needs PartiQLUpdate",
        params={
            "transactStatements": [
                {"statement": 'EXISTS(SELECT * FROM "stock" WHERE sku = ? AND qty > 0)'},
                {"statement": 'UPDATE "stock" SET qty = qty - 1 WHERE sku = ?'},
            ]
        },
        arns={
            "dynamodb:PartiQLSelect": (f"arn:aws:dynamodb:us-east-1:{A}:table/stock",),
            "dynamodb:PartiQLUpdate": (f"arn:aws:dynamodb:us-east-1:{A}:table/stock",),
        },
    ),
    Case(
        "dynamodb",
        "ExecuteStatement",
        frozenset(
            {"dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
        ),
        "SAR Amazon DynamoDB: ExecuteStatement is authorized by the four PartiQL actions; without the statement "
        "any of them is possible",
    ),
    Case(
        "s3",
        "GetObjectAttributes",
        frozenset({"s3:GetObject", "s3:GetObjectAttributes"}),
        "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html, Permissions: "
        "s3:GetObject and s3:GetObjectAttributes when the bucket is not versioned",
        params={"bucketName": "b", "key": "k"},
        arns={"s3:GetObjectAttributes": ("arn:aws:s3:::b/k",), "s3:GetObject": ("arn:aws:s3:::b/k",)},
    ),
    Case(
        "s3",
        "GetObjectAttributes",
        frozenset({"s3:GetObjectVersion", "s3:GetObjectVersionAttributes"}),
        "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html, Permissions: "
        "s3:GetObjectVersion and s3:GetObjectVersionAttributes for a version",
        params={"bucketName": "b", "key": "k", "versionId": "3HL4kqt"},
    ),
    *identity("signin", "AWS Sign-In", "CreateOAuth2Token AuthorizeOAuth2Access GetResourcePolicy"),
    *renamed(
        "signin",
        "AWS Sign-In",
        "CreateOAuth2TokenWithIAM=CreateOAuth2Token IntrospectOAuth2TokenWithIAM=IntrospectOAuth2Token "
        "RevokeOAuth2TokenWithIAM=RevokeOAuth2Token",
    ),
    Case(
        "signin",
        "GetSigninToken",
        frozenset(),
        "IAM user guide, custom identity broker console access: the federation endpoint's getSigninToken needs "
        "no IAM action",
        status="no_permission",
    ),
    *identity(
        "apigateway",
        "Amazon API Gateway Management",
        "CreatePortal GetPortal ListPortals DeletePortal PublishPortal CreatePortalProduct UpdatePortalProduct "
        "CreateProductPage CreateRoutingRule GetRoutingRule DeleteRoutingRule ListRoutingRules",
    ),
    *renamed(
        "apigateway",
        "Amazon API Gateway Management",
        "PutRoutingRule=UpdateRoutingRule RejectDomainNameAccessAssociation=RejectAccessAssociation",
    ),
    *renamed(
        "glue",
        "AWS Glue",
        "GetColumnStatisticsForTable=GetTable UpdateColumnStatisticsForTable=UpdateTable "
        "DeleteColumnStatisticsForTable=UpdateTable GetColumnStatisticsForPartition=GetPartition "
        "UpdateColumnStatisticsForPartition=UpdatePartition DeleteColumnStatisticsForPartition=UpdatePartition "
        "CreatePartitionIndex=UpdateTable DeletePartitionIndex=UpdateTable",
    ),
    # No permission needed.
    Case(
        "sts",
        "GetCallerIdentity",
        frozenset(),
        "STS API reference: no permissions are required",
        status="no_permission",
    ),
    Case(
        "signin",
        "ConsoleLogin",
        frozenset(),
        "CloudTrail sign-in events: not an IAM-authorized call",
        status="no_permission",
    ),
    Case("signin", "SwitchRole", frozenset(), "CloudTrail sign-in events", status="no_permission"),
    Case("sso", "Authenticate", frozenset(), "IAM Identity Center: access portal sign-in", status="no_permission"),
    Case(
        "portal.sso",
        "GetRoleCredentials",
        frozenset(),
        "IAM Identity Center portal API: bearer token",
        status="no_permission",
    ),
    # Unmapped: never guessed.
    Case("example", "DoThing", frozenset(), "no IAM service has this prefix", status="unmapped"),
    Case("ec2", "PutBucketVersioning", frozenset(), "not an EC2 action", status="unmapped"),
    Case("iam", "NotCreateUser", frozenset(), "not an IAM action", status="unmapped"),
    Case("lambda", "Invoke2099", frozenset(), "Invoke2099 is not an operation", status="unmapped"),
]

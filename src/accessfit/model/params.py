"""The one table of request parameters that name a resource: the decoder, the identifier and the mapping
derive their views from it."""

from __future__ import annotations

from dataclasses import dataclass

# How the identifier reads a request parameter's value (RequestParam.read).
SCALAR = "scalar"  # one string or number; kept only if an earlier parameter did not set the same field
LIST = "list"  # one string or number, or a list of them (kept sorted and bounded)
PROFILE = "profile"  # an instance profile: its `arn`, else its `name`, else the value itself
INSTANCES = "instancesSet"  # EC2's {"items": [{"instanceId": …}, …]}: the instance ids
REQUEST_ITEMS = "requestItems"  # DynamoDB batches, {table: …}: the table names
TRANSACT_ITEMS = "transactItems"  # DynamoDB transactions: `operation:table` per item (the action differs per item)
PRESENCE = "presence"  # only whether the request set it, stored as "*"
PARTIQL = "partiql"  # DynamoDB PartiQL statement(s): `verb:table` each, never the statement (records.partiql)


@dataclass(frozen=True, slots=True)
class RequestParam:
    """One request parameter that names a resource: how CloudTrail spells it, the identifier field it is stored
    under, how its value is read, and what the mapping does with it."""

    cloudtrail: str
    stored: str
    read: str
    arn: bool = False  # a value may be a full ARN: the mapping matches it against the action's ARN templates
    variable: str = ""  # the ARN template variable its other values fill (`BucketName` for `${BucketName}`)


# The one list of the request parameters accessfit reads. The decoder's struct, the identifier's fields and the
# mapping's ARN values are all derived from it. Parameters are read in this order: where two store one field, a
# SCALAR spelling only fills it when still unset, any other read sets it.
REQUEST_PARAMS: tuple[RequestParam, ...] = (
    RequestParam("bucketName", "bucketName", LIST, variable="BucketName"),
    RequestParam("key", "key", LIST, variable="ObjectName"),
    RequestParam("Key", "key", SCALAR),  # S3 on Outposts
    RequestParam("versionId", "versionId", PRESENCE),
    RequestParam("x-amz-copy-source", "copySource", SCALAR),
    RequestParam("functionName", "functionName", LIST, arn=True, variable="FunctionName"),
    RequestParam("qualifier", "qualifier", LIST),
    RequestParam("role", "role", LIST),
    RequestParam("roleArn", "roleArn", LIST, arn=True),
    RequestParam("roleARN", "roleArn", SCALAR),
    RequestParam("roleName", "roleName", LIST, variable="RoleNameWithPath"),
    RequestParam("userName", "userName", LIST, variable="UserNameWithPath"),
    RequestParam("groupName", "groupName", LIST, variable="GroupNameWithPath"),
    RequestParam("policyArn", "policyArn", LIST, arn=True),
    RequestParam("instanceProfileName", "instanceProfileName", LIST, variable="InstanceProfileNameWithPath"),
    RequestParam("iamInstanceProfile", "iamInstanceProfile", PROFILE),
    RequestParam("taskRoleArn", "taskRoleArn", LIST),
    RequestParam("executionRoleArn", "executionRoleArn", LIST),
    RequestParam("serviceRole", "serviceRole", LIST),
    RequestParam("tableName", "tableName", LIST, arn=True, variable="TableName"),
    RequestParam("requestItems", "tableNames", REQUEST_ITEMS, arn=True, variable="TableName"),
    RequestParam("transactItems", "transactItems", TRANSACT_ITEMS),
    RequestParam("queueUrl", "queueUrl", LIST, variable="QueueName"),
    RequestParam("topicArn", "topicArn", LIST, arn=True),
    RequestParam("targetArn", "targetArn", LIST, arn=True),
    RequestParam("keyId", "keyId", LIST, arn=True, variable="KeyId"),
    RequestParam("secretId", "secretId", LIST, arn=True, variable="SecretId"),
    RequestParam("name", "name", LIST, variable="ParameterNameWithoutLeadingSlash"),
    RequestParam("logGroupName", "logGroupName", LIST, variable="LogGroupName"),
    RequestParam("repositoryName", "repositoryName", LIST, variable="RepositoryName"),
    RequestParam("stackName", "stackName", LIST, arn=True, variable="StackName"),
    RequestParam("stateMachineArn", "stateMachineArn", LIST, arn=True),
    RequestParam("clusterName", "clusterName", LIST, arn=True, variable="ClusterName"),
    RequestParam("cluster", "cluster", LIST, arn=True, variable="ClusterName"),
    RequestParam("instancesSet", "instanceId", INSTANCES),
    RequestParam("instanceId", "instanceId", LIST, variable="InstanceId"),
    RequestParam("resourceArn", "resourceArn", LIST, arn=True),
    RequestParam("sourceKeyId", "sourceKeyId", LIST),
    RequestParam("destinationKeyId", "destinationKeyId", LIST),
    RequestParam("nodeRole", "nodeRole", LIST),
    RequestParam("restApiId", "restApiId", LIST),
    RequestParam("apiId", "apiId", LIST),
    RequestParam("modelId", "modelId", LIST, arn=True),
    # DynamoDB PartiQL: ExecuteStatement's statement, BatchExecuteStatement's and ExecuteTransaction's lists of
    # {statement}: the action is the statement's verb, on the table it names.
    RequestParam("statement", "partiql", PARTIQL),
    RequestParam("statements", "partiql", PARTIQL),
    RequestParam("transactStatements", "partiql", PARTIQL),
    # Whether a create call sent tags: it then needs the service's tagging action too (accessfit.policy.required).
    RequestParam("tagSpecificationSet", "tags", PRESENCE),  # EC2's TagSpecifications, as CloudTrail spells it
    RequestParam("tags", "tags", PRESENCE),
    RequestParam("Tags", "tags", PRESENCE),
)

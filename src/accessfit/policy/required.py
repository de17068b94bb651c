"""What a call needs besides the resources it named: one resource of each type the catalog marks required for the
action, the model a Bedrock invocation names, and the tagging action a create call that sends tags needs. Pure.

- **Required types.** IAM denies a request unless every resource in its context is allowed; the Service
  Authorization Reference marks with `*` the types present in every request of an action (SAR, "Actions, resources,
  and condition keys": "the resource types marked required must be in the request"). So `ec2:CreateImage` on the
  instance alone is denied: it also needs the `image` and `snapshot` it creates (EC2 user guide, "Example policies
  for working with AMIs"). A type the call named keeps its ARN; a type it did not name (a resource the call
  creates) is the type's ARN template with the partition, region and account of the call and of the named ARNs,
  and every other variable, the resource id, as `*`. A type whose ARN has no variable of its own (Bedrock's
  `marketplace/model-endpoint/all-access`) is a fixed resource: named only when the call targets it. Actions on
  one resource of several possible types (tagging actions, Bedrock invocations) need only the one named.
- **Bedrock models.** `InvokeModel`/`Converse` (and their streaming forms) name a `modelId`: a foundation model id
  (`foundation-model/<id>` in the call's region), a cross-Region inference profile id (`us.`, `eu.`, `apac.`,
  `global.` …: the `inference-profile/<id>` in the call's region and account, and the foundation model in every
  destination Region of the geography), or an ARN (kept). Bedrock user guide, "Geographic cross-Region inference"
  (IAM policy requirements: the profile, the model in the source Region and in all destination Regions) and
  "Supported Regions and models for inference profiles" (destination Regions per geography; global profiles route
  to every commercial Region). The destination lists differ per model and grow, so a geography is granted as its
  Region prefix (`us-*` holds us-east-1, us-east-2, us-west-1, us-west-2; `eu-*` the EU Regions; `ap-*` the APAC
  ones), within the partition: never another partition's Regions.
- **Tags on create.** A create call that sends tags (EC2 `TagSpecifications`, `Tags`/`tags` elsewhere) is also
  authorized for the service's tagging action on the new resource (EC2 user guide, "Grant permission to tag Amazon
  EC2 resources during creation": `ec2:CreateTags`, with the condition `ec2:CreateAction` in practice; Lambda
  developer guide, "Using tags with Lambda": CreateFunction with tags needs `lambda:TagResource`; SQS developer
  guide, "Amazon SQS cost allocation tags": `sqs:TagQueue`; CloudWatch Logs API reference, CreateLogGroup: "you must
  have the logs:CreateLogGroup and logs:TagResource permissions"; SNS API reference, CreateTopic: `sns:TagResource`;
  KMS API reference, CreateKey: "To use the Tags parameter, you must have kms:TagResource permission"; IAM user
  guide, "Permissions required to tag IAM entities": `iam:Tag<Entity>`). Only for actions the catalog lets tag on
  create (condition key `aws:RequestTag/${TagKey}` or `aws:TagKeys`, or EC2's `ec2:CreateAction` on CreateTags).
"""

from __future__ import annotations

import re
from functools import lru_cache

from accessfit.iam.catalog import Catalog, ResourceType
from accessfit.iam.mapping import ActionUse, ArnValues, Context
from accessfit.iam.patterns import template_regex
from accessfit.model import ResourceRef

_VARIABLE = re.compile(r"\$\{(\w+)\}")
_NO_REF = ResourceRef()
_PLACE = frozenset({"Partition", "Region", "Account"})
BEDROCK_INVOKE = frozenset({"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"})
# Cross-Region inference profile prefix -> the Regions (as an IAM pattern) it routes to (see the docstring).
GEOGRAPHIES: dict[str, str] = {
    "us": "us-*",
    "eu": "eu-*",
    "apac": "ap-*",
    "jp": "ap-northeast-*",
    "au": "ap-southeast-*",
    "ca": "ca-*",
    "us-gov": "us-gov-*",
    "global": "*",
}
# Actions on one resource of several possible types: the one the call named is the one it needs.
_ONE_OF = re.compile(r"^(Tag|Untag|ListTags|AddTags|RemoveTags|GetTags)")
TAG_KEYS = ("aws:RequestTag/${TagKey}", "aws:TagKeys")
# Services whose tagging action is not `<prefix>:TagResource` (see the docstring for the sources).
_TAGGING: dict[str, str] = {
    "ec2": "ec2:CreateTags",
    "sqs": "sqs:TagQueue",
    "ssm": "ssm:AddTagsToResource",
    "rds": "rds:AddTagsToResource",
    "elasticloadbalancing": "elasticloadbalancing:AddTags",
    "cloudtrail": "cloudtrail:AddTags",
}
# What RunInstances creates and may tag (EC2 API reference, TagSpecification: instance, volume, network-interface,
# spot-instances-request): it names none of them, so the tags go on the types' templates.
_EC2_CREATED = {"ec2:RunInstances": ("instance", "volume", "network-interface", "spot-instances-request")}


def _variables(template: str) -> list[str]:
    return _VARIABLE.findall(template)


@lru_cache(maxsize=4096)
def _named_regex(template: str, partition: str) -> re.Pattern[str]:
    """The template as a regex whose groups are its variables (the first of a repeated one)."""
    parts = re.split(r"(\$\{\w+\})", template.replace("${Partition}", partition))
    seen: set[str] = set()
    out = []
    for p in parts:
        m = _VARIABLE.fullmatch(p)
        if m is None:
            out.append(re.escape(p))
        elif m[1] in seen:
            out.append(".+")
        else:
            seen.add(m[1])
            out.append(f"(?P<{m[1]}>.+)" if m[1] != "Region" and m[1] != "Account" else f"(?P<{m[1]}>[^:]*)")
    return re.compile("".join(out))


def _fill(template: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m[1], "*"), template)


def _matches(rt: ResourceType, arn: str, partition: str) -> bool:
    return any(template_regex(t, partition).fullmatch(arn) for t in rt.arns)


def fixed(rt: ResourceType) -> bool:
    """A type of one ARN per account and region (no variable of its own): named only when the call targets it."""
    return all(set(_variables(t)) <= _PLACE for t in rt.arns)


@lru_cache(maxsize=65536)  # principals repeat the same actions on the same resources; bounded, keyed by catalog
def complete(
    action: str, resources: tuple[str, ...], ctx: Context, cat: Catalog, ref: ResourceRef = _NO_REF
) -> tuple[str, ...]:
    """The resources plus one of each required type of the action they lack; `*` stays `*`. A value the request
    named (`ref`: the table of a Glue partition call) fills its variable in the types added."""
    if "*" in resources or not resources:
        return resources
    name = action.partition(":")[2]
    if _ONE_OF.match(name) or action in BEDROCK_INVOKE:
        return resources
    required = [rt for rt in cat.resource_types(action) if rt.required]
    missing = [rt for rt in required if not any(_matches(rt, a, ctx.partition) for a in resources)]
    if not missing:
        return resources
    named = {k: v[0] for k, v in ArnValues(ctx, ref).values.items() if len(v) == 1 and "*" not in v[0]}
    return tuple(sorted({*resources, *_templates(missing, resources, ctx, cat, action, named)}))


def _templates(
    types: list[ResourceType],
    named: tuple[str, ...],
    ctx: Context,
    cat: Catalog,
    action: str,
    known: dict[str, str] | None = None,
) -> list[str]:
    """The types' ARNs filled from the call's place, the values of the named ARNs and those the request named
    (`known`), ids as `*`."""
    values: dict[str, str] = {}
    for rt in cat.resource_types(action):
        for template in rt.arns:
            for arn in named:
                m = _named_regex(template, ctx.partition).fullmatch(arn)
                if m:
                    for k, v in m.groupdict().items():
                        if v and "*" not in v:
                            values.setdefault(k, v)
    for k, v in (known or {}).items():
        values.setdefault(k, v)
    values.setdefault("Region", ctx.region or "*")
    values.setdefault("Account", ctx.account or "*")
    values["Partition"] = ctx.partition
    return [_fill(t, values) for rt in types if not fixed(rt) for t in rt.arns]


def bedrock_models(model_ids: list[str], ctx: Context) -> tuple[str, ...]:
    """The resources an invocation naming these model ids needs (see the docstring)."""
    region = ctx.region or "*"
    out: set[str] = set()
    for model in model_ids:
        if model.startswith("arn:"):
            out.add(model)
            parts = model.split(":", 5)
            if len(parts) == 6 and parts[2] != "bedrock":
                # Another service's endpoint (a Marketplace model on a SageMaker endpoint) is reached through
                # Bedrock's marketplace resource.
                out.add(f"arn:{ctx.partition}:bedrock:{region}:{ctx.account}:marketplace/model-endpoint/all-access")
            elif len(parts) == 6 and parts[5].startswith("inference-profile/"):
                out.update(_profile_models(parts[5].removeprefix("inference-profile/"), ctx))
            continue
        geography, dot, _ = model.partition(".")
        if dot and geography in GEOGRAPHIES:
            out.add(f"arn:{ctx.partition}:bedrock:{region}:{ctx.account}:inference-profile/{model}")
            out.update(_profile_models(model, ctx))
        else:
            out.add(f"arn:{ctx.partition}:bedrock:{region}::foundation-model/{model}")
    return tuple(sorted(out))


def _profile_models(profile: str, ctx: Context) -> set[str]:
    geography, dot, base = profile.partition(".")
    if not dot or geography not in GEOGRAPHIES:
        return set()
    regions = {GEOGRAPHIES[geography]}
    if ctx.region:
        regions.add(ctx.region)
    return {f"arn:{ctx.partition}:bedrock:{r}::foundation-model/{base}" for r in regions}


def tagging_action(action: str, cat: Catalog) -> str | None:
    """The action a create call that sends tags also needs, or None when the catalog lets the action not tag."""
    prefix, _, name = action.partition(":")
    if prefix == "ec2":
        found = "ec2:CreateTags"
        if "ec2:CreateAction" not in cat.condition_keys(found) or not name.startswith(("Create", "Run", "Allocate")):
            return None
        return found
    if not any(k in cat.condition_keys(action) for k in TAG_KEYS):
        return None
    if prefix == "iam":
        entity = re.sub(r"^(Create|Upload)", "", name)
        return cat.canonical(f"iam:Tag{entity}")
    return cat.canonical(_TAGGING.get(prefix, f"{prefix}:TagResource"))


def tag_use(use: ActionUse, ref: ResourceRef, ctx: Context, cat: Catalog) -> ActionUse | None:
    """The tagging action a call that sent tags needs on what it created, when its action tags on create."""
    if not ref.fields.get("tags"):
        return None
    tagger = tagging_action(use.action, cat)
    if tagger is None or tagger == use.action:
        return None
    types = cat.resource_types(tagger)
    created = _EC2_CREATED.get(use.action)
    if created is not None:
        chosen = [rt for rt in types if rt.name in created]
        resources = tuple(sorted(set(_templates(chosen, (), ctx, cat, tagger))))
    elif "*" in use.resources:
        # The call named nothing: what it creates is of the create action's required types (CreateVolume's
        # volume), or else of the tagging action's (CreateKey has none, TagResource's is key), ids as `*`.
        made = {rt.name for rt in cat.resource_types(use.action) if rt.required}
        chosen = [rt for rt in types if rt.name in made] or [rt for rt in types if rt.required]
        resources = tuple(sorted(set(_templates(chosen, (), ctx, cat, tagger)))) or ("*",)
    else:
        resources = tuple(a for a in use.resources if any(_matches(rt, a, ctx.partition) for rt in types))
    if not resources:
        resources = ("*",) if not types else use.resources
    return ActionUse(tagger, resources, f"tags on create ({use.action} sent tags)", True)


def needed(uses: tuple[ActionUse, ...], ref: ResourceRef, ctx: Context, cat: Catalog) -> tuple[ActionUse, ...]:
    """The call's mapped uses with every resource they need, and the tagging action a create with tags needs."""
    tags = bool(ref.fields.get("tags"))
    out = []
    for use in uses:
        # Inferred uses name exactly what the request passed (a role, a profile): never completed. A use on `*`
        # needs nothing more unless it invokes a Bedrock model or creates with tags (the common case, kept fast).
        if use.inferred or (use.resources == ("*",) and not tags and use.action not in BEDROCK_INVOKE):
            out.append(use)
            continue
        resources = use.resources
        if use.action in BEDROCK_INVOKE and (models := ref.values("modelId")):
            resources = bedrock_models(models, ctx)
        resources = complete(use.action, resources, ctx, cat, ref)
        done = ActionUse(use.action, resources, use.rule, use.inferred) if resources != use.resources else use
        out.append(done)
        tag = tag_use(done, ref, ctx, cat) if tags else None
        if tag is not None:
            out.append(tag)
    return tuple(out)

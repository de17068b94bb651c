"""A call's resource identifier → the ARNs an action was used on: the full ARNs it names, matched against the
action's ARN templates, or else its other values filled into them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from accessfit.iam.catalog import Catalog, ResourceType
from accessfit.iam.patterns import template_regex
from accessfit.model import REQUEST_PARAMS, ResourceRef, is_account_id

# Derived from accessfit.model.REQUEST_PARAMS: the fields that may hold full ARNs (`arns` holds those of the
# record's resources[]), and the template variable each field's other values fill.
ARN_FIELDS: tuple[str, ...] = ("arns", *dict.fromkeys(p.stored for p in REQUEST_PARAMS if p.arn))
VARIABLE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys((p.stored, p.variable) for p in REQUEST_PARAMS if p.variable)
)
_MATCHED = frozenset(ARN_FIELDS)
# Each field's place in those tables: ArnValues reads the few fields a call names, in the tables' order.
_ARN_RANK = {name: rank for rank, name in enumerate(ARN_FIELDS)}
_VARIABLES_OF: dict[str, tuple[tuple[int, str, str], ...]] = {}
for _rank, (_name, _variable) in enumerate(VARIABLE_FIELDS):
    _VARIABLES_OF[_name] = (*_VARIABLES_OF.get(_name, ()), (_rank, _name, _variable))

# Variables whose values are not the field's values as they are.
_SHAPES: dict[str, Callable[[str], str]] = {
    "FunctionName": lambda f: f.split(":", 1)[0],  # `name:qualifier` names the function
    "SecretId": lambda s: f"{s}-??????",  # the random suffix AWS appends to a secret's name
    "ParameterNameWithoutLeadingSlash": lambda n: n.lstrip("/"),
}
# Variables that come with another, whose value the call never names.
_ALONG: dict[str, tuple[str, str]] = {"LogGroupName": ("LogStreamName", "*"), "StackName": ("Id", "*")}
_TEMPLATE_VARIABLE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Context:
    """Where a call was made, for the parts of an ARN the identifier does not say."""

    partition: str = "aws"
    region: str = ""
    account: str = ""


@dataclass
class ArnValues:
    """Values for ARN template variables, taken from a call's resource identifier."""

    ctx: Context
    ref: ResourceRef
    region: str = ""
    account: str = ""
    values: dict[str, list[str]] = field(default_factory=dict)
    arns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        ref = self.ref
        self.region = ref.region or self.ctx.region
        self.account = self.ctx.account
        present = ref.fields  # a call names two or three of the fields: only those are read, in the tables' order
        if not present:
            return
        arn_fields = [name for name in present if name in _ARN_RANK]
        if len(arn_fields) > 1:
            arn_fields.sort(key=_ARN_RANK.__getitem__)
        for name in arn_fields:
            self.arns.extend(a for a in ref.values(name) if a.startswith("arn:"))
        variables = [item for name in present for item in _VARIABLES_OF.get(name, ())]
        if len(variables) > 1:
            variables.sort()
        for _rank, name, variable in variables:
            found = ref.values(name)
            if name in _MATCHED:
                found = [x for x in found if not x.startswith("arn:")]
            if not found:
                continue
            if variable == "QueueName":
                self._queues(found)
            elif variable == "KeyId":
                for key_id in found:
                    if key_id.startswith("alias/"):
                        self.values.setdefault("AliasName", []).append(key_id.removeprefix("alias/"))
                    else:
                        self.values.setdefault("KeyId", []).append(key_id)
            else:
                shape = _SHAPES.get(variable)
                self.values.setdefault(variable, []).extend(map(shape, found) if shape else found)
                if variable in _ALONG:
                    along, value = _ALONG[variable]
                    self.values[along] = [value]

    def _queues(self, urls: list[str]) -> None:
        """`https://sqs.<region>.amazonaws.com/<account>/<name>`: the name, and the queue's account and region."""
        for url in urls:
            parts = url.rstrip("/").split("/")
            if len(parts) >= 2:
                self.values.setdefault("QueueName", []).append(parts[-1])
                if is_account_id(parts[-2]):
                    self.account = parts[-2]
                host = parts[2] if len(parts) > 2 else ""
                if host.startswith("sqs.") and host.count(".") >= 3:
                    self.region = host.split(".")[1]

    def fill(self, template: str) -> list[str]:
        """Every ARN the template yields with known values; [] when a variable has none."""
        return self._fill(template, _variables(template))

    def _fill(self, template: str, variables: tuple[tuple[str, str], ...]) -> list[str]:
        # The variables are replaced one after the other, in order, as they always were; a text stays one string
        # while every variable has one value (nearly every call), and becomes their product otherwise.
        text = template.replace("${Partition}", self.ctx.partition)
        results: list[str] | None = None
        for var, placeholder in variables:
            if var == "Region":
                choices = [self.region] if self.region else []
            elif var == "Account":
                choices = [self.account] if self.account else []
            else:
                choices = self.values.get(var, [])
            if not choices:
                return []
            if results is None:
                if len(choices) == 1:
                    text = text.replace(placeholder, choices[0])
                    continue
                results = [text]
            results = [r.replace(placeholder, c) for r in results for c in choices]
        return [text] if results is None else results


@lru_cache(maxsize=16384)  # the catalog's templates, a few thousand
def _variables(template: str) -> tuple[tuple[str, str], ...]:
    """The template's variables in order, every occurrence, but ${Partition} (filled first), each with its
    placeholder."""
    return tuple((v, f"${{{v}}}") for v in _TEMPLATE_VARIABLE.findall(template) if v != "Partition")


@lru_cache(maxsize=65536)  # an action's templates, per partition: every call of the action asks
def _templates(
    action: str, partition: str, cat: Catalog
) -> tuple[tuple[re.Pattern[str], str, tuple[tuple[str, str], ...]], ...]:
    """Each ARN template of the action's resource types, with its regex and its variables."""
    types: tuple[ResourceType, ...] = cat.resource_types(action)
    return tuple(
        (template_regex(template, partition), template, _variables(template)) for rt in types for template in rt.arns
    )


def arns_for(action: str, names: ArnValues, cat: Catalog, only: list[str] | None = None) -> tuple[str, ...]:
    """The resources an action was used on: ARNs from the call filled into the action's resource types, "*" when
    the action has no resource-level permission or the call does not say which resource it was."""
    templates = _templates(action, names.ctx.partition, cat)
    found: set[str] = set()
    given = only if only is not None else names.arns
    if given:
        for rx, _template, _variables_of in templates:
            found.update(a for a in given if rx.fullmatch(a))
    if not found and only is None:
        for _rx, template, variables in templates:
            found.update(names._fill(template, variables))
    return tuple(sorted(found)) if found else ("*",)


def arns_when(action: str, names: ArnValues | None, cat: Catalog) -> tuple[str, ...]:
    """`arns_for`, or () when the mapping builds no ARN (`names` None: only the action names are wanted)."""
    return () if names is None else arns_for(action, names, cat)

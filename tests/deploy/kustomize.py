"""A small, strict kustomize for tests/deploy/test_k8s.py: builds deploy/k8s's
kustomizations in Python, without the kustomize binary.

It knows only what those kustomizations use and refuses everything else (an unknown
field, a remote resource, a patch that matches nothing), so a manifest can never rely on
something this build silently skips:

- ``resources``: YAML files (every document) and directories holding a
  ``kustomization.yaml`` (built recursively, as an overlay's base);
- ``namespace``: set on every namespaced object; a Namespace object is renamed to it;
- ``images``: ``name`` -> ``newName`` / ``newTag`` / ``digest`` on pod containers;
- ``patches``: a file (``path``) or inline (``patch``) patch, with an optional
  ``target`` (group, version, kind, name, namespace; name is an anchored regex, as in
  kustomize). A YAML list is a JSON 6902 patch (add, remove, replace, test), a mapping a
  strategic merge patch.

Strategic merge follows kustomize (kyaml): mappings merge, ``null`` deletes a key, lists
of built-in kinds merge by their Kubernetes merge key (containers and env by ``name``,
container ports by ``containerPort`` …; the merged list holds the patch's elements in the
patch's order, then the original's others in their order) or are replaced (tolerations,
command …); a list field known as neither is refused. In a custom resource (KEDA's)
kyaml guesses merge keys from the elements' fields, so a strategic merge patch that
reaches a list there is refused: patch those with JSON 6902.

YAML is read with a loader that refuses duplicate keys (PyYAML keeps the last one).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KUSTOMIZATION = "kustomization.yaml"
KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
PATCH_FIELDS = {"path", "patch", "target"}
TARGET_FIELDS = {"group", "version", "kind", "name", "namespace"}
IMAGE_FIELDS = {"name", "newName", "newTag", "digest"}

# API groups whose kinds Kubernetes (and so kustomize) knows the merge keys of.
BUILTIN_GROUPS = {
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
}
# Field name -> merge key of the built-in list fields that merge (k8s.io/api's
# patchMergeKey); a list field not named here is replaced by a strategic merge patch.
# ``ports`` depends on its owner: containers' ports merge by containerPort, a Service's
# by port.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# Built-in list fields without a merge key: a patch replaces them whole.
REPLACED_LISTS = {"tolerations", "command", "args", "envFrom", "drop", "add"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
}
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
SMP_DIRECTIVES = ("$patch", "$retainKeys", "$setElementOrder", "$deleteFromPrimitiveList")


class KustomizeError(Exception):
    pass


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that refuses a mapping with the same key twice."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> Obj:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return dict(loader.construct_mapping(node, deep=True))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_documents(text: str) -> list[Any]:
    """Every non-empty document of ``text``, duplicate keys refused."""
    return [doc for doc in yaml.load_all(text, Loader=_StrictLoader) if doc is not None]


def load_yaml(text: str) -> Any:
    docs = load_yaml_documents(text)
    if len(docs) != 1:
        raise KustomizeError(f"expected one YAML document, found {len(docs)}")
    return docs[0]


# ------------------------------------------------------------------ the build


def build(directory: Path) -> list[Obj]:
    """The objects ``kustomize build directory`` would output (in resource order)."""
    directory = directory.resolve()
    kustomization_file = directory / KUSTOMIZATION
    if not kustomization_file.is_file():
        raise KustomizeError(f"{directory}: no {KUSTOMIZATION}")
    spec = load_yaml(kustomization_file.read_text())
    if not isinstance(spec, dict):
        raise KustomizeError(f"{kustomization_file}: not a mapping")
    unknown = set(spec) - KUSTOMIZATION_FIELDS
    if unknown:
        raise KustomizeError(f"{kustomization_file}: unsupported fields {sorted(unknown)}")
    if (
        spec.get("apiVersion", "kustomize.config.k8s.io/v1beta1")
        != ("kustomize.config.k8s.io/v1beta1")
        or spec.get("kind", "Kustomization") != "Kustomization"
    ):
        raise KustomizeError(f"{kustomization_file}: not a kustomize.config.k8s.io Kustomization")

    objects: list[Obj] = []
    for entry in spec.get("resources") or []:
        objects.extend(_load_resource(directory, entry))
    _check_unique(objects, kustomization_file)

    for patch in spec.get("patches") or []:
        _apply_patch(directory, patch, objects)
    if "namespace" in spec:
        _set_namespace(objects, spec["namespace"])
    for image in spec.get("images") or []:
        _set_image(objects, image)
    _check_unique(objects, kustomization_file)
    return objects


def resource_files(directory: Path) -> set[Path]:
    """Every file a build of ``directory`` reads: kustomizations, resources, patches."""
    directory = directory.resolve()
    kustomization_file = directory / KUSTOMIZATION
    spec = load_yaml(kustomization_file.read_text())
    files = {kustomization_file}
    for entry in spec.get("resources") or []:
        path = (directory / entry).resolve()
        files |= resource_files(path) if path.is_dir() else {path}
    for patch in spec.get("patches") or []:
        if "path" in patch:
            files.add((directory / patch["path"]).resolve())
    return files


def _load_resource(directory: Path, entry: object) -> list[Obj]:
    if not isinstance(entry, str) or "://" in entry or entry.startswith(("github.com", "git@")):
        raise KustomizeError(f"{directory}: only local resources are supported, not {entry!r}")
    path = (directory / entry).resolve()
    if path.is_dir():
        return build(path)
    if not path.is_file():
        raise KustomizeError(f"{directory}: resource {entry!r} does not exist")
    objects = []
    for doc in load_yaml_documents(path.read_text()):
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= doc.keys():
            raise KustomizeError(f"{path}: a document is not a Kubernetes object")
        if not doc["metadata"].get("name"):
            raise KustomizeError(f"{path}: a {doc['kind']} without metadata.name")
        objects.append(doc)
    return objects


def object_id(obj: Obj) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def _check_unique(objects: list[Obj], where: Path) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for obj in objects:
        key = object_id(obj)
        if key in seen:
            raise KustomizeError(f"{where}: {key} is defined twice")
        seen.add(key)


def group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


# ---------------------------------------------------------------- namespace


def _set_namespace(objects: list[Obj], namespace: str) -> None:
    for obj in objects:
        if obj["kind"] == "Namespace":
            obj["metadata"]["name"] = namespace
        elif obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace


# ------------------------------------------------------------------- images


IMAGE_REF = re.compile(r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>.+))?$")


def _set_image(objects: list[Obj], image: Obj) -> None:
    unknown = set(image) - IMAGE_FIELDS
    if unknown or "name" not in image:
        raise KustomizeError(f"images entry {image}: needs name; unsupported {sorted(unknown)}")
    for container in iter_containers(objects):
        match = IMAGE_REF.match(container.get("image", ""))
        if not match or match["name"] != image["name"]:
            continue
        name = str(image.get("newName", match["name"]))
        tag, digest = match["tag"], match["digest"]
        if "newTag" in image:
            tag, digest = str(image["newTag"]), None
        if "digest" in image:
            tag, digest = None, image["digest"]
        container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def pod_spec(obj: Obj) -> Obj | None:
    """The pod spec of a workload (its template's), else None."""
    path = POD_TEMPLATE_PATHS.get(obj["kind"])
    if path is None or group_version(obj["apiVersion"])[0] not in BUILTIN_GROUPS:
        return None
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def iter_containers(objects: list[Obj]) -> Iterator[Obj]:
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        for field in ("initContainers", "containers"):
            yield from spec.get(field) or []


# ------------------------------------------------------------------ patches


def _apply_patch(directory: Path, entry: Obj, objects: list[Obj]) -> None:
    unknown = set(entry) - PATCH_FIELDS
    if unknown or ("path" in entry) == ("patch" in entry):
        raise KustomizeError(f"patch {entry}: give exactly one of path, patch; {sorted(unknown)}")
    text = (directory / entry["path"]).read_text() if "path" in entry else entry["patch"]
    body = load_yaml(text)
    target = entry.get("target")
    if isinstance(body, list):
        if target is None:
            raise KustomizeError(f"JSON 6902 patch {entry}: needs a target")
        matched = _targets(objects, target)
        for obj in matched:
            patched = apply_json6902(obj, body)
            obj.clear()
            obj.update(patched)
        return
    if not isinstance(body, dict):
        raise KustomizeError(f"patch {entry}: neither a list (JSON 6902) nor a mapping")
    if target is None:
        group, version = group_version(body["apiVersion"])
        target = {"group": group, "version": version, "kind": body["kind"]}
        target["name"] = re.escape(body["metadata"]["name"])
        if "namespace" in body["metadata"]:
            target["namespace"] = body["metadata"]["namespace"]
    for obj in _targets(objects, target):
        patch = copy.deepcopy(body)
        # The patch's own identity is not applied (the target's stays).
        for key in ("apiVersion", "kind"):
            patch.pop(key, None)
        patch.get("metadata", {}).pop("name", None)
        patch.get("metadata", {}).pop("namespace", None)
        builtin = group_version(obj["apiVersion"])[0] in BUILTIN_GROUPS
        merged = strategic_merge(obj, patch, builtin=builtin)
        obj.clear()
        obj.update(merged)


def _targets(objects: list[Obj], target: Obj) -> list[Obj]:
    unknown = set(target) - TARGET_FIELDS
    if unknown:
        raise KustomizeError(f"patch target {target}: unsupported {sorted(unknown)}")
    found = []
    for obj in objects:
        group, version = group_version(obj["apiVersion"])
        meta = obj["metadata"]
        if "group" in target and target["group"] != group:
            continue
        if "version" in target and target["version"] != version:
            continue
        if "kind" in target and target["kind"] != obj["kind"]:
            continue
        if "name" in target and not re.fullmatch(target["name"], meta["name"]):
            continue
        if "namespace" in target and not re.fullmatch(
            target["namespace"], meta.get("namespace", "")
        ):
            continue
        found.append(obj)
    if not found:
        raise KustomizeError(f"patch target {target} matches no object")
    return found


def strategic_merge(original: Any, patch: Any, *, builtin: bool, field: str = "") -> Any:
    """``patch`` merged into ``original`` (neither is changed) the way kustomize does."""
    if isinstance(patch, dict):
        for directive in SMP_DIRECTIVES:
            if directive in patch:
                raise KustomizeError(f"strategic merge directive {directive} is not supported")
        if not isinstance(original, dict):
            return copy.deepcopy(patch)
        merged = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, builtin=builtin, field=key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(patch, list) and isinstance(original, list):
        if not builtin:
            raise KustomizeError(
                f"strategic merge of the list {field!r} of a custom resource: use JSON 6902"
            )
        if field in REPLACED_LISTS:
            return copy.deepcopy(patch)
        key = _merge_key(field, original + patch)
        if key is None:
            raise KustomizeError(f"strategic merge of the list {field!r}: merge key unknown here")
        return _merge_list(original, patch, key, builtin=builtin, field=field)
    return copy.deepcopy(patch)


def _merge_key(field: str, items: list[Any]) -> str | None:
    if not all(isinstance(item, dict) for item in items):
        return None
    if field == "ports":
        # container ports merge by containerPort, a Service's ports by port
        if all("containerPort" in item for item in items):
            return "containerPort"
        if all("port" in item for item in items):
            return "port"
        raise KustomizeError(f"ports list without a common merge key: {items}")
    key = MERGE_KEYS.get(field)
    if key is not None and not all(key in item for item in items):
        raise KustomizeError(f"{field}: an element without its merge key {key!r}")
    return key


def _merge_list(
    original: list[Obj], patch: list[Obj], key: str, *, builtin: bool, field: str
) -> list[Obj]:
    by_key = {item[key]: item for item in original}
    patched_keys = [item[key] for item in patch]
    if len(set(patched_keys)) != len(patched_keys):
        raise KustomizeError(f"{field}: the patch lists a {key} twice")
    merged = [
        strategic_merge(by_key[item[key]], item, builtin=builtin, field=field)
        if item[key] in by_key
        else copy.deepcopy(item)
        for item in patch
    ]
    merged += [copy.deepcopy(item) for item in original if item[key] not in set(patched_keys)]
    return merged


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer {path!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            raise KustomizeError(f"JSON patch path {path!r}: no {part!r}")
        return node[part]
    if isinstance(node, list):
        index = _index(node, part, path, allow_end=False)
        return node[index]
    raise KustomizeError(f"JSON patch path {path!r}: {part!r} inside a scalar")


def _index(node: list[Any], part: str, path: str, *, allow_end: bool) -> int:
    if part == "-" and allow_end:
        return len(node)
    if not re.fullmatch(r"0|[1-9][0-9]*", part):
        raise KustomizeError(f"JSON patch path {path!r}: {part!r} is not an index")
    index = int(part)
    if index > len(node) or (index == len(node) and not allow_end):
        raise KustomizeError(f"JSON patch path {path!r}: index {index} out of range")
    return index


def apply_json6902(obj: Obj, operations: list[Obj]) -> Obj:
    """RFC 6902 ``add``, ``remove``, ``replace`` and ``test`` applied to a copy of obj."""
    doc = copy.deepcopy(obj)
    for op in operations:
        kind, path = op.get("op"), op.get("path")
        if not isinstance(path, str):
            raise KustomizeError(f"JSON patch operation {op}: no path")
        parts = _pointer(path)
        if not parts:
            raise KustomizeError("JSON patch on the whole document is not supported")
        parent, last = _parent(doc, parts, path), parts[-1]
        if kind == "test":
            if _child(parent, last, path) != op["value"]:
                raise KustomizeError(f"JSON patch test failed at {path}: not {op['value']!r}")
        elif kind == "add":
            value = copy.deepcopy(op["value"])
            if isinstance(parent, list):
                parent.insert(_index(parent, last, path, allow_end=True), value)
            elif isinstance(parent, dict):
                parent[last] = value
            else:
                raise KustomizeError(f"JSON patch add at {path}: parent is a scalar")
        elif kind == "replace":
            _child(parent, last, path)  # must exist
            if isinstance(parent, list):
                parent[_index(parent, last, path, allow_end=False)] = copy.deepcopy(op["value"])
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            _child(parent, last, path)  # must exist
            if isinstance(parent, list):
                del parent[_index(parent, last, path, allow_end=False)]
            else:
                del parent[last]
        else:
            raise KustomizeError(f"JSON patch operation {kind!r} is not supported")
    return doc

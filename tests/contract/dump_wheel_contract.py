#!/usr/bin/env python3
"""Dumps the wire contract of the given methods as the installed flyteidl2 wheel defines it.

Usage: dump_wheel_contract.py /pkg.Service/Method ...   (prints JSON on stdout)

Independent of CMake and of proto/export_descriptors.py: it imports the wheel's generated Python modules and
reads their descriptors directly. The C++ contract test prints the same shape from the compiled messages and
the two must be equal: {"methods": {path: {...}}, "messages": {full_name: [[number, name, type, label,
type_name, oneof], ...]}} for every message reachable from the methods' requests and responses.
"""
import importlib
import json
import sys

import pkgutil

from google.protobuf import descriptor_pool


def import_all_flyteidl2_modules():
    """Imports every generated module of the wheel so any served service can be found by name."""
    import flyteidl2

    for info in pkgutil.walk_packages(flyteidl2.__path__, "flyteidl2."):
        if info.name.endswith("_pb2"):
            importlib.import_module(info.name)


def main() -> int:
    methods, messages = {}, {}

    def visit(desc):
        if desc.full_name in messages:
            return
        fields = []
        messages[desc.full_name] = fields
        for f in sorted(desc.fields, key=lambda f: f.number):
            type_name = ""
            if f.message_type is not None:
                type_name = f.message_type.full_name
            elif f.enum_type is not None:
                type_name = f.enum_type.full_name
            oneof = f.containing_oneof.name if f.containing_oneof is not None else ""
            # `label` is deprecated in newer protobuf Python; derive it the same way protoc records it.
            if hasattr(f, "is_repeated"):
                label = 3 if f.is_repeated else (2 if getattr(f, "is_required", False) else 1)
            else:
                label = f.label
            fields.append([f.number, f.name, f.type, label, type_name, oneof])
            if f.message_type is not None:
                visit(f.message_type)

    import_all_flyteidl2_modules()
    for path in sys.argv[1:]:
        _, service, method = path.split("/")
        try:
            sd = descriptor_pool.Default().FindServiceByName(service)
        except KeyError:
            print(f"service {service} is not in the flyteidl2 wheel", file=sys.stderr)
            return 2
        md = sd.methods_by_name.get(method)
        if md is None:
            methods[path] = None
            continue
        methods[path] = {
            "client_streaming": md.client_streaming,
            "server_streaming": md.server_streaming,
            "input": md.input_type.full_name,
            "output": md.output_type.full_name,
        }
        visit(md.input_type)
        visit(md.output_type)
    json.dump({"methods": methods, "messages": messages}, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

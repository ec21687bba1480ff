#!/usr/bin/env python3
"""Writes the FileDescriptorSet of the pinned flyteidl2 release (from its installed Python modules).

Usage: export_descriptors.py OUT.binpb ROOT.proto...  (prints the closure's flyteidl2/buf/google.rpc file names)
The published wheel carries no .proto sources, only generated modules with serialized descriptors; importing a
root module and walking its dependencies yields the closure. Well-known types (google/protobuf/*) are left out:
protoc and libprotobuf bring their own copies, which the generated C++ must link against.
"""
import importlib
import sys

from google.protobuf import descriptor_pb2


def module_name(proto_file: str) -> str:
    return proto_file[: -len(".proto")].replace("/", ".").replace("-", "_") + "_pb2"


def main() -> int:
    out, roots = sys.argv[1], sys.argv[2:]
    ordered, seen = [], set()

    def visit(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            visit(dep)
        ordered.append(fd)

    for root in roots:
        visit(importlib.import_module(module_name(root)).DESCRIPTOR)

    fds = descriptor_pb2.FileDescriptorSet()
    names = []
    for fd in ordered:
        if fd.name.startswith("google/protobuf/"):
            continue
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        # Upstream builds with optimize_for = CODE_SIZE; we want speed-optimised C++.
        proto.options.ClearField("optimize_for")
        if not proto.options.ListFields():
            proto.ClearField("options")
        fds.file.append(proto)
        names.append(fd.name)
    with open(out, "wb") as f:
        f.write(fds.SerializeToString())
    print(";".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

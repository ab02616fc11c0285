#!/usr/bin/env python3
"""Prints the SHA-256 of a checkpoint's state: the bytes after the header (parameters, target, Adam moments) and
before the trailing SHA-256, i.e. without the header's provenance and timestamps (layout: agent/Checkpoint.java).
Two runs trained the same parameters exactly when these digests are equal.
Usage: tools/checkpoint-state-digest.py CHECKPOINT..."""
import hashlib, json, struct, sys

for path in sys.argv[1:]:
    data = open(path, "rb").read()
    assert data[:8] == b"FQLCKPT\n", path + ": not an FQL checkpoint"
    version, header_len = struct.unpack(">ii", data[8:16])
    header = json.loads(data[16:16 + header_len])
    state = data[16 + header_len:-32]
    print(hashlib.sha256(state).hexdigest(), "step", header.get("step"), len(state), "bytes", path)

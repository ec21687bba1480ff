"""Calls a Connect server-streaming method with a JSON request and prints each message, one JSON object per line.

  connect_stream.py URL REQUEST_JSON [TIMEOUT_SECONDS]

Exits 0 when the stream ends without an error, 1 (printing the error) otherwise or when TIMEOUT_SECONDS pass first.
Envelopes as the Connect protocol specifies: 1 flag byte (0x02 = end of stream), a 4-byte big-endian length, the
message; the end-of-stream message carries {"error": {...}} on failure."""
import json
import struct
import sys
import urllib.request


def main():
    url, request = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30
    body = json.dumps(json.loads(request)).encode()
    req = urllib.request.Request(url, data=struct.pack(">BI", 0, len(body)) + body,
                                 headers={"Content-Type": "application/connect+json", "Connect-Protocol-Version": "1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            while True:
                head = resp.read(5)
                if len(head) < 5:
                    print("stream ended without an end-of-stream message", file=sys.stderr)
                    return 1
                flags, size = struct.unpack(">BI", head)
                msg = json.loads(resp.read(size) or b"{}")
                if flags & 0x02:
                    if "error" in msg:
                        print(json.dumps(msg["error"]))
                        return 1
                    return 0
                print(json.dumps(msg))
    except Exception as e:  # HTTP errors, timeouts
        print(f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

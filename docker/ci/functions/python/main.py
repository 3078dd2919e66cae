# The Python function the container smoke test runs (`python3 main.py PARAMETERS...`): prints the uid it runs as
# and its arguments, and its interpreter's version on stderr.
import os
import sys

print(f"uid={os.getuid()}")
print("args=" + "|".join(sys.argv[1:]))
print(f"python {sys.version.split()[0]}", file=sys.stderr)

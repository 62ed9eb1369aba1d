"""Run in a fresh interpreter by run.py: time importing fupin, checking and compiling a policy.

Prints one JSON object (seconds): import, check (load_policy without the cache of checked
policies: schema, names, types, cycles, table gaps and overlaps of the base and every
variant, and the imports that checking needs, which ``import fupin`` no longer makes),
compile (the base program's closures), compile_variants (every variant's program), and
cached_load (the same folder's load_policy read from the cache, engine/cache.py, in this
process: hashing the pack's files and unpickling; an entry is written first, untimed), and
check_again (a second check without the cache in this process: the checking alone, its
imports made, as ``check`` measured it before session 16 moved them out of ``import fupin``).
"""
import json
import sys
import time

t0 = time.perf_counter()
from fupin import load_policy  # noqa: E402

t1 = time.perf_counter()
policy = load_policy(sys.argv[1], cache=False)
t2 = time.perf_counter()
policy.program()
t3 = time.perf_counter()
for variant in policy.variants[1:]:
    policy.program(variant)
t4 = time.perf_counter()
load_policy(sys.argv[1])  # writes the entry, if there is none yet
t5 = time.perf_counter()
load_policy(sys.argv[1])
t6 = time.perf_counter()
load_policy(sys.argv[1], cache=False)
t7 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "check": t2 - t1, "compile": t3 - t2, "compile_variants": t4 - t3,
                  "cached_load": t6 - t5, "check_again": t7 - t6, "variants": len(policy.variants)}))

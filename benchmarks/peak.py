"""Run a module's command line in this process and record its peak RSS: ``peak.py OUT MODULE ARGS…``.

``run.py`` starts ``fupin batch`` through this wrapper because the rusage of a child
(``ru_maxrss``) is not its own: Linux carries the parent's high-water mark over ``fork``
and ``exec``, so a child of a benchmark runner holding a million households would report
the runner's memory. ``VmHWM`` in /proc/self/status is the peak of this process's own
address space, which ``exec`` starts afresh. It is written to OUT (kB) when the command
ends, however it ends.
"""
import runpy
import sys

out, sys.argv = sys.argv[1], sys.argv[2:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as fh:
        peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(peak)

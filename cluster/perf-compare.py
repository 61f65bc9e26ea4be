#!/usr/bin/env python3
"""Where two profiles of cluster/bench-profile.sh differ, by thread and by function.

Both must be recorded with call graphs (CALL_GRAPH="--call-graph dwarf,16384 -F 499" for the
callers of leaf functions) over the same stretch of the same load, so that sample counts compare
as CPU time. Prints the samples per thread name in each, then the functions with the most more
samples in the first: inclusive (the function or anything it called) or, with --self, only
samples in the function itself. --thread limits both to one thread name (e.g. incidentd-snap,
NIO-ELT-2-#1 for the consensus loops). docs/BENCHMARKS.md, thirteenth pass.

    PERF_DATA=/var/tmp/on.data CALL_GRAPH="--call-graph dwarf,16384 -F 499" cluster/bench-profile.sh
    INCIDENTD_EXTRA_ARGS="--snapshot-every-entries 100000000 --snapshot-every-bytes 4294967296" \\
        PERF_DATA=/var/tmp/off.data CALL_GRAPH="--call-graph dwarf,16384 -F 499" cluster/bench-profile.sh
    cluster/perf-compare.py /var/tmp/on.data /var/tmp/off.data
    cluster/perf-compare.py --thread incidentd-snap /var/tmp/on.data /var/tmp/off.data
    cluster/perf-compare.py --thread NIO-ELT-2-#1 --match CommandO6encode before.data after.data
"""
import argparse
import collections
import subprocess


def load(path, thread):
    """Samples per thread name, and per (thread name, function) inclusive and self counts."""
    text = subprocess.run(
        ["perf", "script", "-i", path, "-F", "comm,tid,ip,sym"],
        check=True, capture_output=True, text=True).stdout
    threads, inclusive, own = collections.Counter(), collections.Counter(), collections.Counter()
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line.strip()]
        if len(lines) < 2:
            continue
        name = lines[0].split()[0]
        if thread and name != thread:
            continue
        frames = [line.strip().split(" ", 1)[-1][:140] for line in lines[1:]]
        threads[name] += 1
        own[(name, frames[0])] += 1
        for frame in set(frames):
            inclusive[(name, frame)] += 1
    return threads, inclusive, own


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--thread", help="only this thread name")
    parser.add_argument("--self", dest="own", action="store_true", help="self samples instead of inclusive")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", help="instead of the largest differences, every function whose name contains this")
    args = parser.parse_args()
    a_threads, a_inclusive, a_own = load(args.first, args.thread)
    b_threads, b_inclusive, b_own = load(args.second, args.thread)
    print(f"samples: {sum(a_threads.values())} · {sum(b_threads.values())}")
    for name in sorted(set(a_threads) | set(b_threads), key=lambda n: -(a_threads[n] + b_threads[n])):
        print(f"  {name:20s} {a_threads[name]:7d} {b_threads[name]:7d}")
    a, b = (a_own, b_own) if args.own else (a_inclusive, b_inclusive)
    if args.match:
        print(f"{'self' if args.own else 'inclusive'} samples of functions containing {args.match!r} (first, second, thread, function):")
        for name, frame in sorted(key for key in set(a) | set(b) if args.match in key[1]):
            print(f"  {a[(name, frame)]:6d} {b[(name, frame)]:6d}  {name}  {frame}")
        return
    more = collections.Counter({key: a[key] - b[key] for key in set(a) | set(b)})
    print(f"most more {'self' if args.own else 'inclusive'} samples in the first (difference, first, second, thread, function):")
    for (name, frame), difference in more.most_common(args.top):
        print(f"  {difference:6d} {a[(name, frame)]:6d} {b[(name, frame)]:6d}  {name}  {frame}")


if __name__ == "__main__":
    main()

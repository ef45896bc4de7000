#!/usr/bin/env python3
"""The tables of docs/benchmarks.md from scripts/bench --summary's JSON (medians of the
repetitions), with the CPU model and the umbrella header's compile time."""
import json
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

root = pathlib.Path(sys.argv[1])
lookup_cost = sys.argv[2]
runs = {}
for path in sys.argv[3:]:
    for b in json.loads(pathlib.Path(path).read_text())["benchmarks"]:
        if b.get("aggregate_name") == "median":
            # A fixed iteration count is a benchmark setting, not part of what it measures.
            runs[re.sub(r"/iterations:\d+", "", b["run_name"])] = b


def cpu_model():
    # A VM may name only the brand ("AMD EPYC"): the family and model number say which core.
    fields = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def get(name, key):
    return runs[name][key]


formats = [("arm_lpae_s1_4k", "ARM LPAE s1 4K"), ("vtd_ss_4level", "VT-d 4-level"),
           ("amd_v1_mode4", "AMD-Vi v1 mode 4"), ("amd_v1_mode6", "AMD-Vi v1 mode 6")]
out = []
out.append(f"Measured on: {cpu_model()}, {len(open('/proc/cpuinfo').read().split('processor')) - 1} "
           "vCPUs; medians of 5 repetitions, g++ 12 -O3 (Release), no -march flag.\n")
out.append("| operation | format | time | baseline | ratio | target |")
out.append("|---|---|---|---|---|---|")
for op, label, target in [("map_1GiB", "map 1 GiB", {"4096": "≤ 1.5× memset"}),
                          ("unmap_1GiB", "unmap 1 GiB", {"4096": "≤ 2× memset"})]:
    for leaf, leaf_label in [("4096", "4K"), ("2097152", "2M")]:
        for key, fmt in formats:
            name = f"{op}/{key}/{leaf}/manual_time"
            if name not in runs:
                continue
            t = get(name, "real_time")
            out.append(f"| {label}, {leaf_label} | {fmt} | {t:.3g} µs | memset {get(name, 'memset_us'):.3g} µs "
                       f"| **{get(name, 'x_memset'):.2f}× memset** | {target.get(leaf, 'no regression')} |")
for key, fmt in formats:
    name = f"map_4K_calls_1GiB/{key}/manual_time"
    if name in runs:
        out.append(f"| 262,144 map calls of 4K | {fmt} | {get(name, 'real_time'):.3g} ms "
                   f"| map() per call {get(name, 'calls_us') / 1000:.3g} ms "
                   f"| **{get(name, 'x_map_calls'):.2f}× map()**, {get(name, 'ns_per_page'):.1f} ns/page | — |")
for key, fmt in [("arm_lpae_s1_4k_hd", "ARM LPAE s1 4K HD"), ("vtd_ss_4level", "VT-d 4-level SSADS"),
                 ("amd_v1_mode4", "AMD-Vi v1 mode 4 HAD")]:
    for kind, what in [("dirty_harvest_1GiB", "dirty harvest 1 GiB (1 page in 8 dirty)"),
                       ("dirty_harvest_no_clear_1GiB", "dirty harvest 1 GiB, NO_CLEAR")]:
        name = f"{kind}/{key}/manual_time"
        if name in runs:
            out.append(f"| {what} | {fmt} | {get(name, 'real_time'):.3g} µs "
                       f"| read {get(name, 'read_us'):.3g} µs | **{get(name, 'of_read'):.2f} of read**, "
                       f"{get(name, 'of_rmw'):.2f} of read + clean floor | ≥ 0.5 of read |")
for key, fmt in formats:
    name = f"iova_to_phys/{key}"
    if name in runs:
        out.append(f"| iova_to_phys, random IOVA | {fmt} | {get(name, 'real_time'):.3g} ns | — | — | no regression |")
# Instructions per operation, from callgrind: the same on every run of the same binary.
# Returns {format: per iova_to_phys}, {store operation: per operation}; lookup_cost.cpp's
# header comment gives how many calls each counted function makes.
def lookup_instructions():
    tables, store = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "cg.out"
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", lookup_cost],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return tables, store
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)],
                             capture_output=True, text=True).stdout
        for line in ann.splitlines():
            for key, counts, what, calls in [
                    ("lookups<passthru::pgtable::arm_lpae<", tables, "ARM LPAE s1 4K", 100000),
                    ("lookups<passthru::pgtable::vtd_ss<", tables, "VT-d 4-level", 100000),
                    ("lookups<passthru::pgtable::amd_v1<passthru::pgtable::amd_v1_config{4u", tables, "AMD-Vi v1 mode 4", 100000),
                    ("lookups<passthru::pgtable::amd_v1<passthru::pgtable::amd_v1_config{6u", tables, "AMD-Vi v1 mode 6", 100000),
                    ("store_lookup_run(", store, "lookup", 100000),
                    ("store_insert_run(", store, "insert", 20 * 1024),
                    ("store_erase_run(", store, "erase", 20 * 1024)]:
                if key in line:
                    counts[what] = int(line.split()[0].replace(",", "")) / calls
                    break
    return tables, store


table_instructions, store_instructions = lookup_instructions()
for fmt, n in table_instructions.items():
    out.append(f"| iova_to_phys, instructions (callgrind) | {fmt} | {n:.0f} per lookup | — | — | no regression |")
# The type1 mapping store against std::map, per operation, at 65,535 live mappings.
name = "dma_store_65535/manual_time"
if name in runs:
    for op, target in [("lookup", 4), ("insert", 3), ("erase", 3)]:
        out.append(f"| mapping store, {op} at 65,535 mappings | `type1::dma_store` | {get(name, op + '_ns'):.3g} ns "
                   f"| `std::map` {get(name, op + '_map_ns'):.3g} ns | **{get(name, op + '_x'):.2f}× faster** "
                   f"| ≥ {target}× |")
for op in ("lookup", "insert", "erase"):
    if op in store_instructions:
        out.append(f"| mapping store, instructions per {op} (callgrind) | `type1::dma_store` | "
                   f"{store_instructions[op]:.0f} | — | — | no regression |")
name = "dma_store_65535_latency/manual_time"
if name in runs:
    out.append(f"| mapping store, lookup latency (each lookup waits for the last) | `type1::dma_store` "
               f"| {get(name, 'latency_ns'):.3g} ns | `std::map` {get(name, 'latency_map_ns'):.3g} ns "
               f"| **{get(name, 'latency_x'):.2f}× faster** | — |")
# The type1 container against the bare page table doing the same table work.
unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0}
for name, what, target in [
        ("container_map_1GiB/scattered_4K/0/manual_time", "container MAP_DMA 1 GiB, scattered 4K frames", "≤ 1.5×"),
        ("container_map_1GiB/contiguous_2M/1/manual_time", "container MAP_DMA 1 GiB, 2M-contiguous memory", "≤ 1.5×"),
        ("container_65535_maps_unmap_all/manual_time", "65,535 MAP_DMAs of 4K, then UNMAP_ALL", "—"),
        ("container_replay_65535/manual_time", "replay of 65,535 mappings into a new domain (A17)", "—")]:
    if name in runs:
        b = runs[name]
        ms = b["real_time"] * unit[b["time_unit"]]
        out.append(f"| {what} | VT-d 4-level | {ms:.3g} ms | bare table {b['bare_ms']:.3g} ms "
                   f"| **{b['x']:.2f}× bare** | {target} |")
        if "unmap_ms" in b:
            out.append(f"| {what.replace('MAP_DMA', 'UNMAP_DMA')} | VT-d 4-level | {b['unmap_ms']:.3g} ms "
                       f"| bare table, run by run {b['unmap_bare_ms']:.3g} ms | **{b['unmap_x']:.2f}× bare** | — |")
a, v = runs.get("usable_iova/constexpr_array"), runs.get("usable_iova/usable_iova_ranges")
if a and v:
    out.append(f"| usable IOVA list (AMD-Vi) | `platform::usable_iova` | {a['real_time']:.3g} ns "
               f"| `usable_iova_ranges()` {v['real_time']:.3g} ns | **{v['real_time'] / a['real_time']:.0f}× faster** | no run-time work |")


# The umbrella header: g++ -fsyntax-only, against a TU of <algorithm>, <string>, <vector>.
def syntax_time(source):
    with tempfile.NamedTemporaryFile("w", suffix=".cpp") as f:
        f.write(source)
        f.flush()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(["g++-12", "-std=c++20", "-fsyntax-only", f"-I{root / 'include'}", f.name],
                           check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)


umbrella = syntax_time("#include <passthru/passthru.hpp>\n")
std_only = syntax_time("#include <algorithm>\n#include <string>\n#include <vector>\n")
out.append(f"| `g++ -fsyntax-only` of `<passthru/passthru.hpp>` | — | {umbrella:.2f} s "
           f"| `<algorithm>` `<string>` `<vector>` {std_only:.2f} s | {umbrella / std_only:.1f}× | — |")
print("\n".join(out))

"""What reading a table cost per chunk, two ways each (docs/benchmarks.md, "Tables read column-wise").

    python docs/probes/reader_costs.py

On the first rows of benchmarks/ingest.py's generated CSV of 200,000 documents (written once into
benchmarks/.cache/): a chunk of 10,000 texts searched for NUL, U+FFFD and line breaks with Arrow's
substring search (pandas' ``str.contains``, as the reader did) and with Python's ``in`` cell by cell
(as it does); and a partition of 20,000 texts serialized by Dask as a list of str and as an Arrow
array. Prints the mean of 10 repetitions of each, in milliseconds.
"""
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
from distributed.protocol import dumps
from distributed.protocol.serialize import ToPickle

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import ingest as bench  # noqa: E402  (benchmarks/ingest.py)


def ms(fn, repeat: int = 10) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


texts = pd.read_csv(bench.generated_csv(200_000), dtype=str, nrows=20_000)["text"]
chunk = texts[:10_000]


def arrow_search():
    return [chunk.str.contains(p, regex=regex, na=False) for p, regex in (("\x00", False), ("\ufffd", False),
                                                                             ("[\r\n]", True))]


def python_search():
    cells = chunk.tolist()
    return [[isinstance(v, str) and any(c in v for c in chars) for v in cells] for chars in ("\x00", "\ufffd", "\r\n")]


print(f"10,000 texts searched for NUL, U+FFFD, line breaks: Arrow {ms(arrow_search):.1f} ms, "
      f"Python {ms(python_search):.1f} ms")
as_list, as_arrow = texts.tolist(), pa.array(texts.array)
print(f"20,000 texts serialized by Dask: a list of str {ms(lambda: dumps({'a': ToPickle((as_list,))})):.1f} ms, "
      f"an Arrow array {ms(lambda: dumps({'a': ToPickle((as_arrow,))})):.1f} ms")

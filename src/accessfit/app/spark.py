"""The backfill on Apache Spark ("keys mode"): the driver plans with the daemon's lister, `parallelize` spreads the
objects over the executors, each executor reads its objects with boto3 and maps them with the daemon's own code
(jobs.backfill.units.map_chunk), `reduceByKey` merges each unit's partials (jobs.backfill.units.merge), and the
units come back to the driver in plan order to be written. The only module that imports pyspark, and only when
`--engine spark` runs: the base install needs neither pyspark nor Java.

Spark's own S3 connector is not used (the PyPI wheel has no hadoop-aws): reads go through the daemon's S3Source,
so the same path runs on AWS Glue, EMR, a laptop and against moto (AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from accessfit.jobs.backfill.units import MapJob, Planned, UnitKey, UnitPartial, map_chunk, merge

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

OBJECTS_PER_SLICE = 16  # objects per Spark partition of the plan: tasks small enough to spread and to retry
UNITS_PER_REDUCER = 4  # units per reduce partition: the driver holds one partition of units at a time


def session(master: str | None, app_name: str = "accessfit-backfill") -> SparkSession:
    """A SparkSession: on `master` when given (local[N], spark://…), else the one spark-submit or Glue set up."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - pyspark only for --engine spark

    builder = SparkSession.builder.appName(app_name)
    if master is not None:  # a local run: no web UI, and no progress bars over the command's own output
        # Executors on this host run this interpreter (python3 on PATH would lack accessfit); a cluster's come
        # from its own configuration (a venv archive, Glue's modules).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = builder.master(master).config("spark.ui.enabled", "false")
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        # In local mode the executors' shuffle lives in the driver's heap: Spark's 1 GiB is short for a
        # resource-diverse trail (a million events, 600,000 distinct resources, ran out of it). Spark's own
        # SPARK_DRIVER_MEMORY says otherwise.
        if "SPARK_DRIVER_MEMORY" not in os.environ:
            builder = builder.config("spark.driver.memory", "4g")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # a line per gateway connection otherwise
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


class _RangeOf:
    """A unit's reduce partition: its rank in plan order, spread evenly over the partitions."""

    def __init__(self, keys: list[UnitKey], partitions: int) -> None:
        self.rank = {k: i for i, k in enumerate(keys)}
        self.per = max(1, -(-len(keys) // partitions))

    def __call__(self, key: UnitKey) -> int:
        return self.rank[key] // self.per


def _sorted(units: Iterable[tuple[UnitKey, UnitPartial]]) -> list[tuple[UnitKey, UnitPartial]]:
    return sorted(units, key=lambda kv: kv[0])


def _map_partition(job: MapJob, planned: Iterable[Planned]) -> Iterator[tuple[UnitKey, UnitPartial]]:
    for unit in map_chunk(job, planned):
        yield unit.unit, unit


class SparkEngine:
    """The map and reduce steps on a SparkContext."""

    name = "spark"

    def __init__(self, sc: SparkContext, reducers: int | None = None) -> None:
        self.sc = sc
        self.reducers = reducers

    def run(self, objects: list[Planned], job: MapJob) -> Iterator[UnitPartial]:
        if not objects:
            return iter(())
        slices = max(1, min(len(objects) // OBJECTS_PER_SLICE + 1, 10_000))
        keys = sorted({p.unit for p in objects})
        reducers = self.reducers or min(max(self.sc.defaultParallelism, -(-len(keys) // UNITS_PER_REDUCER)), 10_000)
        units = (
            self.sc.parallelize(objects, slices)
            .mapPartitions(partial(_map_partition, job))
            # Reduce partition r holds the r-th run of units in plan order, so the result needs no second
            # shuffle to sort (sortByKey would move every unit again): each partition is sorted where it is.
            .reduceByKey(merge, numPartitions=reducers, partitionFunc=_RangeOf(keys, reducers))
            .mapPartitions(_sorted, preservesPartitioning=True)
        )
        # One partition at a time to the driver, which writes each unit as it comes.
        return (unit for _, unit in units.toLocalIterator())

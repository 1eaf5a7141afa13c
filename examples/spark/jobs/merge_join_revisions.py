"""Pairs every revision of a wiki page with the revision before it through a sort-merge self-join; one page is huge.

The revisions table is joined with itself on the page id (and the previous revision number); the MERGE hint makes it
a sort-merge join, so the join task sorts both sides by page id, and every sorter must fit each record into one
memory page taken from Spark's execution memory, while both sorters hold the huge revision at once. Page 0 (of
PAGES, with 2 revisions each) has a body of MB megabytes in its first revision; all other bodies are small. At
PAGES=1000 and MB=64 a 512 MiB driver (about 130 MB of execution memory) fails the join task (`SparkOutOfMemoryError:
[UNABLE_TO_ACQUIRE_MEMORY] Unable to acquire 67108900 bytes of memory, got 66136117. SQLSTATE: 53200`, exit code 1);
768 MiB succeeds. (An earlier form that built the two sides separately also ran out of heap while writing the big
records, exit code 52, in one of two runs at 512 MiB.) Usage: merge_join_revisions.py PAGES MB
"""
import sys

from pyspark.sql import SparkSession

pages, megabytes = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("merge-join-revisions").getOrCreate()
spark.range(0, pages * 2, 1, 2).selectExpr(
    "id % 2 as revision", "id div 2 as page",
    f"repeat(sha2(cast(id as string), 256), if(id = 0, {megabytes} * 16384, 32)) as body",
).createOrReplaceTempView("revisions")
print(spark.sql(
    "SELECT /*+ MERGE(p) */ c.page, c.revision, length(c.body) AS current_chars, length(p.body) AS previous_chars"
    " FROM revisions c JOIN revisions p ON c.page = p.page AND p.revision = c.revision - 1"
    " ORDER BY length(c.body) + length(p.body) DESC LIMIT 3"
).collect())
spark.stop()

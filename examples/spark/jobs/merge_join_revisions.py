"""Compares each wiki page with its previous revision through a sort-merge join, where a few pages are huge.

Both sides carry the page body; the MERGE hint makes the join a sort-merge join, so each side is shuffled and sorted
by page id, and every sorter must fit each record into one memory page taken from Spark's execution memory. Pages 0
and 1 (of PAGES) have bodies of MB megabytes, all other pages are small.
Usage: merge_join_revisions.py PAGES MB
"""
import sys

from pyspark.sql import SparkSession

pages, megabytes = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("merge-join-revisions").getOrCreate()
body = f"repeat(sha2(cast(id as string), 256), if(id < 2, {megabytes} * 16384, 32))"
spark.range(0, pages, 1, 2).selectExpr("id as page", f"{body} as body").createOrReplaceTempView("current")
spark.range(0, pages, 1, 2).selectExpr("id as page", f"concat({body}, 'x') as body").createOrReplaceTempView("previous")
print(spark.sql(
    "SELECT /*+ MERGE(p) */ c.page, length(c.body) AS current_chars, length(p.body) AS previous_chars,"
    "  c.body = substr(p.body, 1, length(c.body)) AS unchanged"
    " FROM current c JOIN previous p ON c.page = p.page WHERE c.page < 4 ORDER BY c.page"
).collect())
spark.stop()

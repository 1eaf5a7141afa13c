"""Reports each ad campaign's click-through rate, clicks / impressions, per day.

ROWS ad events over CAMPAIGNS campaigns; every campaign has impressions except campaign 13, which was paused after
its clicks were counted but before it served (its impressions are 0 on one day). The job divides integer clicks by
integer impressions without guarding against zero, so under Spark 4's ANSI mode (on by default) the division raises
`[DIVIDE_BY_ZERO]` in the task: a bug in the job, which fails the same way with any amount of memory.
Usage: campaign_ctr_ratio.py ROWS CAMPAIGNS
"""
import sys

from pyspark.sql import SparkSession

rows, campaigns = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("campaign-ctr-ratio").getOrCreate()
spark.range(0, rows, 1, 4).selectExpr(
    f"id % {campaigns} as campaign",
    "date_add(date'2026-11-01', cast(id % 7 as int)) as day",
    f"if(id % {campaigns} = 13 and id % 7 = 3, 0, 1) as impression",
    "if(id % 50 = 0, 1, 0) as click",
).createOrReplaceTempView("events")
print(spark.sql(
    "SELECT campaign, day, sum(click) / sum(impression) AS ctr FROM events GROUP BY campaign, day"
    " ORDER BY ctr DESC LIMIT 5"
).collect())
spark.stop()

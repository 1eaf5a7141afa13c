"""Builds each game's leaderboard with `sort_array(collect_list(struct(score, player)))` and keeps the top 10.

ROWS scores over GAMES games. Instead of a window or a top-N aggregation, the job gathers all of a game's
(score, player) structs into one array with `collect_list`, sorts the array descending with `sort_array` and slices
the first ten. `collect_list` keeps the whole list in the aggregation buffer in the task's heap (once per partial
aggregation, then again when the shuffled partial lists are merged), and `sort_array` copies it again, so with few
games each game's list of structs must fit in the heap several times over.
Usage: leaderboard_sort_array.py ROWS GAMES
"""
import sys

from pyspark.sql import SparkSession

rows, games = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("leaderboard-sort-array").getOrCreate()
spark.range(0, rows, 1, 4).selectExpr(
    f"id % {games} as game",
    "concat('player-', lpad(cast(id * 7919 % 100000000 as string), 8, '0')) as player",
    "cast(rand(11) * 1000000 as int) as score",
).createOrReplaceTempView("scores")
print(spark.sql(
    "SELECT game, slice(board, 1, 10)[0] AS best, size(board) AS entries FROM ("
    "  SELECT game, sort_array(collect_list(struct(score, player)), false) AS board FROM scores GROUP BY game"
    ") ORDER BY game"
).collect())
spark.stop()

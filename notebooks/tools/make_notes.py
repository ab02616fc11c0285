#!/usr/bin/env python3
"""Writes the Zeppelin notes of notebooks/ (Zeppelin 0.10 note format, <Name>_<ID>.zpln) from the paragraphs below.

Edit the paragraphs here, run `python3 notebooks/tools/make_notes.py`, commit both. NotebooksTest parses the .zpln
files, checks their structure and runs every %spark.sql paragraph against the outputs of a tiny real run.

Conventions: every path comes from a note-level dynamic form ($${name=default}, one text box per note shared by all
its paragraphs; the first use in each paragraph carries the default). Paragraphs only read outputs; %spark (Scala)
appears only where SQL cannot do the job (showing a PNG).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
CREATED = "2026-11-25 00:00:00.000"
VERSION = "0.10.1"


def sql_config(title, graph=None, keys=None, values=None, groups=None, width=12):
    results = {}
    if graph:
        results = {"0": {"graph": {
            "mode": graph, "height": 300.0, "optionOpen": False,
            "setting": {graph: {}} if graph != "table" else {},
            "commonSetting": {},
            "keys": [{"name": k, "index": float(i), "aggr": "sum"} for i, k in enumerate(keys or [])],
            "groups": [{"name": g, "index": float(len(keys or []) + i), "aggr": "sum"} for i, g in enumerate(groups or [])],
            "values": [{"name": v, "index": float(len(keys or []) + len(groups or []) + i), "aggr": "sum"}
                       for i, v in enumerate(values or [])],
        }, "helium": {}}}
    return {"editorSetting": {"language": "sql", "editOnDblClick": False, "completionKey": "TAB", "completionSupport": True},
            "colWidth": float(width), "editorMode": "ace/mode/sql", "fontSize": 9.0, "title": True, "results": results,
            "enabled": True}


def md_config(title):
    return {"editorSetting": {"language": "markdown", "editOnDblClick": True, "completionKey": "TAB", "completionSupport": False},
            "colWidth": 12.0, "editorMode": "ace/mode/markdown", "fontSize": 9.0, "editorHide": True, "title": False,
            "results": {}, "enabled": True}


def scala_config(title):
    return {"editorSetting": {"language": "scala", "editOnDblClick": False, "completionKey": "TAB", "completionSupport": True},
            "colWidth": 12.0, "editorMode": "ace/mode/scala", "fontSize": 9.0, "title": True, "results": {}, "enabled": True}


def md(text):
    return ("", "%md\n" + text.strip() + "\n", md_config(""))


def sql(title, text, **chart):
    return (title, "%spark.sql\n" + text.strip() + "\n", sql_config(title, **chart))


def scala(title, text):
    return (title, "%spark\n" + text.strip() + "\n", scala_config(title))


def note(name, note_id, paragraphs):
    ps = []
    for i, (title, text, config) in enumerate(paragraphs, 1):
        pid = "paragraph_1764028800000_%09d" % (int(note_id[4:], 36) % 10 ** 6 * 1000 + i)
        p = {"text": text, "user": "anonymous", "dateUpdated": CREATED, "progress": 0, "config": config,
             "settings": {"params": {}, "forms": {}}, "apps": [], "runtimeInfos": {}, "progressUpdateIntervalMs": 500,
             "jobName": pid, "id": pid, "dateCreated": CREATED, "status": "READY"}
        if title:
            p["title"] = title
        ps.append(p)
    return {"paragraphs": ps, "name": name, "id": note_id, "defaultInterpreterGroup": "spark", "version": VERSION,
            "noteParams": {}, "noteForms": {}, "angularObjects": {}, "config": {"isZeppelinNotebookCronEnable": False},
            "info": {}}


D = "$${dataset=/tmp/fql/data/pointmaze-medium-stitch}"
R = "$${run_dir=/tmp/fql/runs/pm}"
S = "$${sweep_dir=/tmp/fql/sweeps/pointmaze}"
E = "$${eval_dir=/tmp/fql/eval/pm}"

DATASET = note("FQL Dataset Inspection", "2FQLDATA1", [
    md("""
## FQL dataset inspection

Reads one ingested dataset directory (`./fql ingest` or `./fql generate`): its `manifest.json` and its Parquet shards
(data contract v1: `observations`, `actions` (`array<float>`), `rewards`, `masks`, `terminals`,
`next_observations`, `episode_id`, `step_index`). Set the **dataset** box above to the directory (a local path,
`hdfs://...` or `s3a://...`); every paragraph uses it. Nothing here writes anything.
"""),
    sql("Manifest", """
CREATE OR REPLACE TEMPORARY VIEW fql_manifest USING json OPTIONS (path '%s/manifest.json', multiLine 'true');
SELECT schema_version, created_at, writer, source.path AS source, format, counts.transitions, counts.episodes,
       counts.dropped_invalid, counts.clipped_action_values, obs_dim, action_dim, size(shards) AS shards
FROM fql_manifest
""" % D),
    sql("Where the data came from", """
SELECT source.path, source.format, source.sha256, source.size_bytes, to_json(source.details) AS details,
       to_json(ingest_options) AS ingest_options
FROM fql_manifest
"""),
    sql("Per-dimension statistics (manifest)", """
SELECT 'observation' AS field, pos AS dim, v AS min, statistics.observations.max[pos] AS max,
       statistics.observations.mean[pos] AS mean, statistics.observations.std[pos] AS std
FROM fql_manifest LATERAL VIEW posexplode(statistics.observations.min) t AS pos, v
UNION ALL
SELECT 'action', pos, v, statistics.actions.max[pos], statistics.actions.mean[pos], statistics.actions.std[pos]
FROM fql_manifest LATERAL VIEW posexplode(statistics.actions.min) t AS pos, v
UNION ALL
SELECT 'reward', pos, v, statistics.rewards.max[pos], statistics.rewards.mean[pos], statistics.rewards.std[pos]
FROM fql_manifest LATERAL VIEW posexplode(statistics.rewards.min) t AS pos, v
"""),
    sql("Transitions (Parquet): counts against the manifest", """
CREATE OR REPLACE TEMPORARY VIEW fql_transitions AS SELECT * FROM parquet.`%s/*.parquet`;
SELECT p.transitions, m.counts.transitions AS manifest_transitions, p.episodes, m.counts.episodes AS manifest_episodes,
       p.transitions = m.counts.transitions AND p.episodes = m.counts.episodes AS consistent,
       p.mean_reward, p.goal_states, p.terminals
FROM (SELECT count(*) AS transitions, count(DISTINCT episode_id) AS episodes, avg(rewards) AS mean_reward,
             sum(CASE WHEN masks = 0 THEN 1 ELSE 0 END) AS goal_states, sum(terminals) AS terminals
      FROM fql_transitions) p
CROSS JOIN fql_manifest m
""" % D),
    sql("Episode lengths", """
SELECT length, count(*) AS episodes
FROM (SELECT episode_id, count(*) AS length FROM fql_transitions GROUP BY episode_id)
GROUP BY length ORDER BY length
""", graph="multiBarChart", keys=["length"], values=["episodes"]),
    sql("Rewards and masks", """
SELECT rewards, masks, terminals, count(*) AS transitions
FROM fql_transitions GROUP BY rewards, masks, terminals ORDER BY rewards, masks, terminals
"""),
    sql("Per-dimension statistics (Parquet)", """
SELECT 'observation' AS field, pos AS dim, min(v) AS min, max(v) AS max, avg(v) AS mean, stddev_pop(v) AS std
FROM fql_transitions LATERAL VIEW posexplode(observations) t AS pos, v GROUP BY pos
UNION ALL
SELECT 'action', pos, min(v), max(v), avg(v), stddev_pop(v)
FROM fql_transitions LATERAL VIEW posexplode(actions) t AS pos, v GROUP BY pos
ORDER BY field, dim
"""),
    sql("Visited positions (first two observation dimensions; the maze for point-maze data)", """
SELECT observations[0] AS x, observations[1] AS y
FROM fql_transitions WHERE pmod(step_index, 5) = 0 LIMIT 20000
""", graph="scatterChart", keys=["x"], values=["y"]),
    sql("First steps of the first episodes", """
SELECT episode_id, step_index, observations, actions, rewards, masks, terminals, next_observations
FROM fql_transitions WHERE episode_id IN (SELECT DISTINCT episode_id FROM fql_transitions ORDER BY episode_id LIMIT 3)
ORDER BY episode_id, step_index LIMIT 30
"""),
])

TRAINING = note("FQL Training Curves", "2FQLTRAIN", [
    md("""
## FQL training curves

Reads one training run directory (`./fql train --run-dir`, or `trials/<id>/run` of a sweep): `config.json`,
`metrics.parquet` (one row per averaging round) and `result.json` (written when the run ends). Set the **run_dir** box.

Metrics (means over the round's steps and workers): `critic/critic_loss` (TD loss), `critic/q_mean|q_max|q_min`,
`actor/actor_loss` = `actor/bc_flow_loss` + α·`actor/distill_loss` + `actor/q_loss`, `actor/q` (mean Q of the one-step
policy's actions), `grad_norm`; throughput `steps_per_second`, `samples_per_second`; time `round_seconds`,
`compute_seconds` (slowest worker's gradient steps), `averaging_seconds` (the rest: broadcast, aggregation, average).
"""),
    sql("Run configuration", """
CREATE OR REPLACE TEMPORARY VIEW fql_run_config USING json OPTIONS (path '%s/config.json', multiLine 'true');
SELECT train.preset, train.steps, train.workers, train.averaging_frequency, train.seed, dataset.path AS dataset,
       dataset.transitions, to_json(fql_config) AS fql_config, to_json(train.overrides) AS overrides
FROM fql_run_config
""" % R),
    sql("Metrics", """
CREATE OR REPLACE TEMPORARY VIEW fql_metrics AS SELECT * FROM parquet.`%s/metrics.parquet`;
SELECT step, round, `critic/critic_loss` AS critic_loss, `actor/actor_loss` AS actor_loss, `critic/q_mean` AS q_mean,
       grad_norm, samples_per_second
FROM fql_metrics ORDER BY step
""" % R),
    sql("Critic loss", """
SELECT step, `critic/critic_loss` AS critic_loss FROM fql_metrics ORDER BY step
""", graph="lineChart", keys=["step"], values=["critic_loss"]),
    sql("Actor loss terms", """
SELECT step, `actor/bc_flow_loss` AS bc_flow_loss, `actor/distill_loss` AS distill_loss, `actor/q_loss` AS q_loss
FROM fql_metrics ORDER BY step
""", graph="lineChart", keys=["step"], values=["bc_flow_loss", "distill_loss", "q_loss"]),
    sql("Q values", """
SELECT step, `critic/q_min` AS q_min, `critic/q_mean` AS q_mean, `critic/q_max` AS q_max, `actor/q` AS policy_q
FROM fql_metrics ORDER BY step
""", graph="lineChart", keys=["step"], values=["q_min", "q_mean", "q_max", "policy_q"]),
    sql("Throughput and averaging share", """
SELECT step, samples_per_second, steps_per_second, 100 * averaging_seconds / round_seconds AS averaging_percent
FROM fql_metrics ORDER BY step
""", graph="lineChart", keys=["step"], values=["samples_per_second", "averaging_percent"]),
    sql("Result (when the run has ended)", """
CREATE OR REPLACE TEMPORARY VIEW fql_run_result USING json OPTIONS (path '%s/result.json', multiLine 'true');
SELECT start_step, final_step, rounds, train_seconds, load_seconds, averaging_share, samples_per_second,
       executors_lost, failed_tasks, last_checkpoint
FROM fql_run_result
""" % R),
    scala("Learning curves PNG (rendered by the trainer; SQL cannot show images)", """
// Shows <run_dir>/learning_curves.png from any Hadoop file system; the path comes from the note's run_dir box.
import org.apache.hadoop.fs.Path
val png = new Path(z.noteTextbox("run_dir", "/tmp/fql/runs/pm").toString, "learning_curves.png")
val in = png.getFileSystem(sc.hadoopConfiguration).open(png)
val bytes = try in.readAllBytes() finally in.close()
print("%html <img style=\\"max-width:100%\\" src=\\"data:image/png;base64," + java.util.Base64.getEncoder.encodeToString(bytes) + "\\"/>")
"""),
])

SWEEP = note("FQL Sweep Comparison", "2FQLSWEEP", [
    md("""
## FQL sweep comparison

Reads one sweep directory (`./fql sweep --output`): `results.parquet` (one row per trial: every resolved setting as
`agent_*`, `train_*`, `evaluate_*`, the variant axes, and the final metrics), `best.json`, and each trial's
`run/metrics.parquet` and `eval/episodes.parquet`. Set the **sweep_dir** box.
"""),
    sql("Trials, best first", """
CREATE OR REPLACE TEMPORARY VIEW fql_results AS SELECT * FROM parquet.`%s/results.parquet`;
SELECT trial_id, parameters, status, success_rate, success_rate_ci95_low, success_rate_ci95_high, mean_return,
       return_std, normalized_score, final_step, train_seconds + eval_seconds AS seconds, error
FROM fql_results ORDER BY success_rate DESC NULLS LAST, mean_return DESC NULLS LAST, trial_index
""" % S),
    sql("Status", """
SELECT status, count(*) AS trials FROM fql_results GROUP BY status ORDER BY status
"""),
    sql("Best trial (best.json)", """
CREATE OR REPLACE TEMPORARY VIEW fql_best USING json OPTIONS (path '%s/best.json', multiLine 'true');
SELECT trial_id, to_json(parameters) AS parameters, success_rate, mean_return, normalized_score, run_dir, eval_dir,
       selected_by, trials, completed, failed
FROM fql_best
""" % S),
    sql("Success rate and return by alpha (mean and spread over the other axes)", """
SELECT agent_alpha AS alpha, count(*) AS trials, avg(success_rate) AS success_rate,
       stddev_samp(success_rate) AS success_rate_std, avg(mean_return) AS mean_return
FROM fql_results WHERE status = 'completed' GROUP BY agent_alpha ORDER BY agent_alpha
""", graph="multiBarChart", keys=["alpha"], values=["success_rate"]),
    sql("Every setting that varies", """
SELECT trial_id, parameters, data, preset, agent_alpha, agent_discount, agent_q_agg, agent_lr, agent_batch_size,
       agent_actor_hidden_dims, agent_flow_steps, agent_normalize_q_loss, train_steps, train_workers, train_seed,
       evaluate_env, evaluate_episodes, evaluate_policy
FROM fql_results ORDER BY trial_index
"""),
    sql("Final training metrics", """
SELECT trial_id, parameters, last_critic_critic_loss, last_critic_q_mean, last_actor_bc_flow_loss,
       last_actor_distill_loss, last_actor_q_loss, last_grad_norm, samples_per_second
FROM fql_results WHERE status = 'completed' ORDER BY trial_index
"""),
    sql("Learning curves of every trial", """
SELECT r.parameters, m.step, m.`critic/critic_loss` AS critic_loss, m.`critic/q_mean` AS q_mean,
       m.`actor/distill_loss` AS distill_loss
FROM (SELECT *, regexp_extract(input_file_name(), 'trials/([0-9a-f]{12})/run/', 1) AS trial_id
      FROM parquet.`%s/trials/*/run/metrics.parquet`) m
JOIN fql_results r ON r.trial_id = m.trial_id
ORDER BY r.trial_index, m.step
""" % S, graph="lineChart", keys=["step"], groups=["parameters"], values=["q_mean"]),
    sql("Evaluation episodes of every trial", """
SELECT r.parameters, count(*) AS episodes, avg(CAST(e.success AS INT)) AS success_rate, avg(e.`return`) AS mean_return,
       avg(e.length) AS mean_length, sum(CAST(e.failed AS INT)) AS failed
FROM (SELECT *, regexp_extract(input_file_name(), 'trials/([0-9a-f]{12})/eval/', 1) AS trial_id
      FROM parquet.`%s/trials/*/eval/episodes.parquet`) e
JOIN fql_results r ON r.trial_id = e.trial_id
GROUP BY r.trial_index, r.parameters ORDER BY r.trial_index
""" % S),
])

EVALUATION = note("FQL Evaluation Results", "2FQLEVAL1", [
    md("""
## FQL evaluation results

Reads one evaluation output directory (`./fql evaluate --output`, or `trials/<id>/eval` of a sweep): `summary.json`
and `episodes.parquet` (one row per episode: `episode`, `seed`, `return`, `length`, `success`, `failed`, `error`).
Set the **eval_dir** box. Rates and means are over completed episodes; failed episodes (an external environment that
crashed, hung or answered garbage) are counted apart.
"""),
    sql("Summary", """
CREATE OR REPLACE TEMPORARY VIEW fql_summary USING json OPTIONS (path '%s/summary.json', multiLine 'true');
SELECT env, env_id, checkpoint_step, episodes, episodes_completed, episodes_failed, success_rate, success_rate_ci95,
       mean_return, return_std, return_ci95, mean_length, normalized_score, normalized_score_definition
FROM fql_summary
""" % E),
    sql("Provenance", """
SELECT checkpoint, seed, partitions, max_episode_steps, elapsed_seconds, to_json(versions) AS versions FROM fql_summary
"""),
    sql("Episodes", """
CREATE OR REPLACE TEMPORARY VIEW fql_episodes AS SELECT * FROM parquet.`%s/episodes.parquet`;
SELECT episode, seed, `return`, length, success, failed, error FROM fql_episodes ORDER BY episode
""" % E),
    sql("Outcomes", """
SELECT success, failed, count(*) AS episodes, avg(`return`) AS mean_return, avg(length) AS mean_length,
       first(error, true) AS an_error
FROM fql_episodes GROUP BY success, failed ORDER BY failed, success
""", graph="pieChart", keys=["success"], values=["episodes"]),
    sql("Return distribution", """
SELECT floor(`return` / 10) * 10 AS return_bucket, count(*) AS episodes
FROM fql_episodes WHERE NOT failed GROUP BY floor(`return` / 10) * 10 ORDER BY return_bucket
""", graph="multiBarChart", keys=["return_bucket"], values=["episodes"]),
    sql("Episode length against return", """
SELECT length, `return` FROM fql_episodes WHERE NOT failed
""", graph="scatterChart", keys=["length"], values=["return"]),
    scala("Trajectories PNG (point-maze only; SQL cannot show images)", """
// Shows <eval_dir>/trajectories.png (written for the built-in point-maze) from any Hadoop file system.
import org.apache.hadoop.fs.Path
val png = new Path(z.noteTextbox("eval_dir", "/tmp/fql/eval/pm").toString, "trajectories.png")
val fs = png.getFileSystem(sc.hadoopConfiguration)
if (!fs.exists(png)) println(s"no $png: only point-maze evaluations draw trajectories")
else {
  val in = fs.open(png)
  val bytes = try in.readAllBytes() finally in.close()
  print("%html <img style=\\"max-width:100%\\" src=\\"data:image/png;base64," + java.util.Base64.getEncoder.encodeToString(bytes) + "\\"/>")
}
"""),
])

for name, n in [("FQL-Dataset-Inspection", DATASET), ("FQL-Training-Curves", TRAINING),
                ("FQL-Sweep-Comparison", SWEEP), ("FQL-Evaluation-Results", EVALUATION)]:
    path = os.path.join(OUT, "%s_%s.zpln" % (name, n["id"]))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(n, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(path)

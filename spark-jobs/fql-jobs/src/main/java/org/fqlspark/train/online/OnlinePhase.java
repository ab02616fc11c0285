package org.fqlspark.train.online;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.fqlspark.train.worker.EpisodeEnd;
import org.fqlspark.train.worker.OnlineBuffer;
import org.fqlspark.train.worker.OnlineTransitions;

/**
 * The driver's side of the online phase (docs/algorithm.md §5): the whole online buffer (every row, in collection order), each
 * actor's {@link ActorState}, how many rows the learners hold and how many are saved under {@code online/}, and the
 * episode counters. {@link #stateJson(long)} is what a checkpoint keeps (with the rows in {@code online/}), so a resumed
 * run continues exactly where the checkpointed one stood.
 */
public final class OnlinePhase {

    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String CHECKPOINT_KEY = "online_state";

    final OnlineWork.EnvSide env;
    final OnlineBuffer all;
    final List<ActorState> actors;
    /** Rows every learner holds (they were sent, or made there). */
    long learnersHave;
    /** Rows saved under online/. */
    long committed;
    long episodes;
    long successes;
    long failedEpisodes;
    /** Episodes that ended since the last metrics row. */
    final List<EpisodeEnd> recent = new ArrayList<>();

    private OnlinePhase(OnlineWork.EnvSide env, OnlineBuffer all, List<ActorState> actors) {
        this.env = env;
        this.all = all;
        this.actors = actors;
    }

    public static OnlinePhase fresh(OnlineWork.EnvSide env, int obsDim, int actionDim) {
        List<ActorState> actors = new ArrayList<>();
        for (int e = 0; e < env.actors(); e++) {
            actors.add(ActorState.fresh(e));
        }
        return new OnlinePhase(env, OnlineBuffer.all(obsDim, actionDim), actors);
    }

    /** The phase as a checkpoint saved it, with its rows read back from online/. */
    public static OnlinePhase resume(OnlineWork.EnvSide env, Saved saved, OnlineTransitions rows) {
        OnlineBuffer all = OnlineBuffer.all(rows.obsDim(), rows.actionDim());
        all.append(rows);
        OnlinePhase p = new OnlinePhase(env, all, new ArrayList<>(saved.actorStates()));
        p.committed = rows.size();
        p.learnersHave = 0;   // the first round sends the learners everything
        p.episodes = saved.episodes();
        p.successes = saved.successes();
        p.failedEpisodes = saved.failedEpisodes();
        return p;
    }

    /**
     * What a checkpoint records of the phase; {@code offlineSteps}, the offline steps the phase began after, is null in
     * checkpoints written before it was recorded.
     */
    public record Saved(String env, String mode, int actors, int refreshEvery, long capacity, float rewardShift, long transitions,
            long episodes, long successes, long failedEpisodes, List<ActorState> actorStates, Long offlineSteps) {
    }

    public long count() {
        return all.seen();
    }

    public void add(OnlineTransitions rows, List<EpisodeEnd> ends) {
        all.append(rows);
        for (EpisodeEnd e : ends) {
            if (e.failed()) {
                failedEpisodes++;
            } else {
                episodes++;
                successes += e.success() ? 1 : 0;
                recent.add(e);
            }
        }
    }

    /** The rows the learners lack (all of them from 0 when {@code everything}). */
    public OnlineTransitions unsent(boolean everything) {
        long from = everything ? 0 : learnersHave;
        return all.range(from, count());
    }

    /** The phase's state for a checkpoint of a run whose online phase began after {@code offlineSteps} steps. */
    public String stateJson(long offlineSteps) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("offline_steps", offlineSteps);
        m.put("env", env.env());
        m.put("mode", env.mode());
        m.put("actors", env.actors());
        m.put("refresh_every", env.refreshEvery());
        m.put("capacity", env.capacity());
        m.put("reward_shift", env.rewardShift());
        m.put("transitions", count());
        m.put("episodes", episodes);
        m.put("successes", successes);
        m.put("failed_episodes", failedEpisodes);
        m.put("actor_states", actors);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Saved parse(String json, String where) {
        try {
            Map<String, Object> m = JSON.readValue(json, new TypeReference<Map<String, Object>>() { });
            List<ActorState> actors = JSON.convertValue(m.get("actor_states"), new TypeReference<List<ActorState>>() { });
            return new Saved((String) m.get("env"), (String) m.get("mode"), ((Number) m.get("actors")).intValue(),
                    ((Number) m.get("refresh_every")).intValue(), ((Number) m.get("capacity")).longValue(),
                    ((Number) m.get("reward_shift")).floatValue(), ((Number) m.get("transitions")).longValue(),
                    ((Number) m.get("episodes")).longValue(), ((Number) m.get("successes")).longValue(),
                    ((Number) m.get("failed_episodes")).longValue(), actors,
                    m.get("offline_steps") == null ? null : ((Number) m.get("offline_steps")).longValue());
        } catch (JsonProcessingException | RuntimeException e) {
            throw new IllegalArgumentException(where + ": the checkpoint's " + CHECKPOINT_KEY + " does not parse ("
                    + e.getMessage() + ")", e);
        }
    }

    /** The metric columns of the online phase (NaN or 0 in offline rounds). */
    public static final List<String> METRICS = List.of("online/env_steps", "online/episodes", "online/episode_return",
            "online/success_rate", "online/collect_seconds");

    /** Fills this round's online columns and forgets the round's episodes. */
    public void metrics(Map<String, Double> row, double collectSeconds) {
        row.put("online/env_steps", (double) count());
        row.put("online/episodes", (double) episodes);
        double ret = Double.NaN;
        double success = Double.NaN;
        if (!recent.isEmpty()) {
            ret = recent.stream().mapToDouble(EpisodeEnd::episodeReturn).average().orElse(Double.NaN);
            success = recent.stream().filter(EpisodeEnd::success).count() / (double) recent.size();
        }
        row.put("online/episode_return", ret);
        row.put("online/success_rate", success);
        row.put("online/collect_seconds", collectSeconds);
        recent.clear();
    }

    public static void offlineMetrics(Map<String, Double> row) {
        row.put("online/env_steps", 0.0);
        row.put("online/episodes", 0.0);
        row.put("online/episode_return", Double.NaN);
        row.put("online/success_rate", Double.NaN);
        row.put("online/collect_seconds", Double.NaN);
    }
}

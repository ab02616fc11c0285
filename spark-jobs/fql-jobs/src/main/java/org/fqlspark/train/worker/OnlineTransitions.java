package org.fqlspark.train.worker;

import java.io.Serializable;
import java.util.Arrays;

import org.fqlspark.data.TransitionData;
import org.fqlspark.train.online.OnlineDataset;

/**
 * A contiguous run of online transitions, {@code [first, first + size())} in the order they were collected, as flat
 * columns (the dataset contract's, plus each row's position in the online buffer): what an actor returns, what the
 * driver sends learners, what {@link OnlineDataset} writes. Immutable once built.
 */
public record OnlineTransitions(
        int obsDim,
        int actionDim,
        long first,
        float[] observations,
        float[] actions,
        float[] rewards,
        float[] masks,
        float[] terminals,
        float[] nextObservations,
        long[] episodeIds,
        int[] stepIndices) implements Serializable {

    private static final long serialVersionUID = 1L;

    public OnlineTransitions {
        int n = rewards.length;
        if (observations.length != (long) n * obsDim || nextObservations.length != (long) n * obsDim
                || actions.length != (long) n * actionDim || masks.length != n || terminals.length != n
                || episodeIds.length != n || stepIndices.length != n) {
            throw new IllegalArgumentException("online transition columns do not match " + n + " rows");
        }
        if (first < 0) {
            throw new IllegalArgumentException("first online index must be non-negative, was " + first);
        }
    }

    public static OnlineTransitions empty(int obsDim, int actionDim, long first) {
        return new Builder(obsDim, actionDim, first, 0).build();
    }

    public int size() {
        return rewards.length;
    }

    /** One past the last row's online index. */
    public long end() {
        return first + size();
    }

    /** The same rows as a {@link TransitionData} (for statistics and the dataset contract). */
    public TransitionData toTransitionData() {
        return new TransitionData(obsDim, actionDim, observations, actions, rewards, masks, terminals, nextObservations,
                episodeIds, stepIndices);
    }

    /** Appends rows one at a time into growing columns. */
    public static final class Builder {
        private final int obsDim;
        private final int actionDim;
        private final long first;
        private float[] observations;
        private float[] actions;
        private float[] rewards;
        private float[] masks;
        private float[] terminals;
        private float[] nextObservations;
        private long[] episodeIds;
        private int[] stepIndices;
        private int size;

        public Builder(int obsDim, int actionDim, long first, int expectedRows) {
            this.obsDim = obsDim;
            this.actionDim = actionDim;
            this.first = first;
            int c = Math.max(4, expectedRows);
            observations = new float[c * obsDim];
            nextObservations = new float[c * obsDim];
            actions = new float[c * actionDim];
            rewards = new float[c];
            masks = new float[c];
            terminals = new float[c];
            episodeIds = new long[c];
            stepIndices = new int[c];
        }

        public int size() {
            return size;
        }

        public Builder add(float[] observation, float[] action, float reward, float mask, float terminal,
                float[] nextObservation, long episodeId, int stepIndex) {
            if (observation.length != obsDim || nextObservation.length != obsDim || action.length != actionDim) {
                throw new IllegalArgumentException("transition has observation/action lengths " + observation.length + "/"
                        + action.length + ", expected " + obsDim + "/" + actionDim);
            }
            if (size == rewards.length) {
                grow(2 * size);
            }
            System.arraycopy(observation, 0, observations, size * obsDim, obsDim);
            System.arraycopy(nextObservation, 0, nextObservations, size * obsDim, obsDim);
            System.arraycopy(action, 0, actions, size * actionDim, actionDim);
            rewards[size] = reward;
            masks[size] = mask;
            terminals[size] = terminal;
            episodeIds[size] = episodeId;
            stepIndices[size] = stepIndex;
            size++;
            return this;
        }

        /** Appends row {@code i} of {@code t}. */
        public Builder add(OnlineTransitions t, int i) {
            if (t.obsDim() != obsDim || t.actionDim() != actionDim) {
                throw new IllegalArgumentException("transition has observation/action dims " + t.obsDim() + "/" + t.actionDim()
                        + ", expected " + obsDim + "/" + actionDim);
            }
            if (size == rewards.length) {
                grow(2 * size);
            }
            System.arraycopy(t.observations(), i * obsDim, observations, size * obsDim, obsDim);
            System.arraycopy(t.nextObservations(), i * obsDim, nextObservations, size * obsDim, obsDim);
            System.arraycopy(t.actions(), i * actionDim, actions, size * actionDim, actionDim);
            rewards[size] = t.rewards()[i];
            masks[size] = t.masks()[i];
            terminals[size] = t.terminals()[i];
            episodeIds[size] = t.episodeIds()[i];
            stepIndices[size] = t.stepIndices()[i];
            size++;
            return this;
        }

        private void grow(int c) {
            observations = Arrays.copyOf(observations, c * obsDim);
            nextObservations = Arrays.copyOf(nextObservations, c * obsDim);
            actions = Arrays.copyOf(actions, c * actionDim);
            rewards = Arrays.copyOf(rewards, c);
            masks = Arrays.copyOf(masks, c);
            terminals = Arrays.copyOf(terminals, c);
            episodeIds = Arrays.copyOf(episodeIds, c);
            stepIndices = Arrays.copyOf(stepIndices, c);
        }

        // The growing columns themselves, valid for rows below size(): a sampler reads them every step without a copy.
        float[] rawObservations() { return observations; }
        float[] rawActions() { return actions; }
        float[] rawRewards() { return rewards; }
        float[] rawMasks() { return masks; }
        float[] rawNextObservations() { return nextObservations; }
        float[] rawTerminals() { return terminals; }
        long[] rawEpisodeIds() { return episodeIds; }
        int[] rawStepIndices() { return stepIndices; }

        /** Rows {@code [from, to)} of what was added (online index {@code first + from} on). */
        public OnlineTransitions build(int from, int to) {
            if (from < 0 || to > size || from > to) {
                throw new IndexOutOfBoundsException("rows " + from + ".." + to + " of " + size);
            }
            int d = obsDim;
            int a = actionDim;
            return new OnlineTransitions(d, a, first + from, Arrays.copyOfRange(observations, from * d, to * d),
                    Arrays.copyOfRange(actions, from * a, to * a), Arrays.copyOfRange(rewards, from, to),
                    Arrays.copyOfRange(masks, from, to), Arrays.copyOfRange(terminals, from, to),
                    Arrays.copyOfRange(nextObservations, from * d, to * d), Arrays.copyOfRange(episodeIds, from, to),
                    Arrays.copyOfRange(stepIndices, from, to));
        }

        public OnlineTransitions build() {
            return new OnlineTransitions(obsDim, actionDim, first, Arrays.copyOf(observations, size * obsDim),
                    Arrays.copyOf(actions, size * actionDim), Arrays.copyOf(rewards, size), Arrays.copyOf(masks, size),
                    Arrays.copyOf(terminals, size), Arrays.copyOf(nextObservations, size * obsDim),
                    Arrays.copyOf(episodeIds, size), Arrays.copyOf(stepIndices, size));
        }
    }
}

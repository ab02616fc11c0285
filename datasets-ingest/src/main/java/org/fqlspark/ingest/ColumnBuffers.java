package org.fqlspark.ingest;

import java.io.Serializable;
import org.fqlspark.data.TransitionData;

/**
 * The flat buffers of a {@link TransitionData} in a serialisable holder, broadcast to the tasks that write
 * the shards: a broadcast is sent in blocks, where data in task closures would hit the RPC message limit
 * (128 MiB by default) for datasets of a few hundred MB.
 */
final class ColumnBuffers implements Serializable {
    private static final long serialVersionUID = 1L;

    final int obsDim;
    final int actionDim;
    final float[] observations;
    final float[] actions;
    final float[] rewards;
    final float[] masks;
    final float[] terminals;
    final float[] nextObservations;
    final long[] episodeIds;
    final int[] stepIndices;

    ColumnBuffers(TransitionData d) {
        obsDim = d.obsDim();
        actionDim = d.actionDim();
        observations = d.observations();
        actions = d.actions();
        rewards = d.rewards();
        masks = d.masks();
        terminals = d.terminals();
        nextObservations = d.nextObservations();
        episodeIds = d.episodeIds();
        stepIndices = d.stepIndices();
    }
}

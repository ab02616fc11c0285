package org.fqlspark.train.worker;

/**
 * The online transitions one learner samples from, beside its offline {@link WorkerShard} (docs/algorithm.md §5: online transitions
 * join the same buffer as the dataset and batches are drawn uniformly from the union). With W learners each keeps the
 * online rows that {@link Seeds#workerOf} assigns to it, exactly as the offline rows were split, so the W workers
 * together sample the union uniformly; with W = 1 (and on the driver) it holds every row, in collection order.
 *
 * <p>{@link #seen()} counts the online rows offered so far (kept or not): a learner whose count differs from the
 * driver's has missed rows (a new executor) and must be sent the whole buffer again.
 *
 * <p>With action chunks (h &gt; 1) the rows are split per episode ({@link Seeds#workerOf(long, int, int, int)}), as
 * the shards are, so that a learner holds every row of its episodes, in collection order; the sampler reads the
 * episode ids and steps to tell where one of them stops.
 */
public final class OnlineBuffer {

    private final int worker;
    private final int workers;
    private final int horizon;
    private final OnlineTransitions.Builder rows;
    private long seen;

    public OnlineBuffer(int obsDim, int actionDim, int worker, int workers) {
        this(obsDim, actionDim, worker, workers, 1);
    }

    /** Worker {@code worker}'s buffer of W = {@code workers}, split for chunks of {@code horizon} steps. */
    public OnlineBuffer(int obsDim, int actionDim, int worker, int workers, int horizon) {
        this.worker = worker;
        this.workers = workers;
        this.horizon = horizon;
        this.rows = new OnlineTransitions.Builder(obsDim, actionDim, 0, 1024);
    }

    /** The driver's (or a single learner's) buffer: every row. */
    public static OnlineBuffer all(int obsDim, int actionDim) {
        return new OnlineBuffer(obsDim, actionDim, 0, 1);
    }

    /** Offers rows {@code [t.first(), t.end())}; they must continue exactly where the buffer stands. */
    public void append(OnlineTransitions t) {
        if (t.first() != seen) {
            throw new IllegalStateException("online rows from " + t.first() + " offered to a buffer that has seen " + seen);
        }
        for (int i = 0; i < t.size(); i++) {
            if (workers == 1 || Seeds.workerOf(t.episodeIds()[i], t.stepIndices()[i], workers, horizon) == worker) {
                rows.add(t, i);
            }
        }
        seen += t.size();
    }

    /** Online rows offered so far. */
    public long seen() {
        return seen;
    }

    /** Rows this buffer keeps. */
    public int size() {
        return rows.size();
    }

    /** The kept rows as columns (a copy; cheap to call once per round, not per step). */
    public OnlineTransitions snapshot() {
        return rows.build();
    }

    /** The kept rows' columns, valid below {@link #size()} and until the next append (read by the sampler). */
    public OnlineTransitions.Builder columns() {
        return rows;
    }

    /** Rows {@code [from, to)} by online index; only for a buffer that keeps every row (the driver's). */
    public OnlineTransitions range(long from, long to) {
        if (workers != 1) {
            throw new IllegalStateException("worker " + worker + " of " + workers + " keeps only its own online rows");
        }
        return rows.build((int) from, (int) to);
    }
}

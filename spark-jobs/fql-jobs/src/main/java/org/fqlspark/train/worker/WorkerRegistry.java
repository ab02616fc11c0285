package org.fqlspark.train.worker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.fqlspark.agent.FqlAgent;

/**
 * The live agents of this JVM (an executor, or the driver in local mode), keyed by (run id, worker, device), so a
 * worker's agent and its batch buffers survive from one round to the next instead of being rebuilt: a round only
 * uploads the broadcast average into it. An executor that was lost and replaced simply has no entry and builds one;
 * since every round starts from the broadcast average, that fallback changes no number.
 *
 * <p>An agent is not thread-safe: a task leases the slot exclusively. If the slot is busy (a speculative or retried
 * attempt of the same worker running beside the first one) the task gets a private agent instead.
 */
public final class WorkerRegistry {

    public record Key(String runId, int worker, String device) {
    }

    private static final class Slot {
        final FqlAgent agent;
        final ReentrantLock lock = new ReentrantLock();
        /**
         * The online phase's rows of this worker and, in the exact mode, its actor (both rebuilt when missing). The actor
         * is the online package's; it is kept here as what it must be: something to close when the slot is dropped.
         */
        OnlineBuffer online;
        AutoCloseable actor;

        public Slot(FqlAgent agent) {
            this.agent = agent;
        }
    }

    /** An agent held for the duration of one task. */
    public static final class Lease implements AutoCloseable {
        private final FqlAgent agent;
        private final ReentrantLock lock;
        private final Slot slot;

        private Lease(FqlAgent agent, ReentrantLock lock, Slot slot) {
            this.agent = agent;
            this.lock = lock;
            this.slot = slot;
        }

        public OnlineBuffer online() {
            return slot.online;
        }

        public void online(OnlineBuffer b) {
            slot.online = b;
        }

        /** The exact mode's actor of this worker, or null; {@code type} is its class. */
        public <A extends AutoCloseable> A actor(Class<A> type) {
            return type.cast(slot.actor);
        }

        public void actor(AutoCloseable a) {
            if (slot.actor != null && slot.actor != a) {
                closeQuietly(slot.actor);
            }
            slot.actor = a;
        }

        public FqlAgent agent() {
            return agent;
        }

        @Override
        public void close() {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    private static final Map<Key, Slot> SLOTS = new ConcurrentHashMap<>();

    private WorkerRegistry() {
    }

    public static Lease acquire(Key key, Supplier<FqlAgent> build) {
        Slot slot = SLOTS.computeIfAbsent(key, k -> new Slot(build.get()));
        if (slot.lock.tryLock()) {
            return new Lease(slot.agent, slot.lock, slot);
        }
        return new Lease(build.get(), null, new Slot(null));
    }

    /** Drops every agent of a run; returns how many were dropped. */
    public static int release(String runId) {
        int[] n = {0};
        SLOTS.entrySet().removeIf(e -> {
            boolean match = e.getKey().runId().equals(runId);
            if (match) {
                n[0]++;
                if (e.getValue().actor != null) {
                    closeQuietly(e.getValue().actor);
                }
            }
            return match;
        });
        return n[0];
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("could not close an online actor: " + e.getMessage(), e);
        }
    }
}

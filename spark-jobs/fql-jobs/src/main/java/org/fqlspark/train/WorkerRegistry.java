package org.fqlspark.train;

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
final class WorkerRegistry {

    record Key(String runId, int worker, String device) {
    }

    private static final class Slot {
        final FqlAgent agent;
        final ReentrantLock lock = new ReentrantLock();
        /** The online phase's rows of this worker and, in the exact mode, its actor (both rebuilt when missing). */
        OnlineBuffer online;
        OnlineActor actor;

        Slot(FqlAgent agent) {
            this.agent = agent;
        }
    }

    /** An agent held for the duration of one task. */
    static final class Lease implements AutoCloseable {
        private final FqlAgent agent;
        private final ReentrantLock lock;
        private final Slot slot;

        private Lease(FqlAgent agent, ReentrantLock lock, Slot slot) {
            this.agent = agent;
            this.lock = lock;
            this.slot = slot;
        }

        OnlineBuffer online() {
            return slot.online;
        }

        void online(OnlineBuffer b) {
            slot.online = b;
        }

        OnlineActor actor() {
            return slot.actor;
        }

        void actor(OnlineActor a) {
            if (slot.actor != null && slot.actor != a) {
                slot.actor.close();
            }
            slot.actor = a;
        }

        FqlAgent agent() {
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

    static Lease acquire(Key key, Supplier<FqlAgent> build) {
        Slot slot = SLOTS.computeIfAbsent(key, k -> new Slot(build.get()));
        if (slot.lock.tryLock()) {
            return new Lease(slot.agent, slot.lock, slot);
        }
        return new Lease(build.get(), null, new Slot(null));
    }

    /** Drops every agent of a run; returns how many were dropped. */
    static int release(String runId) {
        int[] n = {0};
        SLOTS.entrySet().removeIf(e -> {
            boolean match = e.getKey().runId().equals(runId);
            if (match) {
                n[0]++;
                if (e.getValue().actor != null) {
                    e.getValue().actor.close();
                }
            }
            return match;
        });
        return n[0];
    }
}

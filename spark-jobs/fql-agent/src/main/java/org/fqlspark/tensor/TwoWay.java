package org.fqlspark.tensor;

import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs a piece of work as two halves at once: half 0 on a helper thread, half 1 on the caller. For the fused
 * element-wise kernels, which are memory- and arithmetic-bound loops that C2 vectorises but never spreads over
 * cores. The helper spins briefly after each task (the next op usually follows within microseconds), then parks,
 * so it costs nothing while GEMMs run on oneDNN's own threads.
 *
 * <p>One caller thread at a time (one instance per {@link TensorOps}, which is per training thread).
 */
final class TwoWay {

    private static final int SPINS = 200;

    private final Thread helper;
    private volatile IntConsumer task;
    private volatile boolean done;
    private volatile Throwable failure;
    private volatile Thread caller;

    TwoWay() {
        helper = new Thread(this::loop, "fql-kernels-helper");
        helper.setDaemon(true);
        helper.start();
    }

    private void loop() {
        while (true) {
            IntConsumer t = task;
            int spins = 0;
            while (t == null) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
                t = task;
            }
            task = null;
            try {
                t.accept(0);
            } catch (Throwable e) {
                failure = e;
            }
            done = true;
            Thread c = caller;
            if (c != null) {
                LockSupport.unpark(c);
            }
        }
    }

    /** Runs {@code half.accept(0)} on the helper and {@code half.accept(1)} here; returns when both are done. */
    void run(IntConsumer half) {
        caller = Thread.currentThread();
        done = false;
        failure = null;
        task = half;
        LockSupport.unpark(helper);
        Throwable mine = null;
        try {
            half.accept(1);
        } catch (Throwable e) {
            mine = e;
        }
        int spins = 0;
        while (!done) {
            if (++spins < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, 100_000);
            }
        }
        Throwable f = mine != null ? mine : failure;
        if (f instanceof RuntimeException r) throw r;
        if (f instanceof Error e) throw e;
        if (f != null) throw new IllegalStateException(f);
    }
}

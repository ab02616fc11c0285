package org.fqlspark.train;

import java.time.Duration;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** The console progress bar (steps, rate, ETA, the latest losses) on standard error; a no-op when disabled. */
final class Progress implements AutoCloseable {

    private final ProgressBar bar;

    Progress(boolean enabled, long startStep, long totalSteps) {
        bar = enabled ? new ProgressBarBuilder()
                .setTaskName("train")
                .setInitialMax(totalSteps)
                .startsFrom(startStep, Duration.ZERO)
                .setUnit(" steps", 1)
                .showSpeed()
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .build() : null;
    }

    void update(long step, String message) {
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(message);
        }
    }

    boolean enabled() {
        return bar != null;
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}

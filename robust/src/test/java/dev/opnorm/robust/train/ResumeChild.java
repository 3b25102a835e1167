package dev.opnorm.robust.train;

import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Sequential;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The child JVM of {@link KillAndResumeTest}: a tiny training run (the {@link TrainFixtures#everything} method,
 * checkpoints every 2 steps) that writes its checkpoints to args[1].
 * <pre>
 *   fresh  CHECKPOINT              train to the end
 *   fresh  CHECKPOINT BLOCK_STEP   train; after step BLOCK_STEP print "BLOCKED" and wait on stdin (to be killed)
 *   resume CHECKPOINT              resume from CHECKPOINT and train to the end
 * </pre>
 * Prints "DONE" when training finished.
 */
public final class ResumeChild {
    static final int CHECKPOINT_EVERY = 2;

    private ResumeChild() {
    }

    static TrainConfig config() {
        return TrainFixtures.config(2024).withCheckpointEverySteps(CHECKPOINT_EVERY);
    }

    public static void main(String[] args) throws IOException {
        Path ck = Path.of(args[1]);
        long block = args.length > 2 ? Long.parseLong(args[2]) : -1;
        Dataset train = TrainFixtures.data("synthetic/train", 48, 1);
        Sequential model = TrainFixtures.model();
        Trainer t = new Trainer(model, train, null, TrainFixtures.everything(model), config()).log(null)
                .checkpointTo(ck);
        if (args[0].equals("resume")) {
            t.resumeFrom(ck);
        }
        t.onStep((epoch, step, r) -> {
            if (step == block) {
                System.out.println("BLOCKED");
                System.out.flush();
                try {
                    while (System.in.read() >= 0) {
                        // wait to be killed; stdin never closes while the parent test runs
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        });
        t.fit();
        System.out.println("DONE");
    }
}

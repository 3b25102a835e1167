/**
 * Training: {@link dev.opnorm.robust.train.Objective} (standard, adversarial training of Eq. 14, regularized,
 * and the AT / d.d. SNR interpolation of Fig. 7), {@link dev.opnorm.robust.train.MethodSpec} (the catalogue of
 * the paper's methods with their defaults, which every entry point builds its objective from) and
 * {@link dev.opnorm.robust.train.Trainer} (optimizers,
 * learning-rate schedules, augmentation, evaluation, progress, atomic checkpoints with bit-identical resume,
 * and a clear stop on a NaN/Inf loss). Where the steps run is a pluggable
 * {@link dev.opnorm.robust.train.StepRunner} (the host by default; {@code Trainer.runOn} plugs in another).
 * The objective's step and the runner are written once over a {@link dev.opnorm.robust.train.TrainEngine}
 * (a {@link dev.opnorm.robust.train.TrainNetwork} and {@link dev.opnorm.robust.train.TrainOps} on one backend's
 * buffers), with one implementation, {@code PlacedTrainOps}, on a model placed on any backend's kernels: the
 * host placed model ({@code PlacedModel.host}) by default, OpenCL's for {@code train --backend opencl}.
 *
 * <pre>{@code
 * Dataset train = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TRAIN, Domain.SYMMETRIC).padTo(32, 32);
 * Dataset test = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, Domain.SYMMETRIC).padTo(32, 32);
 * Sequential model = Cnn7.create(0.25, 1, 10, 0);          // re-initialized from the run seed by fit()
 *
 * TrainingMethod at = MethodSpec.defaults(MethodSpec.Kind.AT).objective(model, null);   // Eq. 14, l2 1.75
 * TrainingMethod ddSnr = MethodSpec.of(MethodSpec.Kind.DD_SNR_SQ).eps(0.5).build()      // paper's d.d. SNR
 *         .objective(model, null);
 * TrainingMethod madry = Objective.adversarial(Pga.l2(1.75).iterations(10), 0, 1, 1);  // any other composition
 * TrainingMethod global = Objective.regularized(GlobalSpectralNorm.reshaped(model, 3e-4)); // Yoshida-Miyato
 *
 * TrainConfig cfg = TrainConfig.defaults(train, 42).withEpochs(20).withCheckpointEverySteps(500);
 * Trainer trainer = new Trainer(model, train, test, ddSnr, cfg).checkpointTo(Path.of("run/checkpoint.safetensors"));
 * // after a crash: trainer.resumeFrom(Path.of("run/checkpoint.safetensors"));
 * Trainer.Result result = trainer.fit();
 * }</pre>
 */
package dev.opnorm.robust.train;

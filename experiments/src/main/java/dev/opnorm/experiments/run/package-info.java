/**
 * Run folders and their provenance: {@link dev.opnorm.experiments.run.RunManifest} writes {@code run.json} (command,
 * resolved options, seed, version, git commit, JDK, OS, CPU, backend, threads, SHA-256 of every input and output)
 * and a provenance header for CSV files; {@link dev.opnorm.experiments.run.RunComparison} compares two run folders
 * (bit-identical for the same backend and options on any thread count, within a tolerance across backends), as
 * {@code opnorm compare RUN_A RUN_B} does.
 */
package dev.opnorm.experiments.run;

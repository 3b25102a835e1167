/**
 * The {@code opnorm} command line (picocli): {@link dev.opnorm.experiments.cli.OpnormCli} is the root command and
 * lists the subcommands ({@code norm}, {@code matrix-norm}, {@code devices}, {@code compare}, ...);
 * {@link dev.opnorm.experiments.cli.EngineOptions} is the mixin for {@code --backend}, {@code --threads} and
 * {@code --seed}; it builds the chosen {@link dev.opnorm.experiments.cli.ComputeBackend}, which every command
 * asks for its engines (one code path per command, whatever the backend). Each command validates its options, writes its results and a {@code run.json} manifest into
 * {@code --out}, and prints a summary. Not a library API: call {@code OpnormCli.commandLine().execute(args)} to run
 * a command from Java; option names are the stable interface.
 */
package dev.opnorm.experiments.cli;

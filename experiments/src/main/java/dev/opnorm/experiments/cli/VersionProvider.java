package dev.opnorm.experiments.cli;

import picocli.CommandLine;

/** Reports the opnorm version (the Maven-filtered resource RunManifest reads) and the running JDK. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {
                "opnorm " + dev.opnorm.experiments.run.RunManifest.version(),
                "JDK " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
        };
    }
}

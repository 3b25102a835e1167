package dev.opnorm.experiments.cli;

import picocli.CommandLine;

/** Reports the opnorm version (from the jar manifest when packaged) and the running JDK. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = OpnormCli.class.getPackage().getImplementationVersion();
        return new String[] {
                "opnorm " + (v == null ? "(development build)" : v),
                "JDK " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
        };
    }
}

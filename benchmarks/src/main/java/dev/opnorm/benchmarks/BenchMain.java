package dev.opnorm.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of {@code java -jar benchmarks.jar}: JMH's own command line ({@code -h} lists it),
 * with the JVM flags the engine needs prepended to every fork's arguments: {@code --add-modules
 * jdk.incubator.vector}, and on JDK 22 or later {@code --enable-native-access=ALL-UNNAMED} (JavaCPP
 * and JOCL load native code). The flags are decided here at run time from the JDK that runs the
 * forks, so benchmark classes need no JVM flags in their {@code @Fork} annotations. A
 * {@code -jvmArgsPrepend} given on the command line is kept, after these flags.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(withForkFlags(args, Runtime.version().feature()));
    }

    /** args with the engine's fork flags merged into -jvmArgsPrepend (JMH splits its value on spaces). */
    static String[] withForkFlags(String[] args, int jdkFeature) {
        String flags = "--add-modules=jdk.incubator.vector" + (jdkFeature >= 22 ? " --enable-native-access=ALL-UNNAMED" : "");
        List<String> out = new ArrayList<>(Arrays.asList(args));
        int i = out.indexOf("-jvmArgsPrepend");
        if (i >= 0 && i + 1 < out.size()) {
            out.set(i + 1, flags + " " + out.get(i + 1));
        } else {
            out.add(0, "-jvmArgsPrepend");
            out.add(1, flags);
        }
        return out.toArray(new String[0]);
    }
}

package dev.opnorm.gpu;

/** Run in a child JVM by OpenClRuntimeTest with no OpenCL vendor registered; prints what it saw. */
public final class NoOpenClProbe {
    private NoOpenClProbe() {
    }

    public static void main(String[] args) {
        System.out.println("available=" + OpenCl.available());
        try {
            OpenCl.shared();
            System.out.println("opened a runtime: WRONG");
        } catch (OpenClException e) {
            System.out.println("message=" + e.getMessage());
        }
    }
}

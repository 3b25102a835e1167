package dev.opnorm.gpu;

/**
 * OpenCL is missing or failed: no platform/device (the message names the packages to install), a
 * kernel that did not build (the message holds the device name and the full build log), or a device
 * allocation that failed. An {@link IllegalStateException}, so command lines report it as an error.
 */
public class OpenClException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public OpenClException(String message) {
        super(message);
    }

    public OpenClException(String message, Throwable cause) {
        super(message, cause);
    }
}

package org.minifaas.common.model;

import java.util.Objects;

/** An administrator's file on its way to the injector bucket. */
public record InjectionRequest(String fileName, byte[] content) {
    public InjectionRequest {
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(content, "content");
    }
}

package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which installed Go builds which go.mod (the installations are made up; RuntimesIT builds with real ones). */
class GoToolchainsTest {
    private static GoToolchains.Toolchain go(String version) {
        return new GoToolchains.Toolchain(GoVersion.parse(version).orElseThrow(), Path.of("/usr/lib/go-" + version));
    }

    private static final GoToolchains INSTALLED =
            new GoToolchains(List.of(go("1.23.5"), go("1.19.8"), go("1.21.13"), go("1.21.2")));

    private static String chosen(String goMod) {
        GoToolchains.Choice choice = INSTALLED.choose(goMod);
        assertNull(choice.failure(), choice.failure());
        return choice.toolchain().label();
    }

    @Test
    void versionsOrderAsGoOrdersThem() {
        List<String> ordered = List.of(
                "1.19",
                "1.19.8",
                "1.21",
                "1.21rc1",
                "1.21rc2",
                "1.21.0",
                "1.21.13",
                "1.22beta1",
                "1.22rc1",
                "go1.22.0",
                "1.23.5");
        for (int i = 1; i < ordered.size(); i++) {
            GoVersion lower = GoVersion.parse(ordered.get(i - 1)).orElseThrow();
            GoVersion higher = GoVersion.parse(ordered.get(i)).orElseThrow();
            assertTrue(lower.compareTo(higher) < 0, lower + " < " + higher);
        }
        assertTrue(GoVersion.parse("1.x").isEmpty());
        assertTrue(GoVersion.parse("1.21; rm -rf /").isEmpty());
    }

    @Test
    void theSameSeriesNewestPatchWins() {
        assertEquals("go1.19.8", chosen("module m\n\ngo 1.19\n"));
        assertEquals("go1.21.13", chosen("module m\n\ngo 1.21\n"));
        assertEquals("go1.21.13", chosen("module m\n\ngo 1.21.5 // a comment\n"));
        assertEquals("go1.23.5", chosen("module m\ngo 1.23.1\n"));
    }

    @Test
    void withoutTheSeriesTheNewestAboveIt() {
        assertEquals("go1.23.5", chosen("module m\n\ngo 1.20\n"));
        assertEquals("go1.23.5", chosen("module m\n\ngo 1.22\n"));
        assertEquals("go1.23.5", chosen("module m\n\ngo 1.21.14\n"), "no 1.21 at 1.21.14 or later");
    }

    @Test
    void aToolchainLineAboveTheGoLineDecides() {
        assertEquals("go1.23.5", chosen("module m\n\ngo 1.21\n\ntoolchain go1.23.0\n"));
        assertEquals("go1.21.13", chosen("module m\n\ngo 1.21\n\ntoolchain go1.21.3\n"));
        assertEquals(
                "go1.21.13", chosen("module m\n\ngo 1.21.3\n\ntoolchain go1.19.8\n"), "below the go line: ignored");
        assertEquals("go1.21.13", chosen("module m\n\ngo 1.21\n\ntoolchain default\n"));
    }

    @Test
    void noGoLineOrNoGoModTakesTheNewest() {
        assertEquals("go1.23.5", chosen("module m\n"));
        assertEquals("go1.23.5", chosen(null));
    }

    @Test
    void whatCannotBeSatisfiedFailsNamingBoth() {
        GoToolchains.Choice choice = INSTALLED.choose("module m\n\ngo 1.24\n");
        assertNull(choice.toolchain());
        assertEquals(
                "go.mod asks for Go 1.24 (go 1.24); this worker has go1.19.8, go1.21.2, go1.21.13, go1.23.5 (no "
                        + "toolchain is downloaded)",
                choice.failure());
        assertTrue(INSTALLED
                .choose("module m\n\ngo 1.21\n\ntoolchain go1.25.1\n")
                .failure()
                .contains("toolchain go1.25.1"));
        assertTrue(INSTALLED.choose("module m\n\ngo banana\n").failure().contains("not a Go version"));
        assertTrue(INSTALLED
                .choose("module m\n\ngo 1.21\n\ntoolchain 1.21\n")
                .failure()
                .contains("not a Go toolchain"));
        assertEquals(
                "no Go toolchain is installed on this worker",
                new GoToolchains(List.of()).choose("go 1.19").failure());
    }
}
